"""The ``html`` page: self-contained, inert with hostile data, and working in a real browser.

The fast tests read the page as text. The browser test opens real recordings
of the demo (``POST /users`` 201 and ``GET /search?q=p`` 422, recorded under
the golden tests' fake clock, so every run sees the same page) in Debian's
Chromium through Playwright, clicks through it and checks a screenshot.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.golden.recording import record
from tests.renderers.sample_traces import SAMPLES
from tracer.analysis.diagnostics import diagnose
from tracer.analysis.explain import explain
from tracer.analysis.index import analyse
from tracer.analysis.processors import lanes
from tracer.model import Span, SpanEvent, Trace
from tracer.renderers import RENDERERS, get_renderer, guess_format
from tracer.renderers.html_page import HTMLRenderer, render_page, script_json
from tracer.renderers.labels import format_duration

HOSTILE = "</script><script>alert(1)</script>"
CSP = "Content-Security-Policy"
T0 = 1_767_225_600_000_000_000


class _Page(HTMLParser):
    """Every tag with its attributes, and the text of every ``<script>``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script, self._text = dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def json_block(self, element_id: str) -> Any:
        (text,) = [t for a, t in self.scripts if a.get("id") == element_id]
        return json.loads(text)


def hostile_trace() -> Trace:
    """A failed request whose every string tries to break out of the page."""
    attrs = {"url.path": HOSTILE, HOSTILE: "<img src=x onerror=alert(2)>"}
    root = Span("a1", None, HOSTILE, "asgi", 1, T0, T0 + 900_000, "error", attrs)
    raised = {"exception.type": "RuntimeError", "exception.message": HOSTILE}
    handler = Span(
        "a2", "a1", HOSTILE, "handler", 6, T0 + 100_000, T0 + 700_000, "error",
        {"note": "<!-- ]]> & \u2028 \u202e"}, [SpanEvent("exception", T0 + 650_000, raised)],
    )  # fmt: skip
    return Trace(
        trace_id="0" * 31 + "1",
        spans=[root, handler],
        request={"method": "GET", "path": f"/x{HOSTILE}"},
        response={"status_code": 500},
        response_end_ns=T0 + 800_000,
    )


# -- fast: the page as text ------------------------------------------------------------


def test_html_is_the_page_renderer_and_svg_text_are_unchanged() -> None:
    assert get_renderer("html") is HTMLRenderer
    assert guess_format("trace.html") == "html"
    for name in ("svg", "text"):
        assert RENDERERS[name].__module__ == "tracer.renderers.exported"


@pytest.mark.parametrize("name", ["success", "422", "500"])
def test_page_is_self_contained(name: str) -> None:
    out = HTMLRenderer().render(SAMPLES[name]())
    page = _Page(out)
    assert out.startswith("<!DOCTYPE html>")
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed", "img", "base"), tag
        for key in ("src", "href", "action", "srcset", "poster"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, key, value)
    assert "@import" not in out
    assert "url(" not in out.replace("url(data:", "")
    # the only network-capable text left is inside the escaped JSON data
    for attrs, text in page.scripts:
        assert "src" not in attrs
        if attrs.get("type") != "application/json":
            assert "http" not in text


def test_csp_allows_only_the_page_script() -> None:
    out = HTMLRenderer().render(SAMPLES["success"]())
    page = _Page(out)
    (csp,) = [a["content"] for _, a in page.tags if a.get("http-equiv") == CSP]
    assert csp is not None and "default-src 'none'" in csp
    (code,) = [text for attrs, text in page.scripts if "type" not in attrs]
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp


def test_embeds_the_trace_and_its_view_as_valid_json() -> None:
    trace = SAMPLES["422"]()
    page = _Page(HTMLRenderer().render(trace))
    assert Trace.from_dict(page.json_block("trace-data")) == trace
    view = page.json_block("trace-view")
    assert sorted(v["i"] for v in view["spans"]) == list(range(len(trace.spans)))
    assert [s["step"] for s in view["steps"]] == list(range(1, 11))
    assert [f["code"] for f in view["findings"]] == [f.code for f in diagnose(trace)]
    assert [lane["name"] for lane in view["lanes"]] == [lane.name for lane in lanes(trace).lanes]


