"""Fixtures for the renderer tests: a clean environment and golden-file comparison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.goldens import assert_matches_golden

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture(autouse=True)
def clean_terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich reads these; a developer's shell must not change what the tests see."""
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare ``text`` with ``golden/<name>``, diff on mismatch."""

    def check(name: str, text: str) -> None:
        assert_matches_golden(GOLDEN_DIR / name, text)

    return check
