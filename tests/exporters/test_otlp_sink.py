"""The OTLP sink: O(1) on the request, batches on its own thread, never raises, bounded."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.renderers import sample_traces
from tracer.sinks.exporters import otlp_sink
from tracer.sinks.exporters.otlp_sink import OTLPSink


def test_an_exporter_without_a_byte_client_gets_sdk_spans_through_export() -> None:
    exporter = InMemorySpanExporter()
    sink = OTLPSink(exporter, delay=60)
    trace = sample_traces.success_post_users()
    sink(trace)
    assert exporter.get_finished_spans() == ()  # nothing on the caller's thread
    assert sink.force_flush(5_000)
    spans = exporter.get_finished_spans()
    assert len(spans) == len(trace.spans)
    assert {format(s.context.trace_id, "032x") for s in spans} == {trace.trace_id}
    sink.shutdown()


def test_a_full_batch_is_sent_without_waiting_for_the_delay() -> None:
    exporter = InMemorySpanExporter()
    sink = OTLPSink(exporter, delay=3600)
    trace = sample_traces.large_trace(600)  # more spans than one batch
    sink(trace)
    for _ in range(200):
        if exporter.get_finished_spans():
            break
        threading.Event().wait(0.01)
    assert len(exporter.get_finished_spans()) == len(trace.spans)
    sink.shutdown()


class _Stuck:
    """An exporter whose export blocks until released (a collector that hangs)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.calls += 1
        self.release.wait(10)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


def test_the_queue_is_bounded_and_drops_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otlp_sink, "QUEUE_TRACES", 5)
    exporter = _Stuck()
    sink = OTLPSink(exporter, delay=0.001)
    trace = sample_traces.not_found_404()
    sink(trace)
    for _ in range(200):  # the thread took the first trace and is stuck exporting it
        if exporter.calls:
            break
        threading.Event().wait(0.01)
    for _ in range(20):
        sink(trace)
    assert sink.dropped == 15
    exporter.release.set()
    assert sink.force_flush(5_000)
    sink.shutdown()


class _Failing:
    def export(self, spans: Any) -> SpanExportResult:
        raise ConnectionError("collector down")

    def shutdown(self) -> None:
        pass


def test_a_failing_export_is_counted_and_reported_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = OTLPSink(_Failing(), delay=60)
    sink(sample_traces.validation_422())
    sink(sample_traces.validation_422())
    assert sink.force_flush(5_000)
    assert sink.dropped == 2
    sink.shutdown()


def test_after_shutdown_traces_are_ignored() -> None:
    exporter = InMemorySpanExporter()
    sink = OTLPSink(exporter, delay=60)
    sink.shutdown()
    sink(sample_traces.success_post_users())
    assert sink.force_flush(1_000)
    assert exporter.get_finished_spans() == ()


def test_the_http_path_queues_encoded_bytes_not_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A queued Trace would live until its batch leaves (and reach the oldest GC
    generation on a busy server); its bytes are not scanned by the collector."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    bodies: list[bytes] = []
    monkeypatch.setattr(otlp_sink, "_byte_sender", lambda exporter: bodies.append)
    sink = OTLPSink(InMemorySpanExporter(), delay=3600)
    trace = sample_traces.success_post_users()
    sink(trace)
    ((item, count),) = list(sink._pending)
    assert isinstance(item, bytes) and count == len(trace.spans)
    assert sink.force_flush(5_000)
    (body,) = bodies
    (resource_spans,) = ExportTraceServiceRequest.FromString(body).resource_spans
    spans = resource_spans.scope_spans[0].spans
    assert {s.trace_id.hex() for s in spans} == {trace.trace_id}
    assert len(spans) == len(trace.spans)
    sink.shutdown()
