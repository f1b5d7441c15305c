"""Renderers: one module per output format, looked up by name or by file extension.

>>> from tracer.renderers import get_renderer
>>> print(get_renderer("sequence")(width=100).render(trace))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import PurePath

from tracer.renderers.base import (
    Renderer,
    TerminalRenderer,
    UnknownFormatError,
    export,
    render_to_text,
)
from tracer.renderers.exported import SVGRenderer, TextRenderer
from tracer.renderers.html_page import HTMLRenderer
from tracer.renderers.json_renderer import JSONRenderer
from tracer.renderers.mermaid import MermaidRenderer
from tracer.renderers.sequence import SequenceRenderer, SequenceView
from tracer.renderers.tree import TreeRenderer
from tracer.renderers.waterfall import WaterfallRenderer, WaterfallView

#: every renderer by name; ``sequence`` is the default
RENDERERS: dict[str, type[Renderer]] = {
    r.name: r
    for r in (
        SequenceRenderer,
        WaterfallRenderer,
        TreeRenderer,
        JSONRenderer,
        MermaidRenderer,
        SVGRenderer,
        HTMLRenderer,
        TextRenderer,
    )
}
DEFAULT_FORMAT = "sequence"

_BY_EXTENSION = {
    ".json": "json",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}


def get_renderer(name: str) -> type[Renderer]:
    """The renderer class called ``name``; :class:`UnknownFormatError` if there is none."""
    try:
        return RENDERERS[name]
    except KeyError:
        valid = ", ".join(RENDERERS)
        raise UnknownFormatError(f"unknown format {name!r}: choose one of {valid}") from None


def guess_format(path: str | PurePath) -> str | None:
    """The renderer name for an output file, from its extension (``None`` if unknown)."""
    return _BY_EXTENSION.get(PurePath(path).suffix.lower())


__all__ = [
    "DEFAULT_FORMAT",
    "RENDERERS",
    "HTMLRenderer",
    "JSONRenderer",
    "MermaidRenderer",
    "Renderer",
    "SVGRenderer",
    "SequenceRenderer",
    "SequenceView",
    "TerminalRenderer",
    "TextRenderer",
    "TreeRenderer",
    "UnknownFormatError",
    "WaterfallRenderer",
    "WaterfallView",
    "export",
    "get_renderer",
    "guess_format",
    "render_to_text",
]
