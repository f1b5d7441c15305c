"""What each middleware layer did: whose it is, its time in and out, the headers it changed.

Capture records, on each ``'<layer> response'`` span (phase middleware, step 8),
``http.response.header_names``: the response's header names as the
``http.response.start`` message left that layer going outward (and on the
``router`` span: as the route built it). The difference between consecutive
layers is what a layer added or removed. Older traces lack
the attribute; then :attr:`LayerReport.known` is false and nothing is claimed.
One implementation, read by the sequence diagram and the teaching shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer.analysis.index import TraceIndex, is_framework_layer, is_layer_response
from tracer.model import Span

#: Headers the tracer adds to every response: not the app's.
TRACER_HEADERS = frozenset({"x-trace-id", "traceparent"})
#: The capture attribute on each ``'<layer> response'`` span (a list of header names).
LAYER_HEADERS = "http.response.header_names"


@dataclass(frozen=True, slots=True)
class LayerReport:
    """One middleware layer: ``yours`` (the app's own) or FastAPI's/Starlette's, its own
    time on the way in, how long it held the response start on the way out, and, when
    capture recorded them, the header names it added/removed."""

    layer: Span
    response: Span | None
    yours: bool
    in_ns: int
    out_ns: int | None
    known: bool = False
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def change_text(self, tracer_mark: str = " (tracer's)") -> str:
        """``+x-request-id +server-timing -content-length``; the tracer's headers marked."""
        parts = [f"+{n}" for n in self.added] + [f"-{n}" for n in self.removed]
        ours = any(n in TRACER_HEADERS for n in (*self.added, *self.removed))
        return " ".join(parts) + (tracer_mark if ours else "")


def header_names_of(span: Span) -> list[str] | None:
    """The recorded header names of a ``'<layer> response'`` span, lower-cased (``None``
    when the trace predates the attribute)."""
    value = span.attributes.get(LAYER_HEADERS)
    if not isinstance(value, list | tuple):
        return None
    return [str(n).lower() for n in value]


def layer_response(index: TraceIndex, layer: Span) -> Span | None:
    """The ``'<layer> response'`` span of ``layer`` (its first, for several messages)."""
    return next((c for c in index.kids(layer) if is_layer_response(c, layer)), None)


def layer_reports(index: TraceIndex) -> list[LayerReport]:
    """Every layer, outermost first, with what it did (see the module docstring).

    A layer's change is its names minus the names of the layer just inside it
    that also saw the message; the innermost such layer (or the one that built
    the response) has nothing to compare with, so only its own list is known.
    """
    responses = {layer.span_id: layer_response(index, layer) for layer in index.layers}
    names = {i: header_names_of(r) if r is not None else None for i, r in responses.items()}
    reports: list[LayerReport] = []
    # what the route built, as it left the router: the innermost layer's changes are known too
    router = next(
        (s for s in index.trace.spans if s.phase == "routing" and s.name == "router"), None
    )
    inner: list[str] | None = header_names_of(router) if router is not None else None
    known_inner = inner is not None
    for layer in reversed(index.layers):  # innermost first: the way out
        response = responses[layer.span_id]
        now = names[layer.span_id]
        added: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
        if now is not None and known_inner and inner is not None:
            added = tuple(n for n in dict.fromkeys(now) if n not in inner)
            removed = tuple(n for n in dict.fromkeys(inner) if n not in now)
        reports.append(
            LayerReport(
                layer=layer,
                response=response,
                yours=not is_framework_layer(layer),
                in_ns=index.layer_in_ns(layer),
                out_ns=None if response is None else response.duration_ns,
                known=now is not None and known_inner,
                added=added,
                removed=removed,
            )
        )
        if response is not None:
            inner, known_inner = now, now is not None
    return reports[::-1]


__all__ = [
    "LAYER_HEADERS",
    "TRACER_HEADERS",
    "LayerReport",
    "header_names_of",
    "layer_reports",
    "layer_response",
]
