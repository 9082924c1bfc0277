#!/usr/bin/env bash
# End-to-end test of devconnect-tui: a real devconnect-http server (with Socket.IO) on a
# free 127.0.0.1 port and a fresh data directory, and two real devconnect-tui processes
# driven through tmux (send-keys / capture-pane) on a private tmux server.
#
# Ada and Bob sign up over REST, log in through the TUI; Ada finds Bob in the feed and
# sends a request; Bob accepts; Ada finds a third developer on the Search screen and
# sends him a request with a note; they chat both ways (CJK and emoji included), each
# seeing the other's messages and typing; the server restarts and a message sent while
# Ada is disconnected appears once after she reconnects; Bob joins Ada's group by its id
# and they talk there (typing, unread count, told once removed), Ada edits it (Bob may
# not) and Bob sees the details change live; the token is kept (0600) so a
# restart skips the login; Ada reports the group and Bob's message, blocks Bob (after a
# question; the connection goes, his messages are refused) and unblocks him from the
# Blocked list; the logout key forgets the token; a client started against a dead
# server says so.
# Last line: `tui: N passed, M failed`; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
TIMEOUT="${TUI_SUITE_TIMEOUT:-30}"
source "$ROOT/scripts/lib/proc.sh"

PASSED=0
FAILED=0
give_up() {
  echo "suite-tui: $1" >&2
  echo "tui: $PASSED passed, $((FAILED + 1)) failed"
  exit 1
}

if ! command -v tmux >/dev/null; then
  apt-get install -y tmux >&2 || { apt-get update >&2 && apt-get install -y tmux >&2; } || give_up "cannot install tmux"
fi
command -v curl >/dev/null || give_up "curl is needed"

cargo build -p devconnect-http --features socketio --bin devconnect-http >&2 || give_up "building devconnect-http failed"
cargo build -p devconnect-tui --bin devconnect-tui >&2 || give_up "building devconnect-tui failed"
SERVER_BIN="$TARGET/debug/devconnect-http"
TUI_BIN="$TARGET/debug/devconnect-tui"

