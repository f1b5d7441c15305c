"""The tree: a compact, plain-text span tree for logs and quick reading.

One line per span in tree order: name, duration, step and phase, and the
error when the span failed; an untraced gap of 50 µs or more gets a line of
its own among its span's children (no step: it is nobody's work). No colour,
no box drawing in ASCII mode.
"""

from __future__ import annotations

from tracer.analysis.accounting import DRAWN_GAP_NS, Untraced
from tracer.analysis.index import analyse
from tracer.analysis.processors import error_type, exception_of
from tracer.model import PHASES, Span, Trace
from tracer.renderers.base import Renderer
from tracer.renderers.canvas import cells, clean
from tracer.renderers.chrome import outcome, outcome_text, step_time_lines
from tracer.renderers.glyphs import NBSP, Glyphs, glyphs_for
from tracer.renderers.labels import format_duration, header_summary, notes

#: names are padded to this many cells at most, so durations line up
NAME_COLUMN = 56
PHASE_WIDTH = max(len(p) for p in PHASES)


class TreeRenderer(Renderer):
    """``tree``: an indented span tree with durations and step/phase, plain text."""

    name = "tree"
    output_file_extension = "txt"

    def render(self, trace: Trace) -> str:
        g = glyphs_for(self.ascii)
        left, right = header_summary(trace)
        head = "  ".join(clean(t, self.ascii) for t in (left, outcome_text(outcome(trace)), right))
        lines: list[tuple[str, Span | Untraced]] = []
        index = analyse(trace)
        # a named gap is drawn as the span that named it
        gaps = [g for g in index.untraced if g.duration_ns >= DRAWN_GAP_NS and g.name is None]

        def walk(span: Span | Untraced, prefix: str, last: bool, top: bool) -> None:
            branch = "" if top else (g.last if last else g.branch)
            if isinstance(span, Untraced):
                label = clean(f"{g.untraced} {span.label}", self.ascii)
                lines.append((prefix + branch + label, span))
                return
            lines.append((prefix + branch + clean(span.name, self.ascii), span))
            below: list[Span | Untraced] = [*index.kids(span)]
            below.extend(gap for gap in gaps if gap.parent_id == span.span_id)
            below.sort(key=lambda item: item.start_ns)
            inner = prefix if top else prefix + ("   " if last else g.pipe)
            for i, child in enumerate(below):
                walk(child, inner, i == len(below) - 1, False)

        for root in index.kids(None):
            walk(root, "", True, True)
        width = min(NAME_COLUMN, max((cells(text) for text, _ in lines), default=0))
        out = [head]
        for text, span in lines:
            pad = " " * max(0, width - cells(text))
            dur = format_duration(span.duration_ns, g.micro)
            if isinstance(span, Untraced):
                out.append(f"{text}{pad}  {dur:>7}")
                continue
            line = f"{text}{pad}  {dur:>7}  {span.step:>2} {span.phase}"
            problem = _problem(span, g)
            if problem:
                pad = " " * (PHASE_WIDTH - len(span.phase))
                line += f"{pad}  {clean(problem, self.ascii)}"
            out.append(line)
        width = self.width or 100
        out.extend(t.plain for t in step_time_lines(trace, width, g.micro, self.ascii))
        return "\n".join(out).replace(NBSP, " ") + "\n"


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
