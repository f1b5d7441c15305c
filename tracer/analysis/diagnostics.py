"""Findings about one request, read from its :class:`~tracer.model.Trace` alone.

``diagnose(trace)`` runs one small detector per kind of problem (why a 4xx or
5xx happened, N+1 queries, a blocked event loop, waits, a dominant step,
unfiltered response fields, a failed background task). Detectors only read
span names and the attributes documented in docs/trace-model.md, so a trace
loaded from JSON or OTLP is diagnosed exactly like a live one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from tracer.analysis.processors import exception_of
from tracer.model import Span, Trace

Severity = Literal["error", "warning", "info"]
Interval = tuple[int, int]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: Layers FastAPI/Starlette add around the user's middleware (FastAPI 0.165 order).
FRAMEWORK_LAYERS = frozenset(
    {
        "ServerErrorMiddleware",
        "ExceptionTelemetryMiddleware",
        "AppBodyLimitMiddleware",
        "ExceptionMiddleware",
        "AsyncExitStackMiddleware",
    }
)
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "hash", "hashed", "secret", "token", "salt", "credentials"}
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_ERROR_LINE = re.compile(r"^(?P<loc>[^:]*): (?P<msg>.*?)(?: \((?P<type>[\w.]+)\))?$")


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what went wrong or slow, where to look, and the numbers behind it."""

    code: str
    severity: Severity
    title: str
    detail: str
    layer: str
    span_id: str | None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "layer": self.layer,
            "span_id": self.span_id,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        severity = str(data["severity"])
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r} in finding {data.get('code')!r}")
        span_id = data.get("span_id")
        return cls(
            code=str(data["code"]),
            severity=severity,
            title=str(data["title"]),
            detail=str(data["detail"]),
            layer=str(data["layer"]),
            span_id=None if span_id is None else str(span_id),
            evidence=dict(data.get("evidence") or {}),
        )


@dataclass
class Thresholds:
    """When a measurement becomes a finding; every comparison is "at or above".

    ``dominant_step_ns`` is far above the ~30 ms (70 ms on a loaded machine)
    the demo's sign-up spends hashing a password: ordinary CPU work in a
    handler is not a finding, a step that alone takes a fifth of a second is.
    """

    n_plus_one_min: int = 3
    loop_block_ns: int = 20_000_000
    pool_wait_ns: int = 5_000_000
    threadpool_wait_ns: int = 10_000_000
    dominant_step_ns: int = 200_000_000
    dominant_share: float = 0.5


# ---------------------------------------------------------------------------
# small readers shared with tracer.analysis.explain


def fmt_ns(ns: int) -> str:
    """A duration for a sentence: ``0.42 ms``, ``31.2 ms``, ``1.25 s``."""
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f} s"
    if ns >= 10_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e6:.2f} ms"


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def attr_int(span: Span, key: str) -> int | None:
    value = span.attributes.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def attr_str(span: Span, key: str) -> str | None:
    value = span.attributes.get(key)
    return value if isinstance(value, str) else None


def attr_strs(span: Span, key: str) -> list[str]:
    value = span.attributes.get(key)
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def ancestors(trace: Trace, span: Span) -> list[Span]:
    """Parents of ``span``, nearest first (stops at a missing parent)."""
    by_id = trace.by_id()
    out: list[Span] = []
    parent = by_id.get(span.parent_id or "")
    while parent is not None and len(out) < len(by_id):
        out.append(parent)
        parent = by_id.get(parent.parent_id or "")
    return out


def response_end(trace: Trace) -> int:
    """When the response was complete; the root's end if none was sent."""
    return trace.response_end_ns if trace.response_end_ns is not None else trace.root.end_ns


def layer_of(span: Span) -> str:
    """Where to look, in the words of the ten steps."""
    if span.phase in ("handler", "dependency"):
        return f"{span.phase} {span.name}"
    if span.phase == "validation":
        return f"validation ({attr_str(span, 'validation.source') or span.name})"
    if span.phase == "serialization":
        return f"serialization ({span.name})"
    if span.phase == "background":
        return f"background task {span.name}"
    if span.phase == "db":
        return "database"
    if span.phase in ("asgi", "send"):
        return "server"
    return span.name


def is_secret_field(name: str) -> bool:
    """``password_hash``, ``apiKey``, ``access_token``: a name no response should carry."""
    words = [w.lower() for w in _WORD.findall(name)]
    joined = "".join(words)
    return bool(_SECRET_WORDS.intersection(words)) or any(
        part in joined for part in ("password", "apikey", "privatekey", "credential")
    )


