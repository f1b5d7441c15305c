#!/bin/sh
# scripts/matrix.sh — run the test suite against several FastAPI / SQLAlchemy / Python versions.
#
# Usage (from anywhere; paths are relative to the repository root):
#
#   scripts/matrix.sh                      # the default matrix (see DEFAULT_COMBOS below)
#   scripts/matrix.sh 0.115.14/2.0.58      # one combination: FASTAPI/SQLALCHEMY[/PYTHON]
#   scripts/matrix.sh 0.115.14/2.0.58/3.12 0.165.0/2.1.9/3.13
#
# Each combination gets its own venv under .matrix/<name> (gitignored), e.g.
# .matrix/fa0.115.14-sa2.0.58-py3.11. The venv is created once and reused; the
# project is installed with `pip install -e '.[test]'` plus `fastapi==X`
# `sqlalchemy==Y` (pip picks the Starlette that FastAPI X allows). Then
#
#   python -m pytest -q -p no:cacheprovider $MATRIX_TESTS
#
# runs, and a summary table (combination -> passed/failed/skipped/error counts)
# is printed at the end. The exit status is non-zero if any combination failed
# or could not be installed.
#
# Golden renderings (tests/golden) are recorded on the newest versions only
# ($MATRIX_GOLDEN_FASTAPI / $MATRIX_GOLDEN_SQLALCHEMY, default 0.165.0 / 2.1.9):
# for every other combination the script leaves tests/golden out (shown as
# "golden: skipped" in the table). They are exact to the fake-clock tick, and the
# number of clock readings depends on the versions (e.g. SQLAlchemy 2.0's async
# adaptation resumes the handler coroutine more often than 2.1, so the loop-hold
# probe reads the clock more often and every later timestamp shifts).
#
# Old Starlette (< 0.47, which FastAPI 0.115 requires) touches anyio.abc.BlockingPortal
# at import, deprecated by current anyio; the suite turns warnings into errors, so
# the script adds -W for exactly that one warning (harmless on new versions).
#
# Environment:
#   MATRIX_TESTS            test paths (default: "tests/tracer tests/golden tests/cli")
#   MATRIX_PYTEST_ARGS      extra pytest arguments, e.g. "-x" to stop at the first failure
#                           (then the counts only cover the tests run so far)
#   MATRIX_GOLDEN_FASTAPI   FastAPI version the goldens were recorded on (default 0.165.0)
#   MATRIX_GOLDEN_SQLALCHEMY  SQLAlchemy version the goldens were recorded on (default 2.1.9)
#   MATRIX_REBUILD=1        delete and recreate each venv
#   MATRIX_DIR              where venvs and logs go (default .matrix)
#   MATRIX_PYTHON           default Python for combinations without /PYTHON (default 3.11)
#   MATRIX_PINS             extra requirements installed with each combination. Default pins
#                           the OpenTelemetry instrumentations to one release (0.66b1): with
#                           an old FastAPI pip's resolver otherwise backtracks into
#                           opentelemetry-instrumentation-fastapi 0.48b0 and gives up
#                           (ResolutionImpossible against -sqlalchemy 0.66b1).
#
# Python "3.12" is looked up as /root/.pyenv/versions/3.12*/bin/python, then
# python3.12 on PATH; a missing interpreter is reported as "no python" and
# skipped (this script never builds one). Logs: .matrix/<name>/install.log and
# .matrix/<name>/pytest.log.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

MATRIX_DIR=${MATRIX_DIR:-.matrix}
MATRIX_TESTS=${MATRIX_TESTS:-"tests/tracer tests/golden tests/cli"}
MATRIX_PYTEST_ARGS=${MATRIX_PYTEST_ARGS:-}
MATRIX_GOLDEN_FASTAPI=${MATRIX_GOLDEN_FASTAPI:-0.165.0}
MATRIX_GOLDEN_SQLALCHEMY=${MATRIX_GOLDEN_SQLALCHEMY:-2.1.9}
MATRIX_PYTHON=${MATRIX_PYTHON:-3.11}
MATRIX_PINS=${MATRIX_PINS-"opentelemetry-instrumentation-fastapi==0.66b1 opentelemetry-instrumentation-sqlalchemy==0.66b1"}

