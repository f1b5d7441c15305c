#!/usr/bin/env bash
# scripts/postgres.sh — a throwaway local PostgreSQL server for the DB-facing tests.
#
# Usage (from anywhere):
#
#   bash scripts/postgres.sh run -- python -m pytest -q tests/db
#       start a server, run the command with TRACE_REQUEST_TEST_POSTGRES set, stop the
#       server and remove its files; exits with the command's status
#
#   eval "$(bash scripts/postgres.sh start)"     # prints `export ...` lines
#   python -m pytest -q tests/db                 # ... work against it ...
#   bash scripts/postgres.sh stop                # uses $TRACE_REQUEST_POSTGRES_DIR
#
# What it does: installs Debian's `postgresql` package if no server binaries are
# found (root only; without starting the distribution's own cluster), creates a
# cluster with `initdb` in a new temporary directory (as the `postgres` user when
# run as root: PostgreSQL refuses to run as root), starts it listening on
# 127.0.0.1 only, on a free port, with its unix socket inside that directory, and
# creates a database `trace_request_test` owned by a role `trace_request` with a
# random password. The connection URL is exported as
#
#   TRACE_REQUEST_TEST_POSTGRES=postgresql+asyncpg://trace_request:…@127.0.0.1:PORT/trace_request_test
#
# Every step is bounded (start-up waits at most $PG_START_TIMEOUT seconds, default
# 30) and a failure at any point stops the server and removes the directory.
# Durability is switched off (fsync, synchronous_commit): the data is thrown away.
#
# Environment: PG_BINDIR (server binaries; default: the newest
# /usr/lib/postgresql/*/bin), PG_START_TIMEOUT (seconds), TMPDIR.

set -euo pipefail

PG_START_TIMEOUT=${PG_START_TIMEOUT:-30}
DB_NAME=trace_request_test
DB_ROLE=trace_request

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 2
}

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        printf '%s\n' "$PG_BINDIR"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        printf '%s\n' "$dir"
    fi
}

install_postgres() {
    [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; as root: apt-get install -y postgresql"
    say "installing Debian's postgresql package"
    # keep the package's own cluster from being started (the Docker convention)
    local policy=/usr/sbin/policy-rc.d added=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
    fi
    local status=0
    {
        timeout 300 apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq postgresql >/dev/null
    } || status=$?
    [ -z "$added" ] || rm -f "$policy"
    [ "$status" = 0 ] || die "apt-get install postgresql failed ($status)"
}

free_port() {
    # ask the kernel for one when Python is at hand; else a random high port (a taken one
    # fails the start, which is retried on another)
    if command -v python3 >/dev/null 2>&1 &&
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null; then
        return
    fi
    echo $((20000 + RANDOM % 40000))
}

# --- state of one server: set by start_server, used by stop_server ----------------------
DIR=""
AS=()

as_owner() { "${AS[@]}" "$@"; }

start_server() {
    local bindir
    bindir=$(find_bindir)
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$bindir/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
    elif [ -z "$bindir" ]; then
        install_postgres
        bindir=$(find_bindir)
        [ -n "$bindir" ] || die "no initdb under /usr/lib/postgresql/*/bin after installing"
    fi

    local base=${TMPDIR:-/tmp}
    # a unix socket path must stay under ~100 bytes
    [ "${#base}" -le 60 ] || base=/tmp
    DIR=$(mktemp -d "$base/trace-request-pg.XXXXXX")
    chmod 700 "$DIR"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 ||
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
        chown postgres: "$DIR"
        AS=(runuser -u postgres --)
    else
        AS=()
    fi

    local password
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$DIR/pwfile"
    [ "$(id -u)" != 0 ] || chown postgres: "$DIR/pwfile"
    # the socket directory is private (0700): local connections may trust; TCP needs the password
    if ! as_owner timeout 120 "$bindir/initdb" -D "$DIR/data" -U "$DB_ROLE" \
        --pwfile="$DIR/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --no-locale --no-sync >"$DIR/initdb.log" 2>&1; then
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    fi
    rm -f "$DIR/pwfile"

    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        rm -f "$DIR/server.log"
        if as_owner timeout $((PG_START_TIMEOUT + 5)) "$bindir/pg_ctl" -D "$DIR/data" \
            -l "$DIR/server.log" -w -t "$PG_START_TIMEOUT" -s \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >&2; then
            break
        fi
        tail -n 20 "$DIR/server.log" >&2 || true
        # a port taken between the probe and the start: try another; anything else is fatal
        grep -q 'could not bind\|Address already in use' "$DIR/server.log" 2>/dev/null && [ "$attempt" -lt 5 ] ||
            die "the server did not start within ${PG_START_TIMEOUT}s"
        say "port $port was taken, trying another"
        # the failed postmaster may still be shutting down
        as_owner timeout 15 "$bindir/pg_ctl" -D "$DIR/data" -s -m immediate stop >/dev/null 2>&1 || true
    done
    printf '%s\n' "$bindir" >"$DIR/bindir"

    timeout 30 "$bindir/createdb" -h "$DIR" -p "$port" -U "$DB_ROLE" "$DB_NAME" ||
        die "createdb failed"
    URL="postgresql+asyncpg://$DB_ROLE:$password@127.0.0.1:$port/$DB_NAME"
    say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $DIR)"
}

stop_server() {
    local dir=$1
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    local bindir
    bindir=$(cat "$dir/bindir" 2>/dev/null || find_bindir)
    local as=()
    [ "$(id -u)" != 0 ] || as=(runuser -u postgres --)
    if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bindir" ]; then
        "${as[@]}" timeout 30 "$bindir/pg_ctl" -D "$dir/data" -s -m fast -w -t 20 stop >/dev/null 2>&1 ||
            "${as[@]}" timeout 15 "$bindir/pg_ctl" -D "$dir/data" -s -m immediate -w -t 10 stop \
                >/dev/null 2>&1 || true
        if [ -f "$dir/data/postmaster.pid" ]; then
            local pid
            pid=$(head -n 1 "$dir/data/postmaster.pid")
            case $pid in '' | *[!0-9]*) ;; *) kill -KILL "$pid" 2>/dev/null || true ;; esac
        fi
    fi
    rm -rf "$dir"
}

cleanup_on_exit() {
    local status=$?
    trap - EXIT INT TERM
    stop_server "$DIR"
    exit "$status"
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case $cmd in
run)
    [ "${1:-}" != "--" ] || shift
    [ $# -gt 0 ] || usage
    trap cleanup_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_server
    export TRACE_REQUEST_TEST_POSTGRES=$URL
    started=$SECONDS
    status=0
    "$@" || status=$?
    say "command exited $status after $((SECONDS - started))s; stopping the server"
    exit "$status"
    ;;
start)
    trap cleanup_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_server
    trap - EXIT INT TERM
    printf 'export TRACE_REQUEST_TEST_POSTGRES=%q\n' "$URL"
    printf 'export TRACE_REQUEST_POSTGRES_DIR=%q\n' "$DIR"
    ;;
stop)
    dir=${1:-${TRACE_REQUEST_POSTGRES_DIR:-}}
    [ -n "$dir" ] || die "stop: give the directory, or set TRACE_REQUEST_POSTGRES_DIR"
    case $(basename "$dir") in trace-request-pg.*) ;; *) die "stop: $dir is not one of ours" ;; esac
    stop_server "$dir"
    say "stopped and removed $dir"
    ;;
*) usage ;;
esac
