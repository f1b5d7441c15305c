"""Behaviour of the renderers beyond their exact output (see test_goldens.py for that)."""

from __future__ import annotations

import copy
import re
import time
from itertools import pairwise

import pytest
from rich.cells import cell_len
from rich.console import Console, Group

from tracer.model import Span, SpanEvent, Trace
from tracer.renderers import (
    RENDERERS,
    JSONRenderer,
    MermaidRenderer,
    SequenceRenderer,
    TreeRenderer,
    UnknownFormatError,
    WaterfallRenderer,
    export,
    get_renderer,
    guess_format,
    render_to_text,
)
from tracer.renderers.mermaid import escape

from .sample_traces import SAMPLES, TraceBuilder, large_trace, success_post_users

TERMINAL = ("sequence", "waterfall")
TEXT = ("sequence", "waterfall", "tree")


def _render(name: str, trace: Trace, **options: object) -> str:
    return get_renderer(name)(**options).render(trace)  # type: ignore[arg-type]


# -- registry -----------------------------------------------------------------------------


def test_registry_lists_every_format() -> None:
    assert set(RENDERERS) == {
        "sequence",
        "waterfall",
        "tree",
        "json",
        "mermaid",
        "svg",
        "html",
        "text",
    }
    for name, cls in RENDERERS.items():
        assert cls.name == name
        assert get_renderer(name) is cls


def test_unknown_format_names_the_valid_ones() -> None:
    with pytest.raises(UnknownFormatError) as info:
        get_renderer("flamegraph")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message
    assert "'flamegraph'" in message
    for name in RENDERERS:
        assert name in message


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("trace.json", "json"),
        ("out/flow.mmd", "mermaid"),
        ("flow.MERMAID", "mermaid"),
        ("diagram.svg", "svg"),
        ("page.html", "html"),
        ("log.txt", "text"),
        ("archive.tar.gz", None),
        ("no_extension", None),
    ],
)
def test_guess_format_from_extension(path: str, expected: str | None) -> None:
    assert guess_format(path) == expected
    if expected is not None:
        assert expected in RENDERERS


def test_width_must_be_usable() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        SequenceRenderer(width=5)


# -- json ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_json_round_trip_is_exact(sample: str) -> None:
    trace = SAMPLES[sample]()
    text = JSONRenderer().render(trace)
    again = Trace.from_json(text)
    assert again.to_dict() == trace.to_dict()
    assert JSONRenderer().render(again) == text


@pytest.mark.parametrize("name", ["sequence", "waterfall", "tree", "mermaid"])
def test_a_saved_trace_renders_like_the_live_one(name: str) -> None:
    trace = success_post_users()
    loaded = Trace.from_json(JSONRenderer().render(trace))
    assert _render(name, loaded, width=100, color=False) == _render(
        name, trace, width=100, color=False
    )


# -- mermaid ------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_mermaid_is_a_sequence_diagram(sample: str) -> None:
    text = MermaidRenderer().render(SAMPLES[sample]())
    assert text.startswith("sequenceDiagram\n")
    body = text.splitlines()[1:]
    assert all(line.startswith("    ") for line in body)
    assert sum(line.strip() == "end" for line in body) == sum(
        line.strip().startswith("rect ") for line in body
    )
    for line in body:
        message = line.split(":", 1)[1] if ":" in line else ""
        assert ";" not in message.replace("#59;", "").replace("#35;", "").replace("#quot;", "")


def test_mermaid_escapes_separators_and_quotes() -> None:
    assert escape('a; b # "c" <d>') == "a#59; b #35; #quot;c#quot; #lt;d#gt;"
    trace = success_post_users()
    select = next(s for s in trace.spans if s.name == "SELECT users")
    select.attributes["db.statement"] = 'SELECT 1; -- #tag "quoted"\nDROP'
    text = MermaidRenderer().render(trace)
    line = next(line for line in text.splitlines() if "SELECT 1" in line)
    assert "#59;" in line
    assert "#35;tag" in line
    assert "#quot;quoted#quot;" in line
    assert "DROP" in line  # the newline became a space, not a new statement


