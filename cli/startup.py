"""What the console script does to start faster, with nothing traced or shown changed.

**The cyclic garbage collector during start-up** (app import, lifespan, warm-up).
Start-up makes some 100,000 objects that live until the process exits, and
the collector scanned them over and over: two automatic full collections
while the demo app was imported and started, then the one :func:`settle`
made before the traced request (together about 150 ms of the command's
~850 ms, to free a few hundred objects). In the console script, :func:`pause`
turns the collector off for start-up; :func:`settle` then freezes what
start-up made and turns it back on, so the traced requests run as they did:
collector on, nothing from start-up left for it to scan. Anywhere else
(tests, ``CliRunner``, a library caller) :func:`pause` does nothing and
:func:`settle` collects, then freezes, as it always did.

**httpx's own command-line client.** ``import httpx`` imports
``httpx._main`` (click, ``rich.progress``, ``rich.syntax``, pygments: ~20 ms)
for ``httpx.main``, the ``httpx`` command, which no traced app runs. The
console script puts a stand-in there first (:func:`defer_httpx_cli`):
``httpx.main(...)`` still works, importing the real one when called.
"""

from __future__ import annotations

import gc
import sys
from types import ModuleType
from typing import Any

_allowed = False
_paused = False


def console_script(active: bool) -> None:
    """Called by ``run()``: this process runs one command, then exits."""
    global _allowed
    _allowed = active
    if active:
        defer_httpx_cli()


def pause() -> None:
    """No cyclic collections from here to :func:`settle` (the console script only)."""
    global _paused
    if _allowed and not _paused and gc.isenabled():
        gc.disable()
        _paused = True


def settle() -> None:
    """Before the traced requests: start-up's objects out of the collector's way.

    A collection would otherwise land inside the traced request and read as
    its own time. Paused: what start-up left is frozen as it is (its garbage
    too, a few hundred objects) and the collector is back on. Otherwise: a
    full collection, then the freeze.
    """
    global _paused
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False
    else:
        gc.collect()
        gc.freeze()


def resume() -> None:
    """The collector back on if start-up stopped (failed) before :func:`settle`."""
    global _paused
    if _paused:
        gc.enable()
        _paused = False


HTTPX_CLI = "httpx._main"


def defer_httpx_cli() -> None:
    """``httpx._main`` as a stand-in whose ``main`` imports the real module when called."""
    if "httpx" in sys.modules or HTTPX_CLI in sys.modules:
        return  # imported already (or deferred): nothing to save
    stand_in = ModuleType(HTTPX_CLI, "httpx's command-line client, imported when first run")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get(HTTPX_CLI) is stand_in:
            del sys.modules[HTTPX_CLI]
        from httpx._main import main as real_main

        return real_main(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules[HTTPX_CLI] = stand_in
