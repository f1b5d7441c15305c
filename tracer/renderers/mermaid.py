"""Mermaid: the same flow as the terminal sequence diagram, as a ``sequenceDiagram``.

Participants are the lanes, ``->>`` calls, ``-->>`` returns (``-x``/``--x``
when they fail), ``Note over`` for work and events, and one ``rect`` per run
of rows in the same lifecycle step, headed by a note naming the step.
Paste it into a Markdown file on GitHub, or any Mermaid viewer.
"""

from __future__ import annotations

from itertools import pairwise

from tracer.model import STEP_NAMES, Trace
from tracer.renderers.base import Renderer
from tracer.renderers.canvas import clean
from tracer.renderers.chrome import outcome, outcome_text
from tracer.renderers.flow import Flow, Row, build_flow
from tracer.renderers.glyphs import NBSP
from tracer.renderers.labels import format_duration, format_offset, header_summary

#: alternating step backgrounds (light enough for dark and light themes)
STEP_FILLS = ("rgba(120, 160, 255, 0.10)", "rgba(255, 190, 90, 0.10)")

_ESCAPES = {"#": "#35;", ";": "#59;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}


def escape(text: str) -> str:
    """Text safe inside a Mermaid message, note or alias (one line, entity codes)."""
    return "".join(_ESCAPES.get(c, c) for c in clean(text).replace(NBSP, " "))


class MermaidRenderer(Renderer):
    """``mermaid``: a Mermaid ``sequenceDiagram`` of the request."""

    name = "mermaid"
    output_file_extension = "mmd"

    def render(self, trace: Trace) -> str:
        flow = build_flow(trace)
        ids = _ids(flow)
        left, right = header_summary(trace)
        out = [
            "sequenceDiagram",
            f"    title {escape(f'{left} → {outcome_text(outcome(trace))} ({right})')}",
        ]
        for i, lane in enumerate(flow.lanes.lanes):
            alias = lane.name if len(lane.members) != 1 else lane.members[0]
            out.append(f"    participant {ids[i]} as {escape(alias)}")
        step: int | None = None
        fill = 0
        for row in flow.rows:
            if row.step is not None and row.step != step:
                if step is not None:
                    out.append("    end")
                step = row.step
                out.append(f"    rect {STEP_FILLS[fill % 2]}")
                fill += 1
                name = STEP_NAMES.get(step, "lifespan" if step == 0 else "")
                out.append(f"    Note left of {ids[0]}: {escape(f'{step} · {name}')}")
            out.extend("    " + line for line in _lines(row, ids, flow))
        if step is not None:
            out.append("    end")
        for i, lane in enumerate(flow.lanes.lanes):
            if not lane.reached:
                out.append(f"    Note over {ids[i]}: {escape('∅ not reached')}")
        for warning in flow.warnings:
            out.append(f"    Note over {ids[0]},{ids[1]}: {escape('⚠ ' + warning)}")
        return "\n".join(out) + "\n"


def _ids(flow: Flow) -> list[str]:
    ids: list[str] = []
    for lane in flow.lanes.lanes:
        key = lane.key if lane.kind != "middleware" else f"mw{len(ids) - 1}"
        ids.append("".join(c for c in key if c.isalnum()) or f"p{len(ids)}")
    return ids


def _lines(row: Row, ids: list[str], flow: Flow) -> list[str]:
    at = format_offset(row.time_ns - flow.trace.start_ns)
    text = row.text
    if row.result:
        text += f" ⇒ {row.result}"
    if row.notes:
        text += " — " + "; ".join(row.notes)
    if row.dur_ns is not None:
        text += f" ({format_duration(row.dur_ns)})"
    label = escape(f"{at} {text}")
    dst = ids[row.dst]
    if row.kind == "gap":
        return [f"Note over {ids[0]},{ids[-1]}: {escape('⋮ ' + row.text)}"]
    if row.kind == "untraced":
        return [f"Note over {dst}: ░ {label}"]
    if row.kind in ("work", "event"):
        mark = "✖" if row.error else "◇" if row.kind == "event" else "●"
        nested = "└ " if row.depth else ""
        indent = "··" * max(0, row.depth - 1)
        return [f"Note over {dst}: {mark} {escape(indent + nested)}{label}"]
    if row.kind == "call":
        arrow = "-x" if row.leaf and row.error else "->>"
    elif row.kind == "return":
        arrow = "--x" if row.error else "-->>"
    else:
        arrow = "->>"
    # one message per hop, so a relayed message passes each lifeline in turn
    stops = sorted({row.src, *row.via, row.dst}, reverse=row.dst < row.src)
    return [
        f"{ids[a]}{arrow}{ids[b]}: {label if n == 0 else ''}".rstrip()
        for n, (a, b) in enumerate(pairwise(stops))
    ]