# -- plain text, ascii, colour ------------------------------------------------------------


def _unicode_trace() -> Trace:
    trace = success_post_users()
    trace.request["path"] = "/café/ユーザー"
    trace.request["body_excerpt"] = '{"name": "Zoë 🎉"}'
    select = next(s for s in trace.spans if s.name == "SELECT users")
    select.attributes["db.statement"] = "SELECT id FROM users WHERE name = 'Ångström'"
    return trace


@pytest.mark.parametrize("width", [60, 80, 100, 160])
@pytest.mark.parametrize("name", TEXT)
def test_ascii_mode_draws_only_ascii(name: str, width: int) -> None:
    for trace in [*(f() for f in SAMPLES.values()), _unicode_trace()]:
        text = _render(name, trace, width=width, color=False, ascii=True)
        bad = {c for c in text if not c.isascii()}
        assert not bad, f"{name} at {width}: {sorted(bad)}"


@pytest.mark.parametrize("name", TEXT)
def test_colour_only_when_asked(name: str) -> None:
    trace = SAMPLES["500"]()
    assert "\x1b[" in _render(name, trace, width=100, color=True) or name == "tree"
    assert "\x1b[" not in _render(name, trace, width=100, color=False)


@pytest.mark.parametrize("width", [40, 60, 80, 89, 90, 100, 120, 160, 200])
@pytest.mark.parametrize("name", TERMINAL)
def test_every_line_fits_the_width(name: str, width: int) -> None:
    """Below 60 columns the 60-column layout is cropped; from there on it is laid out to fit."""
    for trace in [*(f() for f in SAMPLES.values()), _unicode_trace()]:
        for line in _render(name, trace, width=width, color=False).splitlines():
            assert cell_len(line) <= width, line
            assert width < 60 or line == line.rstrip(), "trailing blanks"


def _lane_columns(text: str) -> list[int]:
    tick_line = next(line for line in text.splitlines() if "t ms" in line)
    return [i for i, c in enumerate(tick_line) if c == "┬"]


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_lanes_sit_at_a_fixed_pitch(sample: str, width: int) -> None:
    columns = _lane_columns(_render("sequence", SAMPLES[sample](), width=width, color=False))
    gaps = {b - a for a, b in pairwise(columns)}
    assert len(gaps) == 1
    assert gaps.pop() >= 3


def test_narrow_diagrams_fold_pass_through_middleware() -> None:
    trace = success_post_users()
    wide = _render("sequence", trace, width=100, color=False)
    narrow = _render("sequence", trace, width=80, color=False)
    assert "mw ×5" in narrow
    assert "mw ×5 = ServerErrorMiddleware › CORSMiddleware" in narrow
    assert "mw ×" not in wide
    assert len(_lane_columns(narrow)) == len(_lane_columns(wide)) - 4


def test_the_layer_that_built_a_500_keeps_its_own_lane_when_folded() -> None:
    text = _render("sequence", SAMPLES["500"](), width=80, color=False)
    lines = text.splitlines()
    header = "\n".join(lines[: next(i for i, line in enumerate(lines) if "t ms" in line)])
    assert "ServerError" in header
    assert "mw ×4" in header


def test_failed_requests_list_what_they_never_reached() -> None:
    assert "∅ not reached: Handler" in _render("sequence", SAMPLES["422"](), width=100)
    assert "∅ not reached: Deps, Handler" in _render("sequence", SAMPLES["404"](), width=100)
    assert "not reached" not in _render("sequence", success_post_users(), width=100)


