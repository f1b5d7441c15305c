"""Who owns each nanosecond of a request: one owner per instant, gaps made explicit.

Design §5. The request's time line is cut at every span boundary and each
piece goes to exactly one span, so per-step totals plus the untraced time add
up to the wall time and no interval counts twice:

* the innermost open span owns the piece (greatest depth; among spans running
  at once, the one that started last);
* a ``send``/``receive`` message span outranks everything open around it: the
  server edge records it under the root, but whatever was open (the route, a
  layer) is awaiting it, so it must not keep charging its own time; so does a
  layer's ``'<layer> response'`` span (the response start inside that layer's
  ``send`` code, on the way out), which the still-open route would otherwise own;
* a *structural* span (the server/ASGI root, the router, a route, a mount,
  ``solve_dependencies``) does no work of its own that a hook can see: a piece
  it owns is an :class:`Untraced` interval inside it, never its own time;
* a span carrying ``gap.cause`` was recorded by a hook to *name* a gap (FastAPI's
  first-call endpoint inspection, an import, SQL compilation, a driver's thread
  hop, a middleware's work around ``receive``): its pieces are untraced
  intervals with that name (``gap.first_call`` marks first-request-only costs).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from tracer.model import Span

Interval = tuple[int, int]

#: attribute a hook sets on a span whose time is a known, named gap
GAP_CAUSE = "gap.cause"
#: attribute marking a named gap as a first-request-only cost
GAP_FIRST_CALL = "gap.first_call"
#: gaps this long get a row of their own in the sequence diagram, waterfall and tree;
#: shorter ones are framework bookkeeping between two hooks: counted, not drawn
DRAWN_GAP_NS = 50_000


@dataclass(frozen=True, slots=True)
class Untraced:
    """Time inside ``parent_id`` that no hook covered (``name`` when a hook named the cause)."""

    start_ns: int
    end_ns: int
    parent_id: str | None
    name: str | None = None
    first_call: bool = False

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def label(self) -> str:
        """``untraced`` or the cause a hook recorded, ``(first call)`` when it is one."""
        text = self.name or "untraced"
        return f"{text} (first call)" if self.first_call else text

    def to_dict(self) -> dict[str, object]:
        return {
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "duration_ns": self.duration_ns,
            "parent_id": self.parent_id,
            "name": self.name,
            "first_call": self.first_call,
        }


def gap_cause(span: Span) -> str | None:
    """The cause a hook named for ``span``'s time, if it recorded the span as a gap."""
    cause = span.attributes.get(GAP_CAUSE)
    return cause if isinstance(cause, str) and cause else None


def is_first_call(span: Span) -> bool:
    return span.attributes.get(GAP_FIRST_CALL) is True


def is_structural(span: Span) -> bool:
    """A span whose uncovered time is a gap, not work: root, router, route, mount, solver."""
    if span.parent_id is None:
        return span.phase == "asgi"
    if span.phase == "routing":
        return span.name != "match" and not span.name.startswith("threadpool ")
    return span.phase == "dependency" and span.name == "solve_dependencies"


def is_edge_message(span: Span) -> bool:
    """A message on its way: what is open around it is waiting for it.

    At the server edge (``send``/``receive``), and the response start passing
    through a middleware layer on the way out (``'<layer> response'``, step 8):
    the route that sent it is still open, and deeper than the layer, but it is
    waiting for the layer's ``send`` code, not working.
    """
    return span.parent_id is not None and (
        span.phase == "send"
        or (span.phase == "asgi" and span.name.startswith("receive"))
        or (span.phase == "middleware" and span.step == 8)
    )


@dataclass(frozen=True, slots=True)
class Partition:
    """Own intervals per span id (merged, sorted) and the untraced intervals, in time order."""

    own: Mapping[str, tuple[Interval, ...]]
    untraced: tuple[Untraced, ...]


def partition(spans: Sequence[Span], depth: Mapping[str, int]) -> Partition:
    """Give every instant from the first span start to the last span end one owner.

    A sweep over span boundaries with a heap of open spans (lazy removal):
    O(n log n), so a 1,000-span trace costs milliseconds.
    """
    if not spans:
        return Partition({}, ())
    order = {id(s): n for n, s in enumerate(spans)}

    def rank(span: Span) -> tuple[int, int, int, int]:
        edge = 1 if is_edge_message(span) else 0
        return (edge, depth.get(span.span_id, 0), span.start_ns, order[id(span)])

    starts = sorted((s for s in spans if s.end_ns > s.start_ns), key=lambda s: s.start_ns)
    times = sorted({t for s in starts for t in (s.start_ns, s.end_ns)})
    heap: list[tuple[tuple[int, int, int, int], int]] = []
    own: dict[str, list[Interval]] = {s.span_id: [] for s in spans}
    gaps: list[Untraced] = []
    nxt = 0
    for left, right in pairwise(times):
        while nxt < len(starts) and starts[nxt].start_ns <= left:
            span = starts[nxt]
            heapq.heappush(heap, (_neg(rank(span)), nxt))
            nxt += 1
        while heap and starts[heap[0][1]].end_ns <= left:
            heapq.heappop(heap)
        owner = starts[heap[0][1]] if heap else None
        if owner is None:
            _add_gap(gaps, Untraced(left, right, None))
        elif (cause := gap_cause(owner)) is not None:
            _add_gap(gaps, Untraced(left, right, owner.span_id, cause, is_first_call(owner)))
        elif is_structural(owner):
            _add_gap(gaps, Untraced(left, right, owner.span_id))
        else:
            _add(own[owner.span_id], (left, right))
    return Partition({k: tuple(v) for k, v in own.items()}, tuple(gaps))


def _neg(key: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (-key[0], -key[1], -key[2], -key[3])


def _add(intervals: list[Interval], piece: Interval) -> None:
    if intervals and intervals[-1][1] == piece[0]:
        intervals[-1] = (intervals[-1][0], piece[1])
    else:
        intervals.append(piece)


def _add_gap(gaps: list[Untraced], gap: Untraced) -> None:
    last = gaps[-1] if gaps else None
    if (
        last is not None
        and last.end_ns == gap.start_ns
        and (last.parent_id, last.name) == (gap.parent_id, gap.name)
    ):
        gaps[-1] = Untraced(last.start_ns, gap.end_ns, last.parent_id, last.name, last.first_call)
    else:
        gaps.append(gap)
