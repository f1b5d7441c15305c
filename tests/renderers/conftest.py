"""Fixtures for the renderer tests: a clean environment and golden-file comparison."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"
#: ``UPDATE_GOLDENS=1 pytest tests/renderers`` rewrites the golden files
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


@pytest.fixture(autouse=True)
def clean_terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich reads these; a developer's shell must not change what the tests see."""
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare ``text`` with ``golden/<name>``, diff on mismatch."""

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if UPDATE:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        if not path.exists():
            pytest.fail(f"no golden file {path}: run UPDATE_GOLDENS=1 pytest tests/renderers")
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"golden/{name}",
                    tofile="rendered",
                )
            )
            pytest.fail(
                f"{name} differs from its golden file (UPDATE_GOLDENS=1 to accept):\n{diff}",
                pytrace=False,
            )

    return check
