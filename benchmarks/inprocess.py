"""In-process request cost: endpoint × variant, interleaved, medians.

Each round, for each endpoint, every variant runs one batch of requests, in an
order rotated from round to round. Each request is timed on its own with
``perf_counter_ns`` around ``await client.request(...)`` (the response fully
read). A cell's figure is the median over rounds of the per-round median; a
ratio is the median over rounds of the ratio of two cells *in the same round*.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.apps import (
    VARIANTS,
    Endpoint,
    Variant,
    endpoints,
    hash_patched,
    make_variant,
    started,
)
from benchmarks.harness import Samples, median, rotated


@dataclass
class InProcessResult:
    endpoints: list[Endpoint]
    samples: dict[tuple[str, str], Samples]  # (endpoint key, variant) -> samples
    spans_per_request: dict[tuple[str, str], float]
    notes: list[str] = field(default_factory=list)
    rounds: int = 0
    seconds: float = 0.0


async def _one(variant: Variant, ep: Endpoint) -> int:
    kwargs = ep.request_kwargs(variant)
    t0 = time.perf_counter_ns()
    response = await variant.client.request(ep.method, ep.path, **kwargs)
    elapsed = time.perf_counter_ns() - t0
    if response.status_code != ep.expect:
        raise RuntimeError(
            f"{variant.name}: {ep.method} {ep.path} answered {response.status_code}, "
            f"expected {ep.expect}: {response.text[:200]}"
        )
    return elapsed


async def _batch(variant: Variant, ep: Endpoint, count: int) -> list[int]:
    with hash_patched(ep.cheap_hash):
        return [await _one(variant, ep) for _ in range(count)]


async def run(rounds: int, scale: float, warmup: int, log: Any = print) -> InProcessResult:
    eps = endpoints(scale)
    variants = [make_variant(name) for name in VARIANTS]
    samples = {(ep.key, v): Samples() for ep in eps for v in VARIANTS}
    spans: dict[tuple[str, str], list[int]] = {(ep.key, v): [] for ep in eps for v in VARIANTS}
    notes: list[str] = []
    started_at = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        for variant in variants:
            await stack.enter_async_context(started(variant))
        for variant in variants:
            notes.extend(f"{variant.name}: {note}" for note in variant.notes)
        by_name = {v.name: v for v in variants}
        # warm-up: first-request costs (handlers built on first use), caches, the pool
        for ep in eps:
            for variant in variants:
                await _batch(variant, ep, warmup if not ep.key == "post_users" else 2)
                variant.clear()
        for r in range(rounds):
            for ep in eps:
                for name in rotated(VARIANTS, r + len(ep.key)):
                    variant = by_name[name]
                    variant.clear()
                    gc.collect()
                    times = await _batch(variant, ep, ep.batch)
                    cell = samples[(ep.key, name)]
                    cell.round_medians.append(median(times))
                    cell.requests += len(times)
                    spans[(ep.key, name)].append(variant.spans_recorded())
                    variant.clear()
            log(f"  in-process round {r + 1}/{rounds} done ({time.perf_counter() - started_at:.0f} s)")
        unsampled = by_name["unsampled"]
        if unsampled.sink is not None and unsampled.sink.count:
            notes.append(f"unsampled: {unsampled.sink.count} requests were traced (expected 0)")
    per_request = {
        key: (sum(counts) / (len(counts) * ep.batch)) if counts else 0.0
        for ep in eps
        for key, counts in spans.items()
        if key[0] == ep.key
    }
    return InProcessResult(
        endpoints=eps,
        samples=samples,
        spans_per_request=per_request,
        notes=notes,
        rounds=rounds,
        seconds=time.perf_counter() - started_at,
    )


def main() -> None:  # pragma: no cover - manual use
    result = asyncio.run(run(rounds=3, scale=0.3, warmup=20))
    for (ep, v), s in result.samples.items():
        print(ep, v, s.median_ns / 1000, result.spans_per_request[(ep, v)])
    print(result.notes)


if __name__ == "__main__":
    main()
