"""One trace, every format, the same figures: the JSON is the reference, the text is parsed.

Each real demo trace (recorded under the fake clock) is rendered as sequence,
waterfall, tree, json and ``--explain``; every duration and per-step total a
user can read in the text is parsed back out and compared with the JSON's.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from tests.golden.test_golden_demo import recorded
from tracer.analysis.accounting import DRAWN_GAP_NS
from tracer.analysis.readers import fmt_ns
from tracer.model import STEP_NAMES
from tracer.renderers import SequenceRenderer, get_renderer
from tracer.renderers.labels import format_duration, format_offset

SCENARIOS = ("post_users_201", "post_users_409", "search_422", "boom_500", "stream_200")
WIDTH = 120
_DUR = r"\d+(?:\.\d+)?(?:ns|µs|ms|s)"
_STEP_ITEM = re.compile(rf"(\d+) ([a-zA-Z][a-zA-Z -]*?) ({_DUR})")
_ROW = re.compile(rf"^ *(?:\d+ )?\s*(\d+\.\d{{3}}) .*?\s{{2,}}({_DUR})$")


def _json(scenario: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(get_renderer("json")().render(recorded(scenario)))
    return document


def _text(scenario: str, fmt: str) -> str:
    if fmt == "explain":
        return SequenceRenderer(width=WIDTH, color=False, explain=True).render(recorded(scenario))
    return get_renderer(fmt)(width=WIDTH, color=False).render(recorded(scenario))


def _step_totals(text: str) -> dict[int, str]:
    """``own time by step  1 ASGI hand-off 40µs  2 middleware in 80µs …`` → {1: "40µs", …}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "own time by step" in line)
    block = " ".join(lines[start:]).split("own time by step", 1)[1]
    out = {}
    for step, name, dur in _STEP_ITEM.findall(block):
        assert name == STEP_NAMES[int(step)], (step, name)
        out[int(step)] = dur
    return out


@pytest.mark.parametrize("fmt", ["sequence", "waterfall", "tree", "explain"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_step_totals_match_the_json(scenario: str, fmt: str) -> None:
    reference = {int(k): v for k, v in _json(scenario)["analysis"]["time_by_step_ns"].items()}
    shown = _step_totals(_text(scenario, fmt))
    assert shown, "no step totals drawn"
    assert shown == {step: format_duration(reference[step]) for step in shown}
    assert all(reference[step] == 0 for step in set(reference) - set(shown))


@pytest.mark.parametrize("fmt", ["sequence", "waterfall", "tree", "explain"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_untraced_total_matches_the_json_and_everything_adds_up(scenario: str, fmt: str) -> None:
    document = _json(scenario)
    analysis = document["analysis"]
    untraced = analysis["untraced_ns"]
    assert untraced == sum(g["duration_ns"] for g in analysis["untraced"])
    spans = document["spans"]
    root = next(s for s in spans if s["parent_id"] is None)
    total = sum(analysis["time_by_step_ns"].values()) + untraced
    assert total == root["end_ns"] - root["start_ns"]
    text = " ".join(_text(scenario, fmt).split("own time by step", 1)[1].split())
    shown = re.search(rf"untraced ({_DUR})", text)
    assert shown is not None and shown[1] == format_duration(untraced)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_step_with_time_happened(scenario: str) -> None:
    analysis = _json(scenario)["analysis"]
    for step in analysis["steps"]:
        if not step["happened"]:
            assert analysis["time_by_step_ns"][str(step["step"])] == 0, step


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tree_and_waterfall_show_every_span_duration(scenario: str) -> None:
    spans = _json(scenario)["spans"]
    t0 = min(s["start_ns"] for s in spans)
    durations = Counter(format_duration(s["end_ns"] - s["start_ns"]) for s in spans)
    tree = _text(scenario, "tree").splitlines()[1:]
    tree_durs = Counter(
        m[1] for line in tree if (m := re.search(rf"  +({_DUR})  +\d+ [a-z]+", line))
    )
    assert tree_durs == durations
    rows = Counter(
        (format_offset(s["start_ns"] - t0), format_duration(s["end_ns"] - s["start_ns"]))
        for s in spans
    )
    rows.update(  # an unnamed untraced gap from 50 µs gets a row of its own (a named one
        # is drawn as the span that named it)
        (format_offset(g["start_ns"] - t0), format_duration(g["duration_ns"]))
        for g in _json(scenario)["analysis"]["untraced"]
        if g["duration_ns"] >= DRAWN_GAP_NS and g["name"] is None
    )
    waterfall = Counter(
        (m[1], m[2])
        for line in _text(scenario, "waterfall").splitlines()
        if (m := re.search(rf" (\d+\.\d{{3}}) .*?\s({_DUR})$", line))
    )
    assert waterfall == rows


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_sequence_rows_are_span_durations_and_the_middleware_row_is_step_2(
    scenario: str,
) -> None:
    document = _json(scenario)
    spans = document["spans"]
    t0 = min(s["start_ns"] for s in spans)
    known = {
        (format_offset(s[edge] - t0), format_duration(s["end_ns"] - s["start_ns"]))
        for s in spans
        for edge in ("start_ns", "end_ns")
    }
    known.update(
        (format_offset(g["start_ns"] - t0), format_duration(g["duration_ns"]))
        for g in document["analysis"]["untraced"]
    )
    out = sorted(
        (s for s in spans if s["phase"] == "middleware" and s["step"] == 8),
        key=lambda s: s["start_ns"],
    )
    # "response out through N layers": the message's way through a run of them (a send
    # awaited inside a layer splits the way out into two rows)
    for i in range(len(out)):
        for j in range(i, len(out)):
            first = out[i]["start_ns"]
            extent = max(s["end_ns"] for s in out[i : j + 1]) - first
            known.add((format_offset(first - t0), format_duration(extent)))
    text = _text(scenario, "sequence")
    rows = [m for line in text.splitlines() if (m := _ROW.match(line))]
    assert len(rows) >= 5, "no timed rows parsed"
    for m in rows:
        assert (m[1], m[2]) in known, m[0]
    step_2 = document["analysis"]["time_by_step_ns"]["2"]
    folded = re.search(rf"(\d+) middleware layers · in ({_DUR})", text)
    if folded:
        assert folded[2] == format_duration(step_2)
    own = document["analysis"]["own_ns_by_span"]
    layers = {s["name"]: own[s["span_id"]].get("2", 0) for s in spans if s["step"] == 2}
    for name, dur in re.findall(rf"(\w+) · in ({_DUR})", text):
        if name != "layers":
            assert dur == format_duration(layers[name]), name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_explain_quotes_the_same_figures(scenario: str) -> None:
    document = _json(scenario)
    spans = {s["name"]: s for s in document["spans"]}
    own = document["analysis"]["own_ns_by_span"]
    text = " ".join(s["text"] for s in document["analysis"]["steps"])
    slowest = re.search(r"(\w+) took longest \(([\d.]+ m?s)\)", text)
    if slowest:
        layer = spans[slowest[1]]
        assert slowest[2] == fmt_ns(own[layer["span_id"]].get("2", 0))
        longest = max(own[s["span_id"]].get("2", 0) for s in document["spans"] if s["step"] == 2)
        assert own[layer["span_id"]].get("2", 0) == longest
    matched = re.search(r"\(route [^)]*\) in ([\d.]+ m?s)", text)
    if matched:
        match = spans["match"]
        assert matched[1] == fmt_ns(match["end_ns"] - match["start_ns"])
    explained = _text(scenario, "explain")
    plain = _text(scenario, "sequence")
    assert _step_totals(explained) == _step_totals(plain)
