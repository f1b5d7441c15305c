"""The JSON renderer: the trace itself, losslessly, so any other renderer can re-render it."""

from __future__ import annotations

from tracer.model import Trace
from tracer.renderers.base import Renderer


class JSONRenderer(Renderer):
    """``json``: ``Trace.to_json()``; load it back with ``Trace.from_json``."""

    name = "json"
    output_file_extension = "json"

    def render(self, trace: Trace) -> str:
        return trace.to_json() + "\n"