def test_hostile_strings_stay_inert() -> None:
    trace = hostile_trace()
    out = render_page(trace)
    page = _Page(out)
    # exactly our three script elements: two data blocks and the page's own code
    assert [a.get("type") for a, _ in page.scripts] == ["application/json"] * 2 + [None]
    assert out.count("</script>") == 3
    assert HOSTILE not in out and "<img" not in out and "<!--" not in out
    assert not any(tag == "img" for tag, _ in page.tags)
    assert "alert(" not in page.scripts[2][1]
    # the data survives the escaping exactly
    assert Trace.from_dict(page.json_block("trace-data")) == trace
    assert "&lt;/script&gt;" in out  # the static parts show it as text


def test_script_json_escapes_what_could_end_the_element() -> None:
    text = script_json({"a": "</script><!-- & \u2028"})
    assert not set("<>&") & set(text) and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_page_without_javascript_has_the_diagram_findings_and_steps() -> None:
    trace = SAMPLES["422"]()
    out = HTMLRenderer().render(trace)
    assert '<pre class="seq"' in out and "dur = span duration" in out.replace("&#160;", " ")
    findings = diagnose(trace)
    assert findings and out.count('<li class="finding') == len(findings)
    assert out.count("data-step=") == 10
    assert format_duration(explain(trace)[4].own_ns) in out


def _strict(text: str) -> Any:
    """JSON as a browser's ``JSON.parse`` reads it: no NaN or Infinity."""

    def reject(token: str) -> None:
        raise ValueError(token)

    return json.loads(text, parse_constant=reject)


def test_odd_traces_draw_every_span() -> None:
    """A parent-id cycle, an orphan and a NaN attribute: every span drawn, JSON still strict."""
    spans = [
        Span("r", None, "GET /", "asgi", 1, T0, T0 + 9_000),
        Span("a", "b", "A", "handler", 6, T0 + 2_000, T0 + 3_000, attributes={"x": float("nan")}),
        Span("b", "a", "B", "handler", 6, T0 + 2_500, T0 + 2_800),
        Span("o", "gone", "orphan", "db", 6, T0 + 4_000, T0 + 5_000),
    ]
    trace = Trace("t", spans, {"method": "GET", "path": "/"}, {"status_code": 200}, T0 + 8_000)
    page = _Page(render_page(trace))
    data, view = (_strict(t) for a, t in page.scripts if a.get("type") == "application/json")
    assert sorted(v["i"] for v in view["spans"]) == [0, 1, 2, 3]
    assert data["spans"][1]["attributes"] == {"x": "nan"}


def test_empty_trace_renders() -> None:
    out = render_page(Trace(trace_id="t", spans=[], request={"method": "GET", "path": "/"}))
    assert "No findings" in out and _Page(out).json_block("trace-view")["spans"] == []


# -- slow: a real browser ---------------------------------------------------------------

CHROMIUM = os.environ.get("TRACE_REQUEST_CHROMIUM") or shutil.which("chromium") or ""


@pytest.fixture(scope="module")
def recordings() -> dict[str, Trace]:
    """Recorded before the browser starts: Playwright's sync API holds an event loop."""
    return {name: record(name) for name in ("post_users_201", "search_422")}


@pytest.fixture(scope="module")
def browser(recordings: dict[str, Trace]) -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the page test needs `pip install playwright`"
    )
    if not CHROMIUM:
        pytest.skip("the page test needs Chromium: `apt-get install -y chromium`")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


