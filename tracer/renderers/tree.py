"""The tree: a compact, plain-text span tree for logs and quick reading.

One line per span in tree order: name, duration, step and phase, and the
error when the span failed; an untraced gap of 50 µs or more gets a line of
its own among its span's children (no step: it is nobody's work). No colour,
no box drawing in ASCII mode.
"""

from __future__ import annotations

from tracer.analysis.accounting import DRAWN_GAP_NS, Untraced
from tracer.analysis.index import TraceIndex, analyse
from tracer.analysis.processors import error_type, exception_of
from tracer.model import PHASES, Span, Trace
from tracer.renderers.base import Renderer
from tracer.renderers.canvas import cells, clean, truncate, wrap
from tracer.renderers.chrome import outcome, outcome_text, step_time_lines
from tracer.renderers.glyphs import NBSP, Glyphs, glyphs_for
from tracer.renderers.labels import format_duration, header_summary, notes

#: names are padded to this many cells at most, so durations line up
NAME_COLUMN = 56
PHASE_WIDTH = max(len(p) for p in PHASES)


class TreeRenderer(Renderer):
    """``tree``: an indented span tree with durations and step/phase, plain text.

    Columns never drift: durations, steps and phases sit in one column whatever
    the names; a name too long for its column is cut (``…``), a deep tree is
    indented by fewer cells, and an error that does not fit after the phase
    goes on lines of its own under it, all within the width.
    """

    name = "tree"
    output_file_extension = "txt"

    def render(self, trace: Trace) -> str:
        g = glyphs_for(self.ascii)
        # without a width (a log, a file) lines may run on; names still stop at NAME_COLUMN
        width = self.width or NAME_COLUMN + RIGHT_WIDTH
        limit = self.width or 10_000
        left, right = header_summary(trace)
        head = "  ".join(clean(t, self.ascii) for t in (left, outcome_text(outcome(trace)), right))
        index = analyse(trace)
        # a named gap is drawn as the span that named it
        gaps = [g for g in index.untraced if g.duration_ns >= DRAWN_GAP_NS and g.name is None]
        # wide screens give names more room, two thirds of what the right columns leave
        cap = max(NAME_COLUMN, (width - RIGHT_WIDTH) * 2 // 3) if self.width else NAME_COLUMN
        column = max(MIN_NAME, min(cap, width - RIGHT_WIDTH))
        nodes = _walk(index, gaps)
        deepest = max((depth for depth, *_ in nodes), default=0)
        unit = next((u for u in (3, 2) if u * deepest + MIN_NAME <= column), 1)
        lines: list[tuple[str, Span | Untraced, str]] = []
        for _depth, span, marks in nodes:
            prefix = "".join(_piece(g, m, unit) for m in marks)
            name = f"{g.untraced} {span.label}" if isinstance(span, Untraced) else span.name
            room = max(1, column - cells(prefix))
            lines.append(
                (prefix + truncate(clean(name, self.ascii), room, g.ellipsis), span, prefix)
            )
        column = min(column, max((cells(text) for text, _, _ in lines), default=0))
        out = [head]
        for text, span, prefix in lines:
            pad = " " * max(0, column - cells(text))
            dur = format_duration(span.duration_ns, g.micro)
            if isinstance(span, Untraced):
                out.append(f"{text}{pad}  {dur:>7}")
                continue
            line = f"{text}{pad}  {dur:>7}  {span.step:>2} {span.phase}"
            problem = _problem(span, g)
            if not problem:
                out.append(line)
                continue
            problem = clean(problem, self.ascii)
            tail = f"{' ' * (PHASE_WIDTH - len(span.phase))}  {problem}"
            if cells(line + tail) <= limit:
                out.append(line + tail)
                continue
            out.append(line)
            out.extend(_under(problem, prefix, column, width, g))
        summary = self.width or 100
        out.extend(t.plain for t in step_time_lines(trace, summary, g.micro, self.ascii))
        return "\n".join(out).replace(NBSP, " ") + "\n"


#: ``  {dur:>7}  {step:>2} {phase}``: what sits right of the name column
RIGHT_WIDTH = 2 + 7 + 2 + 2 + 1 + PHASE_WIDTH
#: a name keeps at least this many cells, however deep the tree
MIN_NAME = 12
#: an error under its span wraps over at most this many lines
PROBLEM_LINES = 3

#: tree pieces: ("branch" | "last") for the node's own connector, ("pipe" | "blank") above
_Mark = str


def _walk(
    index: TraceIndex, gaps: list[Untraced]
) -> list[tuple[int, Span | Untraced, list[_Mark]]]:
    """Tree order: ``(depth, span or gap, connector marks)`` per line."""
    out: list[tuple[int, Span | Untraced, list[_Mark]]] = []

    def walk(span: Span | Untraced, marks: list[_Mark], depth: int) -> None:
        out.append((depth, span, marks))
        if isinstance(span, Untraced):
            return
        below: list[Span | Untraced] = [*index.kids(span)]
        below.extend(gap for gap in gaps if gap.parent_id == span.span_id)
        below.sort(key=lambda item: item.start_ns)
        above = [
            ("pipe" if m == "branch" else "blank") if m in ("branch", "last") else m for m in marks
        ]
        for i, child in enumerate(below):
            last = i == len(below) - 1
            walk(child, [*above, "last" if last else "branch"], depth + 1)

    for root in index.kids(None):
        walk(root, [], 0)
    return out


def _piece(g: Glyphs, mark: _Mark, unit: int) -> str:
    """One level of indentation, ``unit`` cells wide (3: ``├─ ``, 2: ``├ ``, 1: ``├``)."""
    full = {"branch": g.branch, "last": g.last, "pipe": g.pipe, "blank": "   "}[mark]
    if unit == 3:
        return full
    return full[0] + " " * (unit - 1)


def _under(problem: str, prefix: str, column: int, width: int, g: Glyphs) -> list[str]:
    """An error that does not fit after the phase: wrapped under the duration column, the
    tree's lines carried on at its left."""
    keep = "".join(g.pipe[0] if c in (g.branch[0], g.pipe[0]) else " " for c in prefix)
    room = max(8, width - column - 2)
    ranges, more = wrap(problem, room, PROBLEM_LINES)
    chunks = [problem[a:b] for a, b in ranges]
    if more and chunks:
        chunks[-1] = truncate(chunks[-1] + " " + g.ellipsis, room, g.ellipsis)
    return [f"{keep}{' ' * max(0, column - cells(keep))}  {c}".rstrip() for c in chunks]


def _problem(span: Span, g: Glyphs) -> str:
    raised = exception_of(span)
    if raised is not None:
        kind, message = raised
        return f"{g.error} {kind}" + (f": {message}" if message else "")
    errors = notes(span)
    if errors:
        return f"{g.error} " + "; ".join(errors)
    propagated = error_type(span)
    return f"{g.raised} {propagated}" if propagated else ""
