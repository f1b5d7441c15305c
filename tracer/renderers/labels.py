"""Words for spans: durations, status lines and labels built from span attributes.

Every renderer names things the same way, so the waterfall's ``SELECT users``
row and the sequence diagram's ``SELECT … FROM users`` arrow are recognisably
the same span. Attribute names follow docs/trace-model.md.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from tracer.analysis.index import analyse
from tracer.analysis.layers import TRACER_HEADERS
from tracer.analysis.processors import error_type, exception_of
from tracer.model import Span, Trace
from tracer.renderers.glyphs import NBSP


def format_duration(ns: int, micro: str = "µ") -> str:
    """Three significant digits at most: ``840ns``, ``4.2µs``, ``842µs``, ``1.15ms``, ``38.5ms``."""
    if ns < 1_000:
        return f"{max(ns, 0)}ns"
    us, ms, s = ns / 1e3, ns / 1e6, ns / 1e9
    if us < 9.95:
        return f"{us:.1f}{micro}s"
    if us < 999.5:
        return f"{us:.0f}{micro}s"
    if ms < 9.995:
        return f"{ms:.2f}ms"
    if ms < 99.95:
        return f"{ms:.1f}ms"
    if ms < 999.5:
        return f"{ms:.0f}ms"
    if s < 9.995:
        return f"{s:.2f}s"
    return f"{s:.1f}s" if s < 99.95 else f"{s:.0f}s"


_TABLES = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([A-Za-z_]\w*)", re.IGNORECASE)
_QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")
_SELECT_LIST = re.compile(r"^(SELECT(?:\s+DISTINCT)?)\s+(.+?)\s+(FROM)\b", re.IGNORECASE)
_LONG_PARENS = re.compile(r"\(([^()]{16,})\)")


def sql_summary(statement: str) -> str:
    """SQL shortened for a label: long column lists become ``…``, table prefixes go."""
    sql = " ".join(statement.split())
    tables = set(_TABLES.findall(sql))
    sql = _QUALIFIED.sub(lambda m: m[2] if m[1] in tables else m[0], sql)
    sql = _SELECT_LIST.sub(lambda m: f"{m[1]} {m[2] if len(m[2]) <= 24 else '…'} {m[3]}", sql)
    return _LONG_PARENS.sub("(…)", sql)


def format_offset(ns: int) -> str:
    """Milliseconds with microsecond resolution: ``0.040``, ``43.530``."""
    return f"{ns / 1e6:.3f}"


#: Python 3.13 renamed these to the RFC 9110 wording; keep one rendering on every Python.
_PHRASES = {
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}


def status_text(code: int | None) -> str:
    if code is None:
        return "no response"
    if code in _PHRASES:
        return f"{code} {_PHRASES[code]}"
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def request_line(trace: Trace) -> str:
    method = str(trace.request.get("method") or _root_attr(trace, "http.request.method") or "")
    path = str(trace.request.get("path") or _root_attr(trace, "url.path") or "")
    query = str(trace.request.get("query") or _root_attr(trace, "url.query") or "")
    if not (method or path) and trace.spans:
        return trace.root.name
    return f"{method} {path}{'?' + query if query else ''}".strip()


def _root_attr(trace: Trace, key: str) -> Any:
    return trace.root.attributes.get(key) if trace.spans else None


def header_summary(trace: Trace) -> tuple[str, str]:
    """(left, right) of a renderer's title line."""
    resp = analyse(trace).response_ns if trace.spans else None
    total = trace.end_ns - trace.start_ns
    right = f"span end {format_duration(total)}"
    if resp is not None:
        right = f"response {format_duration(resp)} · {right}"
    return request_line(trace), right


def byte_size(n: Any) -> str:
    try:
        value = int(n)
    except (TypeError, ValueError):
        return str(n)
    # no-break spaces: a wrapped label never leaves the unit alone on a line
    if value < 10_000:
        return f"{value}{NBSP}B"
    if value < 10_000_000:
        return f"{value / 1024:.0f}{NBSP}KiB"
    return f"{value / 1024 / 1024:.0f}{NBSP}MiB"


