"""The renderer base classes and the helpers that turn Rich renderables into text.

A renderer turns a :class:`~tracer.model.Trace` into one output format.
Terminal renderers (sequence, waterfall) build a Rich renderable, so a caller
can print it, compose it with other renderables, or export it to text, SVG or
HTML through :func:`export`.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from typing import ClassVar, Literal

from rich.console import Console, RenderableType

from tracer.model import Trace

ExportFormat = Literal["svg", "html", "txt"]


class UnknownFormatError(ValueError):
    """Raised for a renderer name (or file extension) that no renderer handles."""


class Renderer(ABC):
    """Turns a trace into text. Subclasses set ``name`` and ``output_file_extension``."""

    name: ClassVar[str] = ""
    output_file_extension: ClassVar[str] = "txt"

    def __init__(
        self, *, width: int | None = None, ascii: bool = False, color: bool = True
    ) -> None:
        if width is not None and width < 20:
            raise ValueError(f"width must be at least 20 columns, got {width}")
        self.width = width
        self.ascii = ascii
        self.color = color

    @abstractmethod
    def render(self, trace: Trace) -> str:
        """The whole output as one string."""


class TerminalRenderer(Renderer):
    """A renderer whose output is a Rich renderable; ``render`` prints it to text."""

    @abstractmethod
    def renderable(self, trace: Trace) -> RenderableType:
        """A Rich renderable that lays itself out at the console's width (or ``width``)."""

    def render(self, trace: Trace) -> str:
        renderable = self.renderable(trace)
        if not self.color:
            from tracer.renderers.chrome import View, plain_text

            if isinstance(renderable, View):
                text = plain_text(renderable, self.width)
                if text is not None:
                    return text
        return render_to_text(renderable, self.width, self.color)


def _console(width: int | None, *, color: bool, record: bool = False) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        color_system=("truecolor" if record else "256") if color else None,
        force_terminal=color,
        force_jupyter=False,
        force_interactive=False,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        record=record,
        soft_wrap=False,
    )


def render_to_text(renderable: RenderableType, width: int | None, color: bool) -> str:
    """Print ``renderable`` at ``width`` columns; ANSI colour codes only when ``color``."""
    console = _console(width, color=color)
    console.print(renderable)
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


def export(
    renderable: RenderableType,
    width: int | None,
    fmt: ExportFormat,
    *,
    title: str = "trace-request",
) -> str:
    """``renderable`` as a standalone SVG image, an HTML page or plain text."""
    if fmt not in ("svg", "html", "txt"):
        raise UnknownFormatError(f"unknown export format {fmt!r}: choose svg, html or txt")
    console = _console(width, color=fmt != "txt", record=True)
    console.print(renderable)
    if fmt == "svg":
        return console.export_svg(title=title)
    if fmt == "html":
        return console.export_html(inline_styles=True)
    return console.export_text(styles=False)
