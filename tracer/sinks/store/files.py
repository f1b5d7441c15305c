"""Creating the store's file privately: traces hold request data."""

from __future__ import annotations

import os
from pathlib import Path


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and missing parents as 0o700 whatever the umask; leave others alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # another worker made it first
        os.chmod(path, 0o700)


def prepare_for_writing(path: Path) -> None:
    """Create the database file as 0o600 before SQLite does (SQLite would honour the umask).

    SQLite gives the ``-wal`` and ``-shm`` files the main file's permissions,
    so they are private too. An existing file keeps the mode its owner chose.
    """
    _make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
