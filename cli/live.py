"""``--url``: one real HTTP request to a running server that has the tracer embedded.

The server's response carries ``x-trace-id``; its trace is then read from the
store the server writes (a shared file: the same machine, or a mounted volume)
or, with ``TRACE_REQUEST_ENDPOINT_SECRET`` set and no ``--store``, fetched from
the server's opt-in ``/_trace-request/`` endpoint (see tracer/endpoint.py).
With ``TRACE_REQUEST_TRIGGER_SECRET`` set, the request carries a trigger
token, so a server that samples still traces this one request in full.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urljoin

from tracer.cli.driving import Exchange, RequestSpec
from tracer.cli.errors import CLIError


def send_live(base_url: str, spec: RequestSpec, store_path: str | None, timeout: float) -> Exchange:
    """Send ``spec`` to ``base_url`` and return the response with its stored trace."""
    import httpx

    from tracer.capture.trigger import trigger_token
    from tracer.cli.store_commands import fetch_trace_for_response

    if not base_url.startswith(("http://", "https://")):
        raise CLIError(f"--url must start with http:// or https://, got {base_url!r}")
    headers = list(spec.headers)
    secret = os.environ.get("TRACE_REQUEST_TRIGGER_SECRET")
    if secret:
        headers.append(("x-trace-request", trigger_token(secret)))
    url = urljoin(base_url.rstrip("/") + "/", spec.path.lstrip("/"))
    try:
        response = httpx.request(
            spec.method, url, headers=headers, content=spec.content, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise CLIError(f"request to {url} failed: {exc}", exit_code=1) from exc
    trace_id = response.headers.get("x-trace-id")
    if not trace_id:
        raise CLIError(
            f"{url} answered {response.status_code} without an x-trace-id header: is the "
            "tracer embedded (tracer.instrument(app, store=...)), and was this request "
            "sampled? Set TRACE_REQUEST_TRIGGER_SECRET to the server's secret to force it.",
            exit_code=1,
        )
    endpoint_secret = os.environ.get("TRACE_REQUEST_ENDPOINT_SECRET")
    if endpoint_secret and store_path is None:
        trace = fetch_from_endpoint(base_url, trace_id, endpoint_secret, timeout)
    else:
        trace = fetch_trace_for_response(store_path, trace_id, timeout=timeout)
    return Exchange(
        status_code=response.status_code,
        reason=response.reason_phrase,
        headers=list(response.headers.multi_items()),
        body=response.content,
        trace=trace,
    )


def fetch_from_endpoint(base_url: str, trace_id: str, secret: str, timeout: float) -> Any:
    """The trace from the server's ``/_trace-request/traces/{id}``, asking until it is there."""
    import httpx

    from tracer.model import Trace
    from tracer.sinks.endpoint import TRACES

    url = urljoin(base_url.rstrip("/") + "/", TRACES.lstrip("/") + trace_id)
    headers = {"authorization": f"Bearer {secret}"}
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(url, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise CLIError(f"fetching the trace from {url} failed: {exc}", exit_code=1) from exc
        if response.status_code == 200:
            try:
                return Trace.from_json(response.text)
            except ValueError as exc:
                raise CLIError(f"{url} sent something that is not a trace: {exc}") from exc
        if response.status_code == 401:
            raise CLIError(
                f"{url} refused TRACE_REQUEST_ENDPOINT_SECRET (401): set it to the secret the "
                "server was instrumented with",
                exit_code=1,
            )
        if response.status_code != 404 or time.monotonic() >= deadline:
            raise CLIError(
                f"{url} answered {response.status_code}: is the trace endpoint on "
                "(instrument(app, endpoint_secret=...)) and was this request traced?",
                exit_code=1,
            )
        time.sleep(0.05)
