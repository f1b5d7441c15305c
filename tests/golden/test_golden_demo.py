"""Golden renderings of real demo traces (fake clock) at 80, 100 and 160 columns.

Regenerate after an intended rendering change with ``UPDATE_GOLDENS=1`` and
review the diff; never edit an expectation by hand to make it pass.
"""

from __future__ import annotations

import difflib
import functools
import os
from pathlib import Path

import pytest

from tests.golden.recording import SCENARIOS, record
from tracer.model import Trace
from tracer.renderers import get_renderer

GOLDEN = Path(__file__).parent / "files"
WIDTHS = (80, 100, 160)
TERMINAL = ("sequence", "waterfall", "tree")


@functools.cache
def recorded(name: str) -> Trace:
    return record(name)


def check(expected_file: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDENS") == "1":
        expected_file.parent.mkdir(parents=True, exist_ok=True)
        expected_file.write_text(actual, encoding="utf-8")
        return
    assert expected_file.exists(), f"{expected_file.name} missing: run with UPDATE_GOLDENS=1"
    expected = expected_file.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{expected_file.name}",
                tofile="rendered",
            )
        )
        pytest.fail(f"rendering differs from {expected_file.name}:\n{diff}", pytrace=False)


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "TERM"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("fmt", TERMINAL)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_terminal_renderings(scenario: str, fmt: str, width: int) -> None:
    text = get_renderer(fmt)(width=width, color=False).render(recorded(scenario))
    check(GOLDEN / f"{scenario}.{fmt}.{width}.txt", text)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_mermaid(scenario: str) -> None:
    text = get_renderer("mermaid")().render(recorded(scenario))
    check(GOLDEN / f"{scenario}.mmd", text)


@pytest.mark.parametrize("scenario", ["post_users_201", "search_422"])
def test_ascii_fallback(scenario: str) -> None:
    text = get_renderer("sequence")(width=100, color=False, ascii=True).render(recorded(scenario))
    assert text.isascii()
    check(GOLDEN / f"{scenario}.sequence.100.ascii.txt", text)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_json_round_trip_renders_the_same(scenario: str) -> None:
    trace = recorded(scenario)
    again = Trace.from_json(get_renderer("json")().render(trace))
    assert again.to_dict() == trace.to_dict()
    sequence = get_renderer("sequence")(width=100, color=False)
    assert sequence.render(again) == sequence.render(trace)
