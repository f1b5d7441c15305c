"""Renderers: one module per output format, looked up by name or file extension."""

from __future__ import annotations

from tracer.renderers.base import Renderer, UnknownFormatError
from tracer.renderers.sequence import SequenceRenderer

RENDERERS: dict[str, type[Renderer]] = {
    SequenceRenderer.name: SequenceRenderer,
}
