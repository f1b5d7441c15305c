"""Reading OTLP/JSON back into Traces (the other half of :mod:`tracer.sinks.exporters.otlp_json`).

Lenient about what OTLP JSON writers vary on (key case, id encoding, enum
spelling, files split into many requests), strict about shape: a malformed
document raises ``ValueError`` naming the place, never a ``KeyError`` deep inside.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracer.model import PHASES, Phase, Span, SpanEvent, Status, Trace
from tracer.sinks.exporters import _infer, _semconv
from tracer.sinks.exporters._common import (
    LEGACY_PHASE_KEY,
    LEGACY_STEP_KEY,
    META_KEY,
    PHASE_KEY,
    REQUEST_KEY,
    RESPONSE_END_KEY,
    RESPONSE_KEY,
    STEP_KEY,
)

STATUS_CODES: dict[Status, int] = {"unset": 0, "ok": 1, "error": 2}
_STATUSES: dict[int, Status] = {code: status for status, code in STATUS_CODES.items()}
_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _field(obj: Mapping[str, Any], camel: str, default: Any = None) -> Any:
    """``obj[camel]``, or its snake_case spelling (protobuf's JSON allows both)."""
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake, default)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a JSON list, got {type(value).__name__}")
    return value


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a JSON boolean")
    return value


def _decode_value(value: Any, where: str) -> Any:
    value = _mapping(value, where)
    for camel, convert in (
        ("stringValue", str),
        ("boolValue", _strict_bool),
        ("intValue", int),
        ("doubleValue", lambda v: _NON_FINITE[v] if v in _NON_FINITE else float(v)),
        ("bytesValue", str),  # kept as its base64 text: attributes hold no bytes
    ):
        raw = _field(value, camel)
        if raw is not None:
            try:
                return convert(raw)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{where}: bad {camel} {raw!r}") from error
    array = _field(value, "arrayValue")
    if array is not None:
        values = _list(_mapping(array, where).get("values"), where)
        return [_decode_value(v, f"{where}[{i}]") for i, v in enumerate(values)]
    kvlist = _field(value, "kvlistValue")
    if kvlist is not None:
        return _decode_attributes(_mapping(kvlist, where).get("values"), where)
    return None


