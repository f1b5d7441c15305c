"""Sending the request in-process (lifespan included) and catching its trace."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from typing import Any

from cli.errors import CLIError

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY", "TRACE")


@dataclass
class RequestSpec:
    """What to send: validated before the app is even imported."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    content: bytes | None = None


@dataclass
class Exchange:
    """One request's response and trace."""

    status_code: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    trace: Any


def parse_request(
    method: str, path: str, json_body: str | None, data: str | None, headers: list[str]
) -> RequestSpec:
    """Validate the user's request arguments into a :class:`RequestSpec`."""
    import json

    verb = method.upper()
    if verb not in METHODS:
        raise CLIError(f"unknown HTTP method {method!r} (use one of {', '.join(METHODS)})")
    if not path.startswith("/"):
        raise CLIError(f"PATH must start with '/', got {path!r}")
    if json_body is not None and data is not None:
        raise CLIError("give either --json or --data, not both")
    pairs: list[tuple[str, str]] = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise CLIError(f"-H must look like 'Name: value', got {header!r}")
        pairs.append((name.strip(), value.strip()))
    content: bytes | None = None
    if json_body is not None:
        try:
            json.loads(json_body)
        except json.JSONDecodeError as exc:
            raise CLIError(f"--json is not valid JSON: {exc.msg} at column {exc.colno}") from exc
        content = json_body.encode()
        if not any(n.lower() == "content-type" for n, _ in pairs):
            pairs.append(("content-type", "application/json"))
    elif data is not None:
        content = data.encode()
    return RequestSpec(verb, path, pairs, content)


#: A path no app routes: one untraced GET to it builds what FastAPI builds on first use
WARM_UP_PATH = "/__trace-request-warm-up__"


def drive(app: Any, spec: RequestSpec, repeat: int = 1, *, warm: bool = True) -> Exchange:
    """Run the app's lifespan, send the request ``repeat`` times, return the last exchange."""
    return drive_many(app, [spec] * repeat, warm=warm)[-1]


def drive_many(app: Any, specs: list[RequestSpec], *, warm: bool = True) -> list[Exchange]:
    """Send each request in turn to one running app (one lifespan); each gets its trace.

    With ``warm``, an untraced GET to :data:`WARM_UP_PATH` goes first, so the
    traces show the requests rather than the app's one-off first-request costs
    (FastAPI builds included routers' handlers on first use: 10-40 ms).
    """
    return asyncio.run(_drive(app, specs, warm))


async def _drive(app: Any, specs: list[RequestSpec], warm: bool) -> list[Exchange]:
    import httpx

    import tracer

    if not tracer.is_instrumented(app):
        tracer.instrument(app, store=False)  # in-process runs keep their traces in memory
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
    except Exception as exc:
        raise CLIError(f"the app's startup (lifespan) failed: {type(exc).__name__}: {exc}") from exc
    exchanges: list[Exchange] = []
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            if warm:
                await client.get(WARM_UP_PATH)
            # The CLI's start-up (imports, app, lifespan) leaves many young objects: without
            # this, a collection lands inside the traced request and reads as its own time.
            gc.collect()
            gc.freeze()
            for spec in specs:
                with tracer.capture(app) as traces:
                    response = await client.request(
                        spec.method, spec.path, headers=spec.headers, content=spec.content
                    )
                    await response.aread()
                if not traces.traces:
                    raise CLIError(f"{spec.method} {spec.path} was not traced", exit_code=1)
                exchanges.append(
                    Exchange(
                        status_code=response.status_code,
                        reason=response.reason_phrase,
                        headers=list(response.headers.multi_items()),
                        body=response.content,
                        trace=traces.last,
                    )
                )
    finally:
        try:
            await lifespan.__aexit__(None, None, None)
        except Exception:  # a failing shutdown must not hide the traces
            pass
    return exchanges
