"""Where a variant's time goes: cProfile over N in-process requests to one endpoint.

    python benchmarks/profile_request.py --endpoint health --variant full -n 2000

Prints the functions with the most own time, then the own time of the tracer's
code grouped by function, in µs per request (cProfile's own overhead inflates
every figure: compare functions with each other, not with the benchmark's
un-profiled times).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.apps import endpoints, hash_patched, make_variant, started  # noqa: E402


async def _profile(endpoint: str, variant_name: str, count: int) -> cProfile.Profile:
    ep = {e.key: e for e in endpoints()}[endpoint]
    variant = make_variant(variant_name)
    profiler = cProfile.Profile()
    async with started(variant):
        with hash_patched(ep.cheap_hash):
            for _ in range(50):
                await variant.client.request(ep.method, ep.path, **ep.request_kwargs(variant))
            gc.collect()
            profiler.enable()
            for _ in range(count):
                response = await variant.client.request(
                    ep.method, ep.path, **ep.request_kwargs(variant)
                )
                variant.clear()
            profiler.disable()
            assert response.status_code == ep.expect, response.text
    return profiler


def tracer_breakdown(stats: pstats.Stats, count: int, top: int = 40) -> list[tuple[float, str]]:
    """Own time of functions defined under tracer/, µs per request, largest first."""
    tracer_dir = str(ROOT / "tracer") + os.sep
    rows = []
    for (filename, line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if filename.startswith(tracer_dir):
            rel = os.path.relpath(filename, ROOT)
            rows.append((tottime * 1e6 / count, f"{rel}:{line}({name})"))
    rows.sort(reverse=True)
    return rows[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--endpoint", default="health", help="health, users_me, post_users_cheap, post_users"
    )
    parser.add_argument(
        "--variant", default="full", help="base, defaults, full, otlp, unsampled, otel, fastapi"
    )
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    profiler = asyncio.run(_profile(args.endpoint, args.variant, args.n))
    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort).print_stats(args.top)
    total = sum(v[2] for v in stats.stats.values()) * 1e6 / args.n  # type: ignore[attr-defined]
    rows = tracer_breakdown(stats, args.n)
    print(f"total own time under the profiler: {total:,.1f} µs/request")
    own = sum(r[0] for r in tracer_breakdown(stats, args.n, 10_000))
    print(f"tracer/ own time: {own:,.1f} µs/request")
    for us, where in rows:
        print(f"  {us:8.2f} µs  {where}")


if __name__ == "__main__":
    main()
