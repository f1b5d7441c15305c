"""Text helpers of the sequence diagram: lane names that fit, lane colours, styled wrapping."""

from __future__ import annotations

from rich.text import Text

from tracer.analysis.index import analyse
from tracer.renderers import theme
from tracer.renderers.canvas import cells, truncate, wrap
from tracer.renderers.chrome import note_lines
from tracer.renderers.flow import Flow
from tracer.renderers.flow_layers import YOURS, marked
from tracer.renderers.glyphs import glyphs_for

#: one short name per framework layer at every width (its middleware-in row spells the class out)
SHORT_LANE_NAMES = {
    "ExceptionTelemetry": "ExcTelemetry",
    "AppBodyLimit": "BodyLimit",
    "AsyncExitStack": "ExitStack",
}
#: lane names are staggered over at most this many header rows
MAX_NAME_ROWS = 4
#: a label squeezed into less than this moves on past the active lifelines in its way
MIN_LABEL_ROOM = 16


def header_names(
    names: list[str], pitch: int, ellipsis: str, marks: list[str] | None = None
) -> tuple[int, list[str]]:
    """Lane headers staggered over the fewest rows in which no name is cut mid-word
    (``Seriali…``), each in its short form (``ExcTelemetry``) and fitted to its slot;
    a lane's mark (``★``, the app's own middleware) survives the cut (``request_id…★``)."""
    short = [SHORT_LANE_NAMES.get(n, n) for n in names]
    tags = marks or [""] * len(short)
    count = next(
        (
            k
            for k in range(1, MAX_NAME_ROWS)
            if all(
                _whole_words(n, k * pitch - 1 - cells(t), ellipsis)
                for n, t in zip(short, tags, strict=True)
            )
        ),
        MAX_NAME_ROWS,
    )
    return count, [
        fit_name(n, count * pitch - 1 - cells(t), ellipsis) + t
        for n, t in zip(short, tags, strict=True)
    ]


def _whole_words(name: str, width: int, ellipsis: str) -> bool:
    fitted = fit_name(name, width, ellipsis)
    return fitted == name or name.startswith(fitted.removesuffix(ellipsis) + "_")


def fit_name(name: str, width: int, ellipsis: str) -> str:
    """Cut a lane name at a word boundary (``request_id…``) when it is too long."""
    if cells(name) <= width:
        return name
    parts = name.split("_")
    for n in range(len(parts) - 1, 0, -1):
        head = "_".join(parts[:n])
        if cells(head) + cells(ellipsis) <= width:
            return head + ellipsis
    return truncate(name, width, ellipsis)


def label_room(busy: list[int], start: int, limit: int) -> tuple[int, int]:
    """``(first, end)`` columns for a label from ``start`` on: the first stretch between
    the active lifelines at ``busy`` with room for it, or the widest one; a label never
    covers an active lifeline (a lesson reads them as "still running")."""
    stretches, left = [], start
    for x in sorted(x for x in busy if x >= start):
        stretches.append((left, x - 1))
        left = max(left, x + 2)
    stretches.append((left, limit))
    roomy = [(a, min(b, limit)) for a, b in stretches if min(b, limit) - a >= MIN_LABEL_ROOM]
    if roomy:
        return roomy[0]
    return max(((a, min(b, limit)) for a, b in stretches), key=lambda ab: ab[1] - ab[0])


def lane_styles(flow: Flow) -> list[str]:
    styles: list[str] = []
    n_mw = 0
    for lane in flow.lanes.lanes:
        if lane.kind == "middleware" and lane.owner == "framework":
            styles.append(theme.FRAMEWORK)
        elif lane.kind == "middleware":
            styles.append(theme.MIDDLEWARE[n_mw % len(theme.MIDDLEWARE)])
            n_mw += 1
        else:
            styles.append(theme.LANE[lane.kind])
    return styles


def styled_wrap(
    pieces: list[tuple[str, str]], width: int, max_lines: int, ellipsis: str
) -> list[list[tuple[str, str]]]:
    """Wrap styled text; each line is a list of ``(char, style)``."""
    text = "".join(p for p, _ in pieces)
    styles = [s for p, s in pieces for _ in p]
    ranges, more = wrap(text, width, max_lines)
    lines = [[(text[i], styles[i]) for i in range(a, b)] for a, b in ranges]
    if more and lines:
        last = lines[-1]
        while last and cells("".join(c for c, _ in last)) + cells(ellipsis) > width:
            last.pop()
        style = last[-1][1] if last else ""
        last.extend((c, style) for c in ellipsis)
    return lines


def layer_legend(flow: Flow, *, width: int, ascii: bool) -> list[Text]:
    """Whose each middleware layer is (``★``: the app's), and what a folded lane holds."""
    g = glyphs_for(ascii)
    index = analyse(flow.trace)
    out: list[Text] = []
    yours = [s.name for s in index.user_layers()]
    for lane in flow.lanes.lanes:
        if len(lane.members) > 1:
            members = f" {g.chevron} ".join(marked(m, m in yours) for m in lane.members)
            name = marked(lane.name, lane.owner == "yours")
            out.extend(note_lines(f"{name} = {members}", width, theme.DIM, ascii))
    if index.layers:
        text = f"{YOURS} your middleware ({', '.join(yours) or 'none'})"
        if len(yours) < len(index.layers):
            text += "; unmarked: FastAPI's and Starlette's"
        out.extend(note_lines(text, width, theme.DIM, ascii))
    return out
