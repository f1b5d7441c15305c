"""Text helpers of the sequence diagram: lane names that fit, lane colours, styled wrapping."""

from __future__ import annotations

from tracer.renderers import theme
from tracer.renderers.canvas import cells, truncate, wrap
from tracer.renderers.flow import Flow


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


def lane_styles(flow: Flow) -> list[str]:
    styles: list[str] = []
    n_mw = 0
    for lane in flow.lanes.lanes:
        if lane.kind == "middleware":
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
