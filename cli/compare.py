"""``--repeat N --compare``: the first (cold) and the last (warm) request, step by step.

Own time per step side by side with the difference, then what changed and why:
the first-call costs only the first request paid (named gaps carrying
``first_call``: FastAPI's endpoint inspection, SQL compiled on a cache miss),
the statements each ran, and, when the status changed, that the two were not
the same request (the first one's writes are what the last one found).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text

from tracer.analysis.explain import explain
from tracer.analysis.index import analyse
from tracer.analysis.readers import plural
from tracer.cli.focus import line, wrapped
from tracer.model import STEP_NAMES, Trace
from tracer.renderers import theme
from tracer.renderers.labels import format_duration, status_text

WHY_FIRST = {
    "endpoint inspection": "FastAPI inspects an endpoint's signature on its first call",
    "SQL compilation": "SQLAlchemy compiles each statement once, then reuses it from its cache",
}


def _d(ns: int, ascii: bool) -> str:
    return format_duration(ns, "u" if ascii else "µ")


def _diff(first: int, last: int, ascii: bool) -> str:
    delta = last - first
    if abs(delta) < 1_000:
        return "="
    sign = "+" if delta > 0 else ("-" if ascii else "−")
    return f"{sign}{_d(abs(delta), ascii)}"


def first_call_costs(trace: Trace) -> dict[str, tuple[int, int]]:
    """``{gap name: (count, total ns)}`` of the first-call costs ``trace`` paid."""
    out: dict[str, tuple[int, int]] = {}
    for gap in analyse(trace).untraced:
        if gap.first_call and gap.name:
            count, total = out.get(gap.name, (0, 0))
            out[gap.name] = (count + 1, total + gap.duration_ns)
    return out


def statements(trace: Trace) -> list[str]:
    """The SQL statements ``trace`` ran, in order (pool checkouts and compiles left out)."""
    spans = sorted(trace.spans, key=lambda s: s.start_ns)
    return [
        s.name
        for s in spans
        if s.phase == "db" and s.name != "pool checkout" and "gap.cause" not in s.attributes
    ]


def _counted(names: list[str]) -> str:
    """``SELECT users ×2, INSERT users``: each statement once, with its count."""
    counts = Counter(names)
    return ", ".join(f"{n} ×{c}" if c > 1 else n for n, c in counts.items()) or "none"


def compare_lines(first: Any, last: Any, count: int, *, width: int, ascii: bool) -> list[Text]:
    """The comparison of two exchanges (``first`` is request 1, ``last`` request ``count``)."""
    a, b = first.trace, last.trace
    ia, ib = analyse(a), analyse(b)
    na, nb = "request 1", f"request {count}"
    out = [
        line(
            f" compare  {a.request.get('method', '?')} {a.request.get('path', '?')}: "
            f"{na} (cold) and {nb} (warm)",
            theme.TITLE,
            width=width,
            ascii=ascii,
        )
    ]
    if first.status_code != last.status_code:
        out.extend(_status_changed(a, b, na, nb, width, ascii))
    out.append(line(f" {'step':<20} {na:>11} {nb:>11} {'diff':>10}", "bold", width=width))
    ea, eb = {e.step: e for e in explain(a)}, {e.step: e for e in explain(b)}
    for step in range(1, 11):
        ran_a, ran_b = ea[step].happened, eb[step].happened
        ta = _d(ia.step_ns.get(step, 0), ascii) if ran_a else "-"
        tb = _d(ib.step_ns.get(step, 0), ascii) if ran_b else "-"
        diff = _diff(ia.step_ns.get(step, 0), ib.step_ns.get(step, 0), ascii)
        out.append(
            line(f" {step:>2} {STEP_NAMES[step]:<17} {ta:>11} {tb:>11} {diff:>10}", width=width)
        )
    out.append(
        line(
            f" {'   untraced':<20} {_d(ia.untraced_ns, ascii):>11} {_d(ib.untraced_ns, ascii):>11} "
            f"{_diff(ia.untraced_ns, ib.untraced_ns, ascii):>10}",
            theme.UNTRACED,
            width=width,
        )
    )
    ra, rb = ia.response_ns or ia.extent_ns, ib.response_ns or ib.extent_ns
    out.append(
        line(
            f" {'   response':<20} {_d(ra, ascii):>11} {_d(rb, ascii):>11} "
            f"{_diff(ra, rb, ascii):>10}",
            "bold",
            width=width,
        )
    )
    out.append(line(" what changed and why", "bold", width=width))
    out.extend(_why(a, b, na, nb, width, ascii))
    return out


def _status_changed(a: Trace, b: Trace, na: str, nb: str, width: int, ascii: bool) -> list[Text]:
    warn = "!" if ascii else "⚠"
    out = wrapped(
        f" {warn} the status changed: {status_text(a.status_code)} in {na}, "
        f"{status_text(b.status_code)} in {nb}. Not the same request twice: the app's state "
        f"changed between them (what {na} wrote is what {nb} found), so {nb} took another path.",
        theme.WARN,
        width=width,
        ascii=ascii,
        limit=3,
    )
    ea, eb = explain(a), explain(b)
    only_a = [
        f"{e.step} {e.name}" for e, f in zip(ea, eb, strict=True) if e.happened and not f.happened
    ]
    only_b = [
        f"{f.step} {f.name}" for e, f in zip(ea, eb, strict=True) if f.happened and not e.happened
    ]
    if only_a:
        out.append(
            line(f"   ran only in {na}: {', '.join(only_a)}", theme.WARN, width=width, ascii=ascii)
        )
    if only_b:
        out.append(
            line(f"   ran only in {nb}: {', '.join(only_b)}", theme.WARN, width=width, ascii=ascii)
        )
    for e, f in zip(ea, eb, strict=True):
        if e.text != f.text and f.step in (5, 6) and f.happened:
            out.extend(
                wrapped(
                    f"   {nb}, step {f.step}: {f.text}",
                    theme.WARN,
                    width=width,
                    ascii=ascii,
                    indent=5,
                    limit=2,
                )
            )
    return out


def _why(a: Trace, b: Trace, na: str, nb: str, width: int, ascii: bool) -> list[Text]:
    bullet = "*" if ascii else "•"
    out: list[Text] = []
    costs_a, costs_b = first_call_costs(a), first_call_costs(b)
    only_first = {k: v for k, v in costs_a.items() if k not in costs_b}
    if only_first:
        paid = ", ".join(
            f"{k} ×{n} {_d(ns, ascii)}" if n > 1 else f"{k} {_d(ns, ascii)}"
            for k, (n, ns) in only_first.items()
        )
        why = "; ".join(WHY_FIRST.get(k, "a one-off cost") for k in only_first)
        out.extend(
            wrapped(
                f"  {bullet} first-call costs only {na} paid: {paid} ({why})",
                "",
                width=width,
                ascii=ascii,
                indent=4,
            )
        )
    if costs_b:
        left = ", ".join(f"{k} ×{n}" for k, (n, _) in costs_b.items())
        out.extend(
            wrapped(
                f"  {bullet} {nb} still paid first-call costs: {left} "
                "(statements or endpoints it was the first to use)",
                "",
                width=width,
                ascii=ascii,
                indent=4,
            )
        )
    if not costs_a and not costs_b:
        out.append(
            line(
                f"  {bullet} no first-call costs recorded in either request",
                width=width,
                ascii=ascii,
            )
        )
    sa, sb = statements(a), statements(b)
    if Counter(sa) != Counter(sb):
        out.extend(
            wrapped(
                f"  {bullet} SQL: {na} ran {plural(len(sa), 'statement')} ({_counted(sa)}); "
                f"{nb} ran {len(sb)} ({_counted(sb)})",
                "",
                width=width,
                ascii=ascii,
                indent=4,
            )
        )
    else:
        out.append(
            line(
                f"  {bullet} SQL: the same {plural(len(sa), 'statement')} in both",
                width=width,
                ascii=ascii,
            )
        )
    ia, ib = analyse(a), analyse(b)
    deltas = sorted(
        range(1, 11), key=lambda s: abs(ib.step_ns.get(s, 0) - ia.step_ns.get(s, 0)), reverse=True
    )
    top = deltas[0]
    change = _diff(ia.step_ns.get(top, 0), ib.step_ns.get(top, 0), ascii)
    names_a = Counter(s.name for s in a.spans if s.step == top)
    names_b = Counter(s.name for s in b.spans if s.step == top)
    gone = list((names_a - names_b).keys())[:4]
    where = f" (only in {na}: {', '.join(gone)})" if gone else ""
    out.extend(
        wrapped(
            f"  {bullet} the biggest step change: {top} {STEP_NAMES[top]} {change}{where}",
            "",
            width=width,
            ascii=ascii,
            indent=4,
            limit=2,
        )
    )
    return out
