"""What the terminal views share: the Rich renderable shell, title and legend lines."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from tracer.analysis.index import analyse
from tracer.model import STEP_NAMES, Trace
from tracer.renderers import theme
from tracer.renderers.canvas import Canvas, cells, clean, wrap
from tracer.renderers.labels import format_duration, status_text

#: narrower consoles get this layout, cropped on the right
MIN_WIDTH = 60


class View:
    """A Rich renderable that lays ``trace`` out at its own width or the console's."""

    def __init__(self, trace: Trace, *, width: int | None = None, ascii: bool = False) -> None:
        self.trace = trace
        self.width = width
        self.ascii = ascii

    def lines(self, width: int) -> list[Text | Canvas]:
        """The view laid out at ``width`` columns."""
        raise NotImplementedError

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from emit(self.lines(max(MIN_WIDTH, self.width or options.max_width)))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = self.width or options.max_width
        return Measurement(width, width)


def emit(lines: list[Text | Canvas]) -> RenderResult:
    """Rich output for a list of laid-out lines (text lines and drawn canvas rows)."""
    for line in lines:
        if isinstance(line, Canvas):
            yield from line.segments()
        else:
            yield line


def plain_text(view: View, console_width: int | None) -> str | None:
    """``view`` as uncoloured text without Rich, or ``None`` when only Rich lays it out right.

    What Rich prints for these lines when colour is off: each canvas row's
    characters, each text line's plain text. Lines Rich would crop or wrap send
    the caller back to Rich. (Pages of a 1,000-span trace: 0.3 s through Rich.)
    """
    width = view.width or console_width
    if width is None or width < MIN_WIDTH:
        return None
    out: list[str] = []
    for line in view.lines(width):
        if isinstance(line, Canvas):
            out.append(line.plain())
            out.append("\n")
            continue
        plain = line.plain
        if "\n" in plain or cells(plain) > width or line.end != "\n":
            return None
        out.append(plain)
        out.append("\n")
    return "".join(out)


class Lines:
    """Already laid-out lines as a Rich renderable (e.g. one page of a step-by-step view)."""

    def __init__(self, lines: list[Text | Canvas]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from emit(self.lines)


def outcome(trace: Trace) -> int | str | None:
    """The status code; for a lifespan trace (no response) how its phase ended."""
    if trace.meta.get("kind") != "lifespan":
        return trace.status_code
    failed = bool(trace.spans) and trace.root.status == "error"
    return f"{trace.meta.get('lifespan', 'lifespan')} {'failed' if failed else 'complete'}"


def outcome_text(status: int | str | None) -> str:
    """``201 Created``, ``no response``, or a lifespan's ``startup complete``."""
    return status if isinstance(status, str) else status_text(status)


def title_lines(
    request: str, status: int | str | None, right: str, width: int, ascii: bool
) -> list[Text]:
    """`` POST /users  201 Created`` with ``right`` flush right (or on its own line)."""
    right = clean(right, ascii)
    line = Text(" ", end="\n")
    line.append(f" {clean(request, ascii)} ", theme.TITLE)
    line.append("  ")
    if isinstance(status, str):  # a lifespan phase: complete or failed
        style = theme.ERROR if status.endswith("failed") else theme.status_style(200)
        line.append(status, style)
    else:
        line.append(status_text(status), theme.status_style(status))
    if line.cell_len + 3 + cells(right) <= width:
        line.append(" " * (width - line.cell_len - cells(right)))
        line.append(right, theme.MUTED)
        return [line]
    return [line, Text(" " + right, theme.MUTED, end="\n")]


#: Ends a note cut at its line budget: the whole of it is in the JSON.
MORE = "… (all of it in --format json)"
NOTE_LINES = 4


def note_lines(
    text: str, width: int, style: str, ascii: bool, max_lines: int = NOTE_LINES
) -> list[Text]:
    """A sentence under a view, wrapped with a hanging indent; never cut mid-sentence
    without saying so: a longer one ends with :data:`MORE` on its last line."""
    text = clean(text, ascii)
    more = " " + clean(MORE, ascii)
    ranges, left_over = wrap(text, width - 3, max_lines)
    lines = [text[a:b] for a, b in ranges]
    if left_over and ranges:
        start = ranges[-1][0]
        last, _ = wrap(text[start:], width - 3 - cells(more), 1)
        lines[-1] = (text[start : start + last[0][1]] if last else "") + more
    return [Text(("   " if n else " ") + line, style, end="\n") for n, line in enumerate(lines)]


def legend_lines(items: list[str], width: int, style: str = theme.DIM) -> list[Text]:
    """Legend items two spaces apart, wrapped to ``width``."""
    lines: list[Text] = []
    current = " "
    for item in items:
        if cells(current) + cells(item) + 2 > width and current.strip():
            lines.append(Text(current.rstrip(), style, end="\n"))
            current = " "
        current += item + "  "
    lines.append(Text(current.rstrip(), style, end="\n"))
    return lines


def step_time_lines(trace: Trace, width: int, micro: str, ascii: bool) -> list[Text]:
    """ "Where the time went": own time per step (children not counted), the top one hot.

    The figures are the index's (the JSON's ``time_by_step_ns``); a step is
    listed when one of its spans was recorded or it has own time. Time no hook
    covered closes the list as ``untraced`` (the JSON's ``untraced_ns``), so the
    items add up to the request's wall time.
    """
    if not trace.spans:
        return []
    index = analyse(trace)
    seen = {index.step_of(s) for s in trace.spans}
    totals = {step: ns for step, ns in index.step_ns.items() if ns or step in seen}
    top = max(totals.values())
    lead = "own time by step  "
    out: list[Text] = []
    line = Text(" " + lead, theme.MUTED, end="\n")
    indent = 1 + len(lead)
    for step, ns in totals.items():
        name = STEP_NAMES.get(step, "lifespan" if step == 0 else f"step {step}")
        item = clean(f"{step} {name} {format_duration(ns, micro)}", ascii)
        if line.cell_len + cells(item) > width and line.cell_len > indent:
            line.rstrip()
            out.append(line)
            line = Text(" " * indent, end="\n")
        line.append(item, theme.HOT if ns == top else theme.MUTED)
        line.append("  ")
    if index.untraced_ns:
        item = clean(f"untraced {format_duration(index.untraced_ns, micro)}", ascii)
        if line.cell_len + cells(item) > width and line.cell_len > indent:
            line.rstrip()
            out.append(line)
            line = Text(" " * indent, end="\n")
        line.append(item, theme.UNTRACED)
    line.rstrip()
    out.append(line)
    return out
