"""What the request looked like going into a step and coming out of it: shapes and names.

Read from the trace alone, which already went through :mod:`tracer.redaction`:
header *names*, field *names*, types, sizes and counts, never a value. Where
capture does not record what a step changed, the line says which attribute it
would need (so ``--load`` of an older trace says the same as a fresh one).
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer.analysis.layers import LAYER_HEADERS, TRACER_HEADERS, layer_reports
from tracer.analysis.processors import exception_of
from tracer.analysis.readers import attr_int, attr_str, attr_strs, plural
from tracer.analysis.step_context import StepContext, listed, total_bytes
from tracer.renderers.labels import header_names

#: Capture attributes the shapes read when present (lists of names).
BODY_FIELDS = "validation.fields"
KEPT_FIELDS = "response_model.fields"
DROPPED_FIELDS = "response_model.dropped"


@dataclass(frozen=True)
class Shape:
    """``going in`` / ``coming out`` of one step, and what capture would have to add."""

    going_in: str
    coming_out: str
    missing: str = ""


def shape_of(ctx: StepContext, step: int) -> Shape:
    """The request's shape around ``step`` of the traced request."""
    return _SHAPES[step](ctx)


def _names(names: list[str], limit: int = 8) -> str:
    return listed(names, limit) if names else "none"


def _request_headers(ctx: StepContext) -> list[str]:
    return header_names(ctx.trace.request.get("headers"))


def response_header_names(ctx: StepContext) -> tuple[list[str], list[str]]:
    """The final response's header names: ``(the app's, the tracer's)``."""
    names = header_names(ctx.trace.response.get("headers"))
    return [n for n in names if n not in TRACER_HEADERS], [n for n in names if n in TRACER_HEADERS]


def _route(ctx: StepContext) -> str:
    return attr_str(ctx.trace.root, "http.route") or str(ctx.trace.request.get("route") or "?")


def _scope(ctx: StepContext) -> Shape:
    receives = ctx.named("receive http.request")
    size = total_bytes(receives)
    version = ctx.trace.request.get("http_version") or "?"
    names = _request_headers(ctx)
    body = f"body {size} B in {plural(len(receives), 'receive message')}" if size else "no body"
    return Shape(
        f"HTTP/{version} bytes: {ctx.method} {ctx.path}",
        f"ASGI scope: {ctx.method}, route {_route(ctx)}, HTTP/{version}, "
        f"{plural(len(names), 'header')} ({_names(names)}); {body}",
    )


def _middleware_in(ctx: StepContext) -> Shape:
    names = _request_headers(ctx)
    yours = [s.name for s in ctx.ix.user_layers()]
    return Shape(
        f"the scope: {plural(len(names), 'header')} ({_names(names, 5)})",
        f"the same scope after {plural(len(ctx.ix.layers), 'layer')} (yours: {_names(yours)})",
        "what a layer changes in the scope going in (headers, scope['state']) is not recorded",
    )


def _routing(ctx: StepContext) -> Shape:
    routing = [s for s in ctx.spans if s.phase == "routing"]
    status = next(
        (attr_int(s, "routing.status") for s in routing if attr_int(s, "routing.status")), None
    )
    endpoint = next((e for s in routing if (e := attr_str(s, "routing.endpoint"))), None)
    if status in (404, 405):
        out = f"no endpoint: HTTPException({status}) for the exception handler"
    elif endpoint:
        out = f"route {_route(ctx)} → endpoint {endpoint}() (scope['route'] set)"
    else:
        out = "the router did not run"
    return Shape(f"method + path: {ctx.method} {ctx.path}", out)


def _dependency_params(ctx: StepContext) -> list[str]:
    out: list[str] = []
    for span in ctx.spans:
        param = attr_str(span, "dependency.param")
        if span.phase == "dependency" and param and param not in out:
            out.append(param)
    return out


def _dependencies(ctx: StepContext) -> Shape:
    params = _dependency_params(ctx)
    raised = next(
        (
            f"{span.name} raised {exc[0]}"
            for span in ctx.spans
            if span.phase == "dependency" and (exc := exception_of(span))
        ),
        "",
    )
    out = raised or (f"values for {_names(params)}" if params else "no Depends() values")
    return Shape("the Request (scope, headers, cookies) each dependency asks for", out)


