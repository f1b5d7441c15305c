"""Checks that a trace's time accounting is true, as human-readable violations.

``check(trace)`` is run over every trace of the real-app corpus
(tests/corpus_invariants) and can be run over any saved trace. The rules, and
why each threshold is what it is:

* **adds up**: the per-step own times plus the untraced time equal the root
  span's duration, within :data:`RESOLUTION_NS` (one microsecond: coarser than
  any clock the recorder reads, finer than anything a user is shown);
* **counted once**: no instant is in two spans' own time, or in own time and
  an untraced gap;
* **no own time below zero**: no span ends before it starts;
* **nested**: no span starts before or ends after its parent (by more than
  :data:`RESOLUTION_NS`), so the tree and the timeline agree;
* **gaps named**: no *unnamed* untraced gap reaches :data:`UNNAMED_GAP_NS`
  (1 ms). Below it a gap is the framework's own bookkeeping between two hooks
  (tens of µs on the corpus, a few hundred on a loaded machine); at 1 ms it is
  work a user would want named (a first-call inspection, an import, a driver's
  thread hop), so a hook should name it with ``gap.cause``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tracer.analysis.accounting import Interval, Untraced
from tracer.analysis.index import analyse
from tracer.analysis.readers import fmt_ns
from tracer.model import Trace

RESOLUTION_NS = 1_000
UNNAMED_GAP_NS = 1_000_000


def check(trace: Trace, *, unnamed_gap_ns: int = UNNAMED_GAP_NS) -> list[str]:
    """Every violated accounting rule in ``trace`` (an empty list when it is sound)."""
    if not trace.spans:
        return []
    index = analyse(trace)
    out: list[str] = []
    roots = [s for s in trace.spans if s.parent_id is None]
    if len(roots) != 1:
        out.append(f"{len(roots)} root spans (expected exactly one)")
    root = roots[0] if roots else trace.spans[0]
    counted = sum(index.step_ns.values()) + index.untraced_ns
    if abs(counted - root.duration_ns) > RESOLUTION_NS:
        out.append(
            f"steps + untraced = {counted} ns but {root.name!r} lasted {root.duration_ns} ns "
            f"({counted - root.duration_ns:+d} ns)"
        )
    for span in trace.spans:
        if span.end_ns < span.start_ns:
            out.append(f"{span.name!r} ends {span.start_ns - span.end_ns} ns before it starts")
        parent = index.parent(span)
        if parent is None:
            continue
        if span.start_ns < parent.start_ns - RESOLUTION_NS:
            out.append(f"{span.name!r} starts before its parent {parent.name!r}")
        if span.end_ns > parent.end_ns + RESOLUTION_NS:
            late = span.end_ns - parent.end_ns
            out.append(f"{span.name!r} ends {late} ns after its parent {parent.name!r}")
    out.extend(_double_counted(trace, index.own, index.untraced))
    for gap in index.untraced:
        if gap.name is None and gap.duration_ns >= unnamed_gap_ns:
            where = index.by_id.get(gap.parent_id or "")
            at = gap.start_ns - root.start_ns
            out.append(
                f"unnamed untraced gap of {fmt_ns(gap.duration_ns)} in "
                f"{where.name if where else 'no span'!r} at +{fmt_ns(at)}"
            )
    return out


def _double_counted(
    trace: Trace, own: Mapping[str, Sequence[Interval]], untraced: Sequence[Untraced]
) -> list[str]:
    """Instants that are in two spans' own time, or in own time and a gap."""
    names = {s.span_id: s.name for s in trace.spans}
    pieces = [(a, b, names.get(k, k)) for k, intervals in own.items() for a, b in intervals]
    pieces.extend(
        (g.start_ns, g.end_ns, f"untraced gap in {names.get(g.parent_id or '', 'no span')}")
        for g in untraced
    )
    pieces.sort()
    out: list[str] = []
    last: tuple[int, int, str] | None = None
    for piece in pieces:
        if last is not None and piece[0] < last[1]:
            both = min(piece[1], last[1]) - piece[0]
            out.append(f"{both} ns counted twice: in {last[2]!r} and {piece[2]!r}")
        if last is None or piece[1] > last[1]:
            last = piece
    return out
