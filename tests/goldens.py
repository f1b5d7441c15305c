"""Comparing a rendering with its golden file; ``UPDATE_GOLDENS=1`` rewrites the files.

Regenerate only after an intended rendering change, and review the diff:
an expectation is never edited by hand to make a test pass.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


def assert_matches_golden(path: Path, text: str) -> None:
    """Fail with a unified diff when ``text`` differs from the file at ``path``."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}: run with UPDATE_GOLDENS=1", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"golden/{path.name}",
                tofile="rendered",
            )
        )
        pytest.fail(
            f"{path.name} differs from its golden file (UPDATE_GOLDENS=1 to accept):\n{diff}",
            pytrace=False,
        )
