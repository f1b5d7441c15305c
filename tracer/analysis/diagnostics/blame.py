"""Which span a finding may blame: one the app really ran, never one the tracer made up.

The hooks time some work under names of their own: ``threadpool __enter__`` and
``threadpool __exit__`` are a sync generator dependency's code up to and after its
``yield``, run in a worker thread; ``threadpool wait`` is the queue for that
thread. A finding names the dependency or handler that ran them instead.
"""

from __future__ import annotations

from tracer.analysis.index import TraceIndex
from tracer.analysis.readers import attr_str
from tracer.model import Span

#: pseudo-spans the hooks record around a sync generator's enter and exit
_SYNTHETIC = frozenset({"threadpool __enter__", "threadpool __exit__", "threadpool wait"})

#: exceptions an app raises on purpose to answer with a status (``raise HTTPException(404)``)
_INTENTIONAL = frozenset({"HTTPException", "WebSocketException"})


def is_synthetic(span: Span) -> bool:
    """A span the tracer named itself, not a function of the app (or marked so by a hook)."""
    return span.name in _SYNTHETIC or span.attributes.get("trace_request.synthetic") is True


def runs_in_thread(span: Span) -> bool:
    """Work done in a worker thread: it cannot hold the event loop, whatever it does."""
    kind = attr_str(span, "dependency.kind") or attr_str(span, "handler.kind")
    return span.name.startswith("threadpool ") or kind in ("sync", "generator")


def blamed(ix: TraceIndex, span: Span) -> Span:
    """``span``, or the nearest ancestor the app really ran when ``span`` is synthetic."""
    if not is_synthetic(span):
        return span
    return next((a for a in ix.ancestors(span) if not is_synthetic(a)), span)


def is_intentional(exception_type: str | None) -> bool:
    """``HTTPException`` (FastAPI's or Starlette's, dotted or not): the app chose the status."""
    return (exception_type or "").rsplit(".", 1)[-1] in _INTENTIONAL
