"""``--step N``: the whole request small (one line per step) and step N large.

The large part is cut from the sequence diagram itself (its rows of step N,
laid out as in the whole diagram), then what ran, what the request looked like
going in and coming out (:mod:`tracer.cli.shapes`), how long it took, what can
go wrong there and the demo command that shows it (:mod:`tracer.cli.cheatsheet`).
Every line is laid out here to fit the width, so a page's height is its line count.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

from tracer.analysis.explain import StepExplanation, explain
from tracer.analysis.processors import failed_here
from tracer.analysis.readers import attr_int, attr_str, plural
from tracer.analysis.step_context import StepContext
from tracer.cli.cheatsheet import PITFALLS
from tracer.cli.shapes import shape_of
from tracer.model import STEP_NAMES, Span, Trace
from tracer.renderers import theme
from tracer.renderers.canvas import Canvas, cells, clean, truncate, wrap
from tracer.renderers.glyphs import NBSP
from tracer.renderers.labels import format_duration

#: the height a page is laid out for: a projector at 100 × 40
SCREEN_ROWS = 40
BAR = 16


def _clean(text: str, ascii: bool) -> str:
    """:func:`clean` (terminal-safe, ASCII when asked), keeping the runs of spaces that align."""
    runs = re.sub(r"(?<=\S) {2,}|^ +", lambda m: NBSP * len(m.group()), text)
    return clean(runs, ascii).replace(NBSP, " ")


def line(text: str, style: str = "", *, width: int, ascii: bool = False) -> Text:
    """One line of ``text``, cut to ``width`` cells."""
    return Text(truncate(_clean(text, ascii), width, "..." if ascii else "…"), style, end="\n")


def wrapped(
    text: str, style: str, *, width: int, ascii: bool, indent: int = 3, limit: int = 3
) -> list[Text]:
    """``text`` on up to ``limit`` lines, later lines indented by ``indent``; a cut says so."""
    text = _clean(text, ascii)
    lead = len(text) - len(text.lstrip(" "))
    ranges, left_over = wrap(text, width - max(lead, indent), limit)
    out = [
        Text(" " * (indent if n else lead) + text[a:b], style, end="\n")
        for n, (a, b) in enumerate(ranges)
    ]
    if left_over and out:  # never cut mid-sentence without saying so
        out[-1] = line(out[-1].plain.rstrip() + " …", style, width=width, ascii=ascii)
    return out


def step_mark(note: StepExplanation, spans: list[Span], ascii: bool) -> str:
    """✓ the step ran, ✗ something in it failed, ∅ it did not happen."""
    if not note.happened:
        return "-" if ascii else "∅"
    if any(failed_here(s) for s in spans if s.step == note.step):
        return "x" if ascii else "✗"
    return "+" if ascii else "✓"


def summary_lines(trace: Trace, focus: int | None, width: int, ascii: bool) -> list[Text]:
    """The whole request small: step, name, own time, a bar, ✓/✗/∅ and what it did."""
    notes = explain(trace)
    top = max((n.own_ns for n in notes), default=0) or 1
    full, parts = ("#", ("",) * 8) if ascii else ("█", ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉"))
    out: list[Text] = []
    for note in notes:
        eighths = round(BAR * 8 * note.own_ns / top)
        bar = (full * (eighths // 8) + parts[eighths % 8]).ljust(BAR)
        mark = step_mark(note, trace.spans, ascii)
        pointer = (">" if ascii else "▶") if note.step == focus else " "
        row = Text(
            f"{pointer}{note.step:>2} ", theme.BADGE if note.step == focus else "bold", end="\n"
        )
        row.append(f"{note.name:<15}", "bold" if note.step == focus else "")
        own = format_duration(note.own_ns, "u" if ascii else "µ") if note.happened else ""
        row.append(f"{own:>7} ", theme.HOT if note.own_ns == top else theme.MUTED)
        row.append(bar, theme.HOT if note.own_ns == top else theme.DIM)
        row.append(f" {mark} ", theme.ERROR if mark in ("x", "✗") else "")
        rest = width - row.cell_len
        if rest > 8:
            row.append(
                truncate(clean(note.text, ascii), rest, "..." if ascii else "…"), theme.MUTED
            )
        out.append(row)
    return out


def diagram_excerpt(trace: Trace, step: int, width: int, ascii: bool, max_lines: int) -> list[Text]:
    """The sequence diagram's lane header and its rows of ``step`` (other steps elided),
    in at most ``max_lines`` lines counting the header (at least 3 rows under it)."""
    from tracer.renderers import SequenceRenderer

    view: Any = SequenceRenderer(width=width, ascii=ascii, explain=False).renderable(trace)
    pages = view.step_pages(width)
    head = [_text(x) for x in pages[0][1]]
    blank = next((i for i, t in enumerate(head) if not t.plain.strip()), 0)
    out: list[Text] = head[blank + 1 :]
    rows: list[Text] = []
    skipped: list[int] = []
    for page_step, page in pages[1:-1]:
        if page_step != step:
            if page_step is not None and page_step not in skipped:
                skipped.append(page_step)
            continue
        if skipped and rows:
            rows.append(_elided(skipped, width, ascii))
        skipped = []
        rows.extend(_text(x) for x in page)
    if not rows:
        return []
    max_rows = max(3, max_lines - len(out))  # the lane header is 2 to 4 lines, by width
    if len(rows) > max_rows:
        more = len(rows) - max_rows + 1
        rows = [
            *rows[: max_rows - 1],
            line(
                f"   … {plural(more, 'more row')} in the full diagram (without --step)",
                theme.DIM,
                width=width,
                ascii=ascii,
            ),
        ]
    return out + rows


def _elided(steps: list[int], width: int, ascii: bool) -> Text:
    names = ", ".join(str(s) for s in steps)
    return line(
        f"   {':' if ascii else '⋮'} steps {names} ran here",
        "italic " + theme.DIM,
        width=width,
        ascii=ascii,
    )


def _text(item: Text | Canvas) -> Text:
    return item.to_text() if isinstance(item, Canvas) else item


def what_ran(ctx: StepContext, step: int, width: int, ascii: bool, limit: int = 6) -> list[Text]:
    """Step 4: the dependency tree at its true depth; other steps: the spans, slowest first."""
    spans = [s for s in ctx.spans if s.step == step and not s.attributes.get("gap.cause")]
    if step == 4:
        return _dependency_tree(ctx, spans, width, ascii, limit)
    own = ctx.ix.own_ns
    ranked = sorted(spans, key=lambda s: own.get(s.span_id, 0), reverse=True)
    items = [
        f"{s.name} {format_duration(own.get(s.span_id, 0), 'u' if ascii else 'µ')}"
        for s in ranked[:limit]
    ]
    more = f" (+{len(spans) - limit} more)" if len(spans) > limit else ""
    text = f" what ran     {', '.join(items) or 'nothing'}{more}"
    return wrapped(text, "", width=width, ascii=ascii, indent=14, limit=2)


def _dependency_tree(
    ctx: StepContext, spans: list[Span], width: int, ascii: bool, limit: int
) -> list[Text]:
    deps = [s for s in spans if s.phase == "dependency" and s.name != "solve_dependencies"]
    ids = {s.span_id for s in deps}
    out = [
        line(
            " what ran     the dependency tree, in call order (sub-dependencies first):",
            width=width,
            ascii=ascii,
        )
    ]
    micro = "u" if ascii else "µ"
    for dep in deps[:limit]:
        depth = sum(1 for a in ctx.ix.ancestors(dep) if a.span_id in ids)
        lead = "  " * depth + (("`- " if ascii else "└ ") if depth else "")
        param = attr_str(dep, "dependency.param")
        kind = attr_str(dep, "dependency.kind") or ""
        if dep.attributes.get("dependency.teardown"):
            when = (
                "after the response"
                if dep.start_ns >= ctx.ix.response_end
                else "before the response"
            )
            desc = f"{dep.name} · code after yield, {when}"
        elif dep.attributes.get("dependency.cached") or kind == "cached":
            desc = f"{dep.name}() → {param} · cached: solved once per request, reused"
        else:
            wait = attr_int(dep, "threadpool.wait_ns")
            how = {
                "sync": "def, threadpool",
                "async_generator": "yield",
                "generator": "yield, threadpool",
            }.get(kind, kind or "async")
            waited = f", waited {format_duration(wait, micro)}" if wait else ""
            desc = f"{dep.name}() → {param or '?'} · {how}{waited}"
        if failed_here(dep):
            desc += " ✗ raised" if not ascii else " x raised"
        out.append(
            line(
                f"   {lead}{desc} {format_duration(dep.duration_ns, micro)}",
                width=width,
                ascii=ascii,
            )
        )
    if len(deps) > limit:
        out.append(line(f"   (+{len(deps) - limit} more)", theme.DIM, width=width, ascii=ascii))
    return out


def focus_lines(
    trace: Trace, step: int, *, width: int, ascii: bool, height: int = SCREEN_ROWS
) -> list[Text]:
    """One screen: the summary, then step ``step`` large; at most ``height`` lines."""
    notes = {n.step: n for n in explain(trace)}
    note = notes[step]
    ctx = StepContext.of(trace)
    title = line(
        f" {ctx.method} {ctx.path} · {ctx.status} · step {step} of 10: {STEP_NAMES[step]}",
        theme.TITLE,
        width=width,
        ascii=ascii,
    )
    out = [title, *summary_lines(trace, step, width, ascii)]
    rule = "-" if ascii else "─"
    head = f"{rule * 2} {step} · {note.role} "
    own = f" own {format_duration(note.own_ns, 'u' if ascii else 'µ')} {rule * 2}"
    out.append(
        line(
            head + rule * max(0, width - cells(head) - cells(own)) + own,
            "bold",
            width=width,
            ascii=ascii,
        )
    )
    tail = _tail_lines(ctx, note, width, ascii)
    if not note.happened:
        out.extend(wrapped(f" did not happen: {note.text}", theme.MUTED, width=width, ascii=ascii))
    else:
        out.extend(wrapped(f" {note.text}", "italic", width=width, ascii=ascii))
        room = height - len(out) - len(tail)
        out.extend(diagram_excerpt(trace, step, width, ascii, max_lines=room))
    return out + tail


def _tail_lines(ctx: StepContext, note: StepExplanation, width: int, ascii: bool) -> list[Text]:
    step = note.step
    out: list[Text] = []
    if note.happened:
        out.extend(what_ran(ctx, step, width, ascii))
    shape = shape_of(ctx, step)
    out.extend(
        wrapped(f" going in     {shape.going_in}", "", width=width, ascii=ascii, indent=14, limit=2)
    )
    out.extend(
        wrapped(
            f" coming out   {shape.coming_out}", "", width=width, ascii=ascii, indent=14, limit=2
        )
    )
    if shape.missing:
        out.extend(
            wrapped(
                f" not recorded {shape.missing}",
                theme.DIM,
                width=width,
                ascii=ascii,
                indent=14,
                limit=2,
            )
        )
    total = ctx.ix.response_ns or ctx.ix.extent_ns or 1
    share = 100 * note.own_ns / total
    micro = "u" if ascii else "µ"
    spans = [s for s in ctx.spans if s.step == step]
    took = (
        f" took         {format_duration(note.own_ns, micro)} own time, {share:.1f}% of the "
        f"{format_duration(total, micro)} response, {plural(len(spans), 'span')}"
    )
    out.append(line(took, width=width, ascii=ascii))
    for pitfall in PITFALLS[step]:
        out.extend(
            wrapped(
                f" can go wrong {pitfall.what}",
                theme.WARN,
                width=width,
                ascii=ascii,
                indent=14,
                limit=2,
            )
        )
        out.append(line(f" demo         {pitfall.command}", theme.MUTED, width=width, ascii=ascii))
    return out
