#!/usr/bin/env bash
# Runs CMD [ARGS...] with DEVCONNECT_TEST_REDIS_URL pointing at a Redis server.
#
# If DEVCONNECT_TEST_REDIS_URL is already set, CMD simply runs against it. Otherwise
# Debian's redis-server is installed if missing (apt-get), started on a free 127.0.0.1
# port without persistence for the duration of CMD, and stopped afterwards. Its binary
# path is exported as DEVCONNECT_TEST_REDIS_SERVER so tests can start (and kill) their
# own. CMD's exit status is returned.
#
# Example: scripts/with-redis.sh cargo test -p devconnect-http --test cluster
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

if [[ -n "${DEVCONNECT_TEST_REDIS_URL:-}" ]]; then
    # The outage test starts and stops a private redis-server of its own.
    export DEVCONNECT_TEST_REDIS_SERVER="${DEVCONNECT_TEST_REDIS_SERVER:-$(command -v redis-server || true)}"
    exec "$@"
fi

if ! command -v redis-server >/dev/null 2>&1; then
    echo "with-redis: installing redis-server (apt-get)" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >&2
fi
bin="$(command -v redis-server)"
source "$(dirname "${BASH_SOURCE[0]}")/lib/proc.sh"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
dir="$(mktemp -d "${TMPDIR:-/tmp}/redis.XXXXXX")"
"$bin" --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" \
    --daemonize no --logfile "$dir/redis.log" &
server_pid=$!

stop_server() {
    stop_process "$server_pid" 10 || true
    rm -rf "$dir"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

deadline=$((SECONDS + 30))
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "with-redis: redis-server exited during start-up:" >&2
        cat "$dir/redis.log" >&2 || true
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "with-redis: redis-server not ready on 127.0.0.1:$port within 30s" >&2
        exit 1
    fi
    sleep 0.1
done

export DEVCONNECT_TEST_REDIS_URL="redis://127.0.0.1:$port/"
export DEVCONNECT_TEST_REDIS_SERVER="$bin"
echo "with-redis: redis-server on $DEVCONNECT_TEST_REDIS_URL" >&2

status=0
"$@" || status=$?
exit "$status"
