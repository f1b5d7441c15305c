"""``docs/teaching.md`` works as written: every ``trace-request`` line of its code blocks runs.

The lines are taken from the page itself (fenced blocks, indented ones
included), run in-process as the console script would run them, in page order:
``export`` lines set the environment for the lines after them, and the one
placeholder (the token ``POST /login`` printed) is filled in from that output.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.cli.test_cli import invoke

PAGE = Path(__file__).resolve().parents[2] / "docs" / "teaching.md"
FENCE = re.compile(r"^\s*```")
TOKEN = "<the access_token printed above>"


def commands() -> list[str]:
    """The page's command lines (``export`` and ``trace-request`` ones), in order."""
    out: list[str] = []
    inside = False
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            inside = not inside
            continue
        words = line.strip()
        if inside and words.startswith(("trace-request ", "export ")):
            out.append(words)
    return out


def test_the_page_has_its_exercises() -> None:
    lines = commands()
    assert len([c for c in lines if c.startswith("trace-request")]) >= 15
    assert any("--compare" in c for c in lines)
    assert any("--step 4" in c for c in lines)


def test_every_command_on_the_page_works(monkeypatch: pytest.MonkeyPatch) -> None:
    token = ""
    for line in commands():
        words = shlex.split(line, comments=True)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        args = [w.replace(TOKEN, token) for w in words[1:]]
        code, out, err = invoke(*args, "--no-color", "--width", "100")
        assert code == 0, f"{line}\n{err}\n{out[-2000:]}"
        assert "internal error" not in err
        if TOKEN in line:
            assert "HTTP 200 OK" in out, "the token from POST /login was not accepted"
        if args[:2] == ["POST", "/login"]:
            body = next(s for s in out.splitlines() if s.startswith("{"))
            token = json.loads(body)["access_token"]
    assert token, "POST /login printed no token"
