"""Each detector on small hand-built traces: threshold edges and the cases that must stay quiet."""

from __future__ import annotations

import pytest

from tests.diagnostics.build import MS, TraceBuilder
from tracer.analysis.diagnostics import (
    Finding,
    Thresholds,
    diagnose,
    is_secret_field,
    parse_error,
    statement_shape,
)
from tracer.model import Trace


def codes(trace: Trace, limits: Thresholds | None = None) -> list[str]:
    return [f.code for f in diagnose(trace, limits)]


# -- N+1 -----------------------------------------------------------------------------------


def test_statement_shape_normalises_literals_lists_and_whitespace() -> None:
    assert statement_shape("SELECT a FROM t\n  WHERE id = 5 AND name = 'it''s'") == (
        "SELECT a FROM t WHERE id = ? AND name = ?"
    )
    assert statement_shape("SELECT a FROM t WHERE id IN (1, 2, 3)") == statement_shape(
        "SELECT a FROM t WHERE id IN (?)"
    )
    assert statement_shape("SELECT * FROM t WHERE x = $1 AND y = %(y)s AND z = :z") == (
        "SELECT * FROM t WHERE x = ? AND y = ? AND z = ?"
    )
    assert statement_shape("INSERT INTO t (a, b) VALUES (?, ?), (?, ?)") == (
        "INSERT INTO t (a, b) VALUES (?)"
    )
    assert statement_shape("SELECT users_2.id FROM users_2") == "SELECT users_2.id FROM users_2"


def _repeated(count: int) -> Trace:
    b = TraceBuilder()
    handler = b.add("h", "handler", 6, 1, 90)
    for n in range(count):
        sql = f"SELECT items.id FROM items WHERE items.owner_id = {n}"
        b.add("SELECT items", "db", 6, 2 + n, 2.5 + n, handler, {"db.statement": sql})
    b.add("COMMIT", "db", 6, 50, 51, handler, {"db.operation": "COMMIT"})
    b.add("COMMIT", "db", 6, 52, 53, handler, {"db.operation": "COMMIT"})
    b.add("COMMIT", "db", 6, 54, 55, handler, {"db.operation": "COMMIT"})
    return b.trace()


@pytest.mark.parametrize(("count", "fires"), [(2, False), (3, True)])
def test_n_plus_one_needs_the_minimum_repeats(count: int, fires: bool) -> None:
    assert codes(_repeated(count)) == (["n_plus_one"] if fires else [])


def test_n_plus_one_threshold_is_configurable_and_commits_never_count() -> None:
    findings = diagnose(_repeated(2), Thresholds(n_plus_one_min=2))
    assert [(f.code, f.evidence["count"], f.evidence["issued_by"]) for f in findings] == [
        ("n_plus_one", 2, "h")
    ]


# -- event loop ----------------------------------------------------------------------------


def _handler_hold(hold_ns: int, kind: str = "async") -> Trace:
    b = TraceBuilder()
    b.add("h", "handler", 6, 10, 90, None, {"handler.kind": kind, "loop.max_hold_ns": hold_ns})
    return b.trace()


@pytest.mark.parametrize(("hold", "fires"), [(20 * MS - 1, False), (20 * MS, True)])
def test_loop_block_edge(hold: int, fires: bool) -> None:
    assert codes(_handler_hold(hold)) == (["event_loop_blocked"] if fires else [])


def test_a_sync_handler_never_blocks_the_loop() -> None:
    assert codes(_handler_hold(80 * MS, kind="sync")) == []


def _solve_hold(offset_ms: float) -> Trace:
    b = TraceBuilder()
    solve = b.add(
        "solve_dependencies",
        "dependency",
        4,
        0,
        100,
        None,
        {"loop.max_hold_ns": 25 * MS, "loop.max_hold_offset_ns": round(offset_ms * MS)},
    )
    outer = b.add("outer", "dependency", 4, 10, 90, solve, {"dependency.kind": "async"})
    b.add("inner", "dependency", 4, 30, 60, outer, {"dependency.kind": "async_generator"})
    b.add("sync_one", "dependency", 4, 62, 80, outer, {"dependency.kind": "sync"})
    return b.trace()


