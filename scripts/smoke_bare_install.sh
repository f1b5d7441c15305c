#!/usr/bin/env bash
# scripts/smoke_bare_install.sh — does a plain `pip install` (no extras) give a working CLI?
#
# Usage:
#
#   scripts/smoke_bare_install.sh VENV             # smoke-test trace-request as installed in VENV
#   scripts/smoke_bare_install.sh --install VENV   # first (re)create VENV and install this
#                                                  # checkout into it: no extras, not editable
#
# The test extra pulls in packages (uvicorn → click, ...) the CLI must not rely on, so
# only a venv with nothing but the project's own dependencies shows what a user gets.
# --install copies the checkout's files (tracked, and untracked but not ignored) to a
# temporary directory and installs from there, so a stale build/ or egg-info in the
# working tree cannot leak into the wheel.
#
# The checks run from an empty temporary directory, so the repository's folders are
# not on sys.path: `import cli` / `import demo_app` must fail, the demo must load as
# tracer.demo_app. Each check prints "ok" or "FAIL" with the command, its exit status
# and, on failure, the end of its output. Exit status: the number of failed checks.
set -u

install=0
if [ "${1:-}" = "--install" ]; then
    install=1
    shift
fi
if [ $# -ne 1 ]; then
    sed -n '2,9p' "$0" >&2
    exit 64
fi
venv=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "$install" = 1 ]; then
    src=$(mktemp -d)
    trap 'rm -rf "$src"' EXIT
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$root" && git ls-files -z --cached --others --exclude-standard \
            | xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' _ \
            | tar --null -T - -cf -) | tar -xf - -C "$src"
    else
        (cd "$root" && tar --exclude=./build --exclude='./.venv*' -cf - .) | tar -xf - -C "$src"
    fi
    rm -rf "$venv"
    python3 -m venv "$venv" || exit 1
    "$venv/bin/python" -m pip install --quiet --upgrade pip || exit 1
    "$venv/bin/python" -m pip install --quiet "$src" || exit 1
fi

cli="$venv/bin/trace-request"
py="$venv/bin/python"
[ -x "$cli" ] || { echo "FAIL: no trace-request in $venv/bin" >&2; exit 1; }

work=$(mktemp -d)
cd "$work" || exit 1
failures=0
out="$work/output.txt"

# check WANT_STATUS DESCRIPTION -- COMMAND...: run COMMAND (stdin not a terminal), then
# test its exit status (a number, or "nonzero"), that it printed no traceback (unless it
# must fail) and every string in $expect (fixed strings; regular expressions with grep=-E).
grep=-F
check() {
    local want=$1 what=$2
    shift 3
    "$@" </dev/null >"$out" 2>&1
    local status=$?
    local ok=1
    if [ "$want" = nonzero ]; then [ "$status" -ne 0 ] || ok=0; else [ "$status" -eq "$want" ] || ok=0; fi
    if grep -q "Traceback" "$out" && [ "$want" != nonzero ]; then ok=0; fi
    for needle in "${expect[@]}"; do grep -q "$grep" -- "$needle" "$out" || ok=0; done
    if [ "$ok" = 1 ]; then
        echo "ok    exit $status  $what"
    else
        echo "FAIL  exit $status (want $want)  $what"
        echo "      expected to see: ${expect[*]:-(nothing in particular)}"
        tail -n 20 "$out" | sed 's/^/      | /'
        failures=$((failures + 1))
    fi
}

echo "smoke: $("$py" -c 'import sys; print(sys.version.split()[0])') in $venv, from $work"
"$py" -c 'import click' >/dev/null 2>&1 && echo "note: click is installed in this venv" \
    || echo "note: click is not installed (typer uses its own copy)"

expect=("HTTP 201 Created" "POST /users")
check 0 "README: trace-request POST /users --json '{\"email\": ...}'" -- \
    "$cli" POST /users --json '{"email": "ada@example.com", "password": "s3cret-pass"}'

expect=("201 Created" "422 Unprocessable" "500 Internal Server Error" "N+1")
check 0 "trace-request tour (stdin not a terminal)" -- "$cli" tour --no-color

expect=("Usage: trace-request" "Invalid value for '--width'")
check 2 "trace-request --width 5 GET /health (usage error)" -- "$cli" --width 5 GET /health

expect=("^Commands:" "^  tour  " "^  list  " "^  show  " "^  tail  ")
grep=-E check 0 "trace-request --help lists tour, list, show, tail" -- "$cli" --help

expect=("No module named 'cli'")
check nonzero "python -c 'import cli' fails" -- "$py" -c "import cli"

expect=("No module named 'demo_app'")
check nonzero "python -c 'import demo_app' fails" -- "$py" -c "import demo_app"

cd / && rm -rf "$work"
if [ "$failures" -ne 0 ]; then
    echo "smoke: $failures check(s) failed"
else
    echo "smoke: all checks passed"
fi
exit "$failures"
