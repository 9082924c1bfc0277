#!/usr/bin/env bash
# Runs CMD [ARGS...] with MongoDB servers for the tests:
#   DEVCONNECT_TEST_MONGODB_URL     a standalone server (no transactions);
#   DEVCONNECT_TEST_MONGODB_RS_URL  a one-node replica set (transactions, as production);
#   DEVCONNECT_TEST_JONGODB_BIN     the jongodb binary, for tests that start and kill
#                                   their own server (outage and recovery).
#
# A variable already set (a real mongod, a replica set, Atlas...) is kept, and no
# jongodb is started for it. Otherwise jongodb, a MongoDB-wire-compatible test server
# from npm, is fetched once into .tools/jongodb/, started on a free 127.0.0.1 port for
# the duration of CMD, and stopped afterwards. CMD's exit status is returned.
#
# Example: scripts/with-jongodb.sh cargo test -p devconnect-core --features mongodb
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/jongodb"
bin="$tools/package/bin/jongodb"
package="@jongodb/memory-server-bin-linux-x64-gnu"
start_timeout="${JONGODB_START_TIMEOUT:-60}"

if [[ ! -x "$bin" ]]; then
    echo "with-jongodb: fetching $package into $tools" >&2
    mkdir -p "$tools"
    # Unpack in a scratch directory and move into place, so an interrupted download
    # never leaves a half-written binary behind.
    scratch="$(mktemp -d "$tools/.fetch.XXXXXX")"
    (
        cd "$scratch"
        tarball="$(npm pack --silent "$package" | tail -n 1)"
        tar xzf "$tarball"
    )
    rm -rf "$tools/package"
    mv "$scratch/package" "$tools/package"
    rm -rf "$scratch"
    chmod +x "$bin"
fi
export DEVCONNECT_TEST_JONGODB_BIN="${DEVCONNECT_TEST_JONGODB_BIN:-$bin}"

source "$root/scripts/lib/proc.sh"

pids=()
logs=()
stop_servers() {
    for pid in "${pids[@]}"; do
        stop_process "$pid" 10 || true
    done
    rm -f "${logs[@]}"
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME [JONGODB ARGS...]: starts jongodb on a free port; sets $port.
start() {
    local name=$1
    shift
    # A free port: the kernel picks one, we release it and hand it to jongodb. Another
    # process could grab it in between; the readiness check below would then time out.
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/jongodb-$name.XXXXXX.log")"
    logs+=("$log")
    "$bin" --host=127.0.0.1 --port="$port" "$@" >"$log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    # Ready when it prints its URI or accepts TCP connections, whichever comes first.
    local deadline=$((SECONDS + start_timeout))
    until grep -q 'JONGODB_URI=' "$log" 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "with-jongodb: jongodb ($name) exited during start-up:" >&2
            cat "$log" >&2
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            echo "with-jongodb: jongodb ($name) not ready on 127.0.0.1:$port within ${start_timeout}s:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
}

if [[ -z "${DEVCONNECT_TEST_MONGODB_URL:-}" ]]; then
    start standalone
    export DEVCONNECT_TEST_MONGODB_URL="mongodb://127.0.0.1:$port/"
fi
if [[ -z "${DEVCONNECT_TEST_MONGODB_RS_URL:-}" ]]; then
    start replica-set --topology-profile=singleNodeReplicaSet --replica-set-name=rs0
    export DEVCONNECT_TEST_MONGODB_RS_URL="mongodb://127.0.0.1:$port/?replicaSet=rs0"
fi
echo "with-jongodb: standalone $DEVCONNECT_TEST_MONGODB_URL, replica set $DEVCONNECT_TEST_MONGODB_RS_URL" >&2

status=0
"$@" || status=$?
exit "$status"
