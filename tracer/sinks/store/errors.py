"""The reader's errors: one line each, printed by the CLI as they are."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be read; ``str(error)`` is a one-line message for the user."""


class AmbiguousTraceId(StoreError):
    """A trace id prefix matched more than one stored trace."""
