#!/usr/bin/env bash
# The one test command: checks formatting, lints, docs, runs every Rust test (SQLite and
# MongoDB backends), the runnable examples, and every non-Rust suite (scripts/suite-*.sh:
# Socket.IO, gRPC and Python clients). Installs what the suites need into .tools/
# (git-ignored). Prints a final "N passed, M failed" line; exits non-zero on any failure.
#
# Environment: CARGO_TARGET_DIR is respected; DEVCONNECT_TEST_MONGODB_URL and
# DEVCONNECT_TEST_MONGODB_RS_URL point the MongoDB tests at a real mongod (standalone,
# replica set) instead of the jongodb test server, and
# DEVCONNECT_TEST_REDIS_URL the multi-instance tests at a running Redis (otherwise
# scripts/with-redis.sh installs Debian's redis-server if missing and starts one).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOGS="$ROOT/.tools/logs"
mkdir -p "$LOGS"
export CARGO_TERM_COLOR=never

total_passed=0
total_failed=0
summary=()

# count LOG: prints "PASSED FAILED" summed over cargo's "test result:" lines and the
# "<name>: N passed, M failed" lines of harness-less tests and suites.
count() {
    awk '
        /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
        /^[A-Za-z][A-Za-z0-9_-]*: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
        END { printf "%d %d\n", p, f }
    ' "$1"
}

# step NAME KIND CMD...: runs CMD, logging to .tools/logs/NAME.log.
# KIND "check": one pass or one failure by exit status.
# KIND "tests": counts from the output; a non-zero exit with no failure counted adds one.
step() {
    local name=$1 kind=$2
    shift 2
    local log="$LOGS/$name.log"
    echo "==> $name: $*"
    local start=$SECONDS
    "$@" >"$log" 2>&1
    local status=$?
    local passed=0 failed=0
    if [ "$kind" = check ]; then
        if [ $status -eq 0 ]; then passed=1; else failed=1; fi
    else
        read -r passed failed < <(count "$log")
        if [ $status -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
        if [ $status -eq 0 ] && [ "$passed" -eq 0 ]; then failed=1; echo "    (no test ran)"; fi
    fi
    if [ $status -ne 0 ]; then
        echo "---- last lines of $log ----"
        tail -n 40 "$log"
        echo "----"
    fi
    echo "    $name: $passed passed, $failed failed ($((SECONDS - start)) s)"
    summary+=("$name: $passed passed, $failed failed")
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

step fmt check cargo fmt --all -- --check
FEATURES=devconnect-core/mongodb,devconnect-core/cloudinary
step clippy check cargo clippy --workspace --all-targets --features "$FEATURES" -- -D warnings
step docs check env RUSTDOCFLAGS="-D warnings" cargo doc -p devconnect-core --features mongodb,cloudinary,cli,redis,prometheus --no-deps
# Under a Redis too: devconnect-http's `cluster` tests run several server instances
# sharing a MongoDB replica set and a Redis bus.
step rust tests scripts/with-redis.sh scripts/with-jongodb.sh cargo test --workspace --features "$FEATURES"
# The REST/WebSocket integration tests once more, on the MongoDB store.
step rust-http-mongodb tests env DEVCONNECT_TEST_HTTP_MONGODB=1 scripts/with-jongodb.sh cargo test -p devconnect-http --features "$FEATURES" --test api
step example-embed check cargo run -q -p devconnect-core --features mongodb,cloudinary --example embed
for suite in scripts/suite-*.sh; do
    [ -e "$suite" ] || continue
    name=$(basename "$suite" .sh)
    step "${name#suite-}" tests bash "$suite"
done

echo
echo "==> summary"
printf '    %s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
