"""Behaviour identity: the same requests through an app with and without the tracer.

``compare(make_app, requests)`` builds two fresh apps from the same factory,
instruments one, sends each request to both (lifespan included) and returns
the differences in status, headers (other than the tracer's own) and body,
byte for byte. An empty list is the only passing answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

import tracer

OURS = frozenset({"x-trace-id", "traceparent"})


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: headers whose values legitimately differ per request (ids, timings, dates)
    volatile: frozenset[str] = frozenset({"date", "x-request-id", "server-timing"})


async def _responses(app: Any, requests: Sequence[Req]) -> list[httpx.Response]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return [await client.request(r.method, r.path, **r.kwargs) for r in requests]


async def compare(
    make_app: Callable[[], Any],
    requests: Sequence[Req],
    *,
    expect_traces: int | None = None,
    **options: Any,
) -> list[str]:
    """Differences between the untraced and the traced app, one line each.

    ``expect_traces`` defaults to one trace per request (full sampling).
    """
    plain = await _responses(make_app(), requests)
    traced_app = tracer.instrument(make_app(), store=False, **options)
    with tracer.capture(traced_app) as traces:
        traced = await _responses(traced_app, requests)
    problems: list[str] = []
    for req, a, b in zip(requests, plain, traced, strict=True):
        where = f"{req.method} {req.path}"
        if a.status_code != b.status_code:
            problems.append(f"{where}: status {a.status_code} != {b.status_code}")
        ignore = OURS | req.volatile
        ha = sorted((k, v) for k, v in a.headers.multi_items() if k not in ignore)
        hb = sorted((k, v) for k, v in b.headers.multi_items() if k not in ignore)
        if ha != hb:
            problems.append(f"{where}: headers {ha} != {hb}")
        if a.content != b.content:
            problems.append(f"{where}: body {a.content[:80]!r} != {b.content[:80]!r}")
    expected = len(requests) if expect_traces is None else expect_traces
    if len(traces) != expected:
        problems.append(f"{len(traces)} traces for {len(requests)} requests, expected {expected}")
    return problems
