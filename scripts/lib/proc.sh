# Process helpers for the test scripts: bounded waits only. Sourced, not run:
#   source "$ROOT/scripts/lib/proc.sh"
#
# Inner limits use `timeout --foreground`, so the command stays in the caller's process
# group: scripts/test.sh runs each step in a group of its own and, when the step's limit
# is reached, signals that whole group (servers, test runners and the scripts' traps).

# alive PID: whether PID runs (a zombie child waiting to be reaped does not count).
alive() {
    local stat
    stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n "$stat" && "$stat" != Z* ]]
}

# stop_process PID [GRACE]: sends SIGTERM, waits up to GRACE seconds (default 10) for PID
# to exit, then sends SIGKILL. Returns PID's exit status (137 when it had to be killed,
# with a message on stderr). PID must be a child of this shell. Never hangs.
stop_process() {
    local pid=$1 grace=${2:-10} deadline status=0
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if alive "$pid"; then
        echo "process $pid did not stop within ${grace}s of SIGTERM: killed" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

# limited SECONDS WHAT CMD [ARGS...]: runs CMD with a time limit. When it is reached, CMD
# gets SIGTERM (SIGKILL 10 s later), "WHAT timed out after SECONDS s" goes to stderr, and
# the status is 124. Otherwise CMD's own status.
limited() {
    local secs=$1 what=$2 status=0 start=$SECONDS
    shift 2
    timeout --foreground --kill-after=10 "$secs" "$@" || status=$?
    if [[ ($status -eq 124 || $status -eq 137) && $((SECONDS - start)) -ge $secs ]]; then
        echo "$what timed out after $secs s" >&2
        status=124
    fi
    return "$status"
}