# oldest supported, middle, first with built-in telemetry (0.142+), newest
# x SQLAlchemy 2.0 / 2.1
DEFAULT_COMBOS="
0.115.14/2.0.58
0.115.14/2.1.9
0.128.8/2.0.58
0.142.4/2.0.58
0.142.4/2.1.9
0.165.0/2.0.58
0.165.0/2.1.9
"

find_python() {
    for p in /root/.pyenv/versions/"$1"*/bin/python; do
        if [ -x "$p" ]; then echo "$p"; return 0; fi
    done
    if command -v "python$1" >/dev/null 2>&1; then
        p=$(command -v "python$1")
        # a pyenv shim for a version that is not installed fails when run
        if "$p" -c 'import sys' >/dev/null 2>&1; then echo "$p"; return 0; fi
    fi
    return 1
}

count() {  # count WORD LOGFILE -> the number before WORD on pytest's summary line
    n=$(tail -n 5 "$2" | grep -Eo "[0-9]+ $1" | tail -n 1 | cut -d' ' -f1)
    echo "${n:-0}"
}

mkdir -p "$MATRIX_DIR"
SUMMARY=$(mktemp "$MATRIX_DIR/summary.XXXXXX")
trap 'rm -f "$SUMMARY"' EXIT
STATUS=0

COMBOS=${*:-$DEFAULT_COMBOS}
for combo in $COMBOS; do
    fa=$(echo "$combo" | cut -d/ -f1)
    sa=$(echo "$combo" | cut -d/ -f2)
    py=$(echo "$combo" | cut -s -d/ -f3)
    py=${py:-$MATRIX_PYTHON}
    name="fa$fa-sa$sa-py$py"
    venv="$MATRIX_DIR/$name"
    echo "=== $name"

    if ! python=$(find_python "$py"); then
        printf '%-34s %s\n' "$name" "no python $py on this machine" >>"$SUMMARY"
        continue
    fi
    if [ "${MATRIX_REBUILD:-0}" = 1 ]; then rm -rf "$venv"; fi
    want="fastapi==$fa sqlalchemy==$sa $MATRIX_PINS"
    if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$want" ]; then
        rm -rf "$venv"
        "$python" -m venv "$venv" || { STATUS=1; continue; }
        if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check \
                -e '.[test]' "fastapi==$fa" "sqlalchemy==$sa" $MATRIX_PINS \
                >"$venv/install.log" 2>&1; then
            printf '%-34s %s\n' "$name" "INSTALL FAILED (see $venv/install.log)" >>"$SUMMARY"
            STATUS=1
            continue
        fi
        echo "$want" >"$venv/.installed"
    fi

    versions=$("$venv/bin/python" -c 'import fastapi, starlette, sqlalchemy, sys; print(f"fastapi {fastapi.__version__}, starlette {starlette.__version__}, sqlalchemy {sqlalchemy.__version__}, python {sys.version.split()[0]}")')
    echo "    $versions"

    tests=""
    golden="golden: run"
    for t in $MATRIX_TESTS; do
        if [ "$t" = tests/golden ] && { [ "$fa" != "$MATRIX_GOLDEN_FASTAPI" ] ||
                [ "$sa" != "$MATRIX_GOLDEN_SQLALCHEMY" ]; }; then
            golden="golden: skipped"
            continue
        fi
        tests="$tests $t"
    done

    # shellcheck disable=SC2086  # word splitting of the test list is intended
    "$venv/bin/python" -m pytest -q -p no:cacheprovider \
        -W 'ignore:The anyio.abc.BlockingPortal alias is deprecated:DeprecationWarning' \
        $MATRIX_PYTEST_ARGS $tests \
        >"$venv/pytest.log" 2>&1
    rc=$?
    tail -n 1 "$venv/pytest.log" | sed 's/^/    /'
    [ $rc -eq 0 ] || STATUS=1
    printf '%-34s passed %4s  failed %3s  errors %3s  skipped %3s  (%s; %s; exit %s)\n' \
        "$name" "$(count passed "$venv/pytest.log")" "$(count failed "$venv/pytest.log")" \
        "$(count error "$venv/pytest.log")" "$(count skipped "$venv/pytest.log")" \
        "$golden" "$versions" "$rc" >>"$SUMMARY"
done

echo
echo "Summary ($MATRIX_TESTS${MATRIX_PYTEST_ARGS:+ $MATRIX_PYTEST_ARGS}):"
cat "$SUMMARY"
exit $STATUS