def parse_error(line: str, source: str) -> dict[str, str]:
    """``"query.q: too short (string_too_short)"`` → loc, field, msg, type."""
    match = _ERROR_LINE.match(line)
    if match is None:
        return {"loc": source, "field": source, "msg": line, "type": ""}
    loc = match["loc"]
    prefix = f"{source}."
    name = loc[len(prefix) :] if loc.startswith(prefix) else loc
    return {"loc": loc, "field": name or source, "msg": match["msg"], "type": match["type"] or ""}


# ---------------------------------------------------------------------------
# own time: a span's duration minus the union of its children (clipped to it)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of half-open intervals, sorted, empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def own_intervals(trace: Trace) -> dict[str, list[Interval]]:
    """Per span, the parts of its interval no child covers (overlapping children merged)."""
    kids: dict[str, list[Span]] = {}
    for span in trace.spans:
        if span.parent_id is not None:
            kids.setdefault(span.parent_id, []).append(span)
    out: dict[str, list[Interval]] = {}
    for span in trace.spans:
        covered = merge(
            (max(c.start_ns, span.start_ns), min(c.end_ns, span.end_ns))
            for c in kids.get(span.span_id, [])
        )
        cursor, gaps = span.start_ns, []
        for start, end in covered:
            if start > cursor:
                gaps.append((cursor, start))
            cursor = max(cursor, end)
        if span.end_ns > cursor:
            gaps.append((cursor, span.end_ns))
        out[span.span_id] = gaps
    return out


def clipped(intervals: Iterable[Interval], start: int, end: int) -> int:
    """Total length of ``intervals`` inside ``[start, end)``."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in intervals)


# ---------------------------------------------------------------------------
# detectors


def _validation_failed(trace: Trace, _: Thresholds) -> list[Finding]:
    """A 4xx because the input did not match the declared types: which source, field, rule."""
    code = trace.status_code
    if code is None or not 400 <= code < 500:
        return []
    out: list[Finding] = []
    for span in sorted(trace.spans, key=lambda s: s.start_ns):
        if span.phase != "validation":
            continue
        if span.name == "parse JSON" and exception_of(span) is not None:
            out.append(_json_finding(span, code))
        elif attr_strs(span, "validation.errors"):
            out.append(_validation_finding(span, code))
    return out


def _json_finding(span: Span, code: int) -> Finding:
    kind, message = exception_of(span) or ("JSONDecodeError", "")
    return Finding(
        code="validation_failed",
        severity="info",
        title=f"{code}: the request body is not valid JSON",
        detail=(
            f"parse JSON raised {kind}: {message}. FastAPI answered {code} before "
            "any body model was validated or the handler ran."
        ),
        layer="validation (JSON body)",
        span_id=span.span_id,
        evidence={"source": "body", "exception.type": kind, "exception.message": message},
    )


def _validation_finding(span: Span, code: int) -> Finding:
    source = attr_str(span, "validation.source") or "body"
    lines = attr_strs(span, "validation.errors")
    errors = [parse_error(e, source) for e in lines]
    first = errors[0]
    model = attr_str(span, "validation.model")
    where = f"{source} ({model})" if model else source
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    rule = f" ({first['type']})" if first["type"] else ""
    return Finding(
        code="validation_failed",
        severity="info",
        title=f"{code} from validation ({source}): {first['field']}: {first['msg']}{more}",
        detail=(
            f"Validating the {where} failed with {plural(len(errors), 'error')}, first "
            f"{first['loc']}: {first['msg']}{rule}; FastAPI answered {code} and the handler "
            "never ran."
        ),
        layer=f"validation ({source})",
        span_id=span.span_id,
        evidence={
            "source": source,
            "model": model,
            "error_count": len(errors),
            "fields": [e["field"] for e in errors],
            "types": [e["type"] for e in errors],
            "errors": lines,
        },
    )


def _dependency_chain(trace: Trace, span: Span) -> list[str]:
    """Names from the outermost dependency down to ``span`` (the order Depends resolved them)."""
    chain = [a.name for a in ancestors(trace, span) if a.phase == "dependency"]
    chain = [name for name in chain if name != "solve_dependencies"]
    return [*reversed(chain), span.name]


def _dependency_raised(trace: Trace, _: Thresholds) -> list[Finding]:
    """A 4xx raised inside a dependency: the handler never ran, the dependency said no."""
    code = trace.status_code
    if code is None or not 400 <= code < 500:
        return []
    for span in sorted(trace.spans, key=lambda s: s.start_ns):
        raised = exception_of(span)
        if (
            span.phase != "dependency"
            or raised is None
            or span.attributes.get("dependency.teardown")
        ):
            continue
        chain = _dependency_chain(trace, span)
        needed_by = " ← ".join(reversed(chain[:-1]))
        via = f" (needed by {needed_by})" if needed_by else ""
        return [
            Finding(
                code="dependency_raised",
                severity="info",
                title=f"{code} from dependency {span.name}",
                detail=(
                    f"{span.name}{via} raised {raised[0]}: {raised[1]}. Dependencies run "
                    f"before the handler, so {endpoint_name(trace)} never ran."
                ),
                layer=f"dependency {span.name}",
                span_id=span.span_id,
                evidence={
                    "dependency": span.name,
                    "chain": chain,
                    "exception.type": raised[0],
                    "exception.message": raised[1],
                    "status_code": code,
                },
            )
        ]
    return []


def _raiser(trace: Trace) -> Span | None:
    """The span where the request's fatal exception was raised (the root's ``error.type``)."""
    wanted = attr_str(trace.root, "error.type")
    raised = [(s, exc) for s in trace.spans if s.phase != "background" and (exc := exception_of(s))]
    matching = [s for s, exc in raised if exc[0] == wanted] or [s for s, _ in raised]
    return min(matching, key=_raised_at, default=None)


def _raised_at(span: Span) -> int:
    return min((e.time_ns for e in span.events if e.name == "exception"), default=span.end_ns)


def endpoint_name(trace: Trace) -> str:
    """The matched endpoint's function name, else the route."""
    for span in trace.spans:
        name = attr_str(span, "routing.endpoint")
        if name:
            return name
    return attr_str(trace.root, "http.route") or trace.root.name