def _decode_attributes(items: Any, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for index, item in enumerate(_list(items, where)):
        item = _mapping(item, f"{where}[{index}]")
        key = item.get("key")
        if not isinstance(key, str):
            raise ValueError(f"{where}[{index}]: attribute without a string 'key'")
        out[key] = _decode_value(item.get("value", {}), f"{where}.{key}")
    return out


def _decode_id(value: Any, size: int, what: str, where: str) -> str | None:
    """Hex (OTLP/JSON) or base64 (protobuf's standard JSON) id as lowercase hex; empty → None."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.lower()
        if len(text) == 2 * size and all(c in "0123456789abcdef" for c in text):
            return None if not text.strip("0") else text
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == size:
            return raw.hex() if any(raw) else None
    raise ValueError(f"{where}: {what} {value!r} is neither {2 * size} hex digits nor base64")


def _decode_ns(value: Any, what: str, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: {what} {value!r} is not an integer of nanoseconds")


def _decode_enum(value: Any, prefix: str, names: Mapping[int, str]) -> int:
    """An OTLP enum written as a number or as its name (``SPAN_KIND_SERVER``)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        name = value.upper().removeprefix(prefix)
        for number, known in names.items():
            if known == name:
                return number
    return 0


@dataclass(slots=True)
class _Raw:
    """A decoded OTLP span before it becomes a model span."""

    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: Status
    attributes: dict[str, Any]
    events: list[SpanEvent]
    resource: dict[str, Any]
    phase: tuple[Phase, int] | None = field(default=None)


def _decode_span(data: Any, resource: dict[str, Any], where: str) -> tuple[str, _Raw]:
    data = _mapping(data, where)
    trace_id = _decode_id(_field(data, "traceId"), 16, "traceId", where)
    span_id = _decode_id(_field(data, "spanId"), 8, "spanId", where)
    if trace_id is None or span_id is None:
        raise ValueError(f"{where}: a span needs a non-zero 'traceId' and 'spanId'")
    attributes = _decode_attributes(_field(data, "attributes"), f"{where}.attributes")
    name = str(_field(data, "name", ""))
    phase, step = attributes.pop(PHASE_KEY, None), attributes.pop(STEP_KEY, None)
    if phase is not None:  # ours, with semantic-convention names: back to the model's
        name, attributes = _semconv.from_otel(name, attributes)
    else:  # ours from before the prefix, or anyone else's (no phase: inferred later)
        phase, step = attributes.pop(LEGACY_PHASE_KEY, None), attributes.pop(LEGACY_STEP_KEY, None)
    known = phase in PHASES and isinstance(step, int) and not isinstance(step, bool)
    events = []
    for index, event in enumerate(_list(_field(data, "events"), f"{where}.events")):
        at = f"{where}.events[{index}]"
        event = _mapping(event, at)
        events.append(
            SpanEvent(
                name=str(_field(event, "name", "")),
                time_ns=_decode_ns(_field(event, "timeUnixNano"), "timeUnixNano", at),
                attributes=_decode_attributes(_field(event, "attributes"), f"{at}.attributes"),
            )
        )
    status = _mapping(_field(data, "status") or {}, f"{where}.status")
    code = _decode_enum(_field(status, "code"), "STATUS_CODE_", {0: "UNSET", 1: "OK", 2: "ERROR"})
    raw = _Raw(
        span_id=span_id,
        parent_id=_decode_id(_field(data, "parentSpanId"), 8, "parentSpanId", where),
        name=name,
        kind=_KINDS.get(_decode_enum(_field(data, "kind"), "SPAN_KIND_", _KINDS), "UNSPECIFIED"),
        start_ns=_decode_ns(_field(data, "startTimeUnixNano"), "startTimeUnixNano", where),
        end_ns=_decode_ns(_field(data, "endTimeUnixNano"), "endTimeUnixNano", where),
        status=_STATUSES.get(code, "unset"),
        attributes=attributes,
        events=events,
        resource=resource,
        phase=(phase, step) if known else None,
    )
    return trace_id, raw


def _documents(doc: Mapping[str, Any] | str | bytes) -> list[Mapping[str, Any]]:
    """One mapping per JSON object: a dict, a JSON text, JSON lines, or a JSON list of them."""
    if isinstance(doc, Mapping):
        return [doc]
    text = doc.decode("utf-8") if isinstance(doc, bytes) else doc
    if not isinstance(text, str):
        raise ValueError(f"expected an OTLP/JSON dict, str or bytes, got {type(doc).__name__}")
    decoder, position, found = json.JSONDecoder(), 0, []
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"not valid OTLP/JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            ) from None
        found.extend(value if isinstance(value, list) else [value])
    if not found:
        raise ValueError("not valid OTLP/JSON: the document is empty")
    return [_mapping(value, f"JSON object #{i + 1}") for i, value in enumerate(found)]


def from_otlp_json(doc: Mapping[str, Any] | str | bytes) -> list[Trace]:
    """Traces (one per traceId, in order of appearance) from an OTLP/JSON document.

    Accepts a parsed dict or JSON text, several objects (a Collector file
    exporter's JSON lines), camelCase or snake_case keys, hex or base64 ids.
    Raises ``ValueError`` saying where a document is malformed.
    """
    groups: dict[str, list[_Raw]] = {}
    for number, document in enumerate(_documents(doc), start=1):
        resource_spans = _field(document, "resourceSpans")
        if resource_spans is None:
            if "spans" in document and ("trace_id" in document or "format" in document):
                raise ValueError(
                    "this is a trace-request JSON trace, not OTLP/JSON: use Trace.from_json"
                )
            raise ValueError(
                f"JSON object #{number} is not an OTLP/JSON trace export: no 'resourceSpans'"
            )
        for r, resource_span in enumerate(_list(resource_spans, "resourceSpans")):
            at = f"object #{number} resourceSpans[{r}]"
            resource_span = _mapping(resource_span, at)
            resource = _mapping(_field(resource_span, "resource") or {}, f"{at}.resource")
            resource_attrs = _decode_attributes(_field(resource, "attributes"), f"{at}.resource")
            scopes = _field(resource_span, "scopeSpans")
            if scopes is None:  # OTLP before 0.15
                scopes = _field(resource_span, "instrumentationLibrarySpans")
            for s, scope_span in enumerate(_list(scopes, f"{at}.scopeSpans")):
                where = f"{at}.scopeSpans[{s}]"
                spans = _field(_mapping(scope_span, where), "spans")
                for i, data in enumerate(_list(spans, f"{where}.spans")):
                    trace_id, raw = _decode_span(data, resource_attrs, f"{where}.spans[{i}]")
                    groups.setdefault(trace_id, []).append(raw)
    return [_build(trace_id, raws) for trace_id, raws in groups.items()]


# ---------------------------------------------------------------------------- assembling


def _json_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def _build(trace_id: str, raws: list[_Raw]) -> Trace:
    unique: dict[str, _Raw] = {}
    for raw in raws:  # a retried export can repeat spans
        unique.setdefault(raw.span_id, raw)
    spans = list(unique.values())
    if any(raw.phase is None for raw in spans):
        spans.sort(key=lambda r: r.start_ns)  # foreign spans come in export (end) order
    # One root: the earliest span whose parent is not in the file; other such spans hang under it.
    tops = [r for r in spans if r.parent_id not in unique] or spans  # all in a cycle: any
    root = min(tops, key=lambda r: r.start_ns)
    for raw in tops:
        if raw is root or raw.parent_id not in unique:
            raw.parent_id = None if raw is root else root.span_id

    trace_fields: dict[str, Any] = {}
    holder: str | None = None  # our root: the span that carried the trace fields
    for raw in spans:
        for key in (REQUEST_KEY, RESPONSE_KEY, RESPONSE_END_KEY, META_KEY):
            if key in raw.attributes:
                trace_fields.setdefault(key, raw.attributes.pop(key))
                holder = holder or raw.span_id
    _infer_phases(root, spans)

    if REQUEST_KEY in trace_fields:
        end = trace_fields.get(RESPONSE_END_KEY)
        request = _json_dict(trace_fields[REQUEST_KEY])
        response = _json_dict(trace_fields.get(RESPONSE_KEY))
        response_end = int(end) if isinstance(end, int | str) and str(end).isdigit() else None
        meta = _json_dict(trace_fields.get(META_KEY))
    else:
        server = next((r for r in spans if r.kind == "SERVER"), root)
        request = _infer.request_summary(server.name, server.attributes)
        sends = [r for r in spans if r.phase is not None and r.phase[0] == "send"]
        codes = (_infer.status_code(r.attributes) for r in (server, *sends))
        code = next((c for c in codes if c is not None), None)
        response = {} if code is None else {"status_code": code}
        response_end = max((r.end_ns for r in sends), default=None)
        meta = {"source": "otlp"}
        if "service.name" in root.resource:
            meta["service_name"] = root.resource["service.name"]

    trace = Trace(
        trace_id=trace_id,
        spans=[
            Span(
                span_id=r.span_id,
                parent_id=r.parent_id,
                name=r.name,
                phase=r.phase[0] if r.phase else "handler",
                step=r.phase[1] if r.phase else 6,
                start_ns=r.start_ns,
                end_ns=r.end_ns,
                status=r.status,
                attributes=r.attributes,
                events=r.events,
            )
            for r in spans
        ],
        request=request,
        response=response,
        response_end_ns=response_end,
        meta=meta,
    )
    for span in trace.spans if holder is not None else ():
        if span.span_id == holder:
            _semconv.drop_derived(trace, span.attributes)
    return trace


def _infer_phases(root: _Raw, spans: list[_Raw]) -> None:
    """Give every span without ``lifecycle.*`` a phase, parents before children.

    Spans the walk from the root never reaches (parent cycles) are hung under the root.
    """
    children: dict[str, list[_Raw]] = {}
    for raw in spans:
        if raw.parent_id is not None:
            children.setdefault(raw.parent_id, []).append(raw)
    seen: set[str] = set()
    stack: list[tuple[_Raw, tuple[Phase, int] | None]] = [(root, None)]
    while stack:
        raw, parent = stack.pop()
        seen.add(raw.span_id)
        if raw.phase is None:
            raw.phase = _infer.infer_phase(raw.name, raw.kind, raw.attributes, parent)
        stack.extend((child, raw.phase) for child in children.pop(raw.span_id, []))
        if not stack:
            stray = next((r for r in spans if r.span_id not in seen), None)
            if stray is not None:
                stray.parent_id = root.span_id
                stack.append((stray, root.phase))
