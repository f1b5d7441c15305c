"""The waterfall: one row per span, bars scaled to time.

``█`` is a span's own time, ``─`` time spent waiting on its children, ``┈`` a
yield dependency suspended until its teardown, ``═`` a call's time while a
call beside it ran (counted to that one), ``░`` time no hook covered (an
untraced gap; from 50 µs it gets a row of its own, named when a hook named
it). Bar ends use eighth blocks and every span gets at least one glyph.
``▼┊`` marks when the response was complete; when background work dwarfs the
response the axis breaks (``≈``) and the rest is compressed, so the request
itself keeps most of the width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

from tracer.analysis.accounting import DRAWN_GAP_NS, Untraced
from tracer.analysis.concurrency import parallel_span_ids
from tracer.analysis.index import analyse
from tracer.analysis.processors import failed_here
from tracer.model import Span, Trace
from tracer.renderers import theme
from tracer.renderers.base import TerminalRenderer
from tracer.renderers.canvas import Canvas, cells, clean, truncate
from tracer.renderers.chrome import View, legend_lines, outcome, step_time_lines, title_lines
from tracer.renderers.glyphs import Glyphs, glyphs_for
from tracer.renderers.labels import format_duration, format_offset, header_summary

#: compress the axis after the response when the trace runs this many times longer
COMPRESS_RATIO = 3.0
LINEAR_SHARE = 0.75
DUR_WIDTH = 6


@dataclass(frozen=True, slots=True)
class _Axis:
    """Maps nanoseconds after the trace start to (fractional) bar columns."""

    width: int
    total: int
    linear_end: int  # == total when the axis is not broken
    linear_cols: int

    @property
    def broken(self) -> bool:
        return self.linear_end < self.total

    @property
    def break_col(self) -> int:
        return self.linear_cols

    def x(self, t: int) -> float:
        t = max(0, min(t, self.total))
        if not self.broken:
            return t / max(1, self.total) * self.width
        if t <= self.linear_end:
            return t / max(1, self.linear_end) * self.linear_cols
        rest = self.width - self.linear_cols - 1
        share = (t - self.linear_end) / max(1, self.total - self.linear_end)
        return self.linear_cols + 1 + share * rest


def _axis(trace: Trace, width: int) -> _Axis:
    total = max(1, trace.end_ns - trace.start_ns)
    resp = analyse(trace).response_ns
    if resp and total > COMPRESS_RATIO * resp and width >= 24:
        linear_end = min(total, int(resp * 1.05) + 1)
        return _Axis(width, total, linear_end, round(width * LINEAR_SHARE))
    return _Axis(width, total, total, width)


class WaterfallView(View):
    """A Rich renderable drawing ``trace`` as a waterfall at the console width."""

    def lines(self, width: int) -> list[Text | Canvas]:
        return _Waterfall(self.trace, width, self.ascii).lines()


class WaterfallRenderer(TerminalRenderer):
    """``waterfall``: spans as bars on a time axis, with own time per step."""

    name = "waterfall"
    output_file_extension = "txt"

    def renderable(self, trace: Trace) -> WaterfallView:
        return WaterfallView(trace, width=self.width, ascii=self.ascii)


class _Waterfall:
    def __init__(self, trace: Trace, width: int, ascii: bool) -> None:
        self.trace = trace
        self.width = width
        self.ascii = ascii
        self.g: Glyphs = glyphs_for(ascii)
        self.t0 = trace.start_ns
        self.index = analyse(trace)
        self.depth = self.index.depth
        # chronological, so the waterfall reads as a staircase; names keep the tree indent
        self.spans = sorted(
            self.index.ordered, key=lambda s: (s.start_ns, self.depth.get(s.span_id, 0))
        )
        # a named gap is drawn as the span that named it
        self.gaps = [
            g for g in self.index.untraced if g.duration_ns >= DRAWN_GAP_NS and g.name is None
        ]
        names = [self._name(s) for s in self.spans] + [self._gap_name(g) for g in self.gaps]
        self.name_width = min(max((cells(n) for n in names), default=8), max(16, width * 3 // 10))
        last = format_offset(trace.end_ns - trace.start_ns)
        self.offset_width = max(5, len(last))
        self.bar_x = 1 + 2 + 1 + self.name_width + 1 + self.offset_width + 1
        bar_width = max(8, width - self.bar_x - 1 - DUR_WIDTH)
        self.axis = _axis(trace, bar_width)
        resp = self.index.response_ns
        self.response_col = None if resp is None else self._col(resp)
        self.hot_ns = max(1, (resp or self.axis.total) // 10)
        self.teardowns = _teardowns(trace.spans)
        #: calls that ran beside another one: their time the other owns is drawn ``═``
        self.parallel = parallel_span_ids(trace)

    def _t(self, text: str) -> str:
        return clean(text, self.ascii)

    def _name(self, span: Span) -> str:
        return " " * self.depth.get(span.span_id, 0) + self._t(span.name)

    def _gap_depth(self, gap: Untraced) -> int:
        return 0 if gap.parent_id is None else self.depth.get(gap.parent_id, 0) + 1

    def _gap_name(self, gap: Untraced) -> str:
        return " " * self._gap_depth(gap) + self._t(f"{self.g.untraced} {gap.label}")

    def _col(self, t: int) -> int:
        return min(self.axis.width - 1, int(self.axis.x(t)))

    def lines(self) -> list[Text | Canvas]:
        out: list[Text | Canvas] = [*self._title(), Text(""), *self._header()]
        step: int | None = None
        rows: list[tuple[int, int, Span | Untraced]] = [
            (s.start_ns, self.depth.get(s.span_id, 0), s) for s in self.spans
        ]
        rows.extend((g.start_ns, self._gap_depth(g), g) for g in self.gaps)
        for _, _, item in sorted(rows, key=lambda r: (r[0], r[1])):
            if isinstance(item, Untraced):
                out.append(self._gap_row(item))
                continue
            out.append(self._row(item, item.step if item.step != step else None))
            step = item.step
        out.extend(self._footer())
        return out

    # -- header ----------------------------------------------------------------

    def _title(self) -> list[Text]:
        left, _ = header_summary(self.trace)
        axis = self.axis
        total = format_duration(axis.total, self.g.micro)
        if axis.broken:
            linear = format_duration(axis.linear_end, self.g.micro)
            right = f"axis: 0–{linear} linear {self.g.axis_break} then compressed to {total}"
        else:
            right = f"axis: 0–{total} linear"
        return title_lines(left, outcome(self.trace), right, self.width, self.ascii)

    def _header(self) -> list[Text]:
        g, axis = self.g, self.axis
        labels = Canvas(self.width)
        ticks = Canvas(self.width)
        labels.put(1, "#", "bold")
        labels.put(4, "span", "bold")
        start = "start"
        labels.put(self.bar_x - 1 - cells(start), start, "bold")
        labels.put(self.width - 3, "dur", "bold")
        x0 = self.bar_x
        ticks.put(x0, g.rule * axis.width, theme.FAINT)
        end_text = format_duration(axis.total, g.micro)
        end_x = x0 + axis.width - cells(end_text)
        labels.put(end_x, end_text, theme.MUTED)
        free = x0
        for t in _ticks(axis.linear_end, axis.linear_cols):
            col = self._col(t) if t < axis.total else axis.width - 1
            ticks.put(x0 + col, g.tick_top, theme.FAINT)
            text = "0" if t == 0 else _tick_label(t, g.micro)
            if x0 + col >= free and x0 + col + cells(text) < end_x - 1:
                free = labels.put(x0 + col, text, theme.MUTED) + 1
        ticks.put(x0 + axis.width - 1, g.axis_end, theme.FAINT)
        if axis.broken:
            ticks.put(x0 + axis.break_col, g.axis_break, "bold")
        if self.response_col is not None:
            ticks.put(
                x0 + self.response_col, g.response, theme.status_style(self.trace.status_code)
            )
        return [labels.to_text(), ticks.to_text()]

    # -- rows --------------------------------------------------------------------

    def _row(self, span: Span, step: int | None) -> Canvas:
        g = self.g
        canvas = Canvas(self.width)
        if step is not None:
            canvas.put(1, f"{step:>2}", theme.BADGE)
        color = theme.PHASE[span.phase]
        name = truncate(self._name(span), self.name_width, g.ellipsis)
        failed = failed_here(span)
        canvas.put(4, name, theme.ERROR if failed else color)
        offset = format_offset(span.start_ns - self.t0)
        canvas.put(self.bar_x - 1 - len(offset), offset, theme.MUTED)
        self._bar(canvas, span, theme.ERROR if failed else color)
        dur = format_duration(span.duration_ns, g.micro)
        hot = span.duration_ns >= self.hot_ns
        canvas.put(self.width - cells(dur), dur, theme.HOT if hot else theme.MUTED)
        return canvas

    def _gap_row(self, gap: Untraced) -> Canvas:
        g, base, canvas = self.g, self.t0, Canvas(self.width)
        canvas.put(4, truncate(self._gap_name(gap), self.name_width, g.ellipsis), theme.UNTRACED)
        offset = format_offset(gap.start_ns - base)
        canvas.put(self.bar_x - 1 - len(offset), offset, theme.MUTED)
        first = self._col(gap.start_ns - base)
        last = max(first, min(self.axis.width - 1, math.ceil(self.axis.x(gap.end_ns - base)) - 1))
        canvas.put(self.bar_x + first, g.untraced * (last - first + 1), theme.UNTRACED)
        dur = format_duration(gap.duration_ns, g.micro)
        canvas.put(self.width - cells(dur), dur, theme.UNTRACED)
        return canvas

    def _bar(self, canvas: Canvas, span: Span, color: str) -> None:
        g, axis, x0 = self.g, self.axis, self.bar_x
        base = self.t0
        cells_: list[str] = [""] * axis.width
        own = [
            (axis.x(a - base), axis.x(b - base)) for a, b in self.index.own.get(span.span_id, ())
        ]
        start, end = axis.x(span.start_ns - base), axis.x(span.end_ns - base)
        first = min(axis.width - 1, int(start))
        last = max(first, min(axis.width - 1, math.ceil(end) - 1))
        for col in range(first, last + 1):
            cells_[col] = _cell(col, start, end, own, g)
        if not any(cells_):
            cells_[first] = g.eighths[1] if own else g.wait
        for gap in self.index.untraced_in(span):
            if gap.duration_ns >= DRAWN_GAP_NS:
                a = self._col(gap.start_ns - base)
                b = max(a, min(axis.width - 1, math.ceil(axis.x(gap.end_ns - base)) - 1))
                for col in range(a, b + 1):
                    if cells_[col] in ("", g.wait):
                        cells_[col] = g.untraced
        if span.span_id in self.parallel and not self.index.kids(span):
            cells_ = [g.parallel if c == g.wait else c for c in cells_]
        teardown = self.teardowns.get(span.span_id)
        if teardown is not None and teardown.start_ns > span.end_ns:
            a = self._col(span.end_ns - base) + 1
            b = self._col(teardown.start_ns - base)
            for col in range(a, b + 1):
                cells_[col] = cells_[col] or g.suspended
        for event in span.events:
            col = self._col(event.time_ns - base)
            cells_[col] = g.error if event.name == "exception" else g.mark
        if failed_here(span) and not span.events:
            cells_[last] = g.error
        if axis.broken:
            cells_[axis.break_col] = g.axis_break
        for col, char in enumerate(cells_):
            if char:
                style = theme.DIM if char in (g.axis_break, g.suspended) else color
                if char == g.untraced:
                    style = theme.UNTRACED
                if char == g.error:
                    style = theme.ERROR
                canvas.put(x0 + col, char, style)
            elif col == self.response_col:
                canvas.put(x0 + col, g.response_line, theme.status_style(self.trace.status_code))

    # -- footer --------------------------------------------------------------------

    def _footer(self) -> list[Text]:
        g = self.g
        items = [
            f"{g.full} own time",
            f"{g.wait} waiting on children",
            f"{g.suspended} suspended (yield dep)",
            f"{g.untraced} untraced",
            f"{g.mark} event",
            f"{g.error} error",
            f"{g.response}{g.response_line} response complete",
        ]
        if self.parallel:
            items.insert(2, f"{g.parallel} beside a parallel call (its time counted there)")
        if self.axis.broken:
            items.append(f"{g.axis_break} axis break")
        out = legend_lines(items, self.width)
        out.extend(step_time_lines(self.trace, self.width, g.micro, self.ascii))
        return out


def _teardowns(spans: list[Span]) -> dict[str, Span]:
    """Each yield dependency's teardown, by the dependency's span id.

    Only a dependency that really ran to its ``yield`` is suspended: a cached
    use of it (``dependency.cached``) or a plain one is not, even when a
    teardown with its name runs later. Teardowns pair with the first uncached
    generator of their name (``dependency.name``, else the span name).
    """
    out: dict[str, Span] = {}
    pending = [
        s
        for s in sorted(spans, key=lambda s: s.start_ns)
        if s.phase == "dependency"
        and s.attributes.get("dependency.kind") in ("generator", "async_generator")
        and not s.attributes.get("dependency.cached")
    ]
    for teardown in sorted(spans, key=lambda s: s.start_ns):
        if teardown.phase != "dependency" or not teardown.name.endswith(" teardown"):
            continue
        name = teardown.attributes.get("dependency.name") or teardown.name.removesuffix(" teardown")
        match = next((d for d in pending if d.name == name), None)
        if match is not None:
            pending.remove(match)
            out[match.span_id] = teardown
    return out


def _cell(col: int, start: float, end: float, own: list[tuple[float, float]], g: Glyphs) -> str:
    """The glyph for one column of a bar spanning ``start``–``end`` (in columns)."""
    lo, hi = float(col), float(col + 1)
    covered = max(0.0, min(end, hi) - max(start, lo))
    own_cov, own_lo, own_hi = 0.0, hi, lo
    for a, b in own:
        part = min(b, hi) - max(a, lo)
        if part > 0:
            own_cov += part
            own_lo, own_hi = min(own_lo, max(a, lo)), max(own_hi, min(b, hi))
    if own_cov >= 7 / 8:
        return g.full
    if own_cov >= 3 / 16 or (own_cov > 0 and covered <= own_cov + 1e-9):
        if own_hi >= hi - 1e-9 and own_lo > lo + 1e-9:  # own time fills the cell's right side
            return g.right_half if own_cov >= 3 / 8 else g.right_eighth
        return g.eighths[min(7, max(1, round(own_cov * 8)))]
    if covered >= 0.25 or (covered > 0 and end - start < 1):
        return g.wait
    return ""


def _ticks(span: int, cols: int) -> list[int]:
    """Round tick values over ``0..span`` ns: about one per 12 columns, at least three."""
    wanted = max(3, cols // 12)
    raw = span / wanted
    power = 10 ** math.floor(math.log10(max(raw, 1)))
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= raw), 10 * power)
    return [int(i * step) for i in range(int(span // step) + 1)]


def _tick_label(ns: int, micro: str) -> str:
    if ns % 1_000_000 == 0:
        return f"{ns // 1_000_000}ms"
    if ns % 1_000 == 0 and ns < 1_000_000:
        return f"{ns // 1_000}{micro}s"
    return format_duration(ns, micro)


__all__ = ["WaterfallRenderer", "WaterfallView"]