def _user_layers_inside(trace: Trace, origin: str) -> list[str]:
    """User middleware the response never passed: layers nested inside ``origin``."""
    layers = [s for s in trace.spans if s.phase == "middleware" and s.step != 8]
    outer = next((s for s in layers if s.name == origin), None)
    if outer is None:
        return []
    depth = attr_int(outer, "middleware.depth") or 0
    inner = sorted(
        (s for s in layers if (attr_int(s, "middleware.depth") or 0) > depth),
        key=lambda s: attr_int(s, "middleware.depth") or 0,
    )
    return [s.name for s in inner if s.name not in FRAMEWORK_LAYERS]


def _server_error(trace: Trace, _: Thresholds) -> list[Finding]:
    """A 5xx: where it was raised, how it travelled, and who built the response."""
    code = trace.status_code
    if not ((code is not None and code >= 500) or (code is None and trace.root.status == "error")):
        return []
    origin = attr_str(trace.root, "trace_request.response_origin")
    raiser = _raiser(trace)
    if raiser is None:
        return [_built_5xx(trace, code, origin)]
    kind, message = exception_of(raiser) or ("error", "")
    path = [raiser.name, *(a.name for a in ancestors(trace, raiser) if a.status == "error")]
    missing = _user_layers_inside(trace, origin) if origin == "ServerErrorMiddleware" else []
    detail = (
        f"{raiser.name} raised {kind}: {message}; it propagated through "
        f"{len(path) - 1} layer(s) to the server."
    )
    if origin == "ServerErrorMiddleware":
        detail += (
            " ServerErrorMiddleware built the response outside all user middleware, so the "
            f"headers {', '.join(missing) or 'those layers'} add (CORS, X-Request-ID, ...) "
            "are missing."
        )
    elif origin:
        detail += f" {origin} built the response."
    return [
        Finding(
            code="server_error",
            severity="error",
            title=f"{code or 'no response'} from unhandled {kind} in {raiser.name}",
            detail=detail,
            layer=layer_of(raiser),
            span_id=raiser.span_id,
            evidence={
                "status_code": code,
                "exception.type": kind,
                "exception.message": message,
                "raised_in": raiser.name,
                "path": path,
                "response_origin": origin,
                "skipped_layers": missing,
            },
        )
    ]


