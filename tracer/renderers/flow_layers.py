"""The middleware rows of the sequence diagram: whose each layer is and what it did.

Every layer is marked as the app's own (:data:`YOURS`, ``*`` in ASCII) or left
unmarked as FastAPI's/Starlette's, at every width. Where a layer has a lane of
its own (or shares one only with the app's other layers), its way out is a row
of its own saying its time out and the response headers it added or removed
(``http.response.header_names``, :mod:`tracer.analysis.layers`); FastAPI's
layers that changed nothing, and every layer of a lane folded at a narrow
width, share one ``response out through N layers`` row that lists the changes.
"""

from __future__ import annotations

from tracer.analysis.layers import LayerReport
from tracer.analysis.processors import Lane
from tracer.renderers.flow_rows import Row
from tracer.renderers.labels import format_duration

#: marks the app's own middleware (``*`` in ASCII: :func:`~tracer.renderers.glyphs.to_ascii`)
YOURS = "★"


def marked(name: str, yours: bool) -> str:
    """``CORSMiddleware★`` for the app's own layer, the name alone for FastAPI's."""
    return f"{name}{YOURS}" if yours else name


def way_in_text(report: LayerReport) -> str:
    """A layer's call row: ``CORSMiddleware★ · in 20µs``."""
    return f"{marked(report.layer.name, report.yours)} · in {format_duration(report.in_ns)}"


def folded_in_text(reports: list[LayerReport], lane: Lane) -> str:
    """The call row of a lane several layers share: ``8 middleware layers (3 yours★) · in …``."""
    in_ns = sum(r.in_ns for r in reports)
    yours = sum(r.yours for r in reports)
    if lane.owner == "framework":
        kind = "FastAPI layers"
    else:
        kind = "middleware layers" + (f" ({yours} yours{YOURS})" if yours else "")
    return f"{len(reports)} {kind} · in {format_duration(in_ns)}"


def way_out_text(report: LayerReport) -> str:
    """A layer's own way-out row: ``request_id_and_timing★ · out 106µs · +x-request-id``."""
    text = marked(report.layer.name, report.yours)
    if report.out_ns is not None:
        text += f" · out {format_duration(report.out_ns)}"
    if report.changed:
        text += f" · {report.change_text()}"
    return text


def change_item(report: LayerReport) -> str:
    """One layer's change inside a shared row: ``GZip★ +content-encoding``."""
    short = report.layer.name.removesuffix("Middleware") or report.layer.name
    return f"{marked(short, report.yours)} {report.change_text()}"


def stands_alone(report: LayerReport, lane: Lane) -> bool:
    """Whether a layer's way out gets a row of its own (see the module docstring)."""
    return lane.owner != "mixed" and (report.yours or report.changed)


def layer_hop(row: Row, report: LayerReport, lane: Lane) -> Row:
    """Fill in the way-out row of ``report``'s layer (a hop from the lane inside it)."""
    row.alone = stands_alone(report, lane)
    if report.changed:
        row.changes = [change_item(report)]
    if row.alone:
        row.text = way_out_text(report)
        if row.src == row.dst:  # a lane the app's layers share: work inside it
            row.kind = "work"
    return row


def shared_hop_text(row: Row) -> str:
    """``response out through 3 layers · CORS★ +vary``."""
    layers = "layer" if row.count == 1 else "layers"
    text = f"response out through {row.count} {layers}"
    return text + "".join(f" · {c}" for c in row.changes)


__all__ = [
    "YOURS",
    "change_item",
    "folded_in_text",
    "layer_hop",
    "marked",
    "shared_hop_text",
    "stands_alone",
    "way_in_text",
    "way_out_text",
]
