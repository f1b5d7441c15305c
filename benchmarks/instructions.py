"""Instructions per request, counted by valgrind: an A/B that a busy machine cannot blur.

    python benchmarks/instructions.py                      # base, full, fastapi on /health
    python benchmarks/instructions.py --variants base,full,otlp --endpoint users_me

Wall and CPU times on a shared 2-core machine move by 30 % from one minute to
the next; the number of instructions a request executes does not. Each
variant runs in a child process under ``valgrind --tool=cachegrind
--cache-sim=no`` twice, with a short and a long run of the same requests
after the same warm-up, and the difference divided by the extra requests is
the cost of one request. The app is driven through its ASGI callable (no
HTTP client in the count). Instructions are not time — C code that does more
per instruction, a syscall, a cache miss all differ — so this ranks changes
to Python code; ``run.py`` stays the measurement of record.

Needs ``valgrind`` (Debian: ``apt install valgrind``); takes about 30 s per
variant and run length.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PATHS = {"health": "/health", "users_me": "/users/me"}


async def _drive(variant: str, endpoint: str, warmup: int, count: int) -> None:
    from benchmarks.apps import instrument_otel_sqlalchemy, make_variant

    v = make_variant(variant, keep_otel_spans=False)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATHS[endpoint],
        "raw_path": PATHS[endpoint].encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"user-agent", b"instructions"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        pass

    async with v.app.router.lifespan_context(v.app):
        if variant == "otel":
            instrument_otel_sqlalchemy(v)
        for _ in range(warmup + count):
            await v.app(dict(scope), receive, send)
    os._exit(0)  # no teardown in the count


def _count(variant: str, endpoint: str, warmup: int, count: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            variant,
            endpoint,
            str(warmup),
            str(count),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=False,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"valgrind gave no count for {variant}: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        variant, endpoint, warmup, count = sys.argv[2:6]
        asyncio.run(_drive(variant, endpoint, int(warmup), int(count)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default="base,full,fastapi")
    parser.add_argument("--endpoint", default="health", choices=sorted(PATHS))
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    variants = args.variants.split(",")
    per_request: dict[str, int] = {}
    for variant in variants:
        short = _count(variant, args.endpoint, args.warmup, 50)
        long = _count(variant, args.endpoint, args.warmup, 50 + args.requests)
        per_request[variant] = (long - short) // args.requests
        print(f"{variant:10s} {per_request[variant]:>12,} instructions/request", flush=True)
    base = per_request.get("base")
    if base is None:
        return
    extras = {v: n - base for v, n in per_request.items() if v != "base"}
    for variant, extra in extras.items():
        print(f"{variant:10s} extra {extra:>12,} ({extra / base:.2f}× of the untraced request)")


if __name__ == "__main__":
    main()
