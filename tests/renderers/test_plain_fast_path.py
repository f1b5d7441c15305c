"""Uncoloured terminal output skips Rich: it must print exactly what Rich would."""

from __future__ import annotations

import pytest

from tests.renderers import sample_traces as samples
from tracer.renderers import get_renderer
from tracer.renderers.base import render_to_text
from tracer.renderers.canvas import Canvas

TRACES = [
    samples.success_post_users,
    samples.validation_422,
    samples.server_error_500,
    samples.not_found_404,
    samples.unauthorized_401,
    samples.streaming_200,
]


@pytest.mark.parametrize("make", TRACES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("sequence", {}),
        ("sequence", {"explain": True}),
        ("sequence", {"ascii": True}),
        ("waterfall", {}),
        ("waterfall", {"ascii": True}),
    ],
)
@pytest.mark.parametrize("width", [60, 80, 133])
def test_plain_text_matches_rich(make, name, options, width) -> None:
    trace = make()
    renderer = get_renderer(name)(width=width, color=False, **options)
    assert renderer.render(trace) == render_to_text(renderer.renderable(trace), width, False)


def _cell_by_cell(canvas: Canvas, x: int, text: str, style: str, limit: int | None) -> int:
    """The general write, one narrow character at a time (what ``put`` did for all text)."""
    end = canvas.width if limit is None else min(limit, canvas.width)
    for char in text:
        if x < 0:
            x += 1
            continue
        if x + 1 > end:
            break
        canvas._set(x, char, style)
        x += 1
    return x


@pytest.mark.parametrize(
    ("x", "text", "limit"),
    [
        (0, "hello", None),
        (-2, "hello", None),
        (7, "hello", 10),
        (-9, "ab", None),
        (2, "xy", None),
        (4, "z", None),
        (5, "abc", 6),
        (10, "late", None),
    ],
)
def test_canvas_ascii_write_matches_cell_by_cell(x: int, text: str, limit: int | None) -> None:
    """ASCII text is written as one slice; wide neighbours are cleared as before."""
    fast, slow = Canvas(10), Canvas(10)
    for canvas in (fast, slow):
        canvas.put(3, "界", "red")  # a wide character (cells 3 and 4) the write may overlap
    assert fast.put(x, text, "bold", limit) == _cell_by_cell(slow, x, text, "bold", limit)
    assert fast.chars == slow.chars
    assert fast.styles == slow.styles
    assert fast.runs() == slow.runs()
