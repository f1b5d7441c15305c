"""What every exporter shares: attribute keys, value coercion, ids, span order.

Kept apart from the OpenTelemetry SDK so the OTLP JSON codec (pure JSON) and
the SDK replay map a :class:`~tracer.model.Trace` onto spans the same way: a
trace sent through a Collector and read back from its file exporter then
decodes like one written by :func:`~tracer.sinks.exporters.otlp_json.to_otlp_json`.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
import logging
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import Any, TypeAlias

from tracer.model import Span, Trace
from tracer.sinks.exporters import _semconv
from tracer.sinks.exporters.propagation import TraceParent, parse_traceparent

logger = logging.getLogger("trace_request")

SCOPE_NAME = "trace_request"
PHASE_KEY = "trace_request.lifecycle.phase"
STEP_KEY = "trace_request.lifecycle.step"
#: What files written before the ``trace_request.`` prefix call them (still read).
LEGACY_PHASE_KEY, LEGACY_STEP_KEY = "lifecycle.phase", "lifecycle.step"
#: Trace-level fields carried on the root span (JSON strings / int) so they survive OTLP.
REQUEST_KEY = "trace_request.request"
RESPONSE_KEY = "trace_request.response"
RESPONSE_END_KEY = "trace_request.response_end_ns"
META_KEY = "trace_request.meta"
TRACE_KEYS = (REQUEST_KEY, RESPONSE_KEY, RESPONSE_END_KEY, META_KEY)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: An attribute value every OpenTelemetry SDK since 1.0 accepts.
OTelValue: TypeAlias = str | bool | int | float | list[str] | list[bool] | list[int] | list[float]

_reported: set[str] = set()


def report_once(kind: str, error: BaseException) -> None:
    """Log an export failure the first time its kind is seen; exports must never raise."""
    if kind in _reported:
        return
    _reported.add(kind)
    logger.warning(
        "trace-request: %s failed (%s: %s); the trace was not (fully) exported. "
        "Further errors of this kind are not logged.",
        kind,
        type(error).__name__,
        error,
    )


@functools.cache
def scope_version() -> str | None:
    """The trace-request version, for the instrumentation scope (looked up once)."""
    try:
        return metadata.version("trace-request")
    except metadata.PackageNotFoundError:  # running from a checkout
        version = getattr(sys.modules.get("tracer"), "__version__", None)
        return version if isinstance(version, str) else None


def to_json_text(value: Any) -> str:
    """JSON for structured values; anything JSON can't encode falls back to ``repr``."""
    return json.dumps(value, default=repr, ensure_ascii=False)


def otel_span(trace: Trace, span: Span, *, is_root: bool) -> tuple[str, str, dict[str, Any]]:
    """A span's exported name, kind (``SERVER``/``CLIENT``/``INTERNAL``) and attributes.

    Attributes follow the HTTP and database semantic conventions, ours sit under
    ``trace_request.`` (see :mod:`tracer.sinks.exporters._semconv`); the root also
    carries the trace-level fields so a Collector's file can be read back in full.
    """
    name, attributes = _semconv.to_otel(trace, span, is_root=is_root)
    if is_root:
        attributes[REQUEST_KEY] = to_json_text(trace.request)
        attributes[RESPONSE_KEY] = to_json_text(trace.response)
        if trace.response_end_ns is not None:
            attributes[RESPONSE_END_KEY] = trace.response_end_ns
        attributes[META_KEY] = to_json_text(trace.meta)
    return name, _semconv.kind_name(span, is_root=is_root), attributes


def remote_parent(trace: Trace) -> tuple[TraceParent, str] | None:
    """The caller's span this trace continues (``meta["traceparent"]``) and its tracestate."""
    header = trace.meta.get("traceparent")
    parsed = parse_traceparent(header) if isinstance(header, str) else None
    if parsed is None or parsed.trace_id != trace_id_hex(trace.trace_id):
        return None
    state = trace.meta.get("tracestate")
    return parsed, state if isinstance(state, str) else ""