def _built_5xx(trace: Trace, code: int | None, origin: str | None) -> Finding:
    """A 5xx no recorded span raised: some layer chose to answer with it."""
    who = origin or "the app"
    kind = attr_str(trace.root, "error.type")
    cause = (
        f"the request failed with {kind}, but no span recorded the raise"
        if kind
        else ("no exception was raised")
    )
    return Finding(
        code="server_error",
        severity="error",
        title=f"{code or 'no response'} built by {who}",
        detail=f"{who} answered {code or 'nothing'} and {cause}: look at what it returned.",
        layer=who,
        span_id=trace.root.span_id,
        evidence={"status_code": code, "exception.type": kind, "response_origin": origin},
    )


_SQL_STRING = re.compile(r"'(?:[^']|'')*'")
_SQL_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_SQL_PARAM = re.compile(r"%\(\w+\)s|%s|\$\d+|(?<!:):\w+|\?")
_SQL_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_SQL_ROWS = re.compile(r"\(\?\)(?:\s*,\s*\(\?\))+")


def statement_shape(sql: str) -> str:
    """``db.statement`` with literals, placeholders, IN-lists and whitespace normalised."""
    shape = _SQL_STRING.sub("?", sql)
    shape = _SQL_PARAM.sub("?", shape)
    shape = _SQL_NUMBER.sub("?", shape)
    shape = _SQL_LIST.sub("(?)", shape)
    shape = _SQL_ROWS.sub("(?)", shape)
    return " ".join(shape.split())


def _n_plus_one(trace: Trace, limits: Thresholds) -> list[Finding]:
    """The same statement shape over and over: usually one query per row of an earlier one."""
    groups: dict[str, list[Span]] = {}
    for span in sorted(trace.spans, key=lambda s: s.start_ns):
        sql = attr_str(span, "db.statement") if span.phase == "db" else None
        if sql:
            groups.setdefault(statement_shape(sql), []).append(span)
    by_id = trace.by_id()
    out = []
    for shape, spans in groups.items():
        if len(spans) < max(2, limits.n_plus_one_min):
            continue
        parents = Counter(s.parent_id for s in spans).most_common(1)[0][0]
        issuer = by_id[parents].name if parents in by_id else "?"
        total = sum(s.duration_ns for s in spans)
        out.append(
            Finding(
                code="n_plus_one",
                severity="warning",
                title=f"N+1 queries: {spans[0].name} ran {len(spans)} times",
                detail=(
                    f"{issuer} ran the same statement {len(spans)} times with different "
                    f"parameters ({fmt_ns(total)} in total): one query per row of an earlier "
                    "result. Load the rows together (selectinload, a join, or one IN query)."
                ),
                layer="database",
                span_id=spans[0].span_id,
                evidence={
                    "count": len(spans),
                    "total_ns": total,
                    "statement": shape,
                    "name": spans[0].name,
                    "issued_by": issuer,
                },
            )
        )
    return out


def _hold_owner(trace: Trace, solve: Span, at_ns: int) -> Span:
    """The innermost async dependency (or validation) running at ``at_ns``, else ``solve``."""
    inside = [
        s
        for s in trace.spans
        if s.phase in ("dependency", "validation")
        and s.start_ns <= at_ns < s.end_ns
        and attr_str(s, "dependency.kind") not in ("sync", "generator", "cached")
        and solve in ancestors(trace, s)
    ]
    return max(inside, key=lambda s: (s.start_ns, -s.end_ns), default=solve)


def _gc_pause_within(trace: Trace, start_ns: int, length_ns: int) -> int:
    """Total recorded garbage-collection pause inside ``[start, start + length]``."""
    total = 0
    for span in trace.spans:
        for event in span.events:
            if event.name == "gc" and start_ns <= event.time_ns <= start_ns + length_ns:
                total += _int_attr(event.attributes, "gc.pause_ns")
    return total


def _int_attr(attributes: dict[str, Any], key: str) -> int:
    value = attributes.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _gc_pause_finding(owner: Span, hold: int, gc_ns: int, at: int) -> Finding:
    """A loop hold that was mostly the garbage collector, not the code that was running."""
    return Finding(
        code="gc_pause",
        severity="info",
        title=f"garbage collection paused the event loop for {fmt_ns(gc_ns)}",
        detail=(
            f"{owner.name} was running when the interpreter stopped for {fmt_ns(gc_ns)} of "
            f"garbage collection (+{fmt_ns(at)}; the loop was held {fmt_ns(hold)} in all). "
            "That is not the code's own work: many long-lived objects make full collections "
            "slow (gc.freeze() after start-up helps)."
        ),
        layer="interpreter (garbage collector)",
        span_id=owner.span_id,
        evidence={"hold_ns": hold, "gc_pause_ns": gc_ns, "at_ns": at, "running": owner.name},
    )


