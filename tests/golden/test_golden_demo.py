"""Golden renderings of real demo traces (fake clock) at 80, 100 and 160 columns.

Regenerate after an intended rendering change with ``UPDATE_GOLDENS=1`` and
review the diff; never edit an expectation by hand to make it pass.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.golden.recording import SCENARIOS, record
from tests.goldens import assert_matches_golden
from tracer.model import Trace
from tracer.renderers import get_renderer

GOLDEN = Path(__file__).parent / "files"
WIDTHS = (80, 100, 160)
TERMINAL = ("sequence", "waterfall", "tree")


@functools.cache
def recorded(name: str) -> Trace:
    return record(name)


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "TERM"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("fmt", TERMINAL)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_terminal_renderings(scenario: str, fmt: str, width: int) -> None:
    text = get_renderer(fmt)(width=width, color=False).render(recorded(scenario))
    assert_matches_golden(GOLDEN / f"{scenario}.{fmt}.{width}.txt", text)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_mermaid(scenario: str) -> None:
    text = get_renderer("mermaid")().render(recorded(scenario))
    assert_matches_golden(GOLDEN / f"{scenario}.mmd", text)


@pytest.mark.parametrize("scenario", ["post_users_201", "search_422"])
def test_ascii_fallback(scenario: str) -> None:
    text = get_renderer("sequence")(width=100, color=False, ascii=True).render(recorded(scenario))
    assert text.isascii()
    assert_matches_golden(GOLDEN / f"{scenario}.sequence.100.ascii.txt", text)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_json_round_trip_renders_the_same(scenario: str) -> None:
    trace = recorded(scenario)
    again = Trace.from_json(get_renderer("json")().render(trace))
    assert again.to_dict() == trace.to_dict()
    sequence = get_renderer("sequence")(width=100, color=False)
    assert sequence.render(again) == sequence.render(trace)


@pytest.mark.parametrize("scenario", ["post_users_201", "search_422", "boom_500"])
def test_explained_sequence(scenario: str) -> None:
    from tracer.renderers import SequenceRenderer

    renderer = SequenceRenderer(width=100, color=False, explain=True)
    assert_matches_golden(
        GOLDEN / f"{scenario}.sequence.100.explain.txt", renderer.render(recorded(scenario))
    )
