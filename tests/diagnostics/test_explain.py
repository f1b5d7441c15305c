"""The ten steps explained for real demo requests, and own time per step."""

from __future__ import annotations

import pytest

from tests.diagnostics.build import TraceBuilder
from tracer.analysis.explain import ROLES, StepExplanation, explain, time_by_step
from tracer.analysis.index import analyse
from tracer.model import STEP_NAMES, Trace

MS = 1_000_000


def steps(trace: Trace) -> dict[int, StepExplanation]:
    out = {e.step: e for e in explain(trace)}
    assert list(out) == list(range(1, 11))
    return out


def test_sign_up_happens_in_all_ten_steps(demo_traces: dict[str, Trace]) -> None:
    trace = demo_traces["sign_up"]
    by_step = steps(trace)
    assert all(e.happened for e in by_step.values())
    assert [e.name for e in by_step.values()] == [STEP_NAMES[n] for n in range(1, 11)]
    assert [e.role for e in by_step.values()] == list(ROLES.values())
    assert "52 B body" in by_step[1].text
    assert "yours: CORSMiddleware, request_id_and_timing, GZipMiddleware" in by_step[2].text
    assert "to create_user (route /users)" in by_step[3].text
    assert by_step[4].text.startswith("Depends resolved get_db (yield)")
    assert "get_db ran up to its `yield`" in by_step[4].text
    assert "closed after the response" in by_step[4].text
    assert by_step[5].text == "UserCreate validated the JSON body (52 B)"
    assert by_step[6].text.startswith(
        "create_user ran on the event loop: 4 SQL statements "
        "(SELECT users, INSERT users, COMMIT, SELECT users)"
    )
    assert "response_model UserRead validated and filtered the returned User" in by_step[7].text
    assert by_step[8].text.startswith("the 201 went back out through 8 layers")
    assert by_step[9].text.startswith("the 201 left as http.response.start + 2 body messages")
    assert by_step[10].text.startswith("send_welcome_email ran after the 201 was sent")


def test_span_ids_and_own_time_belong_to_their_step(demo_traces: dict[str, Trace]) -> None:
    trace = demo_traces["sign_up"]
    by_id = trace.by_id()
    explained = explain(trace)
    for item in explained:
        assert {by_id[i].step for i in item.span_ids} <= {item.step}
    assert sorted(i for e in explained for i in e.span_ids) == sorted(by_id)
    assert [e.own_ns for e in explained] == list(time_by_step(trace).values())


def test_failed_validation_explains_the_missing_handler(demo_traces: dict[str, Trace]) -> None:
    by_step = steps(demo_traces["search_422"])
    assert by_step[5].happened
    assert "query.q: String should have at least 2 characters" in by_step[5].text
    assert not by_step[6].happened
    assert by_step[6].text == "no handler: validation failed with 1 error, FastAPI answered 422"
    assert by_step[6].span_ids == []
    # the 422 body is the exception handler's, on the error path: not response_model shaping
    assert not by_step[7].happened
    assert by_step[7].text == (
        "no response_model shaping: RequestValidationError was raised, "
        "and the 422 was built on the error path (step 8)"
    )
    assert by_step[8].text.startswith(
        "route /search caught RequestValidationError; its handler built the 422 (144 B); "
    )
    rendered = [s for s in demo_traces["search_422"].spans if s.name == "render JSONResponse"]
    assert rendered[0].span_id in by_step[8].span_ids
    assert not by_step[10].happened
    assert by_step[10].text.startswith("no background tasks: the handler never ran")


def test_dependency_refusal_stops_before_validation_and_handler(
    demo_traces: dict[str, Trace],
) -> None:
    by_step = steps(demo_traces["no_token"])
    assert "OAuth2PasswordBearer raised HTTPException: 401: Not authenticated" in by_step[4].text
    reason = "dependency OAuth2PasswordBearer raised HTTPException (401)"
    assert by_step[6].text == f"no handler: {reason}"
    assert not by_step[5].happened