def _event_loop_blocked(trace: Trace, limits: Thresholds) -> list[Finding]:
    """Async code that ran too long without awaiting: every other request on the worker waited."""
    out = []
    for span in trace.spans:
        hold = attr_int(span, "loop.max_hold_ns")
        if hold is None or hold < limits.loop_block_ns or attr_str(span, "handler.kind") == "sync":
            continue
        offset = attr_int(span, "loop.max_hold_offset_ns") or 0
        owner = span
        if span.name == "solve_dependencies":
            owner = _hold_owner(trace, span, span.start_ns + offset)
        at = span.start_ns + offset - trace.root.start_ns
        gc_ns = _gc_pause_within(trace, span.start_ns + offset, hold)
        if gc_ns * 2 >= hold:
            out.append(_gc_pause_finding(owner, hold, gc_ns, at))
            continue
        kind = "async def " if owner.phase in ("handler", "dependency") else ""
        out.append(
            Finding(
                code="event_loop_blocked",
                severity="warning",
                title=f"{owner.name} held the event loop for {fmt_ns(hold)}",
                detail=(
                    f"{kind}{owner.name} ran {fmt_ns(hold)} without awaiting (from "
                    f"+{fmt_ns(at)}); meanwhile no other request on this worker made progress. "
                    "Await the slow call, or use a plain def so it runs in the threadpool."
                ),
                layer="event loop",
                span_id=owner.span_id,
                evidence={
                    "hold_ns": hold,
                    "offset_ns": offset,
                    "measured_on": span.name,
                    "blocked_by": owner.name,
                    "at_ns": at,
                },
            )
        )
    return out


def _waiting(trace: Trace, limits: Thresholds) -> list[Finding]:
    """Time spent queueing for a database connection or a worker thread, not working."""
    pool = [(s, s.duration_ns) for s in trace.spans if s.name == "pool checkout"]
    threads = [(s, attr_int(s, "threadpool.wait_ns") or 0) for s in trace.spans]
    out = []
    slow_pool = [(s, w) for s, w in pool if w >= limits.pool_wait_ns]
    if slow_pool:
        out.append(_wait_finding("connection pool", slow_pool, trace))
    slow_threads = [(s, w) for s, w in threads if w >= limits.threadpool_wait_ns]
    if slow_threads:
        out.append(_wait_finding("threadpool", slow_threads, trace))
    return out


def _wait_finding(resource: str, waits: list[tuple[Span, int]], trace: Trace) -> Finding:
    worst, wait = max(waits, key=lambda sw: sw[1])
    total = sum(w for _, w in waits)
    if resource == "threadpool":
        who = worst.name
        what = "a worker thread to start it (all were busy, or the CPU was)"
        fix = "Fewer blocking def calls at once, or async I/O, frees threads."
    else:
        parent = trace.by_id().get(worst.parent_id or "")
        who = parent.name if parent is not None else "a query"
        what = "a database connection (waiting for a free one, or opening a new one)"
        fix = "Release connections sooner or size the pool to the concurrency."
    return Finding(
        code="waiting",
        severity="warning",
        title=f"{who} waited {fmt_ns(wait)} for the {resource}",
        detail=f"{who} spent {fmt_ns(wait)} waiting for {what}, not working. {fix}",
        layer=resource,
        span_id=worst.span_id,
        evidence={
            "resource": resource,
            "wait_ns": wait,
            "total_wait_ns": total,
            "count": len(waits),
            "waiter": who,
        },
    )


_DOMINANT_HINTS = {
    "serialization": "response_model validation runs for every returned object",
    "handler": "the endpoint's own code, not its queries or dependencies",
    "dependency": "the dependency's own code, before the handler could start",
    "validation": "checking the request's types and shape",
    "middleware": "a middleware layer's own code, on every request",
    "db": "the database itself",
    "routing": "FastAPI building or matching the route",
}


