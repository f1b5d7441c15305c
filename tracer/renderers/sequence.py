"""The terminal sequence diagram: one lifeline per lane, one row per event.

Time lives in the margins (step badge and offset on the left, span duration
on the right); rows are not scaled to time, a ``⋮ 38.5ms later`` row marks a
long gap. Lanes sit at a fixed pitch derived from the width, and a label never
widens a gap: it starts right of the arrow and wraps before the right margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from rich.text import Text

from tracer.analysis.explain import StepExplanation, explain
from tracer.analysis.processors import response_ns
from tracer.model import Trace
from tracer.renderers import theme
from tracer.renderers.base import TerminalRenderer
from tracer.renderers.canvas import Canvas, cells, clean
from tracer.renderers.chrome import (
    View,
    legend_lines,
    note_lines,
    outcome,
    step_time_lines,
    title_lines,
)
from tracer.renderers.flow import Flow, Row, build_flow
from tracer.renderers.flow_layers import YOURS
from tracer.renderers.glyphs import NBSP, Glyphs, glyphs_for
from tracer.renderers.labels import format_duration, format_offset, header_summary
from tracer.renderers.sequence_text import (
    header_names,
    label_room,
    lane_styles,
    layer_legend,
    styled_wrap,
)

#: below this width pass-through middleware layers share one lane
FOLD_BELOW = 90
MIN_PITCH, MAX_PITCH = 3, 8
DUR_WIDTH = 6
MAX_LABEL_LINES = 3
MAX_NOTES = 3


@dataclass(frozen=True, slots=True)
class _Layout:
    width: int
    offset_width: int
    x0: int
    pitch: int
    label_end: int  # labels stop before this column

    def x(self, lane: int) -> int:
        return self.x0 + lane * self.pitch


def _layout(flow: Flow, width: int) -> _Layout:
    last = flow.trace.end_ns - flow.trace.start_ns
    offset_width = max(5, len(format_offset(last)))
    x0 = 1 + 2 + 1 + offset_width + 3
    label_end = width - DUR_WIDTH - 2
    room = max(18, (label_end - x0) // 3)
    n = max(1, len(flow.lanes.lanes) - 1)
    pitch = max(MIN_PITCH, min(MAX_PITCH, (label_end - x0 - room - 1) // n))
    return _Layout(width, offset_width, x0, pitch, label_end)


class SequenceView(View):
    """A Rich renderable drawing ``trace`` as a sequence diagram at the console width.

    With ``explain``, the first row of each of the ten steps is preceded by what
    that layer is responsible for and what it did in this request, and steps
    that did not happen are listed with the reason (see :mod:`tracer.analysis.explain`).
    """

    def __init__(
        self,
        trace: Trace,
        *,
        width: int | None = None,
        ascii: bool = False,
        explain: bool = False,
    ) -> None:
        super().__init__(trace, width=width, ascii=ascii)
        self.explain = explain

    def lines(self, width: int) -> list[Text | Canvas]:
        return [line for page in self.pages(width) for line in page]

    def pages(self, width: int) -> list[list[Text | Canvas]]:
        """Header, one page per step group (for step-by-step reveal), footer."""
        return [page for _, page in self.step_pages(width)]

    def step_pages(self, width: int) -> list[tuple[int | None, list[Text | Canvas]]]:
        """:meth:`pages` with each page's step (``None``: header, footer), for ``--step N``."""
        flow = build_flow(self.trace)
        layout = _layout(flow, width)
        if width >= FOLD_BELOW and layout.pitch < 4:
            # the app's layers keep lanes apart from FastAPI's where that fits
            flow = build_flow(self.trace, fold_by_owner=True)
            layout = _layout(flow, width)
        if width < FOLD_BELOW or layout.pitch < 4:
            flow = build_flow(self.trace, fold_middleware=True)
            layout = _layout(flow, width)
        notes = None
        if self.explain:
            notes = {e.step: e for e in explain(self.trace)}
        drawing = _Drawing(flow, layout, glyphs_for(self.ascii), self.ascii, notes)
        pages = drawing.pages()
        return list(zip(drawing.page_steps, pages, strict=True))


