"""What every step's sentence needs to know about one request, read once from its index."""

from __future__ import annotations

from dataclasses import dataclass

from tracer.analysis.index import TraceIndex, analyse
from tracer.analysis.processors import exception_of
from tracer.analysis.readers import attr_int, attr_str, attr_strs, fmt_ns, plural
from tracer.model import Span, Trace


@dataclass
class StepContext:
    ix: TraceIndex
    trace: Trace
    spans: list[Span]
    method: str
    path: str
    status: str
    origin: str
    handler: Span | None
    start: int
    blocker: str = ""

    @classmethod
    def of(cls, trace: Trace) -> StepContext:
        root = trace.root
        spans = sorted(trace.spans, key=lambda s: (s.start_ns, -s.end_ns))
        code = trace.status_code
        ix = analyse(trace)
        ctx = cls(
            ix=ix,
            trace=trace,
            spans=spans,
            method=str(trace.request.get("method") or attr_str(root, "http.request.method") or "?"),
            path=str(trace.request.get("path") or attr_str(root, "url.path") or root.name),
            status=str(code) if code is not None else "no response",
            origin=ix.response_origin or "",
            handler=next((s for s in spans if s.phase == "handler"), None),
            start=root.start_ns,
        )
        ctx.blocker = _blocker(ctx)
        return ctx

    def named(self, *names: str) -> list[Span]:
        return [s for s in self.spans if s.name in names]

    def at(self, ns: int) -> str:
        return f"+{fmt_ns(max(0, ns - self.start))}"

    def db_names(self, span: Span) -> list[str]:
        """Statements run inside ``span`` (any depth), in order."""
        inside = {span.span_id}
        out = []
        for s in self.spans:
            if s.parent_id in inside:
                inside.add(s.span_id)
                # a pool checkout or an SQL compile (a named gap) is not a statement
                if (
                    s.phase == "db"
                    and s.name != "pool checkout"
                    and not s.attributes.get("gap.cause")
                ):
                    out.append(s.name)
        return out


def validation_errors(ctx: StepContext) -> int:
    return sum(len(attr_strs(s, "validation.errors")) for s in ctx.spans)


def _blocker(ctx: StepContext) -> str:
    """Why the request stopped before the handler, in words (empty if it did not)."""
    if ctx.handler is not None:
        return ""
    for span in ctx.spans:
        routing = attr_int(span, "routing.status")
        if span.phase == "routing" and routing == 404:
            return f"no route matches {ctx.method} {ctx.path} ({routing})"
        if span.phase == "routing" and routing == 405:
            return f"{ctx.method} is not allowed on {ctx.path} ({routing})"
    for span in ctx.spans:
        raised = exception_of(span)
        if raised and span.name == "parse JSON":
            return f"the body is not valid JSON, FastAPI answered {ctx.status}"
        if raised and span.phase == "dependency" and not span.attributes.get("dependency.teardown"):
            return f"dependency {span.name} raised {raised[0]} ({ctx.status})"
    errors = validation_errors(ctx)
    if errors:
        return f"validation failed with {plural(errors, 'error')}, FastAPI answered {ctx.status}"
    return f"the request ended before it ({ctx.status})"


def listed(names: list[str], limit: int = 6) -> str:
    shown = names if len(names) <= limit else [*names[: limit - 1], "…"]
    return ", ".join(shown)


def total_bytes(spans: list[Span], key: str = "body.bytes") -> int:
    return sum(attr_int(s, key) or 0 for s in spans)