def _dominant_step(trace: Trace, limits: Thresholds) -> list[Finding]:
    """One span's own code took most of the request: that is where to optimise."""
    end = response_end(trace)
    total = max(1, end - trace.root.start_ns)
    gaps = own_intervals(trace)
    candidates = [
        (s, clipped(gaps[s.span_id], s.start_ns, end))
        for s in trace.spans
        if s.parent_id is not None
        and s.phase not in ("background", "send", "asgi")
        and s.name not in ("pool checkout", "threadpool wait")
    ]
    if not candidates:
        return []
    span, own = max(candidates, key=lambda so: so[1])
    share = own / total
    if own < limits.dominant_step_ns or share < limits.dominant_share:
        return []
    hint = _DOMINANT_HINTS.get(span.phase, "")
    return [
        Finding(
            code="dominant_step",
            severity="warning",
            title=f"{span.name} took {share:.0%} of the request ({fmt_ns(own)})",
            detail=(
                f"{fmt_ns(own)} of the {fmt_ns(total)} request went to {span.name} itself "
                f"(step {span.step}, {span.phase}; children subtracted): {hint}."
            ),
            layer=layer_of(span),
            span_id=span.span_id,
            evidence={
                "own_ns": own,
                "request_ns": total,
                "share": round(share, 3),
                "step": span.step,
                "span": span.name,
            },
        )
    ]


def _wrong_fields(trace: Trace, _: Thresholds) -> list[Finding]:
    """No response_model: the body is the returned object as is, secrets included.

    Field names come from ``response.fields`` on the ``jsonable_encoder`` span
    when the hooks record it; without them the trace can only say the body
    was not filtered.
    """
    encoder = next((s for s in trace.spans if s.name == "jsonable_encoder"), None)
    if encoder is None:
        return []
    handler = next((s for s in trace.spans if s.phase == "handler"), None)
    returned = (attr_str(handler, "handler.returned") if handler else None) or "object"
    who = handler.name if handler else "the handler"
    route = attr_str(trace.root, "http.route") or trace.root.name
    fields = attr_strs(encoder, "response.fields")
    secrets = [f for f in fields if is_secret_field(f)]
    evidence: dict[str, Any] = {"returned": returned, "route": route, "fields": fields}
    if secrets:
        return [
            Finding(
                code="wrong_fields",
                severity="error",
                title=f"response leaks {', '.join(secrets)}: {route} has no response_model",
                detail=(
                    f"{who} returned a {returned} and jsonable_encoder sent all of its fields "
                    f"({', '.join(fields)}). Declare a response_model without "
                    f"{', '.join(secrets)} so FastAPI filters the body."
                ),
                layer="serialization (no response_model)",
                span_id=encoder.span_id,
                evidence={**evidence, "secret_fields": secrets},
            )
        ]
    if fields:
        return []
    return [
        Finding(
            code="wrong_fields",
            severity="info",
            title=f"unfiltered response: {route} has no response_model",
            detail=(
                f"{who} returned a {returned} and jsonable_encoder sent it as it is: unless it "
                "is a Pydantic model, every attribute goes out, e.g. hashes or internal flags. "
                "Declare response_model to choose the fields."
            ),
            layer="serialization (no response_model)",
            span_id=encoder.span_id,
            evidence=evidence,
        )
    ]


def _background_failed(trace: Trace, _: Thresholds) -> list[Finding]:
    """A background task raised after the client was told everything went fine."""
    code = trace.status_code
    if code is None or code >= 400:
        return []
    out = []
    for span in trace.spans:
        raised = exception_of(span)
        if span.phase != "background" or raised is None:
            continue
        after = bool(span.attributes.get("background.after_response", True))
        out.append(
            Finding(
                code="background_failed",
                severity="error",
                title=f"background task {span.name} failed after the {code} was sent",
                detail=(
                    f"{span.name} raised {raised[0]}: {raised[1]}, but the client already had "
                    f"its {code} and is never told; tasks queued after it did not run. "
                    "Catch and log or retry inside the task, or use a job queue."
                ),
                layer=layer_of(span),
                span_id=span.span_id,
                evidence={
                    "task": span.name,
                    "exception.type": raised[0],
                    "exception.message": raised[1],
                    "status_code": code,
                    "after_response": after,
                },
            )
        )
    return out


Detector = Callable[[Trace, Thresholds], list[Finding]]

#: Causes of a failed request first, then performance, then design.
DETECTORS: tuple[Detector, ...] = (
    _validation_failed,
    _dependency_raised,
    _server_error,
    _background_failed,
    _n_plus_one,
    _event_loop_blocked,
    _waiting,
    _dominant_step,
    _wrong_fields,
)


def diagnose(trace: Trace, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every finding for ``trace``, causes of failure first."""
    if not trace.spans:
        return []
    limits = thresholds if thresholds is not None else Thresholds()
    return [finding for detector in DETECTORS for finding in detector(trace, limits)]
