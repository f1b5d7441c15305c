"""Middleware lanes that say what each layer did, and whose each layer is, at every width.

Built on hand-made traces carrying ``http.response.header_names`` on each
``'<layer> response'`` span (what capture records), and on the same traces
without it (older recordings): then nothing is claimed about headers.
"""

from __future__ import annotations

import re

import pytest

from tests.renderers.sample_traces import success_post_users
from tracer.analysis.index import analyse
from tracer.analysis.layers import LAYER_HEADERS, layer_reports
from tracer.analysis.processors import lanes
from tracer.analysis.step_context import StepContext
from tracer.cli.shapes import shape_of
from tracer.model import Trace
from tracer.renderers import get_renderer
from tracer.renderers.flow import build_flow

#: innermost first, as the response start left each layer going outward
NAMES = {
    "ExceptionMiddleware": ["content-length", "content-type"],
    "GZipMiddleware": ["content-type", "content-encoding", "vary"],
    "request_id_and_timing": ["content-type", "content-encoding", "vary", "x-request-id"],
    "CORSMiddleware": [
        "content-type",
        "content-encoding",
        "vary",
        "x-request-id",
        "access-control-allow-origin",
    ],
    "ServerErrorMiddleware": [
        "content-type",
        "content-encoding",
        "vary",
        "x-request-id",
        "access-control-allow-origin",
        "x-trace-id",
    ],
}
WIDTHS = (60, 80, 100, 120, 160)
ANSI = re.compile(r"\x1b\[")


def with_layer_headers(trace: Trace) -> Trace:
    for span in trace.spans:
        layer = span.name.removesuffix(" response")
        if span.step == 8 and span.phase == "middleware" and layer in NAMES:
            span.attributes[LAYER_HEADERS] = list(NAMES[layer])
    return trace


def _draw(trace: Trace, width: int, *, ascii: bool = False) -> str:
    return get_renderer("sequence")(width=width, color=False, ascii=ascii).render(trace)


def test_each_layer_says_what_it_added_and_removed() -> None:
    reports = {
        r.layer.name: r for r in layer_reports(analyse(with_layer_headers(success_post_users())))
    }
    assert not reports["ExceptionMiddleware"].known  # nothing inside it to compare with
    gzip = reports["GZipMiddleware"]
    assert gzip.yours and gzip.known
    assert (gzip.added, gzip.removed) == (("content-encoding", "vary"), ("content-length",))
    assert reports["request_id_and_timing"].change_text() == "+x-request-id"
    assert reports["ServerErrorMiddleware"].change_text() == "+x-trace-id (tracer's)"
    assert not reports["ServerErrorMiddleware"].yours
    assert reports["GZipMiddleware"].in_ns == 4_000
    assert reports["GZipMiddleware"].out_ns == 10_000


def test_without_the_attribute_nothing_is_claimed() -> None:
    reports = layer_reports(analyse(success_post_users()))
    assert not any(r.known or r.changed for r in reports)
    text = _draw(success_post_users(), 160)
    assert not re.search(r" [+-][a-z-]+-?[a-z]* ", text.split("own time")[0].split("dur\n")[1])
    assert "request_id_and_timing★ · out 64µs" in text


def test_wide_every_layer_of_yours_has_its_own_way_out_row() -> None:
    text = _draw(with_layer_headers(success_post_users()), 160)
    assert "GZipMiddleware★ · out 10µs · +content-encoding +vary -content-length" in text
    assert "request_id_and_timing★ · out 64µs · +x-request-id" in text
    assert "CORSMiddleware★ · out 14µs · +access-control-allow-origin" in text
    # FastAPI's layers that changed nothing share a row; ServerError's change is the tracer's
    assert "ServerErrorMiddleware · out 3.0µs · +x-trace-id (tracer's)" in text
    assert "ExceptionMiddleware★" not in text and "ServerErrorMiddleware★" not in text


