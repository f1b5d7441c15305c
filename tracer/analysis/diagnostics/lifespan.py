"""Findings about the app's startup or shutdown (a lifespan trace, not a request).

A lifespan trace has no route, no response and none of the ten steps, so the
request detectors (missing routes, 5xx origins, step budgets) would only
mislead; what it can tell is where the phase failed.
"""

from __future__ import annotations

from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.processors import exception_of
from tracer.analysis.readers import layer_of
from tracer.model import Span

_CONSEQUENCE = {
    "startup": "the server reports the failure and serves no request",
    "shutdown": "what the rest of the shutdown would have closed may be left open",
}


def lifespan_failed(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """The startup or shutdown raised: where, and what that means for the process."""
    trace = ix.trace
    root = trace.root
    if root.status != "error":
        return []
    phase = str(trace.meta.get("lifespan") or "lifespan")
    raised = [(s, exc) for s in trace.spans if (exc := exception_of(s)) is not None]
    span, (kind, message) = min(raised, key=lambda r: _raised_at(r[0]), default=(root, ("", "")))
    where = f" in {span.name}" if span is not root else ""
    cause = f"{span.name} raised {kind}: {message}" if kind else f"the {phase} reported a failure"
    consequence = _CONSEQUENCE.get(phase, "the app did not finish its lifespan")
    return [
        Finding(
            code="lifespan_failed",
            severity="error",
            title=f"{phase} failed{f': {kind}' if kind else ''}{where}",
            detail=f"{cause}; {consequence}.",
            layer=layer_of(span),
            span_id=span.span_id,
            evidence={"lifespan": phase, "exception.type": kind, "exception.message": message},
        )
    ]


def _raised_at(span: Span) -> int:
    return min((e.time_ns for e in span.events if e.name == "exception"), default=span.end_ns)
