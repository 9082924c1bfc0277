#!/usr/bin/env bash
# Property-based fuzzing of the REST API from its own OpenAPI document (schemathesis 4).
#
# Installs schemathesis into .tools/venv-fuzz (once), builds devconnect-http, starts it on a
# free 127.0.0.1 port with a fresh data directory and no rate limits (else the fuzzer
# mostly meets 429s), seeds a little data over REST (a connection with messages, one of
# them with an image, and a pending request each way, so that lists are not empty), and
# runs schemathesis against /openapi.json three times:
#   authenticated  every operation but the four below, with the bearer token of a user;
#                  half of the ids it sends are the seeded ones (a schemathesis
#                  dictionary), so that requests reach past "not found";
#   anonymous      POST /auth/signup and POST /auth/login, without a token;
#   token-ending   POST /auth/logout and PATCH /profile/password, with another user's
#                  token: they revoke it, so they cannot share a run with the rest.
# Checks on every response: no 5xx (not_a_server_error); the status code, content type,
# headers and body are the ones the document declares for the operation (the
# *_conformance checks); secured operations refuse a missing or wrong token
# (ignored_auth); and no request takes longer than FUZZ_REQUEST_TIMEOUT seconds (a hang
# fails). Each operation of each run, and a run's stateful phase, is one test:
# `fuzz: N passed, M failed` is the last line; a failing run also prints schemathesis's
# report with a curl line per failure. (/metrics and /socket.io/ are not in the document,
# so not fuzzed.)
#
# Knobs (environment):
#   FUZZ_MAX_EXAMPLES     test cases per operation and phase (default 50: about a minute
#                         on 2 cores once built); the runtime grows about linearly with it
#   FUZZ_SEED             the generator's seed (default 1, so a run can be replayed);
#                         `random` draws a new one (printed)
#   FUZZ_REQUEST_TIMEOUT  seconds one request may take (default 10)
#   FUZZ_RUN_TIMEOUT      seconds one schemathesis run may take (default 600)
#   FUZZ_KEEP=1           keeps the work directory (server log, reports)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/scripts/lib/proc.sh"

TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv-fuzz"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
SEED="${FUZZ_SEED:-1}"
REQUEST_TIMEOUT="${FUZZ_REQUEST_TIMEOUT:-10}"
RUN_TIMEOUT="${FUZZ_RUN_TIMEOUT:-600}"

PASSED=0
FAILED=0
give_up() {
  echo "suite-fuzz: $1" >&2
  echo "fuzz: $PASSED passed, $((FAILED + 1)) failed"
  exit 1
}

mkdir -p "$TOOLS"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q 'version 4\.'; then
  echo "== installing schemathesis 4 into $VENV"
  "$PYTHON" -m venv "$VENV" || give_up "cannot create $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5' ||
    give_up "pip install schemathesis failed"
fi
echo "== $("$VENV/bin/schemathesis" --version)"

echo "== building devconnect-http"
cargo build --quiet -p devconnect-http --bin devconnect-http || give_up "building devconnect-http failed"
BIN="$TARGET_DIR/debug/devconnect-http"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    stop_process "$SERVER_PID" 10 || true
  fi
  if [[ -n "${FUZZ_KEEP:-}" ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
SECRET="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))')"
echo "== starting $BIN on $URL"
# The flags are the server's whole configuration: drop inherited DEVCONNECT_* variables.
env -u DEVCONNECT_DATABASE_URL -u DEVCONNECT_MEDIA_DIR -u DEVCONNECT_MEDIA_URL -u CLOUDINARY_URL \
  -u DEVCONNECT_BUS_URL -u DEVCONNECT_METRICS_ADDR -u DEVCONNECT_CORS_ORIGINS \
  "$BIN" --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" --jwt-secret "$SECRET" \
  --message-rate 0 --request-rate 0 --edit-rate 0 --search-rate 0 --login-rate 0 --auth-rate-per-addr 0 \
  --log "${DEVCONNECT_LOG:-warn}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 60))
until curl -fsS --max-time 2 "$URL/healthz" >/dev/null 2>&1; do
  if ! alive "$SERVER_PID"; then
    cat "$WORK/server.log" >&2
    give_up "the server exited during start-up"
  fi
  if ((SECONDS >= deadline)); then give_up "the server did not become healthy within 60 s"; fi
  sleep 0.1
done

