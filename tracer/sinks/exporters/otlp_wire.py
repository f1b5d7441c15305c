"""OTLP/protobuf bytes for finished traces, written directly: no SDK span objects.

The official path builds a ``ReadableSpan`` per span and then a pb2 message
per span, attribute and value: about 30 µs a span, several times what
recording the span cost. A trace needs only a handful of message types
(request, resource, scope, span, event, status, key/value), so they are
written here in the protobuf wire format, from the same mapping the SDK
replay uses (:func:`~tracer.sinks.exporters._common.otel_span`): about 3 µs a
span. ``tests/exporters/test_otlp_wire.py`` decodes the bytes with the
official pb2 classes and compares them with the SDK encoder's output.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any

from tracer.model import Span, Trace
from tracer.sinks.exporters._common import (
    SCOPE_NAME,
    TRACE_KEYS,
    coerce_value,
    error_description,
    otel_span,
    parents_first,
    remote_parent,
    scope_version,
    span_id_hex,
    trace_id_hex,
)

_fixed64 = struct.Struct("<Q").pack
_fixed32 = struct.Struct("<I").pack
_double = struct.Struct("<d").pack

#: proto ``Span.SpanKind``, as the encoded field (tag 6, one-byte value)
_KINDS = {"INTERNAL": b"\x30\x01", "SERVER": b"\x30\x02", "CLIENT": b"\x30\x03"}
#: proto ``Status.StatusCode``
_STATUS = {"ok": 1, "error": 2}
#: ``SpanFlags``: the parent's remoteness is known (0x100); it is remote (0x200)
_LOCAL_PARENT, _REMOTE_PARENT = 0x100, 0x300


#: one-byte varints, by value: most lengths and every tag value a trace has
_SMALL = [bytes((n,)) for n in range(128)]


def _varint(value: int) -> bytes:
    if value < 0x80:
        return _SMALL[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: ``tag`` is the encoded key byte(s)."""
    size = len(payload)
    return tag + (_SMALL[size] if size < 0x80 else _varint(size)) + payload


def _text(tag: bytes, value: str) -> bytes:
    return _field(tag, value.encode("utf-8", "replace"))


def _any_value(value: Any) -> bytes:
    """An ``AnyValue`` body for a value :func:`coerce_value` already made OTel-shaped."""
    if value is True or value is False:
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
    if isinstance(value, float):
        return b"\x21" + _double(value)
    if isinstance(value, list):
        values = b"".join(_field(b"\x0a", _any_value(item)) for item in value)
        return _field(b"\x2a", values)  # ArrayValue
    return _text(b"\x0a", str(value))


#: encoded ``KeyValue`` fields (tag included) by ``(tag, key, value)`` for the values
#: that repeat from one request to the next (phase, step, names, templates,
#: header-name lists); bounded, so a flood of distinct values stops adding
_encoded: dict[tuple[bytes, str, Any], bytes] = {}
_ENCODED_MAX = 8192


def _cache_key(tag: bytes, key: str, raw: Any) -> tuple[bytes, str, Any] | None:
    cls = type(raw)
    if key in TRACE_KEYS or (cls is str and len(raw) > 512):
        return None  # the root's request/response JSON: different every time
    if cls is str or cls is bool or (cls is int and -1024 < raw < 1024):
        return (tag, key, (cls, raw))  # True and 1 encode differently
    if cls is list and len(raw) <= 64 and all(type(v) is str for v in raw):
        return (tag, key, tuple(raw))
    return None  # durations, sizes, JSON text: different every time


def _attributes(tag: bytes, attributes: Mapping[str, Any]) -> bytes:
    """Every attribute as a repeated ``KeyValue`` field ``tag``; ``None`` values dropped."""
    out: list[bytes] = []
    cache = _encoded
    for key, raw in attributes.items():
        cache_key = _cache_key(tag, key, raw)
        if cache_key is not None:
            field = cache.get(cache_key)
            if field is not None:
                out.append(field)
                continue
        value = coerce_value(raw)
        if value is None:
            continue
        field = _field(tag, _text(b"\x0a", str(key)) + _field(b"\x12", _any_value(value)))
        if cache_key is not None and len(cache) < _ENCODED_MAX:
            cache[cache_key] = field
        out.append(field)
    return b"".join(out)


def _span(
    trace_id: bytes,
    state: bytes,
    span: Span,
    parent: Span | None,
    caller: bytes | None,
    name: str,
    kind: str,
    attributes: Mapping[str, Any],
) -> bytes:
    parts = [trace_id, b"\x12\x08", bytes.fromhex(span_id_hex(span.span_id)), state]
    flags = _LOCAL_PARENT
    if parent is not None:
        parts += (b"\x22\x08", bytes.fromhex(span_id_hex(parent.span_id)))
    elif caller is not None:
        parts += (b"\x22\x08", caller)
        flags = _REMOTE_PARENT
    parts += (
        _text(b"\x2a", name),
        _KINDS[kind],
        b"\x39",
        _fixed64(span.start_ns),
        b"\x41",
        _fixed64(max(span.start_ns, span.end_ns)),
        _attributes(b"\x4a", attributes),
    )
    for event in span.events:
        body = b"\x09" + _fixed64(event.time_ns) + _text(b"\x12", event.name)
        parts.append(_field(b"\x5a", body + _attributes(b"\x1a", event.attributes)))
    code = _STATUS.get(span.status, 0)
    status = b"\x18" + _varint(code) if code else b""
    if code == 2:
        status = _text(b"\x12", error_description(span)) + status
    parts += (_field(b"\x7a", status), b"\x85\x01", _fixed32(flags))
    return b"".join(parts)


def encode_trace_spans(trace: Trace) -> bytes:
    """Every span of ``trace`` as repeated ``ScopeSpans.spans`` fields, parents first."""
    trace_id = b"\x0a\x10" + bytes.fromhex(trace_id_hex(trace.trace_id))
    found = remote_parent(trace)
    caller = bytes.fromhex(found[0].span_id) if found is not None else None
    state = _text(b"\x1a", found[1]) if found is not None and found[1] else b""
    out: list[bytes] = []
    for span, parent in parents_first(trace):
        name, kind, attributes = otel_span(trace, span, is_root=parent is None)
        encoded = _span(trace_id, state, span, parent, caller, name, kind, attributes)
        out.append(_field(b"\x12", encoded))
    return b"".join(out)


class RequestWriter:
    """Builds ``ExportTraceServiceRequest`` bodies for one resource (encoded once)."""

    def __init__(self, resource_attributes: Mapping[str, Any], schema_url: str = "") -> None:
        resource = _field(b"\x0a", _attributes(b"\x0a", resource_attributes))
        if schema_url:
            resource += _text(b"\x1a", schema_url)
        self._resource = resource
        version = scope_version()
        scope = _text(b"\x0a", SCOPE_NAME) + (_text(b"\x12", version) if version else b"")
        self._scope = _field(b"\x0a", scope)

    def request(self, encoded_traces: Iterable[bytes]) -> bytes:
        """One request body for traces encoded with :func:`encode_trace_spans`."""
        scope_spans = _field(b"\x12", self._scope + b"".join(encoded_traces))
        return _field(b"\x0a", self._resource + scope_spans)