def _fields(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _kind_note(span: Span) -> str:
    attrs = span.attributes
    notes: list[str] = []
    kind = attrs.get("dependency.kind") or attrs.get("handler.kind")
    if kind in ("generator", "async_generator"):
        notes.append("yield")
    elif kind == "sync":
        notes.append("def")
    wait = attrs.get("threadpool.wait_ns")
    if isinstance(wait, int):
        notes.append(f"thread wait {format_duration(wait)}")
    if attrs.get("dependency.cached") or kind == "cached":
        notes.append("cached")
    return " · ".join(notes)


def call_label(span: Span, trace: Trace) -> str:
    """What the call arrow (or work dot) into ``span`` says."""
    attrs = span.attributes
    phase = span.phase
    name = span.name
    if span.parent_id is None:
        excerpt = trace.request.get("body_excerpt")
        return request_line(trace) + (f" {excerpt}" if excerpt else "")
    if phase == "middleware":
        # the index's way-in own time: the same figure as step 2's total and the JSON
        return f"{name} · in {format_duration(analyse(trace).layer_in_ns(span))}"
    if phase == "routing":
        return _routing_label(span, trace)
    if phase == "dependency":
        if attrs.get("dependency.teardown") or name.endswith(" teardown"):
            base = name.removesuffix(" teardown")
            seen = attrs.get("error.type")
            return f"{base}() teardown" + (f" ← {seen}" if seen else " · after yield")
        note = _kind_note(span)
        param = attrs.get("dependency.param")
        text = f"{name}()" if name != "solve_dependencies" else "solve_dependencies()"
        if param:
            text += f" → {param}"
        return text + (f" · {note}" if note else "")
    if phase == "validation":
        source = attrs.get("validation.source")
        fields = _fields(attrs.get("validation.fields"))
        text = name
        model = attrs.get("validation.model")
        if name.startswith("validate") and (model or fields):
            text += f" · {model or fields}"
        size = attrs.get("body.bytes")
        if size is not None:
            text += f" · {byte_size(size)}"
        elif source and not name.endswith(str(source)) and not name.startswith("parse"):
            text += f" · {source}"
        return text
    if phase == "handler":
        func = str(attrs.get("code.function") or name)
        note = _kind_note(span)
        return f"{func}()" + (f" · {note}" if note else "")
    if phase == "db":
        statement = attrs.get("db.statement")
        return sql_summary(str(statement)) if statement else name
    if phase == "serialization":
        model = attrs.get("response_model")
        if model and name.startswith("serialize"):
            return f"serialize → {model}"
        return name
    if phase == "background":
        func = str(attrs.get("code.function") or name)
        after = " · after response" if attrs.get("background.after_response") else ""
        return f"{func}(){after}"
    if phase == "send":
        return send_label(span, trace)
    if phase == "asgi" and name.startswith("receive"):
        size = attrs.get("body.bytes")
        return name + (f" · {byte_size(size)}" if size is not None else "")
    return name


def _routing_label(span: Span, trace: Trace) -> str:
    attrs = span.attributes
    router = span
    if span.name == "match" and span.parent_id is not None:
        router = analyse(trace).by_id.get(span.parent_id, span)
    route = router.attributes.get("http.route")
    endpoint = router.attributes.get("routing.endpoint")
    status = router.attributes.get("routing.status")
    if span.name == "match":
        if status is not None:
            return f"no route for {request_line(trace)} → {status_text(int(status))}"
        if route:
            return f"match → {route}" + (f" · {endpoint}()" if endpoint else "")
        return "match"
    if span.name == "router":
        return "router · " + request_line(trace).split("?")[0]
    return str(attrs.get("http.route") or span.name)


def header_names(headers: Any) -> list[str]:
    """Lower-cased header names from a dict or a list of ``[name, value]`` pairs."""
    if isinstance(headers, dict):
        return [str(k).lower() for k in headers]
    if isinstance(headers, list | tuple):
        return [str(p[0]).lower() for p in headers if isinstance(p, list | tuple) and p]
    return []


def send_label(span: Span, trace: Trace) -> str:
    attrs = span.attributes
    if span.name.endswith("start"):
        code = attrs.get("http.response.status_code", trace.status_code)
        headers = header_names(trace.response.get("headers"))
        text = status_text(None if code is None else int(code))
        if not headers:
            return text
        ours = [n for n in headers if n in TRACER_HEADERS]
        text += f" · {len(headers)} headers"
        return text + (f" ({len(ours)} the tracer's)" if ours else "")
    size = attrs.get("body.bytes")
    text = "body" + (f" {byte_size(size)}" if size is not None else "")
    if attrs.get("more_body"):
        text += " · more_body"
    elif attrs.get("response.complete"):
        text += " · complete"
    return text


def result_label(span: Span, trace: Trace) -> str:
    """What comes back: ``0 rows``, ``✓``, ``71 B``; an error's type and message."""
    raised = exception_of(span)
    if raised is not None:
        kind, message = raised
        return f"✗ {kind}" + (f": {message}" if message else "")
    attrs = span.attributes
    if span.phase == "validation":
        errors = attrs.get("validation.error_count")
        if isinstance(errors, int) and errors:
            return f"✗ {errors} error{'s' if errors > 1 else ''}"
        if span.status == "error":
            return "✗ invalid"
        return "valid" if span.name.startswith("validate") else ""
    if span.phase == "db":
        rows = attrs.get("db.rowcount")
        if isinstance(rows, int) and rows >= 0:
            return f"{rows}{NBSP}row{'' if rows == 1 else 's'}"
        return ""
    if span.phase == "serialization":
        size = attrs.get("response.bytes")
        return byte_size(size) if size is not None else ""
    if span.phase == "outbound":
        return outbound_result(span)
    propagated = error_type(span)
    teardown = span.phase == "dependency" and attrs.get("dependency.teardown")
    return f"✗ {propagated}" if propagated is not None and not teardown else ""


def outbound_result(span: Span) -> str:
    """``200 · 1.2 kB``, ``✗ 503``, ``✗ ReadTimeout`` for an outbound call."""
    attrs = span.attributes
    code = attrs.get("http.response.status_code")
    parts = [] if code is None else [f"✗ {code}" if span.status == "error" else str(code)]
    size = attrs.get("http.response.body.size")
    if isinstance(size, int) and not attrs.get("outbound.streamed"):
        parts.append(byte_size(size))
    if not parts and span.status == "error":
        parts.append(f"✗ {attrs.get('error.type', 'error')}")
    return " · ".join(parts)


def notes(span: Span) -> list[str]:
    """Extra lines under a span's label: validation errors."""
    errors = span.attributes.get("validation.errors")
    if isinstance(errors, list | tuple):
        return [str(e) for e in errors]
    return []


def return_label(span: Span, trace: Trace, children: list[Span]) -> str:
    """The label on a return arrow out of ``span``."""
    kind = error_type(span)
    if kind is not None:
        return f"✗ raise {kind}" if exception_of(span) else f"✗ {kind}"
    if span.name == "solve_dependencies":
        params = [
            str(c.attributes["dependency.param"])
            for c in children
            if c.attributes.get("dependency.param")
        ]
        for c in children:
            value = c.attributes.get("validation.fields")
            if "validation.model" in c.attributes:  # a body model's fields, not solved values
                continue
            if isinstance(value, list | tuple):
                params.extend(str(v) for v in value)
        return "{" + ", ".join(params) + "}" if params else "no dependencies"
    if span.phase == "handler":
        return "return"
    if span.phase == "background":
        return "done"
    return ""