@pytest.mark.parametrize(
    ("offset_ms", "owner"),
    [(40, "inner"), (70, "outer"), (95, "solve_dependencies"), (5, "solve_dependencies")],
)
def test_dependency_hold_goes_to_the_async_dependency_running_then(
    offset_ms: float, owner: str
) -> None:
    (finding,) = diagnose(_solve_hold(offset_ms))
    assert finding.code == "event_loop_blocked"
    assert finding.evidence["blocked_by"] == owner
    assert finding.evidence["measured_on"] == "solve_dependencies"
    assert finding.title == f"{owner} held the event loop for 25.0 ms"


# -- waiting -------------------------------------------------------------------------------


@pytest.mark.parametrize(("wait_ms", "fires"), [(4.999, False), (5, True)])
def test_pool_wait_edge(wait_ms: float, fires: bool) -> None:
    b = TraceBuilder()
    handler = b.add("h", "handler", 6, 1, 90)
    b.add("pool checkout", "db", 6, 10, 10 + wait_ms, handler, {"db.pool": "QueuePool"})
    findings = diagnose(b.trace())
    assert [(f.code, f.layer, f.evidence["waiter"]) for f in findings] == (
        [("waiting", "connection pool", "h")] if fires else []
    )


@pytest.mark.parametrize(("wait_ns", "fires"), [(10 * MS - 1, False), (10 * MS, True)])
def test_threadpool_wait_edge(wait_ns: int, fires: bool) -> None:
    b = TraceBuilder()
    b.add("dep", "dependency", 4, 1, 30, None, {"threadpool.wait_ns": wait_ns})
    findings = diagnose(b.trace())
    assert [(f.layer, f.evidence.get("wait_ns")) for f in findings] == (
        [("threadpool", wait_ns)] if fires else []
    )


# -- dominant step -------------------------------------------------------------------------


def _one_slow_span(own_ms: float, total_ms: float, child_ms: float = 0) -> Trace:
    b = TraceBuilder(end_ms=total_ms)
    span = b.add("serialize Big", "serialization", 7, 0, own_ms + child_ms)
    if child_ms:
        b.add("render JSONResponse", "serialization", 7, own_ms, own_ms + child_ms, span)
    # the rest of the request is traced work in small pieces, not one untraced gap
    start = own_ms + child_ms
    while start < total_ms:
        b.add(f"step at {start}", "handler", 6, start, min(total_ms, start + 50))
        start += 50
    return b.trace()


@pytest.mark.parametrize(
    ("own_ms", "total_ms", "fires"),
    [(199.999, 300, False), (200, 300, True), (200, 401, False), (200, 400, True)],
)
def test_dominant_step_needs_both_time_and_share(
    own_ms: float, total_ms: float, fires: bool
) -> None:
    assert codes(_one_slow_span(own_ms, total_ms)) == (["dominant_step"] if fires else [])


def test_dominant_step_subtracts_children() -> None:
    # 150 ms own + 150 ms in its child: neither is 200 ms on its own
    assert codes(_one_slow_span(150, 310, child_ms=150)) == []


def test_a_stuck_request_blames_the_gap_and_what_ran_before_it_not_the_route() -> None:
    """Pool deadlock: the handler ended at 16 ms, then nothing ran for 90 s inside the route."""
    b = TraceBuilder(end_ms=90_020)
    route = b.add("route /x", "routing", 3, 1, 90_019)
    b.add("h", "handler", 6, 2, 16, route)
    (finding,) = diagnose(b.trace())
    assert finding.code == "dominant_step"
    assert finding.title.startswith("90.00 s (100% of the request) is untraced")
    assert finding.evidence["inside"] == "route /x"
    assert finding.evidence["after"] == "h"
    assert "route /x took" not in finding.title


def test_a_first_call_gap_is_never_a_slowness_finding() -> None:
    b = TraceBuilder(end_ms=400)
    route = b.add("route /x", "routing", 3, 0, 400)
    b.add(
        "endpoint inspection",
        "routing",
        3,
        1,
        399,
        route,
        {"gap.cause": "endpoint inspection", "gap.first_call": True},
    )
    assert codes(b.trace()) == []


def test_dominant_step_ignores_work_after_the_response() -> None:
    b = TraceBuilder(end_ms=500)
    b.add("late teardown", "dependency", 4, 100, 450, None, {"dependency.teardown": True})
    assert codes(b.trace(response_end_ms=100)) == []


