"""OTLP/JSON: write a Trace the way a Collector's file exporter does, and read such files back.

:func:`to_otlp_json` gives an ``ExportTraceServiceRequest`` that any OTLP/HTTP
JSON endpoint accepts; :func:`from_otlp_json` turns a Collector file (one JSON
object per line), a single request or our own output back into Traces, so a
trace recorded anywhere renders like a live one. Our own traces round-trip
exactly: phase and step ride in ``lifecycle.*`` attributes and the trace-level
fields in ``trace_request.*`` attributes of the root. Pure JSON: no SDK needed.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from tracer.model import Span, Trace
from tracer.sinks.exporters._common import (
    INT64_MAX,
    INT64_MIN,
    SCOPE_NAME,
    error_description,
    otel_span,
    remote_parent,
    scope_version,
    span_id_hex,
    trace_id_hex,
)
from tracer.sinks.exporters._otlp_read import STATUS_CODES, from_otlp_json
from tracer.sinks.exporters.propagation import TraceParent

__all__ = ["from_otlp_json", "to_otlp_json", "to_otlp_json_lines"]

KINDS = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3}


def _any_value(value: Any) -> dict[str, Any]:
    """An OTLP ``AnyValue``; lists and dicts nest, so JSON-shaped values survive exactly."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"doubleValue": value}
        return {
            "doubleValue": "NaN"
            if math.isnan(value)
            else ("Infinity" if value > 0 else "-Infinity")
        }
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": _key_values(value)}}
    return {"stringValue": str(value)}


def _key_values(attributes: Mapping[Any, Any]) -> list[dict[str, Any]]:
    return [{"key": str(key), "value": _any_value(value)} for key, value in attributes.items()]


def _span_json(
    trace: Trace, trace_id: str, span: Span, caller: tuple[TraceParent, str] | None
) -> dict[str, Any]:
    is_root = span.parent_id is None
    out: dict[str, Any] = {"traceId": trace_id, "spanId": span_id_hex(span.span_id)}
    if caller is not None and caller[1]:
        out["traceState"] = caller[1]
    if span.parent_id is not None:
        out["parentSpanId"] = span_id_hex(span.parent_id)
    elif caller is not None:  # continued an incoming traceparent: the caller's span
        out["parentSpanId"] = caller[0].span_id
    name, kind, attributes = otel_span(trace, span, is_root=is_root)
    status: dict[str, Any] = {}
    if span.status != "unset":
        status["code"] = STATUS_CODES[span.status]
    if span.status == "error":
        status["message"] = error_description(span)
    out.update(
        name=name,
        kind=KINDS[kind],
        startTimeUnixNano=str(span.start_ns),
        endTimeUnixNano=str(span.end_ns),
        attributes=_key_values(attributes),
        events=[
            {
                "timeUnixNano": str(e.time_ns),
                "name": e.name,
                "attributes": _key_values(e.attributes),
            }
            for e in span.events
        ],
        status=status,
    )
    return out


def to_otlp_json(trace: Trace, *, resource: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The trace as an OTLP/JSON ``ExportTraceServiceRequest`` (ids hex, times as strings).

    ``resource`` holds resource attributes; it defaults to
    ``{"service.name": "trace-request"}``.
    """
    trace_id = trace_id_hex(trace.trace_id)
    scope: dict[str, Any] = {"name": SCOPE_NAME}
    version = scope_version()
    if version:
        scope["version"] = version
    attributes = {"service.name": "trace-request"} if resource is None else resource
    caller = remote_parent(trace)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _key_values(attributes)},
                "scopeSpans": [
                    {
                        "scope": scope,
                        "spans": [_span_json(trace, trace_id, s, caller) for s in trace.spans],
                    }
                ],
            }
        ]
    }


def to_otlp_json_lines(
    traces: Iterable[Trace], *, resource: Mapping[str, Any] | None = None
) -> str:
    """Several traces as a Collector file exporter writes them: one JSON object per line."""
    return "".join(
        json.dumps(to_otlp_json(t, resource=resource), ensure_ascii=False, separators=(",", ":"))
        + "\n"
        for t in traces
    )
