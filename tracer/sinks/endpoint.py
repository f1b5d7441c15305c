"""An opt-in HTTP endpoint that hands one trace to ``trace-request --url``.

For servers whose trace store the CLI cannot open (another machine, a
container without a shared volume). Off unless a secret is configured
(``instrument(app, endpoint_secret=...)`` or ``TRACE_REQUEST_ENDPOINT_SECRET``):

    GET /_trace-request/traces/{trace_id}
    Authorization: Bearer <secret>

answers the trace as JSON — from the process's store when it has one, else
from the last traces it kept in memory. A wrong or missing secret gets 401,
anything else under the prefix 404, with no detail; these requests are never
traced themselves and never reach the app's routes.

The endpoint answers *inside* the app's middleware stack, just above the
router (:class:`EndpointGate`): the app's own security layers —
``TrustedHostMiddleware``, ``HTTPSRedirectMiddleware``, an auth or IP-allow
middleware — decide about these requests exactly as about any other.
"""

from __future__ import annotations

import hmac
import threading
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, Protocol

from tracer.model import Trace
from tracer.safety import report
from tracer.types import ASGIApp, Receive, Scope, Send

PREFIX = "/_trace-request/"
TRACES = PREFIX + "traces/"
#: shorter secrets are refused: the endpoint serves request data
MIN_SECRET_LENGTH = 16
_HEX = frozenset("0123456789abcdef")


class TraceEndpoint:
    """Answers ``GET /_trace-request/traces/{id}``; a trace sink when there is no store."""

    def __init__(self, secret: bytes, store: Any = None, keep: int = 256) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"the trace endpoint secret must be at least {MIN_SECRET_LENGTH} bytes long"
            )
        self._expected = b"bearer " + secret
        self.store = store
        self.keep = keep
        self._recent: OrderedDict[str, Trace] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, trace: Trace) -> None:
        """Keep ``trace`` among the last ``keep`` (used only without a store)."""
        with self._lock:
            self._recent[trace.trace_id] = trace
            while len(self._recent) > self.keep:
                self._recent.popitem(last=False)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body = self._answer(scope)
        except Exception as exc:  # a bug here answers 500, it never reaches the app
            report("trace endpoint", exc)
            status, body = 500, b'{"detail":"error"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: Scope) -> tuple[int, bytes]:
        if not self._authorized(scope):
            return 401, b'{"detail":"unauthorized"}'
        path = str(scope.get("path", ""))
        trace_id = path[len(TRACES) :] if path.startswith(TRACES) else ""
        if scope.get("method") != "GET" or not _is_trace_id(trace_id):
            return 404, b'{"detail":"not found"}'
        trace = self._lookup(trace_id)
        if trace is None:
            return 404, b'{"detail":"not found"}'
        return 200, trace.to_json(indent=None).encode()

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers") or ():
            if bytes(name).lower() == b"authorization":
                given = bytes(value)
                # the scheme is case-insensitive; the secret is compared in constant time
                given = given[:7].lower() + given[7:]
                return hmac.compare_digest(given, self._expected)
        return False

    def _lookup(self, trace_id: str) -> Trace | None:
        with self._lock:
            trace = self._recent.get(trace_id)
        if trace is not None or self.store is None:
            return trace
        try:
            found: Trace | None = self.store.get(trace_id)
        except Exception:  # not written yet, locked, ambiguous: the client asks again
            return None
        return found


def _is_trace_id(text: str) -> bool:
    return len(text) == 32 and set(text) <= _HEX


class _HasEndpoint(Protocol):
    endpoint: TraceEndpoint | None


class EndpointGate:
    """Sits between the innermost middleware and the router; serves the endpoint's paths.

    Reads the app's options at call time (``instrument()`` may be called again
    to change them). Other requests go straight on: ``__call__`` is a plain
    function returning the router's awaitable, so it adds no coroutine frame.
    """

    __slots__ = ("app", "options")

    def __init__(self, app: ASGIApp, options: _HasEndpoint) -> None:
        self.app = app
        self.options = options

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        endpoint = self.options.endpoint
        if endpoint is not None and is_endpoint_path(scope):
            return endpoint.handle(scope, receive, send)
        return self.app(scope, receive, send)


def is_endpoint_path(scope: Scope) -> bool:
    return scope.get("type") == "http" and str(scope.get("path", "")).startswith(PREFIX)
