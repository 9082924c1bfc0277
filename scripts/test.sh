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
#
# Time limits: it never hangs. Each step runs in a process group of its own under a limit
# in seconds (LIMITS below, sized for a cold build on 2 cores); a step that reaches it is
# sent SIGTERM with its whole group (servers and helpers included: their traps clean up),
# SIGKILL 30 s later, is reported as "STEP timed out after N s" and counts as a failure.
#   TEST_TIMEOUT_<STEP>   the limit of one step, STEP upper-cased with '-' as '_'
#                         (TEST_TIMEOUT_CLIPPY=3600, TEST_TIMEOUT_RUST_HTTP_MONGODB=…)
#   TEST_TIMEOUT_DEFAULT  the limit of a suite not in LIMITS (default 900)
#   TEST_TIMEOUT_TOTAL    the budget of the whole run (default 4500: 75 of CI's 90 minutes):
#                         a step never runs past it, and steps after it fail unrun
#   TEST_TIMEOUT_KILL_GRACE  seconds between SIGTERM and SIGKILL (default 30)
# Ctrl-C or SIGTERM stops the running step's group the same way.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOGS="$ROOT/.tools/logs"
mkdir -p "$LOGS"
export CARGO_TERM_COLOR=never
# One build from scratch: incremental artifacts would only double the target's disk use.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

declare -A LIMITS=(
    [fmt]=300 [clippy]=1800 [docs]=900 [boundaries]=300 [rust]=2400 [rust-http-mongodb]=900 [example-embed]=600
    [python]=1200 [grpc]=900 [socketio]=900 [tui]=900 [fuzz]=900
)
KILL_GRACE=${TEST_TIMEOUT_KILL_GRACE:-30}
TOTAL_LIMIT=${TEST_TIMEOUT_TOTAL:-4500}
DEFAULT_LIMIT=${TEST_TIMEOUT_DEFAULT:-900}
RUN_START=$SECONDS

total_passed=0
total_failed=0
summary=()

# limit_of NAME: the step's time limit in seconds.
limit_of() {
    local var="TEST_TIMEOUT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')"
    local limit="${!var:-${LIMITS[$1]:-$DEFAULT_LIMIT}}"
    if ! [[ "$limit" =~ ^[0-9]+$ ]] || [ "$limit" -eq 0 ]; then
        echo "test.sh: $var=$limit is not a positive number of seconds; using 900" >&2
        limit=900
    fi
    echo "$limit"
}

# The running step's process group (timeout(1) makes one and is its leader).
STEP_PID=""
on_signal() {
    trap '' INT TERM
    if [ -n "$STEP_PID" ]; then
        echo "==> interrupted: stopping the running step" >&2
        # timeout(1) passes the signal to its group and sends SIGKILL after the grace.
        kill -TERM "$STEP_PID" 2>/dev/null
        wait "$STEP_PID" 2>/dev/null
        kill -KILL -- "-$STEP_PID" 2>/dev/null
    fi
    echo "interrupted: $total_passed passed, $((total_failed + 1)) failed"
    exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# count LOG: prints "PASSED FAILED" summed over cargo's "test result:" lines and the
# "<name>: N passed, M failed" lines of harness-less tests and suites.
count() {
    awk '
        /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
        /^[A-Za-z][A-Za-z0-9_-]*: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
        END { printf "%d %d\n", p, f }
    ' "$1"
}

# step NAME KIND CMD...: runs CMD under NAME's time limit, logging to .tools/logs/NAME.log.
# KIND "check": one pass or one failure by exit status.
# KIND "tests": counts from the output; a non-zero exit with no failure counted adds one.
# A step that times out counts one more failure.
step() {
    local name=$1 kind=$2
    shift 2
    local log="$LOGS/$name.log"
    local limit left timed_out=0 cut_by_total=0
    limit=$(limit_of "$name")
    left=$((TOTAL_LIMIT - (SECONDS - RUN_START)))
    if [ "$left" -lt "$limit" ]; then limit=$left; cut_by_total=1; fi
    echo "==> $name (limit ${limit} s): $*"
    if [ "$limit" -le 0 ]; then
        echo "    $name not run: the run's budget (TEST_TIMEOUT_TOTAL=$TOTAL_LIMIT s) is spent"
        summary+=("$name: 0 passed, 1 failed (not run: time budget spent)")
        total_failed=$((total_failed + 1))
        return
    fi
    local start=$SECONDS
    # In the background so that the INT/TERM traps can run while it does; stdin is not
    # the terminal's (a step in its own process group must not read it).
    timeout --kill-after="$KILL_GRACE" "$limit" "$@" >"$log" 2>&1 </dev/null &
    STEP_PID=$!
    wait "$STEP_PID" 2>/dev/null
    local status=$?
    # Whatever the step left behind in its group (a server whose script was killed).
    kill -KILL -- "-$STEP_PID" 2>/dev/null
    STEP_PID=""
    local elapsed=$((SECONDS - start))
    if { [ $status -eq 124 ] || [ $status -eq 137 ]; } && [ "$elapsed" -ge "$limit" ]; then
        timed_out=1
        local why="TEST_TIMEOUT_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
        [ "$cut_by_total" = 1 ] && why="TEST_TIMEOUT_TOTAL"
        echo "$name timed out after $limit s (raise it with $why)" >>"$log"
    fi
    local passed=0 failed=0
    if [ "$kind" = check ]; then
        if [ $status -eq 0 ]; then passed=1; else failed=1; fi
    else
        read -r passed failed < <(count "$log")
        if [ "$timed_out" = 1 ]; then
            failed=$((failed + 1))
        elif [ $status -ne 0 ] && [ "$failed" -eq 0 ]; then
            failed=1
        fi
        if [ $status -eq 0 ] && [ "$passed" -eq 0 ]; then failed=1; echo "    (no test ran)"; fi
    fi
    if [ $status -ne 0 ]; then
        # Which tests failed and why (cargo, node TAP, pytest), then the log's end.
        echo "---- failures in $log ----"
        grep -E -A 15 '^[[:space:]]*not ok |^---- .* stdout ----$|^_{3,} .* _{3,}$|^FAILED ' "$log" | head -n 150 || true
        echo "---- last lines of $log ----"
        tail -n 40 "$log"
        echo "----"
    fi
    local note=""
    if [ "$timed_out" = 1 ]; then note=", timed out after $limit s"; echo "    $name timed out after $limit s"; fi
    echo "    $name: $passed passed, $failed failed ($elapsed s$note)"
    summary+=("$name: $passed passed, $failed failed${note:+ (${note#, })}")
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

step fmt check cargo fmt --all -- --check
FEATURES=devconnect-core/mongodb,devconnect-core/cloudinary
step clippy check cargo clippy --workspace --all-targets --features "$FEATURES" -- -D warnings
step docs check env RUSTDOCFLAGS="-D warnings" cargo doc -p devconnect-types -p devconnect-core -p devconnect-server -p devconnect-client --features devconnect-core/mongodb,devconnect-core/cloudinary,devconnect-core/redis --no-deps
# The crate edges (no server in the core's dependencies, none in the clients' or the TUI's).
step boundaries check bash scripts/check-boundaries.sh
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