def test_a_500_from_server_error_middleware_warns_about_missing_headers() -> None:
    text = _render("sequence", SAMPLES["500"](), width=160, color=False)
    assert (
        "⚠ 500 came from ServerErrorMiddleware, outside CORS, request_id_and_timing, GZip: "
        "the response has no CORS headers"
    ) in text
    assert "⚠" not in _render("sequence", SAMPLES["404"](), width=160, color=False)


def _offsets(text: str) -> list[float]:
    return [float(m[1]) for m in re.finditer(r"^ [ \d]{2} +(\d+\.\d{3}) ", text, re.M)]


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_rows_follow_the_clock(sample: str) -> None:
    offsets = _offsets(_render("sequence", SAMPLES[sample](), width=100, color=False))
    assert len(offsets) > 10
    assert offsets == sorted(offsets)


def test_teardown_is_drawn_where_it_ran_not_where_a_version_puts_it() -> None:
    """FastAPI 0.106–0.117 tore yield dependencies down before the response was sent."""
    trace = success_post_users()
    teardown = next(s for s in trace.spans if s.name == "get_db teardown")
    duration = teardown.duration_ns
    teardown.start_ns = next(s for s in trace.spans if s.name == "render JSONResponse").end_ns + 1
    teardown.end_ns = teardown.start_ns + duration
    lines = _render("sequence", trace, width=100, color=False).splitlines()
    at = {
        key: next(i for i, line in enumerate(lines) if key in line)
        for key in ("teardown", "response out", "send_welcome_email")
    }
    assert at["teardown"] < at["response out"] < at["send_welcome_email"]


def test_long_gaps_get_a_later_row() -> None:
    text = _render("sequence", success_post_users(), width=100, color=False)
    # idle from the end of the first SELECT (1.18 ms) to the INSERT (2.61 ms)
    assert re.search(r"⋮ .* 1\.43ms later$", text, re.M)
    # the 16.2 ms COMMIT is work, not idle time: the row after it gets no "later"
    assert "16.2ms later" not in text


def test_instant_events_and_cached_dependencies() -> None:
    trace = success_post_users()
    handler = next(s for s in trace.spans if s.name == "create_user")
    handler.events.append(SpanEvent("cache hit", handler.start_ns + 5_000, {"key": "users"}))
    dep = next(s for s in trace.spans if s.name == "get_sessionmaker")
    dep.attributes["dependency.cached"] = True
    text = _render("sequence", trace, width=160, color=False)
    assert "◇ cache hit · key=users" in text
    assert "get_sessionmaker() → sessionmaker · def · thread wait 41µs · cached" in text
    assert "◆" in _render("waterfall", trace, width=120, color=False)


# -- waterfall ----------------------------------------------------------------------------


def test_waterfall_breaks_the_axis_when_background_work_dwarfs_the_response() -> None:
    text = _render("waterfall", success_post_users(), width=100, color=False)
    assert "linear ≈ then compressed to 21.7ms" in text.splitlines()[0]
    assert "≈" in text.splitlines()[3]
    not_broken = _render("waterfall", SAMPLES["404"](), width=100, color=False)
    assert "≈" not in not_broken


def test_every_span_gets_at_least_one_glyph() -> None:
    b = TraceBuilder(7, "GET", "/tiny")
    root = b.root(100_000, 200, "/tiny", "APIRoute")
    b.span("instant", "handler", 6, 50_000, 50_000, root)
    b.span("one microsecond", "handler", 6, 60_000, 60_001, root)
    b.send(root, 99_000, 200, [(99_500, 2)])
    trace = b.build(response_end_us=99_600, status=200, response_headers={})
    text = _render("waterfall", trace, width=80, color=False)
    for name in ("instant", "one microsecond"):
        row = next(line for line in text.splitlines() if name in line)
        bar = row[row.index(name) + len(name) :].rsplit(" ", 1)[0]
        assert set(bar) - {" ", "┊", "."} - set("0123456789"), row


