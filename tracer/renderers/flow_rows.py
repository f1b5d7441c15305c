"""One row of the sequence diagram, shared by the flow builder and its post-passes.

Kept apart from :mod:`tracer.renderers.flow` so the passes that add rows
(the error path, parallel groups) need not import the builder that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RowKind = Literal["call", "return", "work", "event", "message", "hop", "gap", "untraced"]


@dataclass(slots=True)
class Row:
    """One line of the diagram (plus wrapped continuation lines when drawn)."""

    time_ns: int
    kind: RowKind
    src: int
    dst: int
    text: str = ""
    result: str = ""
    notes: list[str] = field(default_factory=list)
    step: int | None = None
    dur_ns: int | None = None
    end_ns: int | None = None
    error: bool = False
    leaf: bool = False
    via: list[int] = field(default_factory=list)
    count: int = 1
    depth: int = 0
    order: int = 0
    span_id: str | None = None
    #: a middleware layer's way out drawn on a row of its own (never merged into a hop chain)
    alone: bool = False
    #: header changes of the layers a way-out row passes (``CORS★ +vary``)
    changes: list[str] = field(default_factory=list)


__all__ = ["Row", "RowKind"]