class SequenceRenderer(TerminalRenderer):
    """``sequence``: the default view, a terminal sequence diagram of the request."""

    name = "sequence"
    output_file_extension = "txt"

    def __init__(
        self,
        *,
        width: int | None = None,
        ascii: bool = False,
        color: bool = True,
        explain: bool = False,
    ) -> None:
        super().__init__(width=width, ascii=ascii, color=color)
        self.explain = explain

    def renderable(self, trace: Trace) -> SequenceView:
        return SequenceView(trace, width=self.width, ascii=self.ascii, explain=self.explain)


class _Drawing:
    def __init__(
        self,
        flow: Flow,
        layout: _Layout,
        glyphs: Glyphs,
        ascii: bool,
        notes: dict[int, StepExplanation] | None = None,
    ) -> None:
        self.notes = notes
        self.flow = flow
        self.lay = layout
        self.g = glyphs
        self.ascii = ascii
        self.lane_style = lane_styles(flow)
        lane_glyphs = (glyphs.unreached, glyphs.active, glyphs.idle)
        self._narrow_lanes = all(
            len(c) == 1 and cells(c) == 1
            for c in (*lane_glyphs, glyphs.gap_active, glyphs.gap_idle)
        )
        self.t0 = flow.trace.start_ns
        resp = response_ns(flow.trace)
        total = resp if resp is not None else flow.trace.end_ns - flow.trace.start_ns
        self.hot_ns = max(1, total // 10)

    def pages(self) -> list[list[Text | Canvas]]:
        head: list[Text | Canvas] = [*self._title(), Text("")]
        head.extend([*self._names(top=True), self._ticks(top=True)])
        pages: list[list[Text | Canvas]] = [head]
        self.page_steps: list[int | None] = [None]
        step: int | None = None
        explained: set[int] = set()
        for row in self.flow.rows:
            shown = row.step if row.step is not None and row.step != step else None
            if row.step is not None:
                step = row.step
            if shown is not None or len(pages) == 1:
                pages.append([])
                self.page_steps.append(step)
            if shown is not None and self.notes and shown not in explained:
                explained.add(shown)
                pages[-1].extend(self._step_note(shown))
            pages[-1].extend(self._row(row, shown))
        tail: list[Text | Canvas] = [self._ticks(top=False)]
        tail.extend(self._names(top=False))
        tail.extend(self._footer())
        if self.notes:
            tail.extend(self._not_happened())
        pages.append(tail)
        self.page_steps.append(None)
        return pages

    def _step_note(self, step: int) -> list[Text | Canvas]:
        assert self.notes is not None
        note = self.notes.get(step)
        if note is None:
            return []
        width = self.lay.width
        title = self._t(f"{step} · {note.role or note.name}")
        line = Text(self.g.rule * 2 + " ", theme.DIM, end="\n")
        line.append(title, theme.BADGE)
        line.append(" " + self.g.rule * max(0, width - line.cell_len - 1), theme.DIM)
        out: list[Text | Canvas] = [line]
        out.extend(note_lines(f"  {note.text}", width, "italic", self.ascii))
        return out

    def _not_happened(self) -> list[Text | Canvas]:
        assert self.notes is not None
        missing = [n for n in self.notes.values() if not n.happened]
        if not missing:
            return []
        out: list[Text | Canvas] = [Text(" steps that did not happen", "bold", end="\n")]
        for note in sorted(missing, key=lambda n: n.step):
            text = f"  {note.step} {note.name}: {note.text}"
            out.extend(note_lines(text, self.lay.width, theme.MUTED, self.ascii))
        return out

    # -- header and footer ---------------------------------------------------

    def _title(self) -> list[Text]:
        trace = self.flow.trace
        left, right = header_summary(trace)
        return title_lines(left, outcome(trace), right, self.lay.width, self.ascii)

    def _names(self, *, top: bool) -> list[Text]:
        lanes = self.flow.lanes.lanes
        pitch = self.lay.pitch
        marks = [self._t(YOURS) if lane.owner == "yours" else "" for lane in lanes]
        names_in = [self._t(lane.name) for lane in lanes]
        count, names = header_names(names_in, pitch, self.g.ellipsis, marks)
        rows = [Canvas(self.lay.width) for _ in range(count)]
        for i, lane in enumerate(lanes):
            name = names[i]
            x = self.lay.x(i) - (cells(name) - 1) // 2
            x = max(0, min(x, self.lay.width - cells(name)))
            style = "bold " + self.lane_style[i] if lane.reached else theme.FAINT
            rows[i % count].put(x, name, style)
        lines = [c.to_text() for c in rows]
        return lines if top else lines[::-1]

    def _ticks(self, *, top: bool) -> Text:
        canvas = Canvas(self.lay.width)
        g = self.g
        if top:
            head = f"#  {'t ms':>{self.lay.offset_width}}"
            canvas.put(2, head, "bold")
            canvas.put(self.lay.width - 3, "dur", "bold")
        else:
            canvas.put(1, g.rule * (self.lay.x0 - 3), theme.FAINT)
        for i, lane in enumerate(self.flow.lanes.lanes):
            style = self.lane_style[i] if lane.reached else theme.FAINT
            canvas.put(self.lay.x(i), g.tick_top if top else g.tick_bottom, style)
        return canvas.to_text()

    def _footer(self) -> list[Text]:
        g = self.g
        items = [
            f"{g.call}{g.head_right} call",
            f"{g.ret}{g.head_right} return",
            f"{g.work} work",
            f"{g.event} event",
            f"{g.error} error",
            f"{g.untraced} untraced",
            f"{g.active} active",
            f"{g.idle} idle",
        ]
        if self.flow.not_reached:
            items.append(f"{g.unreached} not reached")
        items.append("dur = span duration")
        out = legend_lines(items, self.lay.width)
        out.extend(layer_legend(self.flow, width=self.lay.width, ascii=self.ascii))
        if self.flow.not_reached:
            text = f"{g.empty_set} not reached: {', '.join(self.flow.not_reached)}"
            out.extend(note_lines(text, self.lay.width, theme.MUTED, self.ascii))
        for warning in self.flow.warnings:
            out.extend(note_lines(f"{g.warn} {warning}", self.lay.width, theme.WARN, self.ascii))
        out.extend(step_time_lines(self.flow.trace, self.lay.width, g.micro, self.ascii))
        return out

    # -- rows ----------------------------------------------------------------

    def _t(self, text: str) -> str:
        return clean(text, self.ascii)

    def _lanes(self, canvas: Canvas, t: int, gap: bool = False) -> None:
        g, lm = self.g, self.flow.lanes
        # lane glyphs are one cell wide (glyphs.py): written cell by cell, not measured
        put = canvas.put_cell if self._narrow_lanes else canvas.put
        for i, lane in enumerate(lm.lanes):
            x = self.lay.x(i)
            if not lane.reached:
                put(x, g.unreached, theme.FAINT)
            elif lm.is_active(i, t):
                put(x, g.gap_active if gap else g.active, self.lane_style[i])
            else:
                put(x, g.gap_idle if gap else g.idle, theme.FAINT)

    def _row(self, row: Row, step: int | None) -> list[Canvas]:
        lay, g = self.lay, self.g
        first = Canvas(lay.width)
        if row.kind == "gap":
            self._lanes(first, row.time_ns, gap=True)
            first.put(3 + lay.offset_width, g.vdots, theme.DIM)
            text = self._t(row.text)
            first.put(lay.width - cells(text), text, "italic " + theme.DIM)
            return [first]
        if step is not None:
            first.put(1, f"{step:>2}", theme.BADGE)
        offset = format_offset(row.time_ns - self.t0)
        first.put(4, f"{offset:>{lay.offset_width}}", theme.MUTED)
        self._lanes(first, row.time_ns)
        label_x = self._arrow(first, row)
        if row.dur_ns is not None:
            dur = format_duration(row.dur_ns, g.micro)
            hot = row.dur_ns >= self.hot_ns
            style = theme.HOT if hot else theme.MUTED
            if row.kind == "untraced":
                style = theme.UNTRACED
            first.put(lay.width - cells(dur), dur, style)
        return [first, *self._label(row, first, label_x)]

    def _arrow(self, canvas: Canvas, row: Row) -> int:
        """Draw the row's arrow or marker; return the column its label starts at."""
        lay, g = self.lay, self.g
        x_src, x_dst = lay.x(row.src), lay.x(row.dst)
        if row.kind == "untraced":
            canvas.put(x_dst, g.untraced, theme.UNTRACED)
            return x_dst + 2
        if row.kind in ("work", "event"):
            mark = g.error if row.error else g.event if row.kind == "event" else g.work
            style = theme.ERROR if row.error else self.lane_style[row.dst]
            canvas.put(x_dst, mark, style)
            return x_dst + 2
        if row.kind == "call":
            style = self.lane_style[row.dst]
            # a call that returns on the same row ends in ● (or ✖ when it failed)
            mark, mark_style = g.active, style
            if row.leaf:
                mark, mark_style = (g.error, theme.ERROR) if row.error else (g.work, style)
            canvas.put(x_dst, mark, mark_style)
            if row.dst > row.src:  # to the right
                canvas.put(x_src, g.out_active, style)
                canvas.put(x_src + 1, g.call * (x_dst - x_src - 2) + g.head_right, style)
                return x_dst + 2
            canvas.put(x_dst + 1, g.head_left + g.call * (x_src - x_dst - 2), style)
            canvas.put(x_src, g.back_active, style)
            return x_src + 2
        # to the left: a return, a message or a hop, maybe relayed through lanes
        if row.kind == "return":
            line, style = g.ret, theme.ERROR if row.error else theme.RETURN
        else:
            line = g.call
            style = theme.ERROR if row.error else self.lane_style[row.src]
        stops = sorted({row.dst, *row.via, row.src})
        for a, b in pairwise(stops):
            xa, xb = lay.x(a), lay.x(b)
            canvas.put(xa + 1, g.head_left + line * (xb - xa - 2), style)
            canvas.put(xb, g.back_active, style)
        return x_src + 2

    def _label(self, row: Row, first: Canvas, label_x: int) -> list[Canvas]:
        g = self.g
        text_style = theme.ERROR if row.error and row.kind != "call" else ""
        if row.kind == "return":
            text_style = theme.ERROR if row.error else theme.RETURN
        if row.kind == "untraced":
            text_style = theme.UNTRACED
        # no-break spaces: the wrapper drops a line's leading spaces, not these
        prefix = (NBSP * 2 * (row.depth - 1) + g.nested) if row.depth else ""
        text = row.text
        if row.kind == "return" and row.count > 1:
            text += f" (unwind ×{row.count})"
        pieces: list[tuple[str, str]] = [(prefix, theme.DIM), (self._t(text), text_style)]
        if row.result:
            result_style = theme.ERROR if row.error else theme.MUTED
            pieces.append((f" {g.result}{NBSP}{self._t(row.result)}", result_style))
        label_x, end = self._label_end(row, label_x)
        # a shared way-out row lists each layer's header changes: a line more for each
        max_lines = MAX_LABEL_LINES + (min(8, 2 * len(row.changes)) if row.kind == "hop" else 0)
        lines = styled_wrap(pieces, end - label_x, max_lines, g.ellipsis)
        for note in row.notes[:MAX_NOTES]:
            note = self._t(note)
            # an error result reads "⇒ ✗ Type: message"; a validation error "✗ loc: msg"
            lead = f"{g.result} " if note.startswith(g.raised) else f"{g.raised} "
            note_pieces = [(lead, theme.ERROR), (note, "red1")]
            lines.extend(styled_wrap(note_pieces, end - label_x, 3, g.ellipsis))
        if len(row.notes) > MAX_NOTES:
            more = f"{g.ellipsis} {len(row.notes) - MAX_NOTES} more"
            lines.extend(styled_wrap([(more, "red1")], end - label_x, 1, g.ellipsis))
        out: list[Canvas] = []
        for n, line in enumerate(lines):
            canvas = first
            if n:
                canvas = Canvas(self.lay.width)
                self._lanes(canvas, row.time_ns)
            x = label_x
            # clear the lane glyphs under the label (and one cell after it)
            run, run_style = "", ""
            for char, style in line:  # one put per run of same-styled characters
                if style != run_style and run:
                    x = canvas.put(x, run, run_style, limit=end)
                    run = ""
                run_style = style
                run += char
            if run:
                x = canvas.put(x, run, run_style, limit=end)
            if canvas.char(x) not in (" ", "") and x < end:
                canvas.put(x, " ")
            if n:
                out.append(canvas)
        return out

    def _label_end(self, row: Row, label_x: int) -> tuple[int, int]:
        """Where the label goes: between lifelines already running, never over one."""
        lm, t = self.flow.lanes, row.time_ns
        busy = [i for i in range(len(lm.lanes)) if lm.is_active(i, t) and lm.is_active(i, t - 1)]
        xs = [self.lay.x(i) for i in busy if i not in (row.src, row.dst)]
        return label_room(xs, label_x, self.lay.label_end)
