"""Each diagnostic fires on the demo endpoint built to show it, and on nothing else."""

from __future__ import annotations

import json

import pytest

from tracer.analysis.diagnostics import Finding, Thresholds, diagnose
from tracer.model import Trace

MS = 1_000_000
#: Defaults, except that a worker thread's start may lag 10+ ms on a saturated CI machine
#: (GIL switch interval, scheduling): real, but not what these requests are about. The
#: starved-threadpool example waits 30 ms, so it still fires.
QUIET = Thresholds(threadpool_wait_ns=25 * MS)
#: Findings measured against the real clock: a loaded machine can add one to any request
#: (a long GC pause, a late thread, a slow loop turn). These recordings use the real
#: clock, so those codes are only checked where the demo provokes them on purpose (a lower
#: bound load can only raise); their thresholds are tested on fixed timings in
#: test_thresholds.py and test_gc_pause.py.
TIMING = frozenset({"event_loop_blocked", "gc_pause", "waiting", "dominant_step"})

#: every recorded request → the exact finding codes, in order
EXPECTED: dict[str, list[str]] = {
    "warm_up": [],
    "sign_up": [],
    "search_422": ["validation_failed"],
    "bad_json": ["validation_failed"],
    "bad_body": ["validation_failed"],
    # an HTTPException is the app answering on purpose: not a problem, in a dependency or not
    "no_token": [],
    "bad_token": [],
    "bad_version": [],
    "boom": ["server_error"],
    "n_plus_one": ["n_plus_one"],
    "eager": [],
    "blocking": ["event_loop_blocked"],
    "async_sleep": [],
    "sync_report": [],
    "stream": [],
    "not_found": [],
    "leaky_user": ["wrong_fields"],
    "failing_task": ["background_failed"],
    "slow_serialization": ["dominant_step"],
    "pool_exhausted": ["waiting"],
    "threadpool_starved": ["waiting"],
}


def causes(trace: Trace) -> list[str]:
    """The finding codes that do not depend on how fast this machine was."""
    return [f.code for f in diagnose(trace, QUIET) if f.code not in TIMING]


def only(trace: Trace, code: str) -> Finding:
    findings = [f for f in diagnose(trace, QUIET) if f.code == code]
    assert len(findings) == 1, findings
    return findings[0]


@pytest.mark.parametrize(("label", "codes"), EXPECTED.items())
def test_each_request_gets_exactly_its_findings(
    demo_traces: dict[str, Trace], label: str, codes: list[str]
) -> None:
    assert causes(demo_traces[label]) == [c for c in codes if c not in TIMING]
    found = {f.code for f in diagnose(demo_traces[label], QUIET)}
    assert {c for c in codes if c in TIMING} <= found


def test_healthy_sign_up_has_no_findings(demo_traces: dict[str, Trace]) -> None:
    trace = demo_traces["sign_up"]
    assert trace.status_code == 201
    # create_user hashes the password (PBKDF2) in the threadpool, off the event loop:
    # nothing about this request is a problem, so nothing is reported.
    assert causes(trace) == []


def test_query_validation_names_source_field_and_rule(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["search_422"], "validation_failed")
    assert finding.severity == "info"
    assert finding.layer == "validation (query)"
    assert finding.title == (
        "422 from validation (query): q: String should have at least 2 characters"
    )
    assert finding.evidence["fields"] == ["q"]
    assert finding.evidence["types"] == ["string_too_short"]
    span = demo_traces["search_422"].by_id()[finding.span_id or ""]
    assert span.name == "validate query"


def test_body_validation_lists_every_failing_field(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["bad_body"], "validation_failed")
    assert finding.layer == "validation (body)"
    assert finding.evidence["model"] == "UserCreate"
    assert finding.evidence["fields"] == ["email", "password"]
    assert finding.evidence["types"] == ["value_error", "string_too_short"]
    assert "(+1 more)" in finding.title


def test_invalid_json_is_blamed_on_parsing(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["bad_json"], "validation_failed")
    assert finding.layer == "validation (JSON body)"
    assert finding.evidence["exception.type"] == "JSONDecodeError"
    assert "not valid JSON" in finding.title


@pytest.mark.parametrize("label", ["no_token", "bad_token", "bad_version"])
def test_an_intentional_http_exception_in_a_dependency_is_explained_not_a_finding(
    demo_traces: dict[str, Trace], label: str
) -> None:
    from tracer.analysis.explain import explain

    assert diagnose(demo_traces[label], QUIET) == []
    dependencies = next(e for e in explain(demo_traces[label]) if e.step == 4)
    assert "raised HTTPException" in dependencies.text


