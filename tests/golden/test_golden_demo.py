"""Golden renderings of real demo traces (fake clock) at 80, 100 and 160 columns;
the three teaching scenarios also at 60 and 120, in ASCII and with ``--no-color``
printed to a terminal.

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
#: what a class is shown (a success, a validation error, an unhandled one), at every width
TEACHING = ("post_users_201", "search_422", "boom_500")
TEACHING_WIDTHS = (60, 80, 100, 120, 160)


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


@pytest.mark.parametrize("width", sorted(set(TEACHING_WIDTHS) - set(WIDTHS)))
@pytest.mark.parametrize("fmt", TERMINAL)
@pytest.mark.parametrize("scenario", TEACHING)
def test_teaching_widths(scenario: str, fmt: str, width: int) -> None:
    text = get_renderer(fmt)(width=width, color=False).render(recorded(scenario))
    assert_matches_golden(GOLDEN / f"{scenario}.{fmt}.{width}.txt", text)


@pytest.mark.parametrize("width", TEACHING_WIDTHS)
@pytest.mark.parametrize("scenario", TEACHING)
def test_ascii_fallback(scenario: str, width: int) -> None:
    text = get_renderer("sequence")(width=width, color=False, ascii=True).render(recorded(scenario))
    assert text.isascii()
    assert_matches_golden(GOLDEN / f"{scenario}.sequence.{width}.ascii.txt", text)


@pytest.mark.parametrize("width", TEACHING_WIDTHS)
@pytest.mark.parametrize("scenario", TEACHING)
def test_no_color_in_a_terminal(
    scenario: str, width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--no-color`` printed to a colour terminal: not one escape code, the plain golden."""
    from tracer.cli.output import make_console
    from tracer.renderers import SequenceRenderer

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    console = make_console(color=False, width=width)
    assert console.is_terminal
    console.print(SequenceRenderer(width=width, color=False).renderable(recorded(scenario)))
    text = capsys.readouterr().out
    assert "\x1b" not in text
    assert_matches_golden(GOLDEN / f"{scenario}.sequence.{width}.txt", text)


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
