#!/usr/bin/env bash
# Python bindings suite: builds the `devconnect` extension module with maturin into a
# local virtual environment, checks its type stubs with mypy.stubtest (and type-checks the
# tests and the example against them), runs the pytest suite of bindings/python/tests and
# the example in examples/python.
# Last line: `python: N passed, M failed`; exits non-zero if anything failed or nothing ran.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.tools/venv-python"
PYTHON_BIN="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$VENV/bin:$PATH"
export MYPY_CACHE_DIR="$ROOT/.tools/mypy-cache"
# Time limit of the pytest run, in seconds.
PYTEST_LIMIT="${TEST_TIMEOUT_PYTHON_PYTEST:-600}"
LOG="$(mktemp -d)"
trap 'rm -rf "$LOG"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
finish() {
    echo "python: $passed passed, $failed failed"
    if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
    exit 0
}

# 1. Tools, installed once.
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON_BIN" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import maturin, pytest, mypy' 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet 'maturin>=1.8,<2' 'pytest>=8' 'mypy>=1.10'
fi

# 2. Build and install the module, reusing $CARGO_TARGET_DIR. The suite builds with the
# dev profile (override with DEVCONNECT_PY_PROFILE=release): it shares most artifacts with
# `cargo test --workspace` and compiles in a fraction of the release time; the workspace
# profile still optimises the hashing and image crates. A plain `pip install` builds release.
profile="${DEVCONNECT_PY_PROFILE:-dev}"
export MATURIN_PEP517_ARGS="--profile $profile"
echo "python: building the devconnect module ($profile profile, target dir $CARGO_TARGET_DIR)"
if ! "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps --no-build-isolation \
    ./bindings/python >"$LOG/build.txt" 2>&1; then
    cat "$LOG/build.txt"
    echo "python: the module did not build"
    failed=$((failed + 1))
    finish
fi

# 3. The stubs match the compiled module.
printf '[mypy]\nstrict = True\ncache_dir = %s\n' "$MYPY_CACHE_DIR" >"$LOG/mypy.ini"
if (cd bindings/python && "$VENV/bin/python" -m mypy.stubtest devconnect \
    --allowlist stubtest-allowlist.txt --mypy-config-file "$LOG/mypy.ini") >"$LOG/stubtest.txt" 2>&1; then
    echo "python: stubtest ok"
    passed=$((passed + 1))
else
    cat "$LOG/stubtest.txt"
    echo "python: stubtest FAILED"
    failed=$((failed + 1))
fi

# 4. The tests and the example type-check against the stubs.
if "$VENV/bin/python" -m mypy --strict --python-version 3.11 --no-incremental \
    bindings/python/tests examples/python >"$LOG/mypy.txt" 2>&1; then
    echo "python: mypy ok"
    passed=$((passed + 1))
else
    cat "$LOG/mypy.txt"
    echo "python: mypy FAILED"
    failed=$((failed + 1))
fi

# 5. The pytest suite (exit code 5 = no tests collected counts as a failure).
set +e
# with-jongodb.sh provides DEVCONNECT_TEST_MONGODB_URL (a local MongoDB-compatible test
# server) unless it is already set, for the tests of the MongoDB store.
# A hung test ends at PYTEST_LIMIT (timeout: 124, or 137 if SIGTERM was not enough).
bash scripts/with-jongodb.sh timeout --foreground --kill-after=10 "$PYTEST_LIMIT" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests --junitxml="$LOG/junit.xml"
code=$?
set -e
if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    echo "python: pytest timed out after $PYTEST_LIMIT s (raise it with TEST_TIMEOUT_PYTHON_PYTEST)"
    failed=$((failed + 1))
elif [ "$code" -eq 5 ] || [ ! -f "$LOG/junit.xml" ]; then
    echo "python: pytest ran no tests (exit $code)"
    failed=$((failed + 1))
else
    read -r tests failures errors skipped < <("$VENV/bin/python" - "$LOG/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
total = [sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")]
print(*total)
EOF
    )
    passed=$((passed + tests - failures - errors - skipped))
    # A skipped test is not a pass: count it as a failure so nothing is skipped silently.
    failed=$((failed + failures + errors + skipped))
    if [ "$code" -ne 0 ] && [ "$failures" -eq 0 ] && [ "$errors" -eq 0 ]; then
        echo "python: pytest exited with $code"
        failed=$((failed + 1))
    fi
fi

# 6. The example runs and prints a feed.
if (cd "$LOG" && "$VENV/bin/python" "$ROOT/examples/python/seed_and_feed.py" \
    --csv "$ROOT/examples/python/developers.csv" --db "sqlite://$LOG/example.db") >"$LOG/example.txt" 2>&1 \
    && grep -q "Feed for" "$LOG/example.txt"; then
    cat "$LOG/example.txt"
    echo "python: example ok"
    passed=$((passed + 1))
else
    cat "$LOG/example.txt"
    echo "python: example FAILED"
    failed=$((failed + 1))
fi

finish