WORK="$(mktemp -d)"
TMUX_SOCKET="$WORK/tmux.sock"
SERVER_PID=""
cleanup() {
  # The tmux server runs in a session of its own: a signal to our process group misses it.
  timeout 10 tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null || true
  if [ -n "$SERVER_PID" ]; then
    stop_process "$SERVER_PID" 10 || true
  fi
  if [ "${TUI_SUITE_KEEP:-}" = "" ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"

start_server() {
  "$SERVER_BIN" --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" --jwt-secret "tui-suite-secret-0123456789abcdef" \
    --log warn >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS "$URL/healthz" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$WORK/server.log" >&2
      give_up "the server did not become healthy"
    fi
    sleep 0.1
  done
}

stop_server() {
  stop_process "$SERVER_PID" 10 || true
  SERVER_PID=""
}

t() { tmux -S "$TMUX_SOCKET" "$@"; }
screen_of() { t capture-pane -p -t "$1" 2>/dev/null || true; }

# wait_for SESSION TEXT [SECONDS]: polls the pane until TEXT (fixed string) shows.
wait_for() {
  local deadline=$((SECONDS + ${3:-$TIMEOUT}))
  while [ $SECONDS -lt $deadline ]; do
    if screen_of "$1" | grep -qF -- "$2"; then return 0; fi
    sleep 0.2
  done
  return 1
}

# check NAME SESSION TEXT [SECONDS]: one test: TEXT shows on SESSION's screen.
check() {
  if wait_for "$2" "$3" "${4:-$TIMEOUT}"; then
    PASSED=$((PASSED + 1))
    echo "ok     $1" >&2
  else
    FAILED=$((FAILED + 1))
    echo "FAILED $1: $3 not shown on $2's screen:" >&2
    screen_of "$2" | sed 's/^/    | /' >&2
  fi
}

# verdict NAME COMMAND...: one test decided by a command's exit status.
verdict() {
  local name="$1"
  shift
  if "$@"; then
    PASSED=$((PASSED + 1))
    echo "ok     $name" >&2
  else
    FAILED=$((FAILED + 1))
    echo "FAILED $name" >&2
  fi
}

# A client that died makes its checks fail, not the script.
keys() { t send-keys -t "$1" "${@:2}" || true; }
typed() { t send-keys -t "$1" -l -- "$2" || true; }

start_tui() { # SESSION "ENV=..." ["--flag value"]
  t new-session -d -s "$1" -x 120 -y 40 \
    "env $2 $TUI_BIN --server $URL ${3:-} 2>>$WORK/$1.stderr; echo EXITED-\$?; sleep 600"
}

signup() { # EMAIL FIRST LAST -> token
  curl -fsS -X POST "$URL/auth/signup" -H 'content-type: application/json' \
    -d "{\"firstName\":\"$2\",\"lastName\":\"$3\",\"emailID\":\"$1\",\"password\":\"Str0ng!pass\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

login_tui() { # SESSION EMAIL
  typed "$1" "$2"
  keys "$1" Tab
  typed "$1" "Str0ng!pass"
  keys "$1" Enter
}

start_server
ADA_TOKEN="$(signup ada@example.com Ada Lovelace)" || give_up "REST signup of Ada failed"
BOB_TOKEN="$(signup bob@example.com Bob Kahn)" || give_up "REST signup of Bob failed"
[ -n "$ADA_TOKEN" ] && [ -n "$BOB_TOKEN" ] || give_up "no tokens from signup"

# Ada keeps her session under XDG_CONFIG_HOME, Bob in his --config-dir.
start_tui ada "XDG_CONFIG_HOME=$WORK/ada-config HOME=$WORK/ada-home"
start_tui bob "HOME=$WORK/bob-home" "--config-dir $WORK/bob-config"

check "ada sees the login form" ada "Log in"
check "bob sees the login form" bob "Log in"
login_tui ada ada@example.com
login_tui bob bob@example.com
check "ada is logged in and live" ada "● connected"
check "bob is logged in and live" bob "● connected"
verdict "ada's token is kept with mode 0600" \
  test "$(stat -c %a "$WORK/ada-config/devconnect/session.json" 2>/dev/null)" = 600
verdict "bob's token is kept in his --config-dir" test -f "$WORK/bob-config/session.json"

# Ada finds Bob in the feed and is interested.
keys ada 2
check "ada's feed shows bob" ada "Bob Kahn"
keys ada i
check "ada is told the request went out" ada "Connection request sent to Bob Kahn"

# Bob hears of it live, and accepts.
check "bob is told live of ada's request" bob "Ada Lovelace wants to connect"
keys bob 3
check "bob's requests list ada" bob "Received (1)"
keys bob a
check "bob is now connected with ada" bob "You are now connected with Ada Lovelace"
check "ada is told live that bob accepted" ada "Bob Kahn accepted your request"

# Ada searches (Search, 6): Cy is found by skill and location with his details, Bob reads
# as connected; she opens Cy's profile and sends him a request with a note; a query over
# 200 characters shows the server's refusal with its code.
CY_TOKEN="$(signup cy@example.com Cy Hopper)" || give_up "REST signup of Cy failed"
curl -fsS -X PATCH "$URL/profile/edit" -H "authorization: Bearer $CY_TOKEN" -H 'content-type: application/json' \
  -d '{"location":"Lisbon, Portugal","experienceYears":12,"skills":["haskell","rust"]}' >/dev/null ||
  echo "editing cy's profile failed" >&2
keys ada 6
check "ada's search screen lists everyone at first" ada "[connected] Bob Kahn"
typed ada "skill:haskell loc:lisbon"
check "ada finds cy by skill and location, with his details" ada "[connect] Cy Hopper · haskell, rust · Lisbon, Portugal · 12 yrs"
typed ada " bob"
check "a search for more words finds no one" ada "No one found."
keys ada BSpace BSpace BSpace BSpace
check "deleting them finds cy again" ada "[connect] Cy Hopper"
keys ada Down Enter
check "enter opens cy's profile" ada "Experience 12 years"
keys ada c
typed ada "Haskell in Lisbon? 🐑"
keys ada Enter
check "ada is told the request to cy went out" ada "Connection request sent to Cy Hopper."
check "cy now reads as pending" ada "a request is waiting for an answer"
cy_note() {
  curl -fsS "$URL/user/requests/received" -H "authorization: Bearer $CY_TOKEN" | python3 -c '
import json, sys
requests = json.load(sys.stdin)["requests"]
assert [r["note"] for r in requests] == ["Haskell in Lisbon? 🐑"], requests'
}
verdict "cy received the request with ada's note" cy_note
keys ada /
keys ada C-u
typed ada "$(printf 'x%.0s' $(seq 201))"
check "an over-long query shows the refusal with its code" ada "(validation)"
keys ada F1

# Bob writes first; Ada watches her chat list.
keys ada 1
check "ada's chats list bob" ada "Bob Kahn"
keys bob 1
check "bob's chats list ada" bob "Ada Lovelace"
keys bob Enter
typed bob "Hello Ada, from Bob 你好 👋"
check "ada sees bob typing" ada "✎" 15
keys bob Enter
check "ada's chats show bob with one unread" ada "Bob Kahn (1)"
keys ada Enter
check "ada's screen shows bob's message" ada "Bob: Hello Ada, from Bob 你好 👋"
typed ada "Hi Bob! Ada here 🎉 数学"
check "bob sees ada typing" bob "Ada is typing…" 15
keys ada Enter
check "bob's screen shows ada's reply" bob "Ada: Hi Bob! Ada here 🎉 数学"
check "ada's own message is stored" ada "You: Hi Bob! Ada here 🎉 数学"

# The server goes away: both show reconnecting. While Ada backs off, the server returns
# and Bob's message (sent over REST) arrives; Ada gets it once after reconnecting.
stop_server
check "ada shows reconnecting" ada "reconnecting"
wait_for ada "(try 3" 20 || true
start_server
ADA_ID="$(curl -fsS "$URL/profile/view" -H "authorization: Bearer $ADA_TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["_id"])')" || ADA_ID=unknown
curl -fsS -X POST "$URL/message/$ADA_ID" -H "authorization: Bearer $BOB_TOKEN" \
  -H 'content-type: application/json' -d '{"text":"sent while you were away"}' >/dev/null ||
  echo "sending the offline message failed" >&2
check "ada reconnects" ada "● connected" 40
check "ada gets the message sent while she was away" ada "Bob: sent while you were away"
count_away() { [ "$(screen_of ada | grep -cF 'sent while you were away')" = 1 ]; }
sleep 1
verdict "the caught-up message shows exactly once" count_away
check "bob reconnects" bob "● connected" 40
check "bob's own message shows on his screen" bob "You: sent while you were away"

# A group: Ada's (made over REST), joined by Bob by its id; they talk in it, Bob's message
# counts as unread on Ada's list while she is elsewhere, and once removed Bob is told so.
# F5: both are typing in their 1:1 conversation.
GROUP_ID="$(curl -fsS -X POST "$URL/groups" -H "authorization: Bearer $ADA_TOKEN" -H 'content-type: application/json' \
  -d '{"name":"Rust 🦀","description":"","visibility":"public","tags":[]}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["_id"])')" || GROUP_ID=unknown
BOB_ID="$(curl -fsS "$URL/profile/view" -H "authorization: Bearer $BOB_TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["_id"])')" || BOB_ID=unknown
keys bob F5
check "bob's groups screen opens" bob "My groups (0)"
keys bob j
typed bob "$GROUP_ID"
keys bob Enter
check "bob joins ada's group by its id" bob "Rust 🦀 · member"
keys ada F5
check "ada's groups list it" ada "Rust 🦀 · owner · 2 members"
keys ada Enter
check "ada's group says she created it" ada "· You created the group"
check "and that bob joined" ada "· Bob joined"
keys bob Enter
check "bob's group history starts at his joining" bob "· You joined"
typed bob "hello group 你好 👋"
check "ada sees bob typing in the group" ada "Bob is typing…" 15
keys bob Enter
check "ada sees bob's group message live" ada "Bob: hello group 你好 👋"
typed ada "welcome Bob 🎉"
keys ada Enter
check "bob sees ada's group message" bob "Ada: welcome Bob 🎉"
keys ada Escape
sleep 0.3 # two lone Escapes, not Alt-Escape
keys ada Escape
sleep 0.3
typed bob "second one"
keys bob Enter
check "ada's list counts bob's group message as unread" ada "Rust 🦀 (1)"
keys ada Enter
check "opening the group shows it" ada "Bob: second one"

# Ada edits the group from its conversation; Bob, a member, may not. A file that is no
# image is refused under the photo field; then the description, tags and a PNG are saved
# in one request, and Bob's details follow live.
python3 -c '
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00")) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)' "$WORK/crab.png"
echo "not an image" >"$WORK/notes.txt"
keys bob C-e
check "bob, a member, is told only the owner and admins edit" bob "Only the owner and admins edit Rust 🦀: you are a member."
keys ada C-e
check "ada's edit form opens with the group's name" ada "Name        Rust 🦀"
keys ada Tab
typed ada "Rust folks in Berlin"
keys ada Tab Tab
typed ada "rust, berlin"
keys ada Tab
typed ada "$WORK/notes.txt"
keys ada Enter
check "a file that is no image is refused under the photo" ada "(unsupported_media_type)"
keys ada C-u
typed ada "$WORK/crab.png"
keys ada Enter
check "ada's edit is saved" ada "Saved Rust 🦀."
check "the group's history says so" ada "· You edited the group"
keys ada C-d
check "ada's details show the new description" ada "Description Rust folks in Berlin"
check "and the photo's URL" ada "http://127.0.0.1:$PORT/"
keys bob C-d
check "bob's details follow the edit live" bob "Tags        rust, berlin"
check "bob sees who edited the group" bob "· Ada edited the group"
edited_group() {
  curl -fsS "$URL/groups/$GROUP_ID" -H "authorization: Bearer $BOB_TOKEN" | python3 -c '
import json, sys
g = json.load(sys.stdin)["data"]
assert (g["name"], g["description"], g["tags"]) == ("Rust 🦀", "Rust folks in Berlin", ["rust", "berlin"]), g
assert g["photoURL"], g'
}
verdict "the server holds the edit and the photo" edited_group
keys ada C-d
keys bob C-d
curl -fsS -X DELETE "$URL/groups/$GROUP_ID/members/$BOB_ID" -H "authorization: Bearer $ADA_TOKEN" >/dev/null ||
  echo "removing bob from the group failed" >&2
check "ada sees that she removed bob" ada "· You removed Bob"
check "bob is told he is no longer a member" bob "You are no longer a member of Rust 🦀"

# A restart skips the login (the saved token) and the logout key forgets it.
keys ada Escape
sleep 0.3 # a lone Escape, not the start of Alt-q
keys ada q
check "ada's client quits cleanly" ada "EXITED-0"
t kill-session -t ada || true
start_tui ada "XDG_CONFIG_HOME=$WORK/ada-config HOME=$WORK/ada-home"
check "ada's restart skips the login" ada "● connected"
check "ada's restart lists bob" ada "Bob Kahn"
keys ada 4
check "ada's profile shows her email" ada "ada@example.com"
keys ada e
check "ada's profile opens for editing" ada "Edit profile"
keys ada Tab Tab
typed ada "36"
keys ada Enter
check "ada's profile edit is saved" ada "Profile saved."
check "ada's profile shows the new age" ada "Age        36"

# Trust and safety. Ada reports her group (the picker offers Bob's message there first),
# then Bob's last 1:1 message with a reason and a line of details (the server refuses a
# second report of it); she blocks Bob from their conversation: asked first, then the
# conversation closes, the connection is gone and Bob's messages are refused; and she
# unblocks him from the Blocked list of the Requests screen.
keys ada 5
check "ada's groups list her group" ada "Rust 🦀 · owner"
keys ada Enter
check "ada's group shows bob's message" ada "Bob: second one"
keys ada C-r
check "ada's report picker offers bob's group message first" ada "About       Bob's message: “second one”"
keys ada Tab
check "tab turns the report to the group" ada "About       the group Rust 🦀"
keys ada Enter
check "ada reported the group" ada "Reported the group Rust 🦀 (spam)."
keys ada F1
keys ada Enter
check "ada's conversation with bob opens" ada "Bob: sent while you were away"
keys ada C-r
check "ada's report picker offers bob's last message" ada "About       Bob's message: “sent while you were away”"
keys ada Down
check "down picks the next reason" ada "(•) harassment"
typed ada "unsolicited offers"
keys ada Enter
check "ada reported bob's message with a reason" ada "Reported Bob's message (harassment)."
ada_reports() {
  curl -fsS "$URL/reports/mine" -H "authorization: Bearer $ADA_TOKEN" | python3 -c '
import json, sys
reports = json.load(sys.stdin)["data"]
assert [(r["kind"], r["reason"], r["details"]) for r in reports] == [
    ("message", "harassment", "unsolicited offers"), ("group", "spam", "")], reports'
}
verdict "the server holds both reports with their reasons and details" ada_reports
keys ada C-r
keys ada Enter
check "a second report of the message shows the server's refusal" ada "you already reported this"
keys ada C-x
check "ada is asked before blocking bob" ada "Block Bob Kahn?"
keys ada y
check "ada blocked bob" ada "Blocked Bob Kahn."
check "the conversation with bob closed" ada "Select a chat and press Enter."
check "ada's chats mark bob as blocked" ada "⊘ Bob Kahn · blocked"
no_connections() {
  curl -fsS "$URL/user/connections" -H "authorization: Bearer $ADA_TOKEN" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["requests"] == [] else 1)'
}
verdict "the connection between ada and bob is gone" no_connections
keys bob F1
keys bob Enter
check "bob's conversation with ada opens" bob "You: sent while you were away"
typed bob "are you there?"
keys bob Enter
check "bob's message to ada is refused" bob "not sent: you can only message your connections"
keys ada 3
check "ada's requests screen lists the people she blocked" ada "Blocked (1)"
keys ada Left
check "the blocked list has focus" ada "u unblock"
keys ada u
check "ada unblocked bob from the list" ada "Unblocked Bob Kahn."
check "and the list is empty" ada "You have blocked no one."
nobody_blocked() {
  curl -fsS "$URL/user/blocked" -H "authorization: Bearer $ADA_TOKEN" |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["data"] == [] else 1)'
}
verdict "the server lists no one blocked by ada" nobody_blocked
keys ada L
check "the logout key returns to the login" ada "Log in"
verdict "logout removes the saved token" test ! -e "$WORK/ada-config/devconnect/session.json"

# A client started against a server that is not there says so and keeps trying.
DEAD_PORT="$(free_port)"
t new-session -d -s dead -x 120 -y 40 "env HOME=$WORK/dead-home $TUI_BIN --server http://127.0.0.1:$DEAD_PORT; sleep 600"
check "a dead server is reported at start" dead "Cannot reach http://127.0.0.1:$DEAD_PORT"
check "and retried" dead "Retrying in"

# Bob's client survived everything and still draws in a tiny window.
t resize-window -t bob -x 10 -y 3 2>/dev/null || true
sleep 0.5
t resize-window -t bob -x 120 -y 40 2>/dev/null || true
check "bob's client survives a tiny resize" bob "DevConnect"
verdict "no client wrote an error or panic" \
  bash -c "! grep -qi panic $WORK/*.stderr 2>/dev/null"

echo "tui: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