def coerce_value(value: Any) -> OTelValue | None:
    """Make ``value`` a classic OpenTelemetry attribute value (``None`` means drop it).

    Scalars pass; homogeneous lists of scalars pass (ints and floats mixed become
    floats); dicts, nested or mixed lists become JSON text; anything else ``str``.
    """
    if value is None:
        return None
    if isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if isinstance(value, list | tuple):
        items = list(value)
        if all(isinstance(v, str) for v in items):
            return [str(v) for v in items]
        if all(isinstance(v, bool) for v in items):
            return [bool(v) for v in items]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in items)
        if numbers and all(isinstance(v, int) and INT64_MIN <= v <= INT64_MAX for v in items):
            return [int(v) for v in items]
        if numbers:
            return [float(v) for v in items]
        return to_json_text(items)
    if isinstance(value, dict):
        return to_json_text(value)
    return str(value)


def coerce_attributes(attributes: dict[str, Any]) -> dict[str, OTelValue]:
    """Coerce every value with :func:`coerce_value`, dropping ``None``."""
    out: dict[str, OTelValue] = {}
    for key, value in attributes.items():
        coerced = coerce_value(value)
        if coerced is not None:
            out[str(key)] = coerced
    return out


def _normal_hex(value: str, digits: int) -> str:
    """``value`` as ``digits`` lowercase hex; a non-hex or zero id becomes a stable hash."""
    text = value.strip().lower()
    if len(text) == digits and text.strip("0") and not text.strip("0123456789abcdef"):
        return text
    return hashlib.blake2b(value.encode(), digest_size=digits // 2).hexdigest()


def trace_id_hex(trace_id: str) -> str:
    """A valid 32-digit OTel trace id for ``trace_id`` (our ids already are)."""
    return _normal_hex(trace_id, 32)


def span_id_hex(span_id: str) -> str:
    """A valid 16-digit OTel span id for ``span_id`` (our ids already are)."""
    return _normal_hex(span_id, 16)


def error_description(span: Span) -> str:
    """Why a span failed, for the OTel status description."""
    for event in span.events:
        if event.name == "exception":
            kind = event.attributes.get("exception.type")
            message = event.attributes.get("exception.message")
            text = ": ".join(str(p) for p in (kind, message) if p not in (None, ""))
            if text:
                return text
    error_type = span.attributes.get("error.type")
    return str(error_type) if error_type else "error"


def parents_first(trace: Trace) -> Iterator[tuple[Span, Span | None]]:
    """Yield ``(span, parent)`` in start order, never a child before its parent.

    A span whose parent is missing (or that sits in a parent cycle) is hung
    under the root (the first span without a parent, else the earliest), so a
    replay stays one connected trace.
    """
    spans = trace.spans
    if not spans:
        return
    first_index: dict[str, int] = {}
    for index, span in enumerate(spans):
        first_index.setdefault(span.span_id, index)
    parentless = [i for i, s in enumerate(spans) if s.parent_id is None]
    root = parentless[0] if parentless else min(range(len(spans)), key=lambda i: spans[i].start_ns)
    parent_of: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    for index, span in enumerate(spans):
        if index != root:
            parent = first_index.get(span.parent_id or "", root)
            parent_of[index] = root if parent == index else parent
            children.setdefault(parent_of[index], []).append(index)
    seen: set[int] = set()
    ready = [(spans[root].start_ns, root)]
    while len(seen) < len(spans):
        if not ready:  # only cycles are left: hang them under the root
            for index in range(len(spans)):
                if index not in seen:
                    parent_of[index] = root
                    ready.append((spans[index].start_ns, index))
            heapq.heapify(ready)
            children.clear()
        _, index = heapq.heappop(ready)
        if index in seen:
            continue
        seen.add(index)
        yield spans[index], None if index == root else spans[parent_of[index]]
        for child in children.pop(index, []):
            heapq.heappush(ready, (spans[child].start_ns, child))
