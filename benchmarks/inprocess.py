"""In-process request cost: endpoint × variant, interleaved, medians.

Each round, for each endpoint, the variants take turns (round-robin; the
first cycle in an order rotated from round to round, later cycles shuffled
with a fixed seed) sending a few requests each (``chunk``) until each has sent
``batch``: fine-grained interleaving, so a noisy neighbour slows every variant
alike. Each request is timed on its own with
``perf_counter_ns`` around ``await client.request(...)`` (the response fully
read). A cell's figure is the median over rounds of the per-round median; a
ratio is the median over rounds of the ratio of two cells *in the same round*.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.apps import (
    INPROCESS_VARIANTS,
    Endpoint,
    Variant,
    database_note,
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
    #: the same client against an ASGI app that answers at once: the harness's own cost
    floor: Samples = field(default_factory=Samples)


async def _floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _floor_batch(client: Any, count: int) -> list[int]:
    times = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        await client.get("/")
        times.append(time.perf_counter_ns() - t0)
    return times


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
    variants = [make_variant(name) for name in INPROCESS_VARIANTS]
    keys = [(ep.key, v) for ep in eps for v in INPROCESS_VARIANTS]
    samples = {key: Samples() for key in keys}
    spans: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    notes: list[str] = []
    floor = Samples()
    shuffle = random.Random(20261122)  # fixed seed: the same sequence on every run
    started_at = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        import httpx

        floor_client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=_floor_app), base_url="http://b")
        )
        for variant in variants:
            await stack.enter_async_context(started(variant))
        notes.append(database_note())
        for variant in variants:
            notes.extend(f"{variant.name}: {note}" for note in variant.notes)
        by_name = {v.name: v for v in variants}
        # warm-up: first-request costs (handlers built on first use), caches, the pool
        for ep in eps:
            for variant in variants:
                await _batch(variant, ep, warmup if ep.key != "post_users" else 2)
                variant.clear()
        await _floor_batch(floor_client, 50)
        for r in range(rounds):
            gc.collect()
            times = await _floor_batch(floor_client, 100)
            floor.round_medians.append(median(times))
            floor.round_means.append(sum(times) / len(times))
            for ep in eps:
                times_by: dict[str, list[int]] = {name: [] for name in INPROCESS_VARIANTS}
                for variant in variants:
                    variant.clear()
                gc.collect()
                with hash_patched(ep.cheap_hash):
                    for cycle in range(max(1, ep.batch // ep.chunk)):
                        # rotated each round; shuffled each cycle so no variant always
                        # follows the same one (its garbage, its cache footprint)
                        order = rotated(INPROCESS_VARIANTS, r + len(ep.key))
                        if cycle:
                            shuffle.shuffle(order)
                        for name in order:
                            variant = by_name[name]
                            for _ in range(ep.chunk):
                                times_by[name].append(await _one(variant, ep))
                for name in INPROCESS_VARIANTS:
                    times = times_by[name]
                    cell = samples[(ep.key, name)]
                    cell.round_medians.append(median(times))
                    cell.round_means.append(sum(times) / len(times))
                    cell.requests += len(times)
                    spans[(ep.key, name)].append(by_name[name].spans_recorded() / len(times))
                    by_name[name].clear()
            elapsed = time.perf_counter() - started_at
            log(f"  in-process round {r + 1}/{rounds} done ({elapsed:.0f} s)")
        for ep in eps:
            if any(spans[(ep.key, "unsampled")]):
                notes.append(f"unsampled: {ep.label} was traced (expected no trace)")
            if not all(spans[(ep.key, "full")]):
                notes.append(f"full: {ep.label} was not traced in some round")
    per_request = {key: median(counts) if counts else 0.0 for key, counts in spans.items()}
    return InProcessResult(
        endpoints=eps,
        samples=samples,
        spans_per_request=per_request,
        notes=notes,
        rounds=rounds,
        seconds=time.perf_counter() - started_at,
        floor=floor,
    )


def main() -> None:  # pragma: no cover - manual use
    result = asyncio.run(run(rounds=3, scale=0.3, warmup=20))
    for (ep, v), s in result.samples.items():
        print(ep, v, s.median_ns / 1000, result.spans_per_request[(ep, v)])
    print(result.notes)


if __name__ == "__main__":
    main()
