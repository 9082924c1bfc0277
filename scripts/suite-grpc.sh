#!/usr/bin/env bash
# Python grpcio client tests of the DevConnect gRPC server.
#
# Installs grpcio, grpcio-tools and pytest into .tools/venv-grpc (once), generates the
# Python stubs from devconnect-grpc/proto into .tools/grpc-stubs (git-ignored), builds
# and starts the server binary on a free 127.0.0.1 port with a fresh data directory,
# runs pytest against it, and stops it. The last line is `grpc: N passed, M failed`.
# The tests of the operators' calls make their tokens with `devconnect-http admin token`
# on the server's data directory (built here too), as an operator would.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv-grpc"
STUBS="$TOOLS/grpc-stubs"
PROTO_DIR="$ROOT/devconnect-grpc/proto"
TESTS="$ROOT/devconnect-grpc/tests/python"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
# Time limit of the pytest run, in seconds.
PYTEST_LIMIT="${TEST_TIMEOUT_GRPC_PYTEST:-600}"
source "$ROOT/scripts/lib/proc.sh"

summary() {
  echo "grpc: $1 passed, $2 failed"
}

mkdir -p "$TOOLS"
if ! "$VENV/bin/python" -c 'import grpc, grpc_tools, pytest' 2>/dev/null; then
  echo "== installing grpcio, grpcio-tools, pytest into $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check grpcio grpcio-tools pytest
fi

echo "== generating Python stubs into $STUBS"
rm -rf "$STUBS"
mkdir -p "$STUBS"
"$VENV/bin/python" -m grpc_tools.protoc -I "$PROTO_DIR" \
  --python_out="$STUBS" --pyi_out="$STUBS" --grpc_python_out="$STUBS" \
  "$PROTO_DIR/devconnect/v1/devconnect.proto" "$PROTO_DIR/devconnect/v1/moderation.proto"

echo "== building devconnect-grpc and devconnect-http (for \`admin token\`)"
cargo build --quiet -p devconnect-grpc --bin devconnect-grpc -p devconnect-http --bin devconnect-http
BIN="$TARGET_DIR/debug/devconnect-grpc"
HTTP_BIN="$TARGET_DIR/debug/devconnect-http"

DATA="$(mktemp -d)"
PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    stop_process "$SERVER_PID" 10 || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== starting $BIN on 127.0.0.1:$PORT"
# Environment variables are the server's configuration; clear any inherited ones
# that would point it elsewhere. Every test signs up its own users from 127.0.0.1, more
# than the per-address signup limit allows in a minute, so that limit is off (as in the
# Socket.IO and fuzz suites).
env -u DEVCONNECT_DATABASE_URL -u DEVCONNECT_MEDIA_DIR -u DEVCONNECT_JWT_SECRET \
  DEVCONNECT_LOG="${DEVCONNECT_LOG:-warn}" \
  "$BIN" --bind "127.0.0.1:$PORT" --data-dir "$DATA" --message-rate 0 --request-rate 0 --auth-rate-per-addr 0 &
SERVER_PID=$!

JUNIT="$DATA/junit.xml"
set +e
DEVCONNECT_GRPC_TARGET="127.0.0.1:$PORT" DEVCONNECT_GRPC_DATA_DIR="$DATA" DEVCONNECT_HTTP_BIN="$HTTP_BIN" \
  PYTHONPATH="$STUBS:$TESTS" \
  limited "$PYTEST_LIMIT" "grpc: pytest" \
  "$VENV/bin/python" -m pytest -p no:cacheprovider -q --junitxml="$JUNIT" "$TESTS"
STATUS=$?
set -e

# Stop the server with SIGTERM: it must shut down gracefully (exit status 0), in time.
if alive "$SERVER_PID"; then
  SERVER_STATUS=0
  stop_process "$SERVER_PID" 20 || SERVER_STATUS=$?
  if [[ "$SERVER_STATUS" -ne 0 ]]; then
    echo "the server exited with status $SERVER_STATUS on SIGTERM" >&2
    STATUS=1
  fi
else
  echo "the server exited during the tests" >&2
  STATUS=1
fi
SERVER_PID=""

read -r PASSED FAILED < <("$VENV/bin/python" "$ROOT/scripts/lib/junit_counts.py" "$JUNIT")

if [[ "$STATUS" -ne 0 && "$FAILED" -eq 0 ]]; then
  FAILED=1
fi
summary "$PASSED" "$FAILED"
if [[ "$FAILED" -ne 0 || "$PASSED" -eq 0 ]]; then
  exit 1
fi
