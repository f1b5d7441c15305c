"""Guessing phase, step and the request summary for spans we did not record.

Traces from opentelemetry-instrumentation-fastapi/asgi, FastAPI's built-in
telemetry or SQLAlchemy instrumentation carry no ``lifecycle.*`` attributes;
these rules place their spans on the ten steps so they render like ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tracer.model import Phase

#: FastAPI's built-in operation spans (FastAPI(telemetry=...), 0.142+).
FASTAPI_SPANS: dict[str, tuple[Phase, int]] = {
    "fastapi.dependencies": ("dependency", 4),
    "fastapi.endpoint": ("handler", 6),
    "fastapi.serialization": ("serialization", 7),
    "fastapi.background_task": ("background", 10),
}
DB_KEYS = ("db.system", "db.system.name", "db.statement", "db.query.text")
METHOD_KEYS = ("http.request.method", "http.method")
STATUS_KEYS = ("http.response.status_code", "http.status_code")
#: Work nested in these phases belongs to them (a query inside a dependency is step 4).
_INHERITED: frozenset[Phase] = frozenset(
    {"dependency", "validation", "handler", "serialization", "background", "db", "outbound"}
)


def infer_phase(
    name: str, kind: str, attributes: Mapping[str, Any], parent: tuple[Phase, int] | None
) -> tuple[Phase, int]:
    """Phase and step of a foreign span; ``parent`` is its parent's (``None`` for the root).

    ``kind`` is the OTLP kind name without prefix (``SERVER``, ``INTERNAL``, ...).
    """
    lowered = name.lower()
    if "http send" in lowered or "websocket send" in lowered:
        return "send", 9
    if "http receive" in lowered or "websocket receive" in lowered:
        return "asgi", 1
    if name in FASTAPI_SPANS:
        return FASTAPI_SPANS[name]
    if name.startswith("BackgroundTask "):  # opentelemetry-instrumentation-starlette/fastapi
        return "background", 10
    if any(key in attributes for key in DB_KEYS):
        # Straight under the server span (no FastAPI operation spans) a query runs in the handler.
        inside = parent is not None and parent[0] in _INHERITED
        return "db", parent[1] if parent is not None and inside else 6
    if kind == "CLIENT" and any(key in attributes for key in METHOD_KEYS):
        # an HTTP client span (opentelemetry-instrumentation-httpx, requests, aiohttp ...)
        inside = parent is not None and parent[0] in _INHERITED
        return "outbound", parent[1] if parent is not None and inside else 6
    if "Middleware" in name:
        return "middleware", 2
    if kind == "SERVER" or (parent is None and any(key in attributes for key in METHOD_KEYS)):
        return "asgi", 1
    if parent is not None and parent[0] in _INHERITED:
        return parent
    return "handler", 6


def request_summary(name: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """``{method, path[, query]}`` from an HTTP server span's attributes (or its name)."""
    method = next((attributes[k] for k in METHOD_KEYS if attributes.get(k)), None)
    path = attributes.get("url.path")
    query = attributes.get("url.query")
    target = attributes.get("http.target")
    if not path and isinstance(target, str) and target:
        path, _, rest = target.partition("?")
        query = query or rest or None
    url = attributes.get("url.full") or attributes.get("http.url")
    if isinstance(url, str) and url and (not path or not query):
        parts = urlsplit(url)  # old semconv keeps the query only in http.url
        path, query = path or parts.path, query or parts.query or None
    head, _, tail = name.partition(" ")
    if not method and head.isupper() and tail:
        method = head
    if not path and tail.startswith("/"):
        path = tail
    summary: dict[str, Any] = {"method": str(method or ""), "path": str(path or "")}
    if query:
        summary["query"] = str(query)
    return summary


def status_code(attributes: Mapping[str, Any]) -> int | None:
    """The HTTP response status code recorded on a span, if any."""
    for key in STATUS_KEYS:
        value = attributes.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None
