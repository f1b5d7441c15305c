"""Why a request failed: invalid input, a dependency that said no, an unhandled error,
a background task that raised after the client was told everything went fine."""

from __future__ import annotations

import re

from tracer.analysis.diagnostics.blame import is_intentional
from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.processors import exception_of
from tracer.analysis.readers import attr_int, attr_str, attr_strs, endpoint_name, layer_of, plural
from tracer.model import Span, Trace

_ERROR_LINE = re.compile(r"^(?P<loc>[^:]*): (?P<msg>.*?)(?: \((?P<type>[\w.]+)\))?$")


def parse_error(line: str, source: str) -> dict[str, str]:
    """``"query.q: too short (string_too_short)"`` → loc, field, msg, type."""
    match = _ERROR_LINE.match(line)
    if match is None:
        return {"loc": source, "field": source, "msg": line, "type": ""}
    loc = match["loc"]
    prefix = f"{source}."
    name = loc[len(prefix) :] if loc.startswith(prefix) else loc
    return {"loc": loc, "field": name or source, "msg": match["msg"], "type": match["type"] or ""}


def validation_failed(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """A 4xx because the input did not match the declared types: which source, field, rule."""
    trace = ix.trace
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


def _dependency_chain(ix: TraceIndex, span: Span) -> list[str]:
    """Names from the outermost dependency down to ``span`` (the order Depends resolved them)."""
    chain = [a.name for a in ix.ancestors(span) if a.phase == "dependency"]
    chain = [name for name in chain if name != "solve_dependencies"]
    return [*reversed(chain), span.name]


def dependency_raised(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """A 4xx from an unexpected error inside a dependency: the handler never ran.

    An ``HTTPException`` is the app answering on purpose (a 401 for a missing
    token, a 404 for an unknown id): that is the dependency's job, not a
    problem, exactly as when a handler raises it, so neither gets a finding
    (``--explain`` still says which dependency answered). What remains is a
    4xx that an exception handler made from some other error.
    """
    trace = ix.trace
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
        if is_intentional(raised[0]):
            return []
        chain = _dependency_chain(ix, span)
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


def _user_layers_inside(ix: TraceIndex, origin: str) -> list[str]:
    """User middleware the response never passed: layers nested inside ``origin``."""
    layers = ix.layers
    outer = next((s for s in layers if s.name == origin), None)
    if outer is None:
        return []
    depth = attr_int(outer, "middleware.depth") or 0
    inner = sorted(
        (s for s in layers if (attr_int(s, "middleware.depth") or 0) > depth),
        key=lambda s: attr_int(s, "middleware.depth") or 0,
    )
    return [s.name for s in ix.user_layers(inner)]


def server_error(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """A 5xx: where it was raised, how it travelled, and who built the response."""
    trace = ix.trace
    code = trace.status_code
    if not ((code is not None and code >= 500) or (code is None and trace.root.status == "error")):
        return []
    origin = ix.response_origin
    raiser = _raiser(trace)
    if raiser is None:
        return [_built_5xx(trace, code, origin)]
    kind, message = exception_of(raiser) or ("error", "")
    path = [raiser.name, *(a.name for a in ix.ancestors(raiser) if a.status == "error")]
    missing = _user_layers_inside(ix, origin) if origin == "ServerErrorMiddleware" else []
    detail = (
        f"{raiser.name} raised {kind}: {message}; it propagated through "
        f"{len(path) - 1} layer(s) to the server."
    )
    if origin == "ServerErrorMiddleware" and missing:
        # which headers they add is not in this trace: name the layers, not guessed headers
        detail += (
            " ServerErrorMiddleware built the response outside your middleware "
            f"({', '.join(missing)}), so whatever headers those layers add are missing."
        )
    elif origin == "ServerErrorMiddleware":
        detail += " ServerErrorMiddleware built the response."
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


def background_failed(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """A background task raised after the client was told everything went fine."""
    trace = ix.trace
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
