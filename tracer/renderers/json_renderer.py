"""The JSON renderer: the trace itself, losslessly, plus what the analysis found.

``Trace.from_json`` reads it back (the ``analysis`` key is derived data and is
recomputed on load), so any other renderer can re-render a saved trace.
"""

from __future__ import annotations

import json
from typing import Any

from tracer.analysis.diagnostics import diagnose
from tracer.analysis.explain import explain, time_by_step
from tracer.analysis.index import analyse
from tracer.model import Trace
from tracer.renderers.base import Renderer


def analysis(trace: Trace) -> dict[str, Any]:
    """Findings, own time by step (and by span) and the per-step account, as JSON-ready data.

    ``own_ns_by_span`` splits each span's own time by the step it counts under
    (a middleware layer's way in is step 2, its way out step 8): the figures
    the terminal views label their rows with. ``time_by_step_ns`` plus
    ``untraced_ns`` is the request's wall time; ``untraced`` lists each gap no
    hook covered (``parent_id``: the span it sits in; ``name``: the cause a
    hook recorded, ``null`` when unknown).
    """
    index = analyse(trace) if trace.spans else None
    own = index.own_by_step if index is not None else {}
    return {
        "findings": [finding.to_dict() for finding in diagnose(trace)],
        "time_by_step_ns": {str(step): ns for step, ns in time_by_step(trace).items()},
        "untraced_ns": index.untraced_ns if index is not None else 0,
        "untraced": [gap.to_dict() for gap in index.untraced] if index is not None else [],
        "own_ns_by_span": {
            span_id: {str(step): ns for step, ns in parts.items()} for span_id, parts in own.items()
        },
        "steps": [
            {"step": e.step, "name": e.name, "happened": e.happened, "text": e.text}
            for e in explain(trace)
        ],
    }


class JSONRenderer(Renderer):
    """``json``: the trace document (``Trace.to_dict()``) with an ``analysis`` section."""

    name = "json"
    output_file_extension = "json"

    def render(self, trace: Trace) -> str:
        document = trace.to_dict()
        document["analysis"] = analysis(trace)
        return json.dumps(document, indent=2, default=repr) + "\n"