def test_step_totals_line_shows_every_step_seen() -> None:
    text = _render("waterfall", success_post_users(), width=160, color=False)
    summary = text[text.index("own time by step") :]
    for step in range(1, 11):
        assert re.search(rf"\b{step} \w", summary), step


# -- tree ---------------------------------------------------------------------------------


def test_tree_is_plain_indented_text() -> None:
    text = TreeRenderer().render(SAMPLES["500"]())
    assert "\x1b" not in text
    assert "└─ SELECT items" in text
    assert "✖ OperationalError: no such column: items.owner_id" in text
    assert text.splitlines()[1].startswith("GET /users-with-items ")


# -- rich integration ---------------------------------------------------------------------


def test_views_compose_and_follow_the_console_width() -> None:
    trace = success_post_users()
    console = Console(record=True, width=90, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    with console.file:
        console.print(
            Group(
                SequenceRenderer().renderable(trace),
                WaterfallRenderer().renderable(trace),
            )
        )
    text = console.export_text()
    assert "dur = span duration" in text
    assert "own time by step" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 90


@pytest.mark.parametrize("fmt", ["svg", "html", "txt"])
def test_export_formats(fmt: str) -> None:
    trace = SAMPLES["500"]()
    view = SequenceRenderer(width=100).renderable(trace)
    out = export(view, 100, fmt)  # type: ignore[arg-type]
    if fmt == "svg":
        assert out.lstrip().startswith("<svg")
        assert "500 Internal Server Error" in out.replace("&#160;", " ")
    elif fmt == "html":
        assert "<html" in out.lower()
    else:
        assert out == render_to_text(view, 100, color=False)


def test_file_renderers_render_the_sequence_diagram() -> None:
    trace = SAMPLES["404"]()
    assert _render("text", trace, width=100) == _render("sequence", trace, width=100, color=False)
    assert _render("svg", trace).lstrip().startswith("<svg")
    assert "<html" in _render("html", trace).lower()


# -- odd traces ---------------------------------------------------------------------------


def _bare_trace() -> Trace:
    root = Span("00000000000000a1", None, "GET /", "asgi", 1, 1_000, 2_000)
    orphan = Span("00000000000000a2", "ffffffffffffffff", "lost", "handler", 6, 1_200, 1_300)
    return Trace("t", [root, orphan], request={"method": "GET", "path": "/"})


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_a_trace_without_response_or_parents_still_renders(name: str) -> None:
    text = _render(name, _bare_trace(), width=80, color=False)
    assert text
    if name in TEXT:
        assert "no response" in text
    empty = Trace("t", [], request={"method": "GET", "path": "/"})
    assert _render(name, empty, width=80, color=False)


def test_render_leaves_the_trace_untouched() -> None:
    trace = SAMPLES["401"]()
    before = copy.deepcopy(trace.to_dict())
    for name in RENDERERS:
        _render(name, trace, width=100)
    assert trace.to_dict() == before


# -- speed --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TERMINAL)
def test_a_thousand_spans_render_in_well_under_a_second(name: str) -> None:
    trace = large_trace()
    assert len(trace.spans) >= 1_000
    started = time.perf_counter()
    text = _render(name, trace, width=120, color=True)
    elapsed = time.perf_counter() - started
    assert text.count("\n") > 1_000
    assert elapsed < 1.0, f"{name}: {elapsed:.2f}s"


def test_a_long_note_ends_by_saying_where_the_rest_is_never_mid_sentence() -> None:
    from tracer.renderers.chrome import MORE, note_lines

    cut = [line.plain for line in note_lines("  " + "evidence " * 80, 60, "", False)]
    assert len(cut) == 4 and cut[-1].endswith(MORE) and all(len(line) <= 60 for line in cut)
    whole = [line.plain for line in note_lines("  " + "evidence " * 40, 60, "", False, 16)]
    assert not whole[-1].endswith(MORE)
    assert " ".join(w.strip() for w in whole).split() == ["evidence"] * 40
