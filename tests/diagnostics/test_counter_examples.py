"""Each detector on real-app shapes that fooled it (issue 12) and on what it must still catch."""

from __future__ import annotations

from tests.diagnostics.build import TraceBuilder
from tracer.analysis.diagnostics import Thresholds, diagnose
from tracer.model import Trace
from tracer.renderers.flow import build_flow


def codes(trace: Trace) -> list[str]:
    return [f.code for f in diagnose(trace)]


def _token_response(route: str, fields: list[str], *, form: bool = False) -> Trace:
    b = TraceBuilder()
    b.root.attributes["http.route"] = route
    if form:
        b.add("OAuth2PasswordRequestForm", "dependency", 4, 5, 10)
    b.add("login", "handler", 6, 10, 20, None, {"handler.returned": "dict"})
    b.add("jsonable_encoder", "serialization", 7, 20, 30, None, {"response.fields": fields})
    return b.trace()


# -- wrong_fields: a token endpoint returning its token ------------------------------------


def test_a_token_endpoint_returning_a_token_is_not_a_leak() -> None:
    shape = ["access_token", "token_type"]
    assert codes(_token_response("/api/token", shape)) == []  # path ends in token
    assert codes(_token_response("/login", shape)) == []  # exactly the RFC 6749 shape
    assert codes(_token_response("/login", [*shape, "user"], form=True)) == []  # OAuth2 form


def test_a_token_anywhere_else_or_a_hash_beside_it_is_still_a_leak() -> None:
    (leak,) = diagnose(_token_response("/users/me", ["id", "access_token"]))
    assert (leak.code, leak.evidence["secret_fields"]) == ("wrong_fields", ["access_token"])
    trace = _token_response("/token", ["access_token", "token_type", "password_hash"])
    (leak,) = diagnose(trace)
    assert leak.evidence["secret_fields"] == ["password_hash"]


# -- dependency_raised: an intentional HTTPException is the app's answer ---------------------


def _raised_in(phase: str, kind: str, status: int) -> Trace:
    b = TraceBuilder(status=status)
    name = "get_item" if phase == "dependency" else "read_item"
    step = 4 if phase == "dependency" else 6
    b.add(name, "dependency" if step == 4 else "handler", step, 10, 20, raised=(kind, "nope"))
    return b.trace()


def test_an_http_exception_gets_no_finding_in_a_handler_or_a_dependency() -> None:
    for phase in ("dependency", "handler"):
        for kind in ("HTTPException", "starlette.exceptions.HTTPException"):
            assert codes(_raised_in(phase, kind, 404)) == [], (phase, kind)


def test_another_error_turned_into_a_4xx_by_a_handler_still_names_the_dependency() -> None:
    (finding,) = diagnose(_raised_in("dependency", "PermissionDenied", 403))
    assert (finding.code, finding.layer) == ("dependency_raised", "dependency get_item")


# -- dominant_step / event_loop_blocked: blame a span the app ran --------------------------


def test_a_loop_hold_is_never_blamed_on_the_tracer_s_threadpool_pseudo_span() -> None:
    """An async dependency doing a sync pool checkout, beside a sync generator's __enter__."""
    b = TraceBuilder(status=500, end_ms=30_100)
    solve = b.add(
        "solve_dependencies",
        "dependency",
        4,
        1,
        30_050,
        None,
        {"loop.max_hold_ns": 30_000 * 1_000_000, "loop.max_hold_offset_ns": 10 * 1_000_000},
    )
    gen = b.add("get_sync_db", "dependency", 4, 2, 30_040, solve, {"dependency.kind": "generator"})
    b.add("threadpool __enter__", "dependency", 4, 3, 30_030, gen)
    dep = b.add("get_user", "dependency", 4, 5, 30_045, solve, {"dependency.kind": "async"})
    b.add("pool checkout", "db", 4, 6, 30_040, dep, raised=("TimeoutError", "QueuePool"))
    (held,) = [f for f in diagnose(b.trace()) if f.code == "event_loop_blocked"]
    assert held.evidence["blocked_by"] == "get_user"
    assert held.evidence["blocking_call"] == "pool checkout"
    assert "threadpool" not in held.title


def test_a_first_call_cost_is_not_a_loop_hold() -> None:
    b = TraceBuilder(end_ms=100)
    attrs = {"loop.max_hold_ns": 31_000_000, "loop.max_hold_offset_ns": 2_000_000}
    solve = b.add("solve_dependencies", "dependency", 4, 1, 40, None, attrs)
    cause = {"gap.cause": "anyio backend import", "gap.first_call": True}
    b.add("import anyio backend", "dependency", 4, 3, 34, solve, cause)
    assert codes(b.trace()) == []


def test_a_short_pool_wait_under_concurrency_is_not_a_finding() -> None:
    b = TraceBuilder(end_ms=20)
    handler = b.add("hold", "handler", 6, 1, 19)
    b.add("pool checkout", "db", 6, 2, 6.9, handler)  # queued 4.9 ms behind other requests
    assert codes(b.trace()) == []
    assert codes(b.trace()) == [f.code for f in diagnose(b.trace(), Thresholds())]


# -- server_error and the sequence diagram's warning: no guessed headers -------------------


def _boom(origin_header: bool) -> Trace:
    b = TraceBuilder(status=500)
    b.root.attributes["trace_request.response_origin"] = "ServerErrorMiddleware"
    b.root.attributes["error.type"] = "RuntimeError"
    outer = b.add("ServerErrorMiddleware", "middleware", 2, 1, 99, None, {"middleware.depth": 0})
    cors = b.add("CORSMiddleware", "middleware", 2, 2, 98, outer, {"middleware.depth": 1})
    b.add("boom", "handler", 6, 10, 20, cors, raised=("RuntimeError", "boom"))
    trace = b.trace()
    trace.response["headers"] = [["content-type", "text/plain"]]
    trace.request["headers"] = [["origin", "https://a.example"]] if origin_header else []
    return trace


def test_a_500_outside_middleware_names_the_layers_not_guessed_headers() -> None:
    (finding,) = diagnose(_boom(origin_header=True))
    assert "X-Request-ID" not in finding.detail and "(CORS," not in finding.detail
    assert "outside your middleware (CORSMiddleware)" in finding.detail
    assert finding.evidence["skipped_layers"] == ["CORSMiddleware"]


def test_no_cors_warning_for_a_request_that_asked_for_no_cors() -> None:
    assert build_flow(_boom(origin_header=True)).warnings == [
        "500 came from ServerErrorMiddleware, outside CORS: the response has no CORS headers"
    ]
    (warning,) = build_flow(_boom(origin_header=False)).warnings
    assert "CORS headers" not in warning and "headers those layers add" in warning