def _open(browser: Any, trace: Trace, path: Path) -> tuple[Any, list[str]]:
    """The page in a fresh tab; the list collects every problem it reports."""
    path.write_text(HTMLRenderer().render(trace), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an injected alert() would land here
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_console(message: Any) -> None:
        if message.type == "error":  # CSP violations are reported here
            problems.append(f"console: {message.text}")

    def on_request(request: Any) -> None:
        if not request.url.startswith(("file:", "data:")):
            problems.append(f"network: {request.url}")

    page.on("pageerror", lambda error: problems.append(f"error: {error}"))
    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("request", on_request)
    page.goto(path.as_uri())
    return page, problems


_PIXELS = """async (png) => {
  const img = new Image();
  img.src = "data:image/png;base64," + png;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0, sum = 0, sq = 0, blue = 0, red = 0;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    n++; sum += y; sq += y * y;
    const near = (r, g, b) =>
      Math.abs(d[i] - r) < 8 && Math.abs(d[i + 1] - g) < 8 && Math.abs(d[i + 2] - b) < 8;
    if (near(47, 111, 222)) blue++;  // --own in page.css
    if (near(208, 49, 45)) red++;  // --err
  }
  const mean = sum / n;
  return {variance: sq / n - mean * mean, blue, red};
}"""


def _pixels(browser: Any, png: bytes) -> dict[str, float]:
    """Brightness variance and counts of the bar colours, decoded by the browser itself."""
    scratch = browser.new_page()
    try:
        return dict(scratch.evaluate(_PIXELS, base64.b64encode(png).decode()))
    finally:
        scratch.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "step", "hover"),
    [("post_users_201", 6, "INSERT users"), ("search_422", 5, "validate query")],
)
def test_page_in_a_real_browser(
    browser: Any, recordings: dict[str, Trace], tmp_path: Path, scenario: str, step: int, hover: str
) -> None:
    trace = recordings[scenario]
    page, problems = _open(browser, trace, tmp_path / f"{scenario}.html")
    try:
        # lanes: one group per lane with spans, plus the lanes a failed request never reached
        lane_map = lanes(trace)
        used = set(lane_map.lane_of.values())
        expected = [
            lane.name + ("" if lane.reached else " · not reached")
            for k, lane in enumerate(lane_map.lanes)
            if k in used or not lane.reached
        ]
        assert page.locator("#wf .group").all_inner_texts() == expected
        # spans: one bar each, whatever the grouping
        assert page.locator("#wf .bar").count() == len(trace.spans)
        page.select_option("#group-by", "step")
        assert page.locator("#wf .bar").count() == len(trace.spans)
        page.select_option("#group-by", "lane")

        # hover: the tooltip shows the span's name, step, timing, own time and attributes
        target = next(i for i, s in enumerate(trace.spans) if s.name == hover)
        span = trace.spans[target]
        page.hover(f"#span-{target}")
        tip = page.locator("#tip")
        assert tip.is_visible()
        text = tip.inner_text()
        own = format_duration(analyse(trace).own_ns[span.span_id])
        start = f"+{(span.start_ns - trace.start_ns) / 1e6:.3f}"
        for part in (span.name, span.phase, f"{span.step} · ", start, own, *span.attributes):
            assert str(part) in text, (part, text)
        assert format_duration(span.duration_ns) in text
        page.mouse.move(1, 1)
        assert tip.is_hidden()

        # step focus: its spans highlighted, its own time and explanation shown
        button = page.locator(f"#steps button[data-step='{step}']")
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        hits = page.locator("#wf .row.hit").count()
        assert hits == sum(1 for s in trace.spans if s.step == step) > 0
        about = explain(trace)[step - 1]
        detail = page.locator("#step-detail").inner_text()
        assert about.text in detail and format_duration(about.own_ns) in detail

        # findings: listed, and the blamed span's name pins its tooltip
        findings = diagnose(trace)
        assert page.locator("#findings li.finding").count() == len(findings)
        assert page.inner_text("#findings-count") == str(len(findings))
        for finding in findings:
            assert finding.title in page.inner_text("#findings")
        blamed = page.locator("#findings a.blame")
        if blamed.count():
            button.click()  # unfocus the step
            blamed.first.click()
            assert tip.is_visible()
            assert page.locator(".bar.pinned").count() == 1

        shot = tmp_path / f"{scenario}.png"
        page.screenshot(path=str(shot), full_page=True)
        pixels = _pixels(browser, shot.read_bytes())
        assert pixels["variance"] > 100, pixels  # not a blank page
        assert pixels["blue"] > 50, pixels  # own-time bars (or the focused step) are painted
        if scenario == "search_422":
            assert pixels["red"] > 20, pixels  # the error bar and the 422 badge
        shutil.copyfile(shot, Path("/tmp") / f"trace-page{'' if step == 6 else '-422'}.png")
        assert problems == []
    finally:
        page.close()


@pytest.mark.slow
def test_hostile_page_runs_no_injected_script(browser: Any, tmp_path: Path) -> None:
    trace = hostile_trace()
    page, problems = _open(browser, trace, tmp_path / "hostile.html")
    try:
        assert page.locator("#wf .bar").count() == 2
        page.hover("#span-1")
        assert HOSTILE in page.inner_text("#tip")
        assert page.evaluate("document.querySelectorAll('script').length") == 3
        assert problems == []
    finally:
        page.close()
