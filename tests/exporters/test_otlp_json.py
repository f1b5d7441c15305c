"""OTLP/JSON: our traces round-trip exactly; foreign traces get phases inferred."""

from __future__ import annotations

import base64
import copy
import json
import math
from typing import Any

import pytest

from tracer.model import SpanEvent, Trace
from tracer.sinks.exporters import from_otlp_json, to_otlp_json, to_otlp_json_lines

T0 = 1_700_000_000_000_000_000
TRACE_ID = "5b8efff798038103d269b633813fc60c"


def _spans(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for resource_spans in doc["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]


# ---------------------------------------------------------------------------- our own traces


def test_document_has_the_collector_shape(ok_trace: Trace, error_trace: Trace) -> None:
    doc = to_otlp_json(ok_trace)
    (resource_spans,) = doc["resourceSpans"]
    assert resource_spans["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "trace-request"}}
    ]
    (scope_spans,) = resource_spans["scopeSpans"]
    assert scope_spans["scope"]["name"] == "trace_request"
    root, child = scope_spans["spans"][0], scope_spans["spans"][1]
    assert root["traceId"] == ok_trace.trace_id
    assert root["spanId"] == "a000000000000001"
    assert "parentSpanId" not in root
    assert child["parentSpanId"] == "a000000000000001"
    assert (root["kind"], child["kind"]) == (2, 1)
    assert root["startTimeUnixNano"] == str(ok_trace.root.start_ns)
    assert root["endTimeUnixNano"] == str(ok_trace.root.end_ns)
    assert root["status"] == {"code": 1}
    attributes = {a["key"]: a["value"] for a in root["attributes"]}
    assert attributes["trace_request.lifecycle.phase"] == {"stringValue": "asgi"}
    assert attributes["trace_request.lifecycle.step"] == {"intValue": "1"}
    assert attributes["http.response.status_code"] == {"intValue": "201"}
    assert json.loads(attributes["trace_request.request"]["stringValue"]) == ok_trace.request
    fields = {a["key"]: a["value"] for a in scope_spans["spans"][5]["attributes"]}
    assert fields["trace_request.validation.fields"] == {
        "arrayValue": {"values": [{"stringValue": "name"}, {"stringValue": "email"}]}
    }

    handler = _spans(to_otlp_json(error_trace))[2]
    assert handler["status"] == {"code": 2, "message": "RuntimeError: kaboom"}
    (event,) = handler["events"]
    assert event["name"] == "exception"
    assert event["timeUnixNano"] == str(error_trace.spans[2].events[0].time_ns)
    assert _spans(to_otlp_json(error_trace))[3]["status"] == {}


@pytest.mark.parametrize("through_text", [False, True])
def test_round_trip_is_exact(ok_trace: Trace, error_trace: Trace, through_text: bool) -> None:
    for trace in (ok_trace, error_trace):
        doc: Any = to_otlp_json(trace)
        if through_text:
            doc = json.dumps(doc)
        (back,) = from_otlp_json(doc)
        assert back.to_dict() == trace.to_dict()


def test_round_trip_keeps_unusual_attribute_values(ok_trace: Trace) -> None:
    odd = {
        "none": None,
        "mapping": {"a": [1, 2.5, None], "b": {}},
        "mixed": [1, "x", True],
        "empty": [],
        "float": 1.0,
        "negative": -7,
        "inf": math.inf,
        "huge": 2**64,
    }
    ok_trace.spans[3].attributes.update(odd)
    ok_trace.spans[3].events.append(SpanEvent("cache", T0, {"keys": ["a", None], "hit": None}))
    (back,) = from_otlp_json(json.dumps(to_otlp_json(ok_trace), allow_nan=False))
    span = back.spans[3]
    assert span.attributes == {**ok_trace.spans[3].attributes, "huge": str(2**64)}
    assert isinstance(span.attributes["float"], float)
    assert span.events == ok_trace.spans[3].events


def test_json_lines_hold_several_traces(ok_trace: Trace, error_trace: Trace) -> None:
    text = to_otlp_json_lines([ok_trace, error_trace])
    lines = text.splitlines()
    assert len(lines) == 2
    assert all(json.loads(line)["resourceSpans"] for line in lines)
    back = from_otlp_json(text)
    assert [t.to_dict() for t in back] == [ok_trace.to_dict(), error_trace.to_dict()]


def test_a_trace_split_over_several_exports_is_one_trace(ok_trace: Trace) -> None:
    doc = to_otlp_json(ok_trace)
    spans = _spans(doc)
    first, second = copy.deepcopy(doc), copy.deepcopy(doc)
    first["resourceSpans"][0]["scopeSpans"][0]["spans"] = spans[:4]
    second["resourceSpans"][0]["scopeSpans"][0]["spans"] = spans[4:] + spans[:1]  # a retry
    (back,) = from_otlp_json(json.dumps(first) + "\n" + json.dumps(second, indent=2))
    assert back.to_dict() == ok_trace.to_dict()


# ---------------------------------------------------------------------------- foreign traces


def _value(value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    return {"stringValue": str(value)}


def _foreign_span(
    span_id: str,
    parent: str | None,
    name: str,
    start_us: int,
    end_us: int,
    kind: int = 1,
    attributes: dict[str, object] | None = None,
) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE_ID,
        "spanId": span_id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(T0 + start_us * 1000),
        "endTimeUnixNano": str(T0 + end_us * 1000),
        "attributes": [{"key": k, "value": _value(v)} for k, v in (attributes or {}).items()],
        "status": {},
    }
    if parent:
        span["parentSpanId"] = parent
    return span


def _instrumentation_fastapi_doc() -> dict[str, Any]:
    """What opentelemetry-instrumentation-fastapi + sqlalchemy send for POST /users."""
    server = "1000000000000001"
    spans = [  # exported in end order, as a BatchSpanProcessor does
        _foreign_span(
            "1000000000000002",
            server,
            "POST /users http receive",
            10,
            20,
            attributes={"asgi.event.type": "http.request"},
        ),
        _foreign_span(
            "1000000000000003",
            server,
            "SELECT",
            100,
            180,
            kind=3,
            attributes={
                "db.system": "sqlite",
                "db.statement": "SELECT * FROM users",
                "db.name": "app",
            },
        ),
        _foreign_span(
            "1000000000000004",
            server,
            "POST /users http send",
            300,
            310,
            attributes={"asgi.event.type": "http.response.start", "http.response.status_code": 201},
        ),
        _foreign_span(
            "1000000000000005",
            server,
            "POST /users http send",
            320,
            330,
            attributes={"asgi.event.type": "http.response.body"},
        ),
        _foreign_span(
            server,
            None,
            "POST /users",
            0,
            340,
            kind=2,
            attributes={
                "http.request.method": "POST",
                "url.scheme": "http",
                "url.path": "/users",
                "url.query": "notify=1",
                "http.route": "/users",
                "http.response.status_code": 201,
            },
        ),
    ]
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "users"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {
                            "name": "opentelemetry.instrumentation.asgi",
                            "version": "0.66b1",
                        },
                        "spans": [s for s in spans if "db.system" not in str(s["attributes"])],
                    },
                    {
                        "scope": {"name": "opentelemetry.instrumentation.sqlalchemy"},
                        "spans": [s for s in spans if "db.system" in str(s["attributes"])],
                    },
                ],
            }
        ]
    }


