"""Work that ran at the same time inside one request: concurrent DB sessions, parallel calls.

The index gives every instant one owner (design §5: among spans running at
once, the one that started last), so overlapping work is never counted twice
in the step totals. That rule says nothing about *drawing*: a renderer needs
to know which calls overlapped so it shows them side by side, not one after
the other. This module finds them, from the trace alone.

Only calls are considered (database work and outbound HTTP): spans a request
awaits one at a time unless the app started tasks (``asyncio.gather``, a task
group). Two such spans run in parallel when their intervals overlap and
neither is inside the other's call: a span nested under another, or a
statement inside a ``pool checkout`` (a new connection's set-up queries), is
part of that call, not beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer.analysis.index import TraceIndex, analyse, merge_intervals
from tracer.model import Span, Trace

#: the phases whose spans are calls another task can make at the same time
CALL_PHASES = frozenset({"db", "outbound"})


@dataclass(frozen=True, slots=True)
class ParallelGroup:
    """Calls that overlapped, directly or through each other, in start order."""

    spans: tuple[Span, ...]
    #: the most calls running at one instant
    width: int
    #: the time at least one of them ran (their union)
    busy_ns: int
    #: what they would have taken one after another (the sum of their durations)
    serial_ns: int

    @property
    def start_ns(self) -> int:
        return self.spans[0].start_ns

    @property
    def end_ns(self) -> int:
        return max(s.end_ns for s in self.spans)

    @property
    def span_ids(self) -> frozenset[str]:
        return frozenset(s.span_id for s in self.spans)


def _nested(ix: TraceIndex, outer: Span, inner: Span) -> bool:
    """``inner`` is part of ``outer``'s call (a descendant, or set-up inside a checkout)."""
    if outer in ix.ancestors(inner):
        return True
    inside = outer.start_ns <= inner.start_ns and inner.end_ns <= outer.end_ns
    return inside and outer.phase == "db" and outer.name == "pool checkout"


def _width(spans: list[Span]) -> int:
    edges = sorted([(s.start_ns, 1) for s in spans] + [(s.end_ns, -1) for s in spans])
    most = running = 0
    for _, step in edges:  # an end sorts before a start at the same instant
        running += step
        most = max(most, running)
    return most


def parallel_groups(trace: Trace) -> list[ParallelGroup]:
    """Every group of calls that ran at the same time, in the order they started."""
    ix = analyse(trace)
    calls = sorted(
        (s for s in trace.spans if s.phase in CALL_PHASES and s.end_ns > s.start_ns),
        key=lambda s: (s.start_ns, -s.end_ns),
    )
    group = list(range(len(calls)))

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, first in enumerate(calls):
        for j in range(i + 1, len(calls)):
            second = calls[j]
            if second.start_ns >= first.end_ns:
                break
            if not (_nested(ix, first, second) or _nested(ix, second, first)):
                group[find(j)] = find(i)
    members: dict[int, list[Span]] = {}
    for i, span in enumerate(calls):
        members.setdefault(find(i), []).append(span)
    out: list[ParallelGroup] = []
    for spans in members.values():
        if len(spans) < 2:
            continue
        width = _width(spans)
        if width < 2:  # joined only through nested calls
            continue
        busy = sum(b - a for a, b in merge_intervals((s.start_ns, s.end_ns) for s in spans))
        serial = sum(s.duration_ns for s in spans)
        out.append(ParallelGroup(tuple(spans), width, busy, serial))
    return sorted(out, key=lambda g: g.start_ns)


def parallel_span_ids(trace: Trace) -> frozenset[str]:
    """Ids of the calls that ran beside another one."""
    return frozenset(i for g in parallel_groups(trace) for i in g.span_ids)
