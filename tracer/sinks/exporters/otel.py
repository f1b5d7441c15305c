"""Replay a finished :class:`~tracer.model.Trace` as OpenTelemetry spans.

The recorder never touches OpenTelemetry on the hot path; spans are built
here, after the request, with the recorded start/end times and explicit
parents (no context is attached or detached, so this is safe from any task or
thread). Nothing in this module raises into the caller: an export that fails
is logged once per kind and dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, Status, StatusCode

from tracer.model import Span, Trace
from tracer.sinks.exporters._common import (
    SCOPE_NAME,
    OTelValue,
    coerce_attributes,
    error_description,
    otel_span,
    parents_first,
    remote_parent,
    report_once,
    scope_version,
    span_id_hex,
    trace_id_hex,
)

__all__ = ["export_to_provider", "export_with_exporter", "to_readable_spans"]


def _status(span: Span) -> Status:
    if span.status == "error":
        return Status(StatusCode.ERROR, error_description(span))
    if span.status == "ok":
        return Status(StatusCode.OK)
    return Status(StatusCode.UNSET)


_KINDS = {"SERVER": SpanKind.SERVER, "CLIENT": SpanKind.CLIENT, "INTERNAL": SpanKind.INTERNAL}


def _span_fields(
    trace: Trace, span: Span, *, is_root: bool
) -> tuple[str, SpanKind, Mapping[str, OTelValue]]:
    name, kind, attributes = otel_span(trace, span, is_root=is_root)
    return name, _KINDS[kind], coerce_attributes(attributes)


def _caller_context(trace: Trace) -> trace_api.SpanContext | None:
    """The remote span of an incoming ``traceparent`` this trace continues, if any."""
    found = remote_parent(trace)
    if found is None:
        return None
    parent, state = found
    return trace_api.SpanContext(
        int(parent.trace_id, 16),
        int(parent.span_id, 16),
        is_remote=True,
        trace_flags=trace_api.TraceFlags(parent.flags & 0xFF),
        trace_state=trace_api.TraceState.from_header([state]) if state else None,
    )


class _RecordedIds(IdGenerator):
    """Hands the SDK the ids the trace was recorded with (set before each span starts)."""

    def __init__(self, trace_id: int) -> None:
        self.trace_id = trace_id
        self.span_id = 0

    def generate_span_id(self) -> int:
        return self.span_id

    def generate_trace_id(self) -> int:
        return self.trace_id

    def is_trace_id_random(self) -> bool:  # SDK 1.39+: our ids come from os.urandom
        return True


def _id_keeping(tracer: Any, trace: Trace) -> tuple[Any, _RecordedIds | None]:
    """A copy of an SDK tracer that uses the recorded ids, so ``x-trace-id`` finds the trace.

    Only for the SDK's own tracer with the default random ids: a provider with its
    own ``IdGenerator`` (X-Ray's time-based ids, say) keeps minting them.
    """
    generator = getattr(tracer, "id_generator", None)
    if type(tracer) is not sdk_trace.Tracer or type(generator) is not RandomIdGenerator:
        return tracer, None
    ids = _RecordedIds(int(trace_id_hex(trace.trace_id), 16))
    keeping = copy.copy(tracer)
    keeping.id_generator = ids
    return keeping, ids


def export_to_provider(
    trace: Trace,
    provider: trace_api.TracerProvider,
    *,
    parent: trace_api.SpanContext | None = None,
) -> None:
    """Create one real span per recorded span in ``provider``, with the recorded times.

    The root is a SERVER span, unless ``parent`` is given: then it nests as an
    INTERNAL span under that span context (e.g. the server span of FastAPI's
    built-in telemetry or opentelemetry-instrumentation-fastapi), so the
    request does not get a second server span. Without ``parent``, a trace that
    continued an incoming ``traceparent`` is the child of the caller's span.
    The SDK's provider (with its default id generator) keeps the recorded
    trace and span ids; any other provider mints its own.
    """
    try:
        tracer, ids = _id_keeping(provider.get_tracer(SCOPE_NAME, scope_version()), trace)
        ordered = list(parents_first(trace))
        if parent is not None and not parent.is_valid:
            parent = None
        nested = parent is not None
        if parent is None:
            parent = _caller_context(trace)
        # An explicit empty context: never pick up whatever span is current in the caller.
        root_context = (
            Context()
            if parent is None
            else trace_api.set_span_in_context(trace_api.NonRecordingSpan(parent))
        )
    except Exception as error:
        report_once("OpenTelemetry export (export_to_provider)", error)
        return
    created: dict[int, trace_api.Span] = {}
    started: list[tuple[Span, trace_api.Span]] = []
    for span, parent_span in ordered:
        try:
            name, kind, attributes = _span_fields(trace, span, is_root=parent_span is None)
            if parent_span is None:
                context = root_context
                kind = SpanKind.INTERNAL if nested else kind
            else:
                context = trace_api.set_span_in_context(created[id(parent_span)])
            if ids is not None:
                ids.span_id = int(span_id_hex(span.span_id), 16)
            otel_span = tracer.start_span(
                name, context=context, kind=kind, start_time=span.start_ns, attributes=attributes
            )
            created[id(span)] = otel_span
            started.append((span, otel_span))
            for event in span.events:
                otel_span.add_event(
                    event.name, coerce_attributes(event.attributes), timestamp=event.time_ns
                )
            otel_span.set_status(_status(span))
        except Exception as error:
            # A span that failed to start takes its subtree with it (KeyError above).
            report_once("OpenTelemetry export (export_to_provider)", error)
    # End children before parents when times tie; each end is guarded on its own so one
    # failing span processor does not keep the other spans from being exported.
    order = {id(span): index for index, (span, _) in enumerate(started)}
    for span, otel_span in sorted(started, key=lambda p: (p[0].end_ns, -order[id(p[0])])):
        try:
            otel_span.end(end_time=max(span.start_ns, span.end_ns))
        except Exception as error:
            report_once("OpenTelemetry export (span end)", error)


def to_readable_spans(trace: Trace, resource: Resource | None = None) -> list[ReadableSpan]:
    """Build finished SDK spans that keep the trace's own trace and span ids.

    Hand them to any ``SpanExporter`` (OTLP, console, in-memory) without a
    provider; the root is a SERVER span (the child of the caller's span when the
    trace continued an incoming ``traceparent``), database calls CLIENT spans,
    the others INTERNAL. ``resource``
    defaults to ``Resource.create({})`` (so ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES`` apply). Raises on a broken trace; see
    :func:`export_with_exporter` for the never-raising path.
    """
    resource = Resource.create({}) if resource is None else resource
    scope = InstrumentationScope(SCOPE_NAME, scope_version())
    trace_id = int(trace_id_hex(trace.trace_id), 16)
    flags = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED)
    caller = _caller_context(trace)
    state = None if caller is None else caller.trace_state

    def context_of(span: Span) -> trace_api.SpanContext:
        span_id = int(span_id_hex(span.span_id), 16)
        return trace_api.SpanContext(
            trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=state
        )

    readable: list[ReadableSpan] = []
    for span, parent in parents_first(trace):
        events: Sequence[Event] = [
            Event(e.name, coerce_attributes(e.attributes), timestamp=e.time_ns) for e in span.events
        ]
        name, kind, attributes = _span_fields(trace, span, is_root=parent is None)
        readable.append(
            ReadableSpan(
                name=name,
                context=context_of(span),
                parent=caller if parent is None else context_of(parent),
                resource=resource,
                attributes=attributes,
                events=events,
                kind=kind,
                status=_status(span),
                start_time=span.start_ns,
                end_time=max(span.start_ns, span.end_ns),
                instrumentation_scope=scope,
            )
        )
    return readable


def export_with_exporter(
    trace: Trace, exporter: SpanExporter, *, resource: Resource | None = None
) -> SpanExportResult:
    """Send the trace, ids intact, straight to ``exporter``; ``FAILURE`` instead of raising."""
    try:
        return exporter.export(to_readable_spans(trace, resource))
    except Exception as error:
        report_once("OpenTelemetry export (export_with_exporter)", error)
        return SpanExportResult.FAILURE