def _phases(trace: Trace) -> list[tuple[str, str, int]]:
    return [(s.name, s.phase, s.step) for s in trace.spans]


def test_instrumentation_fastapi_trace_gets_phases_inferred() -> None:
    (trace,) = from_otlp_json(_instrumentation_fastapi_doc())

    assert trace.trace_id == TRACE_ID
    assert _phases(trace) == [  # sorted by start time
        ("POST /users", "asgi", 1),
        ("POST /users http receive", "asgi", 1),
        ("SELECT", "db", 6),
        ("POST /users http send", "send", 9),
        ("POST /users http send", "send", 9),
    ]
    assert trace.root.name == "POST /users"
    assert all(s.parent_id == trace.root.span_id for s in trace.spans[1:])
    assert trace.request == {"method": "POST", "path": "/users", "query": "notify=1"}
    assert trace.response == {"status_code": 201}
    assert trace.response_end_ns == T0 + 330_000
    assert trace.meta == {"source": "otlp", "service_name": "users"}
    assert all(s.status == "unset" for s in trace.spans)
    assert trace.spans[2].attributes["db.statement"] == "SELECT * FROM users"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _protobuf_style(node: Any) -> Any:
    """snake_case keys, base64 ids and enum names, as protobuf's own JSON printer writes."""
    if isinstance(node, list):
        return [_protobuf_style(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("traceId", "spanId", "parentSpanId"):
            value = base64.b64encode(bytes.fromhex(value)).decode()
        elif key == "kind":
            value = {1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT"}[value]
        out[_snake(key)] = _protobuf_style(value)
    return out


def test_snake_case_base64_and_enum_names_are_read_alike() -> None:
    doc = _instrumentation_fastapi_doc()
    expected = from_otlp_json(doc)
    converted = _protobuf_style(doc)
    assert "resource_spans" in converted
    assert [t.to_dict() for t in from_otlp_json(json.dumps(converted))] == [
        t.to_dict() for t in expected
    ]


def test_fastapi_builtin_telemetry_and_middleware_spans() -> None:
    server = "2000000000000001"
    deps, endpoint = "2000000000000003", "2000000000000004"
    spans = [
        _foreign_span(
            server,
            None,
            "GET /items/{item_id}",
            0,
            1000,
            kind=2,
            attributes={
                "http.request.method": "GET",
                "url.path": "/items/3",
                "http.response.status_code": 200,
            },
        ),
        _foreign_span("2000000000000002", server, "AuthMiddleware", 5, 990),
        _foreign_span(deps, "2000000000000002", "fastapi.dependencies", 10, 100),
        _foreign_span(
            "2000000000000009",
            deps,
            "SELECT items",
            20,
            60,
            attributes={"db.system.name": "postgresql", "db.query.text": "SELECT 1"},
        ),
        _foreign_span(
            endpoint,
            "2000000000000002",
            "fastapi.endpoint",
            110,
            400,
            attributes={"code.function.name": "app.read_item"},
        ),
        _foreign_span("2000000000000005", endpoint, "load from cache", 120, 150),
        _foreign_span("2000000000000006", "2000000000000002", "fastapi.serialization", 410, 450),
        _foreign_span("2000000000000007", server, "fastapi.background_task", 600, 900),
        _foreign_span("2000000000000008", server, "warm up", 950, 960),
    ]
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": spans[::-1]}]}]}
    (trace,) = from_otlp_json(doc)
    assert _phases(trace) == [
        ("GET /items/{item_id}", "asgi", 1),
        ("AuthMiddleware", "middleware", 2),
        ("fastapi.dependencies", "dependency", 4),
        ("SELECT items", "db", 4),
        ("fastapi.endpoint", "handler", 6),
        ("load from cache", "handler", 6),
        ("fastapi.serialization", "serialization", 7),
        ("fastapi.background_task", "background", 10),
        ("warm up", "handler", 6),
    ]
    assert trace.request == {"method": "GET", "path": "/items/3"}
    assert trace.response == {"status_code": 200}
    assert trace.response_end_ns is None
    assert trace.meta == {"source": "otlp"}


def test_old_semconv_and_missing_attributes_fall_back_to_the_name() -> None:
    root = _foreign_span(
        "3000000000000001",
        None,
        "GET /health",
        0,
        10,
        kind=2,
        attributes={"http.method": "GET", "http.target": "/health?full=1", "http.status_code": 204},
    )
    (trace,) = from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": [root]}]}]})
    assert trace.request == {"method": "GET", "path": "/health", "query": "full=1"}
    assert trace.response == {"status_code": 204}

    bare = _foreign_span("3000000000000002", None, "DELETE /items/7", 0, 10, kind=2)
    (trace,) = from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": [bare]}]}]})
    assert trace.request == {"method": "DELETE", "path": "/items/7"}
    assert trace.response == {}


def test_our_spans_nested_under_a_foreign_server_span(ok_trace: Trace) -> None:
    """export_to_provider(parent=...) in a Collector file: FastAPI's server span on top."""
    doc = to_otlp_json(ok_trace)
    ours = _spans(doc)
    ours[0]["parentSpanId"] = "f000000000000001"
    ours[0]["kind"] = 1
    server = _foreign_span(
        "f000000000000001",
        None,
        "POST /users",
        -5,
        905,
        kind=2,
        attributes={"http.request.method": "POST", "url.path": "/users"},
    )
    server["traceId"] = ok_trace.trace_id
    doc["resourceSpans"].append({"scopeSpans": [{"spans": [server]}]})

    (trace,) = from_otlp_json(doc)
    assert trace.root.span_id == "f000000000000001"
    assert (trace.root.phase, trace.root.step) == ("asgi", 1)
    assert trace.request == ok_trace.request  # ours wins over what the server span implies
    assert trace.meta == ok_trace.meta
    by_id = trace.by_id()
    for span in ok_trace.spans:
        assert (by_id[span.span_id].phase, by_id[span.span_id].step) == (span.phase, span.step)
    assert by_id["a000000000000001"].parent_id == "f000000000000001"


def test_orphans_and_cycles_hang_under_the_root() -> None:
    spans = [
        _foreign_span("4000000000000001", None, "GET /", 0, 100, kind=2),
        _foreign_span("4000000000000002", "4000000000000099", "lost parent", 10, 20),
        _foreign_span("4000000000000003", "4000000000000004", "cycle a", 30, 40),
        _foreign_span("4000000000000004", "4000000000000003", "cycle b", 31, 39),
    ]
    (trace,) = from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    parents = {s.name: s.parent_id for s in trace.spans}
    assert parents["GET /"] is None
    assert parents["lost parent"] == "4000000000000001"
    assert "4000000000000001" in (parents["cycle a"], parents["cycle b"])
    assert [s.parent_id for s in trace.spans].count(None) == 1


def test_an_export_without_spans_gives_no_traces() -> None:
    assert from_otlp_json('{"resourceSpans": []}') == []
    assert from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": []}]}]}) == []


# ---------------------------------------------------------------------------- malformed input


def _one_span_doc(**changes: Any) -> dict[str, Any]:
    span = _foreign_span("5000000000000001", None, "GET /", 0, 10, kind=2)
    span.update(changes)
    return {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("", "document is empty"),
        ('{"resourceSpans": [', "not valid OTLP/JSON: .* line 1"),
        ("[1, 2]", "JSON object #1: expected a JSON object, got int"),
        ('{"spans": 3}', "not an OTLP/JSON trace export: no 'resourceSpans'"),
        ({"resourceSpans": {"a": 1}}, "resourceSpans: expected a JSON list"),
        (_one_span_doc(spanId="xyz"), r"spans\[0\]: spanId 'xyz' is neither 16 hex digits"),
        (_one_span_doc(traceId=None), r"spans\[0\]: a span needs a non-zero 'traceId'"),
        (_one_span_doc(startTimeUnixNano="soon"), "startTimeUnixNano 'soon' is not an integer"),
        (_one_span_doc(attributes={"k": "v"}), r"spans\[0\]\.attributes: expected a JSON list"),
        (_one_span_doc(attributes=[{"value": {}}]), "attribute without a string 'key'"),
        (
            _one_span_doc(attributes=[{"key": "n", "value": {"intValue": "1.5"}}]),
            "bad intValue '1.5'",
        ),
    ],
)
def test_malformed_documents_raise_value_error(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_otlp_json(doc)


def test_our_own_json_format_is_pointed_to_trace_from_json(ok_trace: Trace) -> None:
    with pytest.raises(ValueError, match=r"use Trace\.from_json"):
        from_otlp_json(ok_trace.to_json())