def test_unhandled_error_is_answered_outside_user_middleware(
    demo_traces: dict[str, Trace],
) -> None:
    by_step = steps(demo_traces["boom"])
    assert by_step[6].happened
    assert "it raised RuntimeError: boom" in by_step[6].text
    assert not by_step[7].happened
    assert by_step[7].text == "nothing serialised: ServerErrorMiddleware sent a plain-text 500"
    assert "CORSMiddleware, request_id_and_timing, GZipMiddleware never saw it" in by_step[8].text


def test_no_route_means_nothing_after_routing(demo_traces: dict[str, Trace]) -> None:
    by_step = steps(demo_traces["not_found"])
    assert by_step[3].text == "no route matches GET /nowhere: the router answered 404"
    for step in (4, 5, 6):
        assert not by_step[step].happened
        assert "no route matches GET /nowhere (404)" in by_step[step].text
    assert by_step[10].text == "no background tasks: the handler never ran"


def test_streaming_sync_and_failed_task_texts(demo_traces: dict[str, Trace]) -> None:
    stream = steps(demo_traces["stream"])
    assert stream[7].text == "nothing serialised: stream returned a StreamingResponse, sent as is"
    assert "body messages (75 B)" in stream[9].text  # 5 chunks of 15 B, sent one by one
    report = steps(demo_traces["sync_report"])
    assert report[6].text.startswith("sync_report ran in the threadpool (after waiting")
    assert report[5].text == "query parameter limit validated"
    task = steps(demo_traces["failing_task"])
    assert task[10].text.startswith("send_receipt raised ConnectionError after the 202 was sent")


def test_steps_add_up_to_the_root_span_and_only_tasks_are_background(
    demo_traces: dict[str, Trace],
) -> None:
    trace = demo_traces["n_plus_one"]
    by_step = time_by_step(trace)
    assert list(by_step) == list(range(1, 11))
    # own times and the untraced gaps tile the root span exactly: nothing counted twice
    assert sum(by_step.values()) + analyse(trace).untraced_ns == trace.root.duration_ns
    # get_db's teardown commits after the response, but it is dependency work, not a task
    assert by_step[10] == 0
    assert not steps(trace)[10].happened


@pytest.mark.parametrize("label", ["search_422", "n_plus_one", "no_token", "boom", "stream"])
def test_a_step_with_own_time_happened(demo_traces: dict[str, Trace], label: str) -> None:
    for step in explain(demo_traces[label]):
        assert step.happened or step.own_ns == 0, step


def test_time_by_step_gives_each_instant_one_owner_and_the_root_s_time_is_untraced() -> None:
    b = TraceBuilder(status=200, end_ms=100)
    handler = b.add("h", "handler", 6, 10, 60)
    b.add("SELECT a", "db", 6, 20, 30, handler)
    b.add("SELECT b", "db", 6, 25, 40, handler)  # overlaps a: 25-30 goes to b, started last
    b.add("task", "background", 10, 85, 95)
    trace = b.trace(response_end_ms=80)
    by_step = time_by_step(trace)
    assert by_step[6] == 50 * MS  # h 10-20 and 40-60, SELECT a 20-25, SELECT b 25-40
    assert by_step[1] == 0  # the root is structural: 0-10, 60-85 and 95-100 are untraced
    assert by_step[10] == 10 * MS  # the task only
    index = analyse(trace)
    assert index.untraced_ns == 40 * MS
    assert [(g.start_ns - trace.root.start_ns) // MS for g in index.untraced] == [0, 60, 95]
    assert sum(by_step.values()) + index.untraced_ns == 100 * MS  # nothing counted twice


def test_an_empty_trace_explains_nothing_happened() -> None:
    empty = Trace(trace_id="", spans=[])
    assert [e.happened for e in explain(empty)] == [False] * 10
    assert time_by_step(empty) == dict.fromkeys(range(1, 11), 0)
