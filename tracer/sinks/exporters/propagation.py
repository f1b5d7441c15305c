"""Joining the caller's OpenTelemetry world: W3C trace context in, the global provider out.

Pure Python, no OpenTelemetry SDK import: :func:`continued_trace` runs for every
traced request (only a scan of the header list unless a ``traceparent`` is
there), and :func:`configured_global_provider` must not load the SDK in a
process that never configured one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, NamedTuple

_HEX = frozenset("0123456789abcdef")
#: W3C trace-context: a tracestate header longer than this may be dropped.
TRACESTATE_LIMIT = 512


class TraceParent(NamedTuple):
    """A valid incoming ``traceparent``: the caller's trace and span, and its flags."""

    trace_id: str
    span_id: str
    flags: int

    @property
    def header(self) -> str:
        """The version-00 header for these values (what :attr:`Trace.meta` keeps)."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"


def _hex(text: str, digits: int) -> bool:
    return len(text) == digits and _HEX.issuperset(text) and text.strip("0") != ""


def parse_traceparent(value: str) -> TraceParent | None:
    """The W3C ``traceparent`` header's fields, or ``None`` when it is malformed.

    Version ``00`` is exactly ``00-<32 hex>-<16 hex>-<2 hex>`` (lowercase, ids not
    all zeros); a later version is read by the same layout and may carry more
    fields after a ``-``; ``ff`` is invalid.
    """
    text = value.strip(" \t")
    if len(text) < 55 or text[2] != "-" or text[35] != "-" or text[52] != "-":
        return None
    version, trace_id, span_id, flags = text[:2], text[3:35], text[36:52], text[53:55]
    if len(version) != 2 or not _HEX.issuperset(version) or version == "ff":
        return None
    if version == "00" and len(text) != 55:
        return None
    if len(text) > 55 and text[55] != "-":
        return None
    if not (_hex(trace_id, 32) and _hex(span_id, 16)):
        return None
    if len(flags) != 2 or not _HEX.issuperset(flags):
        return None
    return TraceParent(trace_id, span_id, int(flags, 16))


def continued_trace(headers: Iterable[tuple[Any, Any]]) -> tuple[TraceParent, str] | None:
    """The caller's trace context from raw ASGI headers: ``(traceparent, tracestate)``.

    ``None`` when there is no ``traceparent``, more than one, or it is malformed
    (then ``tracestate`` is ignored too, as the W3C spec requires). Several
    ``tracestate`` headers are joined with commas; one past 512 characters is
    dropped. ASGI header names are lower-case, so plain comparisons find them.
    """
    parents: list[bytes] = []
    states: list[bytes] = []
    for name, value in headers:
        if name == b"traceparent":
            parents.append(bytes(value))
        elif name == b"tracestate":
            states.append(bytes(value))
    if len(parents) != 1:
        return None
    parsed = parse_traceparent(parents[0].decode("latin-1"))
    if parsed is None:
        return None
    state = ",".join(s.decode("latin-1").strip(" \t") for s in states if s.strip())
    if len(state) > TRACESTATE_LIMIT or not state.isprintable():
        state = ""
    return parsed, state


def configured_global_provider() -> Any:
    """The process's global ``TracerProvider`` if one was configured, else ``None``.

    The API hands out a ``ProxyTracerProvider`` until ``set_tracer_provider`` is
    called (or ``OTEL_PYTHON_TRACER_PROVIDER`` names one): that, or the API's
    ``NoOpTracerProvider``, is "not configured". Read through the API package only,
    and only when something already imported it: the SDK is never loaded here.
    """
    if "opentelemetry.trace" not in sys.modules and not os.environ.get(
        "OTEL_PYTHON_TRACER_PROVIDER"
    ):
        return None  # nothing imported the API: nobody can have set a provider
    try:
        import opentelemetry.trace as api

        provider = api.get_tracer_provider()
        if isinstance(provider, api.ProxyTracerProvider | api.NoOpTracerProvider):
            return None
    except Exception:
        return None
    return provider