def test_unhandled_error_path_and_missing_middleware_headers(
    demo_traces: dict[str, Trace],
) -> None:
    finding = only(demo_traces["boom"], "server_error")
    assert finding.severity == "error"
    assert finding.layer == "handler boom"
    assert finding.evidence["exception.type"] == "RuntimeError"
    assert finding.evidence["response_origin"] == "ServerErrorMiddleware"
    assert finding.evidence["skipped_layers"] == [
        "CORSMiddleware",
        "request_id_and_timing",
        "GZipMiddleware",
    ]
    path = finding.evidence["path"]
    assert path[:3] == ["boom", "route /boom", "router"]
    assert path[-2:] == ["ServerErrorMiddleware", "GET /boom"]
    assert "CORS" in finding.detail and "missing" in finding.detail


def test_n_plus_one_counts_the_repeated_statement(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["n_plus_one"], "n_plus_one")
    assert finding.layer == "database"
    assert finding.evidence["count"] == 3  # one per seeded user
    assert finding.evidence["name"] == "SELECT items"
    assert finding.evidence["issued_by"] == "users_with_items_n_plus_one"
    assert finding.evidence["statement"].endswith("WHERE items.owner_id = ? ORDER BY items.id")
    assert finding.evidence["total_ns"] > 0


def test_blocking_sleep_in_async_def_blocks_the_loop(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["blocking"], "event_loop_blocked")
    assert finding.layer == "event loop"
    assert finding.evidence["blocked_by"] == "slow_blocking"
    assert finding.evidence["hold_ns"] >= 50 * MS  # time.sleep(0.05) without an await


def test_leaky_user_without_field_names_is_an_unfiltered_response(
    demo_traces: dict[str, Trace],
) -> None:
    # a trace without `response.fields` (recorded before the hooks kept field names)
    trace = Trace.from_json(demo_traces["leaky_user"].to_json())
    encoder = next(s for s in trace.spans if s.name == "jsonable_encoder")
    del encoder.attributes["response.fields"]
    finding = only(trace, "wrong_fields")
    assert finding.severity == "info"
    assert finding.layer == "serialization (no response_model)"
    assert finding.evidence["returned"] == "User"
    assert finding.evidence["route"] == "/examples/leaky-user/{user_id}"


def test_leaky_user_with_recorded_field_names_names_the_secret(
    demo_traces: dict[str, Trace],
) -> None:
    # the hooks record the unfiltered response's field names (names only, never values)
    trace = demo_traces["leaky_user"]
    encoder = next(s for s in trace.spans if s.name == "jsonable_encoder")
    columns = ["created_at", "email", "id", "is_admin", "password_hash"]
    assert encoder.attributes["response.fields"] == columns
    finding = only(trace, "wrong_fields")
    assert finding.severity == "error"
    assert finding.evidence["secret_fields"] == ["password_hash"]
    assert finding.title.startswith("response leaks password_hash")


def test_failed_background_task_after_a_202(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["failing_task"], "background_failed")
    assert finding.severity == "error"
    assert finding.layer == "background task send_receipt"
    assert finding.evidence["exception.type"] == "ConnectionError"
    assert finding.evidence["status_code"] == 202
    assert finding.evidence["after_response"] is True


def test_slow_response_model_dominates_the_request(demo_traces: dict[str, Trace]) -> None:
    finding = only(demo_traces["slow_serialization"], "dominant_step")
    assert finding.layer == "serialization (serialize list[PriceRow])"
    assert finding.evidence["step"] == 7
    assert finding.evidence["own_ns"] >= 250 * MS  # 250 rows x 1 ms sleep
    assert finding.evidence["share"] >= 0.5


@pytest.mark.parametrize(
    ("label", "resource", "waiter"),
    [
        ("pool_exhausted", "connection pool", "pool_exhausted"),
        ("threadpool_starved", "threadpool", "threadpool_starved"),
    ],
)
def test_waiting_for_a_connection_or_a_thread(
    demo_traces: dict[str, Trace], label: str, resource: str, waiter: str
) -> None:
    finding = only(demo_traces[label], "waiting")
    assert finding.layer == resource
    assert finding.evidence["waiter"] == waiter
    # the example holds it for 30 ms, counted from just before the wait began
    assert finding.evidence["wait_ns"] >= 20 * MS


@pytest.mark.parametrize("label", EXPECTED)
def test_findings_are_json_and_survive_a_trace_round_trip(
    demo_traces: dict[str, Trace], label: str
) -> None:
    trace = demo_traces[label]
    findings = diagnose(trace)
    text = json.dumps([f.to_dict() for f in findings])
    assert [Finding.from_dict(d) for d in json.loads(text)] == findings
    assert diagnose(Trace.from_json(trace.to_json())) == findings
