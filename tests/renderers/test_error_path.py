"""The error path as rows, on real demo recordings: raise → caught by → the response built.

A lesson on FastAPI errors needs the hand-off FastAPI does not show: a 4xx is
raised, an exception handler catches it and builds the response; an unhandled
exception becomes a 500 built by ``ServerErrorMiddleware`` outside the user's
layers.
"""

from __future__ import annotations

import pytest

from tests.golden.test_golden_demo import recorded
from tracer.analysis.index import analyse
from tracer.model import Trace
from tracer.renderers.flow import Row, build_flow
from tracer.renderers.flow_errors import ERROR_STEP


def _texts(scenario: str) -> list[Row]:
    return build_flow(recorded(scenario)).rows


def _position(rows: list[Row], prefix: str) -> int:
    return next(i for i, r in enumerate(rows) if r.text.startswith(prefix))


@pytest.mark.parametrize(
    ("scenario", "raised", "caught", "handler", "built"),
    [
        (
            "search_422",
            "raise RequestValidationError: 1 error",
            "caught by route /search",
            "request_validation_exception_handler",
            "JSONResponse 422 · 144 B",
        ),
        (
            "me_401",
            "OAuth2PasswordBearer",
            "caught by route /users/me",
            "http_exception_handler",
            "JSONResponse 401 · 30 B",
        ),
        (
            "post_users_409",
            "raise HTTPException: 409: email taken",
            "caught by route /users",
            "http_exception_handler",
            "JSONResponse 409 · 24 B",
        ),
        (
            "not_found_404",
            "raise HTTPException: 404: Not Found",
            "caught by ExceptionMiddleware",
            "http_exception_handler",
            "JSONResponse 404 · 22 B",
        ),
        (
            "boom_500",
            "boom()",
            "caught by ServerErrorMiddleware, outside your layers: unhandled RuntimeError",
            None,
            "builds 500 Internal Server Error · 21 B",
        ),
    ],
)
def test_raise_then_catch_then_response(
    scenario: str, raised: str, caught: str, handler: str | None, built: str
) -> None:
    rows = _texts(scenario)
    order = [_position(rows, raised), _position(rows, caught), _position(rows, built)]
    assert order == sorted(order), [r.text for r in rows]
    raise_row, catch_row, built_row = (rows[i] for i in order)
    assert raise_row.error or any("✗" in n for n in raise_row.notes)
    assert catch_row.kind == "event" and catch_row.step == ERROR_STEP
    assert built_row.step == ERROR_STEP
    path = analyse(recorded(scenario)).error_path
    assert path is not None
    if handler is None:  # ServerErrorMiddleware: no exception handler ran
        assert path.handler_span is None and path.handler == "ServerErrorMiddleware"
        return
    # the catch, then the call of the handler by its recorded name, then what it built
    call = rows[order[1] + 1]
    assert (call.kind, call.text, call.step) == ("call", handler, ERROR_STEP)
    assert path.handler == handler


def test_validation_error_is_raised_in_the_route_once_the_solver_returned() -> None:
    """FastAPI raises after solve_dependencies collected every error, not inside validation."""
    trace = recorded("search_422")
    flow = build_flow(trace)
    row = flow.rows[_position(flow.rows, "raise RequestValidationError")]
    route = next(s for s in trace.spans if s.name == "route /search")
    solver = next(s for s in trace.spans if s.name == "solve_dependencies")
    assert row.src == row.dst == flow.lanes.lane_of[route.span_id]
    assert row.time_ns == solver.end_ns


def test_the_handlers_response_counts_under_the_error_path_not_serialization() -> None:
    index = analyse(recorded("search_422"))
    assert index.error_path is not None and index.error_path.response is not None
    assert index.step_of(index.error_path.response) == ERROR_STEP
    assert index.step_ns[7] == 0


def test_an_old_trace_without_a_handler_span_names_the_handler_by_its_exception() -> None:
    trace = Trace.from_json(recorded("search_422").to_json())  # a copy: the recording is shared
    (handler,) = [s for s in trace.spans if "handler.name" in s.attributes]
    trace.spans.remove(handler)  # as recorded before the handler had a span
    for span in trace.spans:
        if span.parent_id == handler.span_id:
            span.parent_id = handler.parent_id
    path = analyse(trace).error_path
    assert path is not None and path.handler_span is None
    assert path.handler == "RequestValidationError handler"
    rows = build_flow(trace).rows
    assert rows[_position(rows, "caught by route /search")].text == (
        "caught by route /search → RequestValidationError handler"
    )


@pytest.mark.parametrize("scenario", ["post_users_201", "stream_200"])
def test_a_success_has_no_error_path(scenario: str) -> None:
    assert analyse(recorded(scenario)).error_path is None
    assert not any(r.text.startswith("caught by") for r in build_flow(recorded(scenario)).rows)