def _validation(ctx: StepContext) -> Shape:
    spans = [s for s in ctx.spans if s.phase == "validation" and s.name.startswith("validate ")]
    size = total_bytes(ctx.named("read body"))
    parts: list[str] = []
    missing = ""
    errors: list[str] = []
    for span in spans:
        source = attr_str(span, "validation.source") or "body"
        fields = attr_strs(span, BODY_FIELDS)
        errors.extend(attr_strs(span, "validation.errors"))
        if source == "body":
            model = attr_str(span, "validation.model") or "the body model"
            if fields:
                parts.append(f"{model}({', '.join(fields)})")
            else:
                parts.append(model)
                missing = f"the body model's field names: capture must add {BODY_FIELDS} to it"
        else:
            parts.append(f"{source} {_names(fields)}")
    going_in = f"JSON body {size} B" if size else "no body"
    names = [n for n in _request_headers(ctx) if n != "content-length"]
    going_in += f"; path, query and {plural(len(names), 'header')}"
    if errors:
        locs = [e.partition(":")[0] for e in errors]
        return Shape(going_in, f"✗ {plural(len(errors), 'error')} at {_names(locs)}", missing)
    return Shape(going_in, "; ".join(parts) or "nothing declared to validate", missing)


def _handler(ctx: StepContext) -> Shape:
    handler = ctx.handler
    if handler is None:
        return Shape("nothing: the handler never ran", ctx.blocker or "—")
    args = _dependency_params(ctx)
    models = [m for s in ctx.spans if (m := attr_str(s, "validation.model"))]
    raised = exception_of(handler)
    statements = ctx.db_names(handler)
    db = f" after {plural(len(statements), 'SQL statement')}" if statements else ""
    if raised:
        out = f"raised {raised[0]}{db}"
    else:
        returned = attr_str(handler, "handler.returned") or "a value"
        kind = attr_str(handler, "handler.returned_kind")
        out = f"returned {returned}{' (an ORM object)' if kind == 'orm' else ''}{db}"
    return Shape(f"{handler.name}({_names([*models, *args])})", out)


def _serialization(ctx: StepContext) -> Shape:
    spans = [s for s in ctx.spans if s.step == 7 and s.phase == "serialization"]
    returned = (attr_str(ctx.handler, "handler.returned") if ctx.handler else None) or "—"
    size = total_bytes(ctx.named("send http.response.body"))
    model = next((m for s in spans if (m := attr_str(s, "response_model"))), None)
    if model is None:
        built = spans[0].name if spans else "nothing"
        note = "no response_model: every attribute goes out" if ctx.handler and spans else built
        return Shape(f"returned {returned}", f"{note}; body {size} B")
    kept = [f for s in spans for f in attr_strs(s, KEPT_FIELDS)]
    dropped = [f for s in spans for f in attr_strs(s, DROPPED_FIELDS)]
    if kept or dropped:
        out = f"{model}: kept {_names(kept)}; dropped {_names(dropped)}; body {size} B"
        return Shape(f"returned {returned}", out)
    return Shape(
        f"returned {returned}",
        f"{model}, body {size} B",
        f"fields kept and dropped: capture must add {KEPT_FIELDS} and {DROPPED_FIELDS}",
    )


def _layer_changes(ctx: StepContext) -> list[str]:
    """Per layer on the way out: header names it added or removed (when capture recorded them)."""
    reports = layer_reports(ctx.ix)
    if not any(r.known for r in reports):
        return []
    return [f"{r.layer.name} {r.change_text()}" for r in reversed(reports) if r.changed]


def _middleware_out(ctx: StepContext) -> Shape:
    app, ours = response_header_names(ctx)
    tracer = f"; the tracer's: {', '.join(ours)}" if ours else ""
    changes = _layer_changes(ctx)
    going_in = f"the {ctx.status} as the route built it"
    if changes:
        return Shape(going_in, f"{'; '.join(changes)}{tracer}")
    return Shape(
        going_in,
        f"{plural(len(app), 'header')} ({_names(app)}){tracer}",
        f"which layer added which header: capture must add {LAYER_HEADERS} to each "
        "'<layer> response' span",
    )


def _send(ctx: StepContext) -> Shape:
    bodies = ctx.named("send http.response.body")
    app, ours = response_header_names(ctx)
    return Shape(
        f"status {ctx.status}, {plural(len(app) + len(ours), 'header')}",
        f"http.response.start + {plural(len(bodies), 'body message')} "
        f"({total_bytes(bodies)} B) on the wire",
    )


def _background(ctx: StepContext) -> Shape:
    tasks = [s for s in ctx.spans if s.phase == "background"]
    if not tasks:
        return Shape("no tasks queued", "nothing ran after the response")
    failed = [s.name for s in tasks if exception_of(s)]
    out = f"{plural(len(failed), 'task')} raised: {', '.join(failed)}" if failed else "all done"
    return Shape(f"queued: {_names([s.name for s in tasks])} (the response already left)", out)


_SHAPES = {
    1: _scope,
    2: _middleware_in,
    3: _routing,
    4: _dependencies,
    5: _validation,
    6: _handler,
    7: _serialization,
    8: _middleware_out,
    9: _send,
    10: _background,
}
