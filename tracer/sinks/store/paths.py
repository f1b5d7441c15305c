"""Where the store lives when no path is given: one place for the app and the CLI to agree on."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the store file; overrides the default location.
ENV_VAR = "TRACE_REQUEST_STORE"


def default_path() -> Path:
    """``$TRACE_REQUEST_STORE``, else ``$XDG_CACHE_HOME/trace-request/traces.db``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``; a relative value is ignored,
    as the XDG spec asks.
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return base / "trace-request" / "traces.db"
