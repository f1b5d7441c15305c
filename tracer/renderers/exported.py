"""File renderers that export a terminal view: SVG image, plain text.

They render the sequence diagram by default; ``view`` picks another terminal
renderer. Without a width they use :data:`DEFAULT_WIDTH` so files do not
depend on the size of the terminal that wrote them. The ``html`` format is a
page of its own (:mod:`tracer.renderers.html_page`), not a console export.
"""

from __future__ import annotations

from typing import ClassVar

from tracer.model import Trace
from tracer.renderers.base import ExportFormat, Renderer, TerminalRenderer, export
from tracer.renderers.chrome import outcome, outcome_text
from tracer.renderers.labels import request_line
from tracer.renderers.sequence import SequenceRenderer
from tracer.renderers.terminal_safe import safe

DEFAULT_WIDTH = 100


class ExportRenderer(Renderer):
    """Base for the exporting renderers."""

    fmt: ClassVar[ExportFormat] = "txt"
    view: ClassVar[type[TerminalRenderer]] = SequenceRenderer

    def render(self, trace: Trace) -> str:
        width = self.width or DEFAULT_WIDTH
        view = self.view(width=width, ascii=self.ascii, color=self.color)
        title = safe(f"{request_line(trace)} → {outcome_text(outcome(trace))}")
        return export(view.renderable(trace), width, self.fmt, title=title)


class SVGRenderer(ExportRenderer):
    """``svg``: the sequence diagram as a standalone SVG image (colours included)."""

    name = "svg"
    output_file_extension = "svg"
    fmt = "svg"


class TextRenderer(ExportRenderer):
    """``text``: the sequence diagram as plain text, no escape codes."""

    name = "text"
    output_file_extension = "txt"
    fmt = "txt"