# Seed data; prints the fuzzing user's token and the token-ending user's token, and writes
# the seeded ids as schemathesis dictionaries into CONFIG.
CONFIG="$WORK/schemathesis.toml"
read -r TOKEN END_TOKEN < <("$VENV/bin/python" - "$URL" "$CONFIG" <<'PY'
import json
import struct
import sys
import urllib.request
import uuid
import zlib

url, config = sys.argv[1], sys.argv[2]
PASSWORD = "Str0ng!pass"


def call(method, path, token=None, body=None, form=None):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        boundary = uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        parts = []
        for name, value, filename in form:
            disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
            parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def png():
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def signup(first, **extra):
    body = {"firstName": first, "lastName": "Fuzz", "emailID": f"{first.lower()}@example.com", "password": PASSWORD}
    body.update(extra)
    auth = call("POST", "/auth/signup", body=body)
    return auth["user"]["_id"], auth["token"]


me, token = signup("Ada", age=36, gender="female", about="I fuzz.", skills=["rust", "go"])
bob, bob_token = signup("Bob", skills=["rust"])
cy, cy_token = signup("Cy")
dee, _ = signup("Dee")
_, end_token = signup("Eve")

request = call("POST", f"/request/send/interested/{bob}", token, body={"note": "hi"})
call("POST", f"/request/review/accepted/{request['data']['_id']}", bob_token)
sent = call("POST", f"/message/{bob}", token, body={"text": "hello Bob", "clientMsgId": "seed-1"})
picture = call("POST", f"/message/{me}", bob_token, form=[("text", b"a picture", None), ("image", png(), "dot.png")])
received = call("POST", f"/request/send/interested/{me}", cy_token)
pending = call("POST", f"/request/send/interested/{dee}", token)

users = [me, bob, cy, dee]
requests = [request["data"]["_id"], received["data"]["_id"], pending["data"]["_id"]]
messages = [sent["_id"], picture["_id"]]
media = [picture["image"].rsplit("/", 1)[-1]]


def values(items):
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


with open(config, "w", encoding="utf-8") as out:
    out.write(f"""[dictionaries.users]
values = {values(users)}
[dictionaries.requests]
values = {values(requests)}
[dictionaries.messages]
values = {values(messages)}
[dictionaries.media]
values = {values(media)}

[parameters]
"path.userId" = {{ dictionary = "users", probability = 0.5 }}
"path.toUserId" = {{ dictionary = "users", probability = 0.5 }}
"path.requestId" = {{ dictionary = "requests", probability = 0.5 }}
"path.name" = {{ dictionary = "media", probability = 0.5 }}
"query.before" = {{ dictionary = "messages", probability = 0.5 }}
"query.after" = {{ dictionary = "messages", probability = 0.5 }}
""")
print(token, end_token)
PY
) || give_up "seeding the server failed"
[[ -n "$TOKEN" && -n "$END_TOKEN" ]] || give_up "seeding gave no tokens"

if [[ "$SEED" == random ]]; then SEED="$("$VENV/bin/python" -c 'import random; print(random.randrange(2**31))')"; fi
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth
echo "== fuzzing $URL/openapi.json: $MAX_EXAMPLES examples per operation and phase, seed $SEED"

# fuzz NAME CONFIG [SCHEMATHESIS RUN OPTIONS...]: one run with schemathesis.toml CONFIG;
# adds its operations to PASSED / FAILED.
fuzz() {
  local name=$1 config=$2
  shift 2
  local junit="$WORK/$name.junit.xml" status=0
  echo "== run $name"
  (cd "$WORK" && NO_PROXY=127.0.0.1,localhost limited "$RUN_TIMEOUT" "fuzz: the $name run" \
    "$VENV/bin/schemathesis" --config-file "$config" run "$URL/openapi.json" \
    --checks "$CHECKS" --request-timeout "$REQUEST_TIMEOUT" --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" --generation-database none --workers 1 --no-color \
    --report junit --report-junit-path "$junit" "$@") >"$WORK/$name.out" 2>&1 || status=$?
  local passed failed
  read -r passed failed < <("$VENV/bin/python" "$ROOT/scripts/lib/junit_counts.py" "$junit" 0)
  if [[ "$status" -ne 0 && "$failed" -eq 0 ]]; then failed=$((failed + 1)); fi
  if [[ "$passed" -eq 0 && "$failed" -eq 0 ]]; then failed=1; fi
  if [[ "$failed" -ne 0 ]]; then
    cat "$WORK/$name.out"
  else
    grep -E '^(Test cases:|  [0-9]+ generated)' "$WORK/$name.out" | tr -s ' ' | paste -sd ' ' || true
  fi
  echo "$name: operations $passed passed, $failed failed (schemathesis exit $status)"
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
}

: >"$WORK/empty.toml"
fuzz authenticated "$CONFIG" -H "Authorization: Bearer $TOKEN" \
  --exclude-path /auth/logout --exclude-path /profile/password \
  --exclude-path /auth/signup --exclude-path /auth/login
fuzz anonymous "$WORK/empty.toml" --include-path /auth/signup --include-path /auth/login
fuzz token-ending "$WORK/empty.toml" -H "Authorization: Bearer $END_TOKEN" \
  --include-path /auth/logout --include-path /profile/password

if ! alive "$SERVER_PID"; then
  echo "the server exited during the fuzzing:" >&2
  tail -n 40 "$WORK/server.log" >&2
  FAILED=$((FAILED + 1))
else
  SERVER_STATUS=0
  stop_process "$SERVER_PID" 20 || SERVER_STATUS=$?
  if [[ "$SERVER_STATUS" -ne 0 ]]; then
    echo "the server exited with status $SERVER_STATUS on SIGTERM" >&2
    FAILED=$((FAILED + 1))
  fi
fi
SERVER_PID=""
if grep -qi 'panicked' "$WORK/server.log"; then
  echo "the server log has a panic:" >&2
  grep -i -A5 'panicked' "$WORK/server.log" | head -n 40 >&2
  FAILED=$((FAILED + 1))
fi

echo "fuzz: $PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 && "$PASSED" -gt 0 ]]
