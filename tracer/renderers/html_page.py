"""``html``: one self-contained page for people who would rather click than read.

The page shows the terminal sequence diagram (Rich's HTML export of it), an
interactive waterfall, hover details for every span, the findings and step
focus. It must open anywhere, offline and from an e-mail attachment, so
nothing is fetched: the CSS and JavaScript (``assets/``) are inlined and a
Content-Security-Policy allows no network at all and only the page's own
script (by its hash), so even a string that slipped past the escaping could
not run.

Every string in a trace comes from a request. Static HTML is escaped with
:func:`html.escape`; the trace (lossless, :meth:`Trace.to_dict`) and the
figures the script draws from (own time, depth, lanes, steps, findings: all
from the one :func:`~tracer.analysis.index.analyse` index, so they match
every other renderer) are embedded as ``<script type="application/json">``
with ``<``, ``>`` and ``&`` written as JSON escapes, so ``</script>`` in a
span name cannot end the element. The script only ever sets ``textContent``.
Without JavaScript the sequence diagram, the step list and the findings are
still in the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from rich.console import Console
from rich.terminal_theme import MONOKAI

from tracer.analysis.diagnostics import Finding, diagnose
from tracer.analysis.explain import StepExplanation, explain
from tracer.analysis.index import TraceIndex, analyse
from tracer.analysis.processors import LaneMap, error_type, lanes
from tracer.model import Span, Trace
from tracer.renderers.base import Renderer
from tracer.renderers.chrome import outcome, outcome_text
from tracer.renderers.exported import DEFAULT_WIDTH
from tracer.renderers.labels import (
    format_duration,
    format_offset,
    header_summary,
    request_line,
)
from tracer.renderers.sequence import SequenceRenderer
from tracer.renderers.terminal_safe import safe

#: bumped when the shape of the embedded ``trace-view`` document changes
VIEW_VERSION = 1


class HTMLRenderer(Renderer):
    """``html``: the trace as a self-contained, interactive HTML page (no network)."""

    name = "html"
    output_file_extension = "html"

    def render(self, trace: Trace) -> str:
        return render_page(
            trace, width=self.width or DEFAULT_WIDTH, ascii=self.ascii, color=self.color
        )


def render_page(
    trace: Trace, *, width: int = DEFAULT_WIDTH, ascii: bool = False, color: bool = True
) -> str:
    """The whole page as one string."""
    findings = diagnose(trace)
    steps = explain(trace)
    position = {id(s): i for i, s in enumerate(trace.spans)}
    left, right = header_summary(trace) if trace.spans else (request_line(trace), "")
    code = outcome(trace)
    if isinstance(code, str):  # a lifespan phase
        status_class = "err" if code.endswith("failed") else "ok"
    else:
        status_class = "ok" if code is not None and code < 400 else "warn" if code else "err"
    meta = " · ".join(
        x for x in (right, f"{len(trace.spans)} spans", f"trace {trace.trace_id}") if x
    )
    script = _asset("page.js")
    return Template(_asset("page.html")).substitute(
        title=_text(f"{request_line(trace)} → {outcome_text(code)}"),
        request=_text(left),
        status=_text(outcome_text(code)),
        status_class=status_class,
        meta=_text(meta),
        css=_asset("page.css"),
        script_hash=f"'sha256-{_sha256(script)}'",
        step_buttons="".join(_step_button(s) for s in steps),
        step_table=_step_table(steps),
        findings=_findings_html(findings, trace, position),
        sequence=_sequence_html(trace, width, ascii, color),
        trace_json=script_json(trace.to_dict()),
        view_json=script_json(page_view(trace, steps, findings)),
        js=script,
    )


def page_view(
    trace: Trace, steps: list[StepExplanation], findings: list[Finding]
) -> dict[str, Any]:
    """What the script draws, keyed by position in ``trace.spans``.

    Times are offsets from the trace's start in ns: epoch nanoseconds do not
    fit a JavaScript number exactly. Durations come formatted as the terminal
    views print them, so the page and the terminal never disagree.
    """
    if not trace.spans:
        return {"version": VIEW_VERSION, "extent_ns": 0, "response_ns": None, "lanes": [],
                "spans": [], "steps": [_step(s) for s in steps], "findings": []}  # fmt: skip
    ix = analyse(trace)
    lane_map = lanes(trace)
    position = {id(s): i for i, s in enumerate(trace.spans)}
    ordered = list(ix.ordered)
    seen = {id(s) for s in ordered}
    ordered += [s for s in trace.spans if id(s) not in seen]  # cut off by a parent-id cycle
    return {
        "version": VIEW_VERSION,
        "extent_ns": ix.extent_ns,
        "response_ns": ix.response_ns,
        "lanes": [
            {"name": safe(lane.name), "kind": lane.kind, "reached": lane.reached}
            for lane in lane_map.lanes
        ],
        "spans": [_span(s, position[id(s)], ix, lane_map) for s in ordered],
        "steps": [_step(s) for s in steps],
        "findings": [{**f.to_dict(), "span": _blamed(f, trace, position)} for f in findings],
    }


def script_json(value: Any) -> str:
    """``value`` as JSON that is inert inside ``<script>``: ASCII only, no ``<``, ``>``, ``&``.

    ``</script>`` or ``<!--`` in a string would otherwise end or confuse the
    element; escaping everything non-ASCII (``\\u202e``) keeps controls, bidi
    overrides and U+2028 out of the page's source too, as the terminal views do.
    """
    try:
        text = json.dumps(value, ensure_ascii=True, default=str, allow_nan=False)
    except ValueError:  # NaN or Infinity in an attribute: JSON.parse would reject the page
        text = json.dumps(_finite(value), ensure_ascii=True, default=str)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats written as strings (``"nan"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# the view document


def _span(span: Span, i: int, ix: TraceIndex, lane_map: LaneMap) -> dict[str, Any]:
    t0 = ix.trace.start_ns
    own = ix.own_ns.get(span.span_id, 0)
    return {
        "i": i,
        "depth": ix.depth.get(span.span_id, 0),
        "lane": lane_map.lane_of.get(span.span_id, 1),
        "t": span.start_ns - t0,
        "d": span.duration_ns,
        "own_ns": own,
        "own_iv": [[a - t0, b - t0] for a, b in ix.own.get(span.span_id, ())],
        "start": format_offset(span.start_ns - t0),
        "dur": format_duration(span.duration_ns),
        "own": format_duration(own),
        "error": error_type(span),
        "events": [format_offset(e.time_ns - t0) for e in span.events],
    }


def _step(step: StepExplanation) -> dict[str, Any]:
    return {
        "step": step.step,
        "name": step.name,
        "role": step.role,
        "happened": step.happened,
        "text": safe(step.text),
        "own_ns": step.own_ns,
        "own": format_duration(step.own_ns),
        "spans": len(step.span_ids),
    }


def _blamed(finding: Finding, trace: Trace, position: dict[int, int]) -> int | None:
    span = next((s for s in trace.spans if s.span_id == finding.span_id), None)
    return None if span is None else position[id(span)]


# ---------------------------------------------------------------------------
# static HTML: readable without JavaScript


def _text(value: object) -> str:
    """Any string from a trace, as HTML text: one safe line, escaped."""
    return html.escape(safe(str(value)), quote=True)


def _step_button(step: StepExplanation) -> str:
    cls = "" if step.happened else ' class="skipped"'
    return (
        f'<li{cls}><button type="button" data-step="{step.step}" aria-pressed="false">'
        f"<b>{step.step}</b> {_text(step.name)} "
        f'<span class="t">{_text(format_duration(step.own_ns))}</span></button></li>'
    )


def _step_table(steps: list[StepExplanation]) -> str:
    rows = "".join(
        f'<tr{"" if s.happened else " class=skipped"}><th scope="row">{s.step}</th>'
        f"<td>{_text(s.name)}</td><td class=num>{_text(format_duration(s.own_ns))}</td>"
        f"<td>{_text(s.text)}</td></tr>"
        for s in steps
    )
    return f"<table><thead><tr><th>#</th><th>step</th><th>own</th><th>this request</th></tr></thead><tbody>{rows}</tbody></table>"  # noqa: E501


def _findings_html(findings: list[Finding], trace: Trace, position: dict[int, int]) -> str:
    head = f'<h2>Findings <small id="findings-count">{len(findings)}</small></h2>'
    if not findings:
        return head + '<p class="none">No findings: nothing failed and nothing looked slow.</p>'
    items = []
    for f in findings:
        index = _blamed(f, trace, position)
        blame = ""
        if index is not None:
            name = trace.spans[index].name
            blame = f' · span <a class="blame" href="#span-{index}" data-span="{index}">{_text(name)}</a>'  # noqa: E501
        items.append(
            f'<li class="finding sev-{_text(f.severity)}">'
            f'<span class="sev">{_text(f.severity)}</span> <code>{_text(f.code)}</code> '
            f"<strong>{_text(f.title)}</strong><p>{_text(f.detail)}</p>"
            f'<p class="where">look at: {_text(f.layer)}{blame}</p></li>'
        )
    return f'{head}<ol class="findings">{"".join(items)}</ol>'


def _sequence_html(trace: Trace, width: int, ascii: bool, color: bool) -> str:
    """The terminal sequence diagram as a ``<pre>`` (Rich escapes the text)."""
    console = Console(
        file=io.StringIO(), width=width, record=True, color_system="truecolor" if color else None,
        force_terminal=color, force_jupyter=False, force_interactive=False, no_color=not color,
        highlight=False, markup=False, emoji=False, legacy_windows=False, soft_wrap=False,
    )  # fmt: skip
    view = SequenceRenderer(width=width, ascii=ascii, color=color).renderable(trace)
    console.print(view)
    fmt = '<pre class="seq" style="color:{foreground};background:{background}">{code}</pre>'
    return console.export_html(theme=MONOKAI, inline_styles=True, code_format=fmt)


# ---------------------------------------------------------------------------
# assets


@cache
def _asset(name: str) -> str:
    text = (resources.files("tracer.renderers") / "assets" / name).read_text(encoding="utf-8")
    lower = text.lower()
    if name != "page.html" and ("</script" in lower or "</style" in lower):
        raise ValueError(f"assets/{name} would end its own element early")
    return text


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
