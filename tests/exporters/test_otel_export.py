"""Replaying Traces into OpenTelemetry: a TracerProvider, and straight to a SpanExporter."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tracer.model import Trace
from tracer.sinks.exporters import export_to_provider, export_with_exporter, to_readable_spans
from tracer.sinks.exporters._common import coerce_value


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _by_name(spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trace_request" and r.levelno >= logging.WARNING]


def test_replays_every_span_with_times_parents_and_kinds(ok_trace: Trace) -> None:
    provider, exporter = _provider()
    export_to_provider(ok_trace, provider)

    finished = exporter.get_finished_spans()
    assert sorted(s.name for s in finished) == sorted(s.name for s in ok_trace.spans)
    otel = _by_name(finished)
    recorded = {s.span_id: s for s in ok_trace.spans}
    root = otel["POST /users"]
    assert root.parent is None
    assert root.kind is SpanKind.SERVER
    assert {s.context.trace_id for s in finished} == {root.context.trace_id}
    for span in ok_trace.spans:
        exported = otel[span.name]
        assert exported.start_time == span.start_ns
        assert exported.end_time == span.end_ns
        assert exported.instrumentation_scope is not None
        assert exported.instrumentation_scope.name == "trace_request"
        assert exported.attributes is not None
        assert exported.attributes["trace_request.lifecycle.phase"] == span.phase
        assert exported.attributes["trace_request.lifecycle.step"] == span.step
        assert exported.status.status_code is StatusCode.OK
        if span.parent_id is not None:
            parent = otel[recorded[span.parent_id].name]
            assert exported.parent is not None
            assert exported.parent.span_id == parent.context.span_id
            db = span.phase == "db"
            assert exported.kind is (SpanKind.CLIENT if db else SpanKind.INTERNAL)


def test_attributes_keep_their_types_and_root_carries_the_trace(ok_trace: Trace) -> None:
    provider, exporter = _provider()
    export_to_provider(ok_trace, provider)
    otel = _by_name(exporter.get_finished_spans())

    validate = otel["validate body"].attributes
    assert validate is not None
    fields = validate["trace_request.validation.fields"]
    assert tuple(fields) == ("name", "email")  # type: ignore[arg-type]
    assert validate["trace_request.validation.error_count"] == 0
    dependency = otel["get_db"].attributes
    assert dependency is not None
    assert dependency["trace_request.dependency.cached"] is False
    root = otel["POST /users"].attributes
    assert root is not None
    assert root["http.response.status_code"] == 201
    assert json.loads(str(root["trace_request.request"])) == ok_trace.request
    assert json.loads(str(root["trace_request.response"])) == ok_trace.response
    assert root["trace_request.response_end_ns"] == ok_trace.response_end_ns
    child = otel["router"].attributes
    assert child is not None
    assert "trace_request.request" not in child


def test_error_status_and_exception_event(error_trace: Trace) -> None:
    provider, exporter = _provider()
    export_to_provider(error_trace, provider)
    otel = _by_name(exporter.get_finished_spans())

    handler = otel["boom"]
    assert handler.status.status_code is StatusCode.ERROR
    assert handler.status.description == "RuntimeError: kaboom"
    (event,) = handler.events
    assert event.name == "exception"
    assert event.timestamp == error_trace.spans[2].events[0].time_ns
    assert dict(event.attributes or {}) == {
        "exception.type": "RuntimeError",
        "exception.message": "kaboom",
    }
    middleware = otel["ServerErrorMiddleware"]
    assert middleware.status.status_code is StatusCode.ERROR
    assert middleware.status.description == "RuntimeError"
    assert otel["log"].status.status_code is StatusCode.UNSET


def test_nests_under_an_existing_server_span_as_internal(ok_trace: Trace) -> None:
    provider, exporter = _provider()
    server = provider.get_tracer("fastapi").start_span("POST /users", kind=SpanKind.SERVER)
    export_to_provider(ok_trace, provider, parent=server.get_span_context())
    server.end()

    finished = exporter.get_finished_spans()
    ours = [
        s
        for s in finished
        if s.instrumentation_scope and s.instrumentation_scope.name == "trace_request"
    ]
    assert len(ours) == len(ok_trace.spans)
    assert {s.kind for s in ours} == {SpanKind.INTERNAL, SpanKind.CLIENT}  # CLIENT: db calls
    root = _by_name(ours)["POST /users"]
    assert root.parent is not None
    assert root.parent.span_id == server.get_span_context().span_id
    assert {s.context.trace_id for s in finished} == {server.get_span_context().trace_id}
    assert [s.kind for s in finished].count(SpanKind.SERVER) == 1


def test_an_invalid_parent_is_ignored(ok_trace: Trace) -> None:
    provider, exporter = _provider()
    export_to_provider(ok_trace, provider, parent=trace_api.INVALID_SPAN_CONTEXT)
    root = _by_name(exporter.get_finished_spans())["POST /users"]
    assert root.parent is None
    assert root.kind is SpanKind.SERVER


def test_never_adopts_the_callers_current_span(ok_trace: Trace) -> None:
    provider, exporter = _provider()
    with provider.get_tracer("caller").start_as_current_span("caller work") as current:
        export_to_provider(ok_trace, provider)
    root = _by_name(exporter.get_finished_spans())["POST /users"]
    assert root.parent is None
    assert root.context.trace_id != current.get_span_context().trace_id


class _StartOrder(SpanProcessor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.names.append(span.name)


def test_parents_start_before_children_even_when_clocks_disagree(ok_trace: Trace) -> None:
    spans = ok_trace.by_id()
    # A child recorded a hair before its parent, and a span whose parent was dropped.
    spans["a000000000000008"].start_ns = spans["a000000000000007"].start_ns - 1
    spans["a00000000000000a"].parent_id = "ffffffffffffffff"
    provider, exporter = _provider()
    order = _StartOrder()
    provider.add_span_processor(order)
    export_to_provider(ok_trace, provider)

    assert order.names.index("create_user") < order.names.index("INSERT users")
    assert order.names[0] == "POST /users"
    otel = _by_name(exporter.get_finished_spans())
    orphan = otel["send_welcome_email"]
    assert orphan.parent is not None
    assert orphan.parent.span_id == otel["POST /users"].context.span_id


class _ExplodingProcessor(SpanProcessor):
    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("collector unreachable")


def test_a_failing_processor_never_raises_and_logs_once(
    ok_trace: Trace, caplog: pytest.LogCaptureFixture
) -> None:
    provider, exporter = _provider()
    provider.add_span_processor(_ExplodingProcessor())
    with caplog.at_level(logging.WARNING, logger="trace_request"):
        export_to_provider(ok_trace, provider)
        export_to_provider(ok_trace, provider)

    (record,) = _warnings(caplog)
    assert "collector unreachable" in record.getMessage()
    # Each span is ended on its own, so the healthy processor still got all of them.
    assert len(exporter.get_finished_spans()) == 2 * len(ok_trace.spans)


def test_a_broken_provider_never_raises(ok_trace: Trace, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(trace_api.TracerProvider):
        def get_tracer(self, *args: object, **kwargs: object) -> trace_api.Tracer:
            raise TypeError("no tracer today")

    with caplog.at_level(logging.WARNING, logger="trace_request"):
        export_to_provider(ok_trace, Broken())
        export_to_provider(ok_trace, Broken())
    assert len(_warnings(caplog)) == 1


def test_an_empty_trace_exports_nothing(caplog: pytest.LogCaptureFixture) -> None:
    provider, exporter = _provider()
    export_to_provider(Trace(trace_id="", spans=[]), provider)
    assert export_with_exporter(Trace(trace_id="", spans=[]), exporter) is SpanExportResult.SUCCESS
    assert exporter.get_finished_spans() == ()
    assert _warnings(caplog) == []


def test_export_with_exporter_keeps_our_ids(ok_trace: Trace) -> None:
    exporter = InMemorySpanExporter()
    resource = Resource.create({"service.name": "demo"})
    assert export_with_exporter(ok_trace, exporter, resource=resource) is SpanExportResult.SUCCESS

    finished = exporter.get_finished_spans()
    assert len(finished) == len(ok_trace.spans)
    recorded = ok_trace.by_id()
    for exported in finished:
        assert exported.context is not None
        span = recorded[format(exported.context.span_id, "016x")]
        assert exported.name == span.name
        assert exported.context.trace_id == int(ok_trace.trace_id, 16)
        assert exported.resource.attributes["service.name"] == "demo"
        assert (exported.start_time, exported.end_time) == (span.start_ns, span.end_ns)
        if span.parent_id is None:
            assert exported.parent is None
            assert exported.kind is SpanKind.SERVER
        else:
            assert exported.parent is not None
            assert exported.parent.span_id == int(span.parent_id, 16)
            db = span.phase == "db"
            assert exported.kind is (SpanKind.CLIENT if db else SpanKind.INTERNAL)


def test_readable_spans_match_the_provider_replay(error_trace: Trace) -> None:
    provider, exporter = _provider()
    export_to_provider(error_trace, provider)
    replayed = _by_name(exporter.get_finished_spans())
    for built in to_readable_spans(error_trace):
        other = replayed[built.name]
        assert dict(built.attributes or {}) == dict(other.attributes or {})
        assert built.status.status_code is other.status.status_code
        assert built.status.description == other.status.description
        assert [(e.name, e.timestamp) for e in built.events] == [
            (e.name, e.timestamp) for e in other.events
        ]


def test_export_with_exporter_reports_failure_instead_of_raising(
    ok_trace: Trace, caplog: pytest.LogCaptureFixture
) -> None:
    class Failing(InMemorySpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            raise ConnectionError("refused")

    with caplog.at_level(logging.WARNING, logger="trace_request"):
        assert export_with_exporter(ok_trace, Failing()) is SpanExportResult.FAILURE
        assert export_with_exporter(ok_trace, Failing()) is SpanExportResult.FAILURE
    assert len(_warnings(caplog)) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (True, True),
        (3, 3),
        (2.5, 2.5),
        (None, None),
        (("a", "b"), ["a", "b"]),
        ([1, 2.5], [1.0, 2.5]),
        ([True, False], [True, False]),
        ([], []),
        ([1, "a"], '[1, "a"]'),
        ([[1], [2]], "[[1], [2]]"),
        ({"k": None}, '{"k": null}'),
        (2**70, str(2**70)),
        ({1, 2} - {1, 2}, "set()"),
    ],
)
def test_coerce_value_gives_otel_valid_attributes(value: object, expected: object) -> None:
    assert coerce_value(value) == expected


def test_unusual_attribute_values_are_coerced_not_dropped(ok_trace: Trace) -> None:
    ok_trace.root.attributes.update(
        {"none": None, "mapping": {"a": 1}, "mixed": [1, "x"], "huge": 2**64}
    )
    provider, exporter = _provider()
    export_to_provider(ok_trace, provider)
    root = _by_name(exporter.get_finished_spans())["POST /users"].attributes
    assert root is not None
    assert "trace_request.none" not in root
    assert root["trace_request.mapping"] == '{"a": 1}'
    assert root["trace_request.mixed"] == '[1, "x"]'
    assert root["trace_request.huge"] == str(2**64)
