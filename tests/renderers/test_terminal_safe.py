"""No escape sequence, control or bidi character from a trace reaches the terminal (issue 13, 9)."""

from __future__ import annotations

import re

import pytest

from tracer.analysis.diagnostics import diagnose
from tracer.model import SpanEvent, Trace
from tracer.renderers import RENDERERS, SequenceRenderer, get_renderer, render_to_text
from tracer.renderers.findings import FindingsView
from tracer.renderers.terminal_safe import safe

from .sample_traces import success_post_users

#: window title (OSC, BEL-ended and ST-ended), clear screen (CSI), 8-bit CSI, reset (RIS),
#: bidi override and isolate, a NUL and a DEL
EVIL = "\x1b]0;owned\x07\x1b[2J\x9b31m\x1b]8;;http://x\x1b\\\x1bc\u202eevil\u2066\x00\x7f"
#: anything of these left in the output is an injection
_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _evil_trace() -> Trace:
    trace = success_post_users()
    trace.request["path"] = f"/{EVIL}"
    trace.request["query"] = f"q={EVIL}"
    trace.request["body_excerpt"] = EVIL
    for span in trace.spans:
        span.name = f"{span.name}{EVIL}"
        span.attributes["http.route"] = f"/r{EVIL}"
        span.attributes["db.statement"] = f"SELECT '{EVIL}'"
        span.attributes["validation.errors"] = [f"body.x{EVIL}: bad{EVIL}"]
    handler = next(s for s in trace.spans if s.phase == "handler")
    handler.status = "error"
    handler.events.append(
        SpanEvent("exception", handler.end_ns, {"exception.type": "E", "exception.message": EVIL})
    )
    trace.response["status_code"] = 500
    return trace


def _assert_safe(text: str, *, color: bool = False) -> None:
    if color:
        text = _SGR.sub("", text)
    bad = sorted({f"U+{ord(c):04X}" for c in _UNSAFE.findall(text)})
    assert not bad, bad
    assert "\x1b" not in text


@pytest.mark.parametrize("ascii", [False, True])
@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_every_renderer_strips_what_a_request_smuggles_in(name: str, ascii: bool) -> None:
    text = get_renderer(name)(width=120, color=False, ascii=ascii).render(_evil_trace())
    if name == "json":  # JSON escapes them (\u001b): the document itself stays lossless
        assert "\\u001b" in text
    _assert_safe(text)


@pytest.mark.parametrize("name", ["sequence", "waterfall"])
def test_coloured_output_carries_only_colour_codes(name: str) -> None:
    _assert_safe(get_renderer(name)(width=120, color=True).render(_evil_trace()), color=True)


def test_explain_and_findings_are_safe_too() -> None:
    trace = _evil_trace()
    _assert_safe(SequenceRenderer(width=120, color=False, explain=True).render(trace))
    findings = diagnose(trace)
    assert findings
    _assert_safe(render_to_text(FindingsView(findings, width=120), 120, color=False))


def test_safe_removes_whole_sequences_and_keeps_ordinary_text() -> None:
    assert safe("/\x1b]0;owned\x07\x1b[2J") == "/"
    assert safe("a\u202eb\u2066c\u200bd") == "abcd"
    assert safe("tab\there\nnew\r\nline") == "tab here new line"
    assert safe("café · 数据 \u00a0ok") == "café · 数据 \u00a0ok"
    assert safe("/users/{id}") == "/users/{id}"
