#!/usr/bin/env bash
# The crate edges of docs/architecture.md, checked with `cargo tree` (normal edges only):
# - the core knows nothing of serving: no clap, no Prometheus exporter, no tracing
#   subscriber, no hyper server (hyper comes in only as reqwest's client, for the
#   `cloudinary` feature); all that is devconnect-server's;
# - the wire types, the clients and the TUI build no server, no store and no core;
# - inside the core, no module imports one that imports it back (check-core-imports.py).
# Prints one line per broken edge; exits 1 if any.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bad=0
# deps PACKAGE [cargo tree args]: the names of every package in its normal tree.
deps() {
    local package=$1
    shift
    local out
    if ! out=$(cargo tree -q -p "$package" -e normal --prefix none "$@"); then
        echo "cargo tree -p $package failed"
        bad=1
        return
    fi
    awk '{print $1}' <<<"$out" | sort -u
}
# forbid PACKAGE "DEP..." [cargo tree args]
forbid() {
    local package=$1 forbidden=$2
    shift 2
    local names
    names=$(deps "$package" "$@")
    if [ -z "$names" ]; then
        echo "$package: empty dependency tree"
        bad=1
        return
    fi
    for dep in $forbidden; do
        if grep -qx "$dep" <<<"$names"; then
            echo "$package depends on $dep:"
            cargo tree -q -p "$package" -e normal "$@" -i "$dep" | head -n 20
            bad=1
        fi
    done
}

forbid devconnect-core "clap metrics-exporter-prometheus tracing-subscriber warp tonic" --features mongodb,cloudinary,redis
if cargo tree -q -p devconnect-core -e normal,features --features mongodb,cloudinary,redis -i hyper 2>/dev/null \
    | grep -q 'hyper feature "server"'; then
    echo "devconnect-core pulls in a hyper server"
    bad=1
fi
SERVERS_AND_STORES="devconnect-core devconnect-http devconnect-socketio devconnect-grpc devconnect-server
    rusqlite libsqlite3-sys mongodb redis warp tonic utoipa multer argon2 bcrypt image jsonwebtoken governor"
for package in devconnect-types devconnect-client devconnect-tui; do
    forbid "$package" "$SERVERS_AND_STORES"
done
python3 scripts/check-core-imports.py || bad=1
exit $bad
