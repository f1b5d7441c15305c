"""Exact plain-text output of every renderer for every sample trace, compared with golden files.

Regenerate after an intended change with ``UPDATE_GOLDENS=1 pytest tests/renderers``
and read the diff before committing it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tracer.renderers import get_renderer

from .sample_traces import SAMPLES

WIDTHS = (80, 100, 160)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("renderer", ["sequence", "waterfall"])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_terminal_views(
    sample: str, renderer: str, width: int, golden: Callable[[str, str], None]
) -> None:
    text = get_renderer(renderer)(width=width, color=False).render(SAMPLES[sample]())
    golden(f"{sample}_{renderer}_{width}.txt", text)


@pytest.mark.parametrize("renderer", ["tree", "mermaid"])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_text_formats(sample: str, renderer: str, golden: Callable[[str, str], None]) -> None:
    cls = get_renderer(renderer)
    text = cls(color=False).render(SAMPLES[sample]())
    golden(f"{sample}_{renderer}.{cls.output_file_extension}", text)


@pytest.mark.parametrize("renderer", ["sequence", "waterfall", "tree"])
@pytest.mark.parametrize("sample", ["success", "500"])
def test_ascii(sample: str, renderer: str, golden: Callable[[str, str], None]) -> None:
    text = get_renderer(renderer)(width=100, color=False, ascii=True).render(SAMPLES[sample]())
    golden(f"{sample}_{renderer}_ascii_100.txt", text)