# -- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "fires"), [(200, True), (202, True), (500, False)])
def test_background_failure_only_matters_after_a_success(status: int, fires: bool) -> None:
    b = TraceBuilder(status=status)
    b.add("task", "background", 10, 80, 90, raised=("OSError", "disk full"))
    assert ("background_failed" in codes(b.trace(response_end_ms=70))) is fires


def test_server_error_without_any_response() -> None:
    b = TraceBuilder(status=None)
    b.root.status = "error"
    b.root.attributes["error.type"] = "KeyError"
    b.add("h", "handler", 6, 10, 20, raised=("KeyError", "'x'"))
    (finding,) = diagnose(b.trace())
    assert (finding.code, finding.layer, finding.evidence["status_code"]) == (
        "server_error",
        "handler h",
        None,
    )
    assert finding.title == "no response from unhandled KeyError in h"


def test_a_5xx_nobody_raised_names_the_layer_that_answered() -> None:
    b = TraceBuilder(status=503, **{"trace_request.response_origin": "route /x"})
    b.add("h", "handler", 6, 10, 20)
    (finding,) = diagnose(b.trace())
    assert (finding.code, finding.layer, finding.title) == (
        "server_error",
        "route /x",
        "503 built by route /x",
    )


def test_a_4xx_raised_by_the_handler_is_not_a_dependency_finding() -> None:
    b = TraceBuilder(status=409)
    b.add("h", "handler", 6, 10, 20, raised=("HTTPException", "409: taken"))
    assert codes(b.trace()) == []


def test_validation_errors_on_a_success_are_ignored() -> None:
    b = TraceBuilder(status=200)
    b.add("parse JSON", "validation", 5, 1, 2, raised=("JSONDecodeError", "bad"))
    assert codes(b.trace()) == []


def test_parse_error_copes_with_nested_and_unusual_lines() -> None:
    assert parse_error("body.items.0.name: Field required (missing)", "body") == {
        "loc": "body.items.0.name",
        "field": "items.0.name",
        "msg": "Field required",
        "type": "missing",
    }
    assert parse_error("body: Field required (missing)", "body")["field"] == "body"
    assert parse_error("something odd", "query")["msg"] == "something odd"


# -- wrong fields --------------------------------------------------------------------------


def _encoded(fields: list[str] | None, name: str = "jsonable_encoder") -> Trace:
    b = TraceBuilder()
    b.add("h", "handler", 6, 10, 20, None, {"handler.returned": "dict"})
    attrs = {} if fields is None else {"response.fields": fields}
    b.add(name, "serialization", 7, 21, 22, None, attrs)
    return b.trace()


@pytest.mark.parametrize(
    ("fields", "severity"),
    [
        (["id", "api_key"], "error"),
        (["id", "PasswordHash"], "error"),
        (["id", "access_token"], "error"),
        (None, "info"),
        (["id", "email"], None),
    ],
)
def test_wrong_fields_severity(fields: list[str] | None, severity: str | None) -> None:
    findings = diagnose(_encoded(fields))
    assert [f.severity for f in findings] == ([severity] if severity else [])


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password_hash", True),
        ("hashedPassword", True),
        ("api_key", True),
        ("apiKey", True),
        ("refresh_token", True),
        ("client_secret", True),
        ("hashtag", False),
        ("compass", False),
        ("email", False),
        ("is_admin", False),
    ],
)
def test_secret_looking_field_names(name: str, secret: bool) -> None:
    assert is_secret_field(name) is secret


def test_a_response_model_is_never_wrong_fields() -> None:
    assert codes(_encoded(["password_hash"], name="serialize UserRead")) == []


# -- the model -----------------------------------------------------------------------------


def test_finding_round_trips_and_rejects_unknown_severity() -> None:
    finding = Finding("x", "warning", "t", "d", "database", None, {"count": 3})
    assert Finding.from_dict(finding.to_dict()) == finding
    with pytest.raises(ValueError, match="severity"):
        Finding.from_dict({**finding.to_dict(), "severity": "fatal"})


def test_an_empty_trace_has_no_findings() -> None:
    assert diagnose(Trace(trace_id="", spans=[])) == []
