"""Labels a class can read at any width: whole words, numbers with their units,
lane names never cut mid-word, and no label drawn over a lifeline still running.

Checked on real demo recordings at the widths of the golden renders.
"""

from __future__ import annotations

import pytest

from tests.golden.recording import SCENARIOS
from tests.golden.test_golden_demo import TEACHING, TEACHING_WIDTHS, recorded
from tracer.renderers import get_renderer
from tracer.renderers.canvas import wrap
from tracer.renderers.sequence_text import label_room

#: what may sit on an active lifeline's column: the lifeline, an arrow or a row's marker
_ON_A_LIFELINE = set("┃┠┨●◀▶─╌✖◇░ ")


def _lines(text: str, width: int) -> list[str]:
    ranges, _ = wrap(text, width, 10)
    return [text[a:b] for a, b in ranges]


def test_wrap_breaks_between_words() -> None:
    assert _lines("caught by route /users → HTTPException handler", 20) == [
        "caught by route",
        "/users →",
        "HTTPException",
        "handler",
    ]


def test_a_number_stays_with_its_unit() -> None:
    assert _lines("held it longest (0.35 ms)", 20) == ["held it longest", "(0.35 ms)"]
    assert _lines("JSONResponse 422 · 144 B", 20) == ["JSONResponse 422 ·", "144 B"]


def test_a_name_too_long_for_the_line_breaks_where_a_name_does() -> None:
    assert _lines("send_welcome_email()", 10) == ["send_", "welcome_", "email()"]
    assert _lines("ExceptionMiddleware", 12) == ["Exception", "Middleware"]


def test_a_label_moves_past_active_lifelines_that_leave_it_no_room() -> None:
    assert label_room([30, 34], 24, 90) == (36, 90)
    assert label_room([60], 24, 90) == (24, 59)


def _active_lifelines_covered(text: str) -> list[str]:
    lines = text.splitlines()
    tick = next(i for i, line in enumerate(lines) if "t ms" in line)
    xs = [i for i, c in enumerate(lines[tick]) if c == "┬"]
    covered = []
    for k in range(tick + 1, len(lines) - 1):
        above, line, below = lines[k - 1], lines[k], lines[k + 1]
        if "┴" in line:
            break
        for x in xs:
            if max(x, 0) >= min(len(above), len(line), len(below)):
                continue
            running = above[x] in "┃┠┨" and below[x] in "┃┠┨"
            if running and line[x] not in _ON_A_LIFELINE:
                covered.append(line)
    return covered


@pytest.mark.parametrize("width", TEACHING_WIDTHS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_no_label_covers_an_active_lifeline(scenario: str, width: int) -> None:
    text = get_renderer("sequence")(width=width, color=False).render(recorded(scenario))
    assert _active_lifelines_covered(text) == []


@pytest.mark.parametrize("width", TEACHING_WIDTHS)
@pytest.mark.parametrize("scenario", TEACHING)
def test_lane_names_are_never_cut_mid_word(scenario: str, width: int) -> None:
    text = get_renderer("sequence")(width=width, color=False).render(recorded(scenario))
    lines = text.splitlines()
    header = lines[: next(i for i, line in enumerate(lines) if "t ms" in line)][2:]
    names = [name for line in header for name in line.split()]
    assert [n for n in names if n.endswith("…") and "_" not in n] == []
    if scenario == "boom_500" and width >= 100:  # every layer has a lane: the short forms
        assert {"ServerError", "ExcTelemetry", "BodyLimit", "ExitStack"} <= set(names)