@pytest.mark.parametrize("ascii", [False, True])
@pytest.mark.parametrize("width", WIDTHS)
def test_yours_and_fastapis_apart_at_every_width(width: int, ascii: bool) -> None:
    text = _draw(with_layer_headers(success_post_users()), width, ascii=ascii)
    mark = "*" if ascii else "★"
    assert not ANSI.search(text)
    assert all(len(line) <= width for line in text.splitlines())
    legend = " ".join(line.strip() for line in text.splitlines() if "your middleware" in line)
    assert legend, text
    joined = " ".join(text.split())
    assert (
        f"{mark} your middleware (CORSMiddleware, request_id_and_timing, GZipMiddleware)" in joined
    )
    # the app's layers carry the mark where they are named; FastAPI's never do
    for name in ("CORS", "GZip"):
        assert re.search(rf"{name}(Middleware)?{re.escape(mark)}", text), (name, text)
    for name in ("ServerError", "Exception"):
        assert not re.search(rf"{name}(Middleware)?{re.escape(mark)}", text), (name, text)


def test_narrow_the_folded_row_lists_each_layers_change() -> None:
    text = _draw(with_layer_headers(success_post_users()), 60)
    joined = " ".join(text.split())
    row = text.split("\n  8 ")[1].split("\n  9 ")[0]
    said = " ".join(w for w in row.split() if w not in ("┃", "│", "97µs"))
    assert said.startswith("4.232 ┃◀─┨ response out through 5 layers · GZip★ +content-encoding")
    assert "-content-length · request_id_and_timing★ +x-request-id · CORS★" in said
    assert said.endswith("ServerError +x-trace-id (tracer's)")
    assert "mw ×5 = ServerErrorMiddleware › CORSMiddleware★ › request_id_and_timing★" in joined
    assert "5 middleware layers (3 yours★)" in joined


def test_where_lanes_are_short_the_apps_layers_share_one_apart_from_fastapis() -> None:
    trace = with_layer_headers(success_post_users())
    lane_map = lanes(trace, fold_by_owner=True)
    names = [(lane.name, lane.owner) for lane in lane_map.lanes if lane.kind == "middleware"]
    assert names == [
        ("ServerError", "framework"),
        ("yours ×3", "yours"),
        ("Exception", "framework"),
    ]
    flow = build_flow(trace, fold_by_owner=True)
    texts = [row.text for row in flow.rows]
    assert "request_id_and_timing★ · in 46µs" in texts  # each of yours keeps its row
    assert "request_id_and_timing★ · out 64µs · +x-request-id" in texts


def test_teaching_shape_reads_the_same_changes() -> None:
    trace = with_layer_headers(success_post_users())
    shape = shape_of(StepContext.of(trace), 8)
    assert "GZipMiddleware +content-encoding +vary -content-length" in shape.coming_out
    assert "request_id_and_timing +x-request-id" in shape.coming_out
    assert not shape.missing
    older = shape_of(StepContext.of(success_post_users()), 8)
    assert LAYER_HEADERS in older.missing


@pytest.mark.parametrize("width", WIDTHS)
def test_tree_columns_do_not_drift_with_long_names(width: int) -> None:
    trace = success_post_users()
    long = "a_rather_long_dependency_name_that_goes_on_and_on_and_on_forever"
    for span in trace.spans:
        if span.name == "get_db":
            span.name = long
    text = get_renderer("tree")(width=width, color=False).render(trace)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    # the step column: one column for every span line
    spans = text.split(" own time by step")[0].splitlines()[1:]
    rows = [line for line in spans if re.search(r"\d(µs|ms|ns)", line)]
    steps = {m.start() for line in rows if (m := re.search(r"\d+ [a-z]+$", line.rstrip()))}
    durs = {m.end() for line in rows if (m := re.search(r"\d(µs|ms|ns)", line))}
    assert len(durs) == 1, text
    assert len({s for s in steps if s > min(durs)}) <= 2, text  # " 4 dep…" / "10 bac…"
    assert "a_rather_long" in text and "…" in text
