"""What the trace store's writer thread costs per trace, and what encoding costs.

Real demo traces (``GET /health``, the cheap-hash ``POST /users``) are added
to a store on tmpfs, ``N`` at a time, and the process CPU (``process_time``:
every thread) from the first ``add`` to the end of ``flush`` is divided by
``N``. ``add`` itself is a deque append (< 1 µs), so the figure is the writer
thread's. Three cases: everything persisted (``budget=None``: summary,
encode, SQLite); the default budget under load (the same ``N`` arriving in
one window: most traces only classified, the chosen ones persisted); and
the encode alone, with the stdlib ``json`` and, when installed, ``orjson``.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import median


@dataclass
class StoreCost:
    spans: dict[str, int] = field(default_factory=dict)
    persisted_us: dict[str, float] = field(default_factory=dict)  # per persisted trace
    budgeted_us: dict[str, float] = field(default_factory=dict)  # per offered trace, under load
    budget_kept: dict[str, int] = field(default_factory=dict)
    encode_us: dict[str, dict[str, float]] = field(default_factory=dict)  # encoder -> endpoint
    encoder: str = ""
    traces: int = 0


async def _record() -> dict[str, Any]:
    import httpx

    import tracer
    from benchmarks.apps import bench_settings, hash_patched, instrument
    from tracer.demo_app.main import create_app

    app = create_app(bench_settings())
    instrument(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.get("/health")
            with hash_patched(True), tracer.capture(app) as traces:
                await client.get("/health")
                await client.post(
                    "/users", json={"email": "store@example.com", "password": "s3cret-pass"}
                )
    tracer.uninstrument(app)
    health, post = traces.traces
    return {"GET /health": health, "POST /users": post}


def _copies(trace: Any, n: int) -> list[Any]:
    """``n`` traces like ``trace`` with distinct ids (each row is a new one)."""
    import copy

    out = []
    for i in range(n):
        t = copy.copy(trace)
        t.trace_id = f"{i:032x}"
        out.append(t)
    return out


def _cpu_per_trace(traces: list[Any], **options: Any) -> tuple[float, int]:
    from benchmarks.apps import scratch_dir
    from tracer.sinks.store import TraceStore

    path = os.path.join(scratch_dir(), "cost.db")
    store = TraceStore(path, queue_size=len(traces) + 1, **options)
    store.add(traces[0])  # the file, the thread, the connection: out of the way
    store.flush()
    cpu = time.process_time()
    for trace in traces:
        store.add(trace)
    store.flush(60)
    spent = time.process_time() - cpu
    written = store.written - 1
    store.close()
    return spent * 1e6 / len(traces), written


def run(n: int, repeats: int = 3) -> StoreCost:
    from tracer.sinks.store import encoding

    recorded = asyncio.run(_record())
    result = StoreCost(encoder=encoding.ENCODER, traces=n)
    for label, trace in recorded.items():
        result.spans[label] = len(trace.spans)
        traces = _copies(trace, n)
        persisted = [_cpu_per_trace(traces, budget=None)[0] for _ in range(repeats)]
        result.persisted_us[label] = median(persisted)
        budgeted = [_cpu_per_trace(traces, clock=lambda: 1000.0) for _ in range(repeats)]
        result.budgeted_us[label] = median([us for us, _ in budgeted])
        result.budget_kept[label] = budgeted[0][1]
        for name, fast in (("json", False), ("orjson", True)):
            if fast and encoding.ENCODER != "orjson":
                continue
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _ in range(200):
                    encoding.encode(trace, fast=fast)
                times.append((time.perf_counter() - t0) * 1e6 / 200)
            result.encode_us.setdefault(name, {})[label] = median(times)
    return result
