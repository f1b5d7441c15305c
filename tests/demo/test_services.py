"""The demo's calls to other services and its parallel work: answers, spans, and their drawing."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import tracer
from tracer.analysis.concurrency import parallel_groups
from tracer.analysis.diagnostics import diagnose
from tracer.analysis.index import analyse
from tracer.analysis.processors import lanes
from tracer.model import Span, Trace
from tracer.renderers import get_renderer


@pytest.fixture
def traced(app: FastAPI) -> Iterator[TestClient]:
    tracer.instrument(app, store=False)
    with TestClient(app) as test_client:
        yield test_client


def trace_of(app: FastAPI, client: TestClient, path: str) -> Trace:
    with tracer.capture(app) as traces:
        assert client.get(path).status_code == 200
    return traces.last


def calls(trace: Trace, phase: str = "outbound") -> list[Span]:
    return sorted((s for s in trace.spans if s.phase == phase), key=lambda s: s.start_ns)


def adds_up(trace: Trace) -> bool:
    index = analyse(trace)
    return sum(index.step_ns.values()) + index.untraced_ns == trace.root.duration_ns


def test_quotes_ask_the_services(client: TestClient) -> None:
    assert client.get("/quote/42").json() == {"sku": 42, "available": 18, "price_cents": None}
    full = {"sku": 42, "available": 18, "price_cents": 619}
    assert client.get("/quote/42/sequential").json() == full
    assert client.get("/quote/42/parallel").json() == full
    failed = client.get("/quote/20000/parallel")
    assert (failed.status_code, failed.json()) == (502, {"detail": "pricing.internal failed"})


def test_parallel_queries_count_with_two_sessions(client: TestClient) -> None:
    assert client.get("/examples/parallel-queries").json() == {"users": 3, "items": 9}


def test_one_call_is_a_span_in_the_external_lane(app: FastAPI, traced: TestClient) -> None:
    trace = trace_of(app, traced, "/quote/42")
    (span,) = calls(trace)
    assert span.attributes["url.full"] == "http://inventory.internal/stock/…"
    assert [lane.name for lane in lanes(trace).lanes if lane.kind == "outbound"] == ["External"]
    assert adds_up(trace)


def test_the_sequential_quote_is_named_and_the_parallel_one_is_not(
    app: FastAPI, traced: TestClient
) -> None:
    sequential = trace_of(app, traced, "/quote/42/sequential")
    first, second = calls(sequential)
    assert first.end_ns <= second.start_ns
    (finding,) = [f for f in diagnose(sequential) if f.code == "sequential_calls"]
    assert finding.evidence["hosts"] == ["inventory.internal", "pricing.internal"]

    parallel = trace_of(app, traced, "/quote/42/parallel")
    first, second = calls(parallel)
    assert second.start_ns < first.end_ns  # overlapping, drawn side by side
    assert first.parent_id == second.parent_id  # both under the handler that gathered them
    assert "sequential_calls" not in [f.code for f in diagnose(parallel)]
    names = [lane.name for lane in lanes(parallel).lanes if lane.kind == "outbound"]
    assert names == ["inventory", "pricing"]
    assert adds_up(parallel)
    text = get_renderer("sequence")(width=100, color=False).render(parallel)
    assert "∥ 2 at once" in text and "∥ GET inventory.internal/stock/…" in text
    assert "═" in get_renderer("waterfall")(width=100, color=False).render(parallel)


def test_the_task_group_queries_overlap_under_the_handler(app: FastAPI, traced: TestClient) -> None:
    trace = trace_of(app, traced, "/examples/parallel-queries")
    index = analyse(trace)
    statements = [s for s in calls(trace, "db") if s.name.startswith("SELECT")]
    assert sorted(s.name for s in statements) == ["SELECT items", "SELECT users"]
    for span in calls(trace, "db"):  # each task's spans under the span that spawned the tasks
        assert index.by_id[span.parent_id or ""].name == "parallel_queries"
    groups = parallel_groups(trace)
    assert groups and max(g.width for g in groups) == 2
    assert adds_up(trace)
