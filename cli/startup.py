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
"""

from __future__ import annotations

import gc

_allowed = False
_paused = False


def console_script(active: bool) -> None:
    """Called by ``run()``: this process runs one command, then exits."""
    global _allowed
    _allowed = active


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
