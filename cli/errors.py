"""Errors the CLI reports as one line and a non-zero exit, never a traceback."""

from __future__ import annotations


class CLIError(Exception):
    """A problem with the user's input or environment; ``str(error)`` is the whole message."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
