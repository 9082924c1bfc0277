#!/usr/bin/env bash
# Runs CMD [ARGS...] with DEVCONNECT_TEST_MONGODB_URL pointing at a MongoDB server.
#
# If DEVCONNECT_TEST_MONGODB_URL is already set (a real mongod, a replica set, Atlas...),
# CMD simply runs against it. Otherwise jongodb, a MongoDB-wire-compatible test server
# from npm, is fetched once into .tools/jongodb/, started on a free 127.0.0.1 port for
# the duration of CMD, and stopped afterwards. CMD's exit status is returned.
#
# With JONGODB_REPLICA_SET=NAME, jongodb answers as a one-node replica set of that name
# and the URL carries ?replicaSet=NAME (what several server instances share).
#
# Example: scripts/with-jongodb.sh cargo test -p devconnect-core --features mongodb
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

if [[ -n "${DEVCONNECT_TEST_MONGODB_URL:-}" ]]; then
    exec "$@"
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

# A free port: the kernel picks one, we release it and hand it to jongodb. Another
# process could grab it in between; the readiness check below would then time out.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

log="$(mktemp "${TMPDIR:-/tmp}/jongodb.XXXXXX.log")"
topology=()
query=""
if [[ -n "${JONGODB_REPLICA_SET:-}" ]]; then
    topology=(--topology-profile=singleNodeReplicaSet --replica-set-name="$JONGODB_REPLICA_SET")
    query="?replicaSet=$JONGODB_REPLICA_SET"
fi
"$bin" --host=127.0.0.1 --port="$port" "${topology[@]}" >"$log" 2>&1 &
server_pid=$!

stop_server() {
    if kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ready when it prints its URI or accepts TCP connections, whichever comes first.
deadline=$((SECONDS + start_timeout))
until grep -q 'JONGODB_URI=' "$log" 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "with-jongodb: jongodb exited during start-up:" >&2
        cat "$log" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "with-jongodb: jongodb not ready on 127.0.0.1:$port within ${start_timeout}s:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done

export DEVCONNECT_TEST_MONGODB_URL="mongodb://127.0.0.1:$port/$query"
echo "with-jongodb: jongodb on $DEVCONNECT_TEST_MONGODB_URL" >&2

status=0
"$@" || status=$?
exit "$status"
