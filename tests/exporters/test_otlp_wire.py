"""The hand-written OTLP wire encoding equals the official SDK encoder's, message for message."""

from __future__ import annotations

import dataclasses

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource

from tests.renderers import sample_traces
from tracer.model import SpanEvent, Trace
from tracer.sinks.exporters.otel import to_readable_spans
from tracer.sinks.exporters.otlp_wire import RequestWriter, encode_trace_spans

RESOURCE = Resource.create({"service.name": "wire-test", "deployment.environment": "ci"})


def _official(traces: list[Trace]) -> ExportTraceServiceRequest:
    spans = [s for trace in traces for s in to_readable_spans(trace, RESOURCE)]
    return encode_spans(spans)


def _ours(traces: list[Trace]) -> ExportTraceServiceRequest:
    writer = RequestWriter(RESOURCE.attributes, RESOURCE.schema_url)
    body = writer.request(encode_trace_spans(t) for t in traces)
    return ExportTraceServiceRequest.FromString(body)


def _continued(trace: Trace) -> Trace:
    """``trace`` as if it continued a caller's ``traceparent`` (with a tracestate)."""
    meta = {
        **trace.meta,
        "traceparent": f"00-{trace.trace_id}-00f067aa0ba902b7-01",
        "tracestate": "vendor=abc,other=1",
    }
    return dataclasses.replace(trace, meta=meta)


def _odd_values(trace: Trace) -> Trace:
    """Values that take every branch of the value encoding: negatives, big ints, floats,
    lists of each kind, dicts, None, non-ASCII text, an event with attributes."""
    root = trace.spans[0]
    attributes = {
        **root.attributes,
        "t.negative": -5,
        "t.huge": 2**70,
        "t.float": 0.25,
        "t.bools": [True, False],
        "t.ints": [1, -2, 3],
        "t.floats": [1, 2.5],
        "t.mixed": [1, "a"],
        "t.dict": {"a": 1},
        "t.none": None,
        "t.text": "naïve ✓",
        "t.empty": "",
    }
    events = [*root.events, SpanEvent("note", root.start_ns + 1, {"k": "v", "n": 3})]
    spans = [dataclasses.replace(root, attributes=attributes, events=events), *trace.spans[1:]]
    return dataclasses.replace(trace, spans=spans)


TRACES = {
    "success": sample_traces.success_post_users,
    "validation_422": sample_traces.validation_422,
    "server_error_500": sample_traces.server_error_500,
    "not_found_404": sample_traces.not_found_404,
    "unauthorized_401": sample_traces.unauthorized_401,
    "streaming": sample_traces.streaming_200,
}


@pytest.mark.parametrize("name", sorted(TRACES))
def test_each_sample_trace_encodes_like_the_sdk(name: str) -> None:
    trace = TRACES[name]()
    assert _ours([trace]) == _official([trace])


def test_continued_trace_keeps_the_remote_parent_flags_and_tracestate() -> None:
    trace = _continued(sample_traces.success_post_users())
    ours = _ours([trace])
    assert ours == _official([trace])
    root = next(s for s in ours.resource_spans[0].scope_spans[0].spans if s.flags & 0x200)
    assert root.parent_span_id.hex() == "00f067aa0ba902b7"
    assert root.trace_state == "vendor=abc,other=1"


def test_every_value_kind_encodes_like_the_sdk() -> None:
    trace = _odd_values(sample_traces.server_error_500())
    assert _ours([trace]) == _official([trace])


def test_several_traces_share_one_resource_and_scope() -> None:
    traces = [sample_traces.success_post_users(), sample_traces.validation_422()]
    ours = _ours(traces)
    assert ours == _official(traces)
    assert len(ours.resource_spans) == 1
    assert len(ours.resource_spans[0].scope_spans) == 1


def test_a_large_trace_encodes_like_the_sdk() -> None:
    trace = sample_traces.large_trace(200)
    assert _ours([trace]) == _official([trace])
