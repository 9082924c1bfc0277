#!/usr/bin/env bash
# The real npm socket.io-client (4.8) against a real DevConnect server.
#
# Installs socket.io-client into .tools/node/socketio (git-ignored, re-used), builds the
# server, starts it on a free 127.0.0.1 port with a fresh data directory, waits for
# /healthz, runs devconnect-socketio/tests/js with `node --test` once per client
# configuration (SOCKETIO_TRANSPORTS: `default` = `io(url)`, long-polling then the upgrade
# to WebSocket; `polling` only; `websocket` only), stops the server.
# The server is devconnect-http (feature `socketio`), the real REST + Socket.IO server.
# Last line: `socketio: N passed, M failed`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/.tools/node/socketio"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# Time limit of the node test run, in seconds.
NODE_LIMIT="${TEST_TIMEOUT_SOCKETIO_NODE:-300}"
source "$ROOT/scripts/lib/proc.sh"

give_up() {
  echo "suite-socketio: $1" >&2
  echo "socketio: 0 passed, 1 failed"
  exit 1
}

if [ ! -f "$TOOLS/node_modules/socket.io-client/package.json" ]; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent socket.io-client@4.8 >&2 \
    || give_up "npm install socket.io-client failed"
fi

cargo build -p devconnect-http --features socketio --bin devconnect-http >&2 \
  || give_up "building devconnect-http failed"
BIN="$TARGET/debug/devconnect-http"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
DATA="$(mktemp -d)"
SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
LOG="$DATA/server.log"
# Three runs sign up their users from one address: lift the per-address signup limit.
"$BIN" --bind "127.0.0.1:$PORT" --data-dir "$DATA" --jwt-secret "$SECRET" --auth-rate-per-addr 0 >"$LOG" 2>&1 &
SERVER_PID=$!
cleanup() {
  stop_process "$SERVER_PID" 10 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

URL="http://127.0.0.1:$PORT"
ready=0
for _ in $(seq 1 300); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$LOG" >&2
    give_up "the server exited during start-up"
  fi
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$URL/healthz', timeout=1)" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
[ "$ready" = 1 ] || give_up "the server did not become healthy on $URL"

passed=0
failed=0
status=0
for mode in default polling websocket; do
  OUT="$DATA/node-test-$mode.tap"
  set +e
  DEVCONNECT_URL="$URL" SOCKETIO_TRANSPORTS="$mode" NODE_PATH="$TOOLS/node_modules" \
    limited "$NODE_LIMIT" "socketio: node --test, $mode (TEST_TIMEOUT_SOCKETIO_NODE)" \
    node --test --test-reporter=tap devconnect-socketio/tests/js/socketio.test.cjs >"$OUT" 2>&1
  run_status=$?
  set -e
  cat "$OUT"
  run_passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$OUT" | tail -n 1)"
  run_failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$OUT" | tail -n 1)"
  run_passed="${run_passed:-0}"
  run_failed="${run_failed:-0}"
  if [ "$run_status" -ne 0 ] && [ "$run_failed" = 0 ]; then
    run_failed=1
  fi
  [ "$run_status" -ne 0 ] && status=$run_status
  echo "# socketio ($mode): $run_passed passed, $run_failed failed" >&2
  passed=$((passed + run_passed))
  failed=$((failed + run_failed))
done
if [ "$status" -ne 0 ]; then
  echo "--- server log (tail) ---" >&2
  tail -n 40 "$LOG" >&2 || true
fi

echo "socketio: $passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
