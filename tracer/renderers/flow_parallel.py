"""Calls that ran at the same time, marked in the sequence diagram's rows.

Rows are drawn in start order, so two calls started together read like one
after the other. Each call of a :class:`~tracer.analysis.concurrency.ParallelGroup`
gets the ``∥`` mark, and a row in the caller's lane opens the group with what
the overlap bought: how long the calls took together against one after another.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tracer.analysis.concurrency import parallel_groups
from tracer.model import Trace
from tracer.renderers.labels import format_duration

if TYPE_CHECKING:
    from tracer.renderers.flow_rows import Row

#: marks a row whose call ran beside another one (ASCII: ``||``)
PARALLEL = "∥"


def mark_parallel(trace: Trace, rows: list[Row]) -> list[Row]:
    """``rows`` with the calls of every parallel group marked and each group announced."""
    groups = parallel_groups(trace)
    if not groups:
        return rows
    by_span = {r.span_id: r for r in rows if r.span_id is not None and r.kind in ("call", "work")}
    headers: dict[int, Row] = {}
    for group in groups:
        marked = [by_span[s.span_id] for s in group.spans if s.span_id in by_span]
        if not marked:
            continue
        for row in marked:
            row.text = f"{PARALLEL} {row.text}"
        count = len(group.spans)
        first = marked[0]
        at_once = f"{count} at once"
        if count != group.width:
            at_once = f"{count} calls, {group.width} at once"
        busy, serial = format_duration(group.busy_ns), format_duration(group.serial_ns)
        text = f"{PARALLEL} {at_once} · {busy} ({serial} one by one)"
        headers[id(first)] = replace(
            first, kind="event", dst=first.src, text=text, result="", notes=[], dur_ns=None,
            end_ns=None, error=False, leaf=False, via=[], count=1, depth=0, span_id=None,
        )  # fmt: skip
    out: list[Row] = []
    for row in rows:
        opening = headers.get(id(row))
        if opening is not None:
            out.append(opening)
        out.append(row)
    return out
