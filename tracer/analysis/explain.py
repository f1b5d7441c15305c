"""What each of the ten steps did for one request, in one sentence, from its trace alone.

``explain(trace)`` pairs every step's general role (``ROLES``: the router maps
a path to a handler, Depends provides per-request resources, ...) with what
that layer actually did *this time*, or why it did not run. ``time_by_step``
says how much own time each step took; both read the trace's one
:class:`~tracer.analysis.index.TraceIndex`, so their figures match every renderer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracer.analysis.index import STEPS, analyse
from tracer.analysis.processors import exception_of
from tracer.analysis.readers import attr_int, attr_str, attr_strs, endpoint_name, fmt_ns, plural
from tracer.analysis.step_context import StepContext, listed, total_bytes
from tracer.model import STEP_NAMES, Span, Trace

#: What each layer is responsible for, whatever the request.
ROLES: dict[int, str] = {
    1: "ASGI: HTTP bytes ↔ Python objects",
    2: "middleware: cross-cutting concerns, on the way in",
    3: "router: path → handler",
    4: "Depends: per-request resources",
    5: "Pydantic in: type and shape validation",
    6: "handler: business logic; SQLAlchemy: persistence",
    7: "Pydantic out: response_model shaping",
    8: "middleware: cross-cutting concerns, on the way out",
    9: "send: Python objects → HTTP bytes",
    10: "background tasks: work after the response",
}


@dataclass(frozen=True)
class StepExplanation:
    """One step of one request: did it happen, what it did (or why not), its own time."""

    step: int
    name: str
    happened: bool
    text: str
    span_ids: list[str]
    own_ns: int
    role: str = ""


def time_by_step(trace: Trace) -> dict[int, int]:
    """Own time per step 1–10: the index's figure, the one every renderer shows.

    Each span's own time (children's union subtracted) counts under its step,
    except a middleware layer's work after its inner app was entered, which is
    step 8. Only background tasks (and what runs inside them) count as step 10.
    """
    if not trace.spans:
        return dict.fromkeys(STEPS, 0)
    return dict(analyse(trace).step_ns)


def explain(trace: Trace) -> list[StepExplanation]:
    """The ten steps of ``trace``, each with a sentence written for this request
    (a lifespan trace has none of them: one entry, step 0, says what its phase did)."""
    if trace.meta.get("kind") == "lifespan" and trace.spans:
        return [_lifespan(trace)]
    own = time_by_step(trace)
    if not trace.spans:
        return [
            StepExplanation(step, STEP_NAMES[step], False, "nothing was recorded", [], 0, role)
            for step, role in ROLES.items()
        ]
    ctx = StepContext.of(trace)
    out = []
    for step, describe in _STEPS.items():
        happened, text = describe(ctx)
        ids = [s.span_id for s in ctx.spans if ctx.ix.step_of(s) == step]
        out.append(
            StepExplanation(step, STEP_NAMES[step], happened, text, ids, own[step], ROLES[step])
        )
    return out


def _lifespan(trace: Trace) -> StepExplanation:
    """The startup or shutdown in one sentence: its DB work, handlers, how it ended."""
    root = trace.root
    phase = str(trace.meta.get("lifespan") or "lifespan")
    statements = [s for s in trace.spans if s.phase == "db" and "db.statement" in s.attributes]
    handlers = [s.name for s in trace.spans if "lifespan.handler" in s.attributes]
    parts = [plural(len(statements), "SQL statement")] if statements else []
    if handlers:
        parts.append(f"on_event handlers {listed(handlers)}")
    if any(s.name == "engine dispose" for s in trace.spans):
        parts.append("the engine's pool disposed")
    did = f"ran {', '.join(parts)}" if parts else "recorded no work of its own"
    raised = next((exc for s in trace.spans if (exc := exception_of(s)) is not None), None)
    ended = f"failed with {raised[0]}" if raised else ("failed" if root.status == "error" else "")
    then = f", then {ended}" if ended else ""
    text = f"the app's {phase} {did} in {fmt_ns(root.duration_ns)}{then}"
    role = f"lifespan: the app's {phase}, outside any request"
    ids = [s.span_id for s in trace.spans]
    return StepExplanation(0, "lifespan", True, text, ids, root.duration_ns, role)


# ---------------------------------------------------------------------------
# one function per step: (happened, text)


def _asgi(ctx: StepContext) -> tuple[bool, str]:
    receives = ctx.named("receive http.request")
    size = total_bytes(receives)
    if not size:
        return True, f"{ctx.method} {ctx.path} arrived as an ASGI scope, with no body"
    return True, (
        f"{ctx.method} {ctx.path} arrived as an ASGI scope; its {size} B body came in "
        f"{plural(len(receives), 'receive message')}"
    )


def _middleware_in(ctx: StepContext) -> tuple[bool, str]:
    layers = ctx.ix.layers
    if not layers:
        return False, "no middleware: the request went straight to the router"
    yours = [s.name for s in ctx.ix.user_layers()]
    slowest = max(layers, key=ctx.ix.layer_in_ns)
    spent = ctx.ix.layer_in_ns(slowest)
    return True, (
        f"{plural(len(layers), 'layer')} on the way in, {layers[0].name} outermost; "
        f"yours: {listed(yours) or 'none'}; {slowest.name} took longest ({fmt_ns(spent)})"
    )


def _routing(ctx: StepContext) -> tuple[bool, str]:
    routing = [s for s in ctx.spans if s.phase == "routing"]
    if not routing:
        return False, f"the router never ran: {ctx.origin or 'an outer layer'} answered first"
    status = next(
        (attr_int(s, "routing.status") for s in routing if "routing.status" in s.attributes), None
    )
    if status == 404:
        return True, f"no route matches {ctx.method} {ctx.path}: the router answered 404"
    route = next((r for s in routing if (r := attr_str(s, "http.route"))), None)
    if status == 405:
        return True, f"{route or ctx.path} exists, but not for {ctx.method}: 405"
    match = next((s for s in routing if s.name == "match"), routing[0])
    return True, (
        f"the router matched {ctx.method} {ctx.path} to {endpoint_name(ctx.trace)} "
        f"(route {route or '?'}) in {fmt_ns(match.duration_ns)}"
    )


def _dep_label(span: Span) -> str:
    kind = attr_str(span, "dependency.kind")
    if span.attributes.get("dependency.cached") or kind == "cached":
        return f"{span.name} (cached)"
    if kind == "sync":
        return f"{span.name} (def, threadpool)"
    if kind in ("generator", "async_generator"):
        return f"{span.name} (yield)"
    return span.name


def _nested(ctx: StepContext, dep: Span, ids: set[str]) -> str:
    """``get_user (needs get_token (needs OAuth2PasswordBearer), get_db (yield))``: true depth."""
    below = [c for c in ctx.ix.kids(dep) if c.span_id in ids]
    if not below:
        return _dep_label(dep)
    return f"{_dep_label(dep)} (needs {', '.join(_nested(ctx, c, ids) for c in below)})"


def _teardown_text(ctx: StepContext, dep: Span, teardown: Span | None) -> str:
    if teardown is None:
        return f"{dep.name} is suspended at `yield`; its teardown was not recorded"
    after = teardown.attributes.get("after_response")
    if not isinstance(after, bool):
        after = teardown.start_ns >= ctx.ix.response_end
    when = "after the response" if after else "before the response was sent"
    cause = attr_str(teardown, "dependency.exception")
    because = f", after {cause}" if cause else ""
    return (
        f"{dep.name} ran up to its `yield` and waited there; it closed {when} "
        f"(teardown at {ctx.at(teardown.start_ns)}{because})"
    )


def _dependencies(ctx: StepContext) -> tuple[bool, str]:
    spans = [s for s in ctx.spans if s.step == 4 and s.phase == "dependency"]
    if not spans:
        return False, f"no dependencies resolved: {ctx.blocker or 'none declared'}"
    deps = [
        s
        for s in spans
        if s.name != "solve_dependencies" and not s.attributes.get("dependency.teardown")
    ]
    if not deps:
        return True, "no Depends() on this route: FastAPI's solver only gathered the parameters"
    ids = {d.span_id for d in deps}
    top = [d for d in deps if d.parent_id not in ids]
    parts = [f"Depends resolved {listed([_nested(ctx, d, ids) for d in top])}"]
    teardowns = [s for s in spans if s.attributes.get("dependency.teardown")]
    for dep in deps:
        raised = exception_of(dep)
        if raised:
            parts.append(f"{dep.name} raised {raised[0]}: {raised[1]}")
        elif attr_str(dep, "dependency.kind") in ("generator", "async_generator"):
            parts.append(_teardown_text(ctx, dep, _teardown_of(dep, teardowns)))
    return True, "; ".join(parts)


def _teardown_of(dep: Span, teardowns: list[Span]) -> Span | None:
    """The teardown span of ``dep`` (taken from the list, so a repeated name pairs in order).

    Teardown spans sit where the teardown runs, so they are matched by
    ``dependency.name`` (or, in older traces, by being the dependency's child).
    """
    for teardown in teardowns:
        name = attr_str(teardown, "dependency.name") or teardown.name.removesuffix(" teardown")
        if teardown.parent_id == dep.span_id or name == dep.name:
            teardowns.remove(teardown)
            return teardown
    return None


def _validation_part(span: Span, body_bytes: int) -> str:
    source = attr_str(span, "validation.source") or "body"
    errors = attr_strs(span, "validation.errors")
    if errors:
        return f"{source} validation failed with {plural(len(errors), 'error')}: {errors[0]}"
    if source == "body":
        model = attr_str(span, "validation.model") or "the body model"
        return f"{model} validated the JSON body ({body_bytes} B)"
    fields = attr_strs(span, "validation.fields")
    noun = "parameter" if len(fields) == 1 else "parameters"
    return f"{source} {noun} {listed(fields)} validated"


def _validation(ctx: StepContext) -> tuple[bool, str]:
    spans = [s for s in ctx.spans if s.phase == "validation"]
    if not spans:
        reason = ctx.blocker or "the route declares no parameters or body"
        return False, f"nothing validated: {reason}"
    body_bytes = total_bytes(ctx.named("read body"))
    parts = []
    for span in spans:
        raised = exception_of(span)
        if span.name == "parse JSON" and raised:
            parts.append(f"the body is not valid JSON ({raised[0]}: {raised[1]})")
        elif span.name.startswith("validate "):
            parts.append(_validation_part(span, body_bytes))
    if not parts:
        return True, f"the body was read ({body_bytes} B); nothing declared to validate"
    return True, "; ".join(parts)


def _handler(ctx: StepContext) -> tuple[bool, str]:
    handler = ctx.handler
    if handler is None:
        return False, f"no handler: {ctx.blocker}"
    if attr_str(handler, "handler.kind") == "sync":
        wait = attr_int(handler, "threadpool.wait_ns") or 0
        where = f"in the threadpool (after waiting {fmt_ns(wait)} for a worker)"
    else:
        where = "on the event loop"
    statements = ctx.db_names(handler)
    db = (
        f"{plural(len(statements), 'SQL statement')} ({listed(statements)})"
        if statements
        else ("no database work")
    )
    text = f"{handler.name} ran {where}: {db}"
    raised = exception_of(handler)
    returned = attr_str(handler, "handler.returned")
    if raised:
        text += f"; it raised {raised[0]}: {raised[1]}"
    elif returned:
        text += f"; returned {returned}"
    return True, text


def _serialization(ctx: StepContext) -> tuple[bool, str]:
    path = ctx.ix.error_path
    spans = [s for s in ctx.spans if ctx.ix.step_of(s) == 7 and s.phase == "serialization"]
    returned = (attr_str(ctx.handler, "handler.returned") if ctx.handler else None) or "value"
    built = path.response if path is not None else None
    if not spans and path is not None and built is not None and built.phase == "serialization":
        return False, (  # an exception handler rendered it
            f"no response_model shaping: {path.exception} was raised, and the {ctx.status} "
            f"was built on the error path (step 8)"
        )
    size = total_bytes(ctx.named("send http.response.body"))
    for span in spans:
        model = attr_str(span, "response_model")
        if model:
            return True, (
                f"response_model {model} validated and filtered the returned {returned} "
                f"into the JSON body ({size} B)"
            )
        if span.name == "jsonable_encoder":
            return True, (
                f"no response_model: jsonable_encoder turned the returned {returned} into "
                f"JSON as it is ({size} B)"
            )
    if spans:
        what = "error body" if ctx.status.startswith(("4", "5")) else "body"
        return True, f"{spans[0].name} rendered the {ctx.status} {what} ({size} B)"
    if ctx.origin == "ServerErrorMiddleware":
        return False, f"nothing serialised: ServerErrorMiddleware sent a plain-text {ctx.status}"
    if ctx.handler is not None and returned.endswith("Response"):
        return False, f"nothing serialised: {ctx.handler.name} returned a {returned}, sent as is"
    return False, f"nothing serialised: {ctx.blocker or 'no body was built'}"


def _middleware_out(ctx: StepContext) -> tuple[bool, str]:
    spans = [s for s in ctx.spans if s.step == 8 and s.phase == "middleware"]
    path = ctx.ix.error_path
    caught = ""
    if path is not None and path.catcher != "ServerErrorMiddleware":
        size = f" ({path.body_bytes} B)" if path.body_bytes is not None else ""
        caught = (
            f"{path.catcher} caught {path.exception}; its handler built the {ctx.status}{size}; "
        )
    if ctx.origin == "ServerErrorMiddleware":
        yours = [s.name for s in ctx.ix.user_layers()]
        unhandled = f"caught the unhandled {path.exception} and " if path is not None else ""
        return bool(spans), (
            f"ServerErrorMiddleware {unhandled}built the {ctx.status} outside your layers: "
            f"{listed(yours) or 'none'} never saw it, so their headers are missing"
        )
    if not spans:
        return False, "no middleware on the way out"
    slowest = max(spans, key=lambda s: s.duration_ns)
    return True, caught + (
        f"the {ctx.status} went back out through {plural(len(spans), 'layer')}, innermost "
        f"first; {slowest.name.removesuffix(' response')} held it longest "
        f"({fmt_ns(slowest.duration_ns)})"
    )


def _send(ctx: StepContext) -> tuple[bool, str]:
    bodies = ctx.named("send http.response.body")
    if not ctx.named("send http.response.start"):
        return False, "no response was sent"
    end = ctx.trace.response_end_ns
    done = f", complete at {ctx.at(end)}" if end is not None else ""
    return True, (
        f"the {ctx.status} left as http.response.start + "
        f"{plural(len(bodies), 'body message')} ({total_bytes(bodies)} B){done}"
    )


def _background(ctx: StepContext) -> tuple[bool, str]:
    tasks = [s for s in ctx.spans if s.phase == "background"]
    end = ctx.ix.response_end
    if not tasks:
        late = [
            s.name
            for s in ctx.spans
            if s.start_ns >= end and s.attributes.get("dependency.teardown")
        ]
        after = f"; after the response only {listed(late)} ran" if late else ""
        if ctx.handler is None:
            return False, f"no background tasks: the handler never ran{after}"
        return False, f"no background tasks were queued{after}"
    parts = []
    for task in tasks:
        raised = exception_of(task)
        when = (
            f"after the {ctx.status} was sent"
            if task.attributes.get("background.after_response", True)
            else "before the response was complete"
        )
        if raised:
            parts.append(f"{task.name} raised {raised[0]} {when}: {raised[1]}")
            continue
        statements = ctx.db_names(task)
        db = f", {plural(len(statements), 'SQL statement')}" if statements else ""
        parts.append(f"{task.name} ran {when} ({fmt_ns(task.duration_ns)}{db})")
    return True, "; ".join(parts)


_STEPS: dict[int, Callable[[StepContext], tuple[bool, str]]] = {
    1: _asgi,
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
