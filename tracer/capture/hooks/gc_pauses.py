"""Garbage-collection pauses inside a traced request, as ``gc`` events.

A full collection can stop the interpreter for tens of milliseconds; without
this, the pause shows up as time in whatever span was running (an event loop
"held" by a handler that did nothing wrong). Only collections of generation 1
and 2 that take at least :data:`MIN_PAUSE_NS` are recorded; the callback
returns at once for the frequent young-generation ones.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from tracer.capture import clock, recorder
from tracer.safety import report

MIN_PAUSE_NS = 500_000
_local = threading.local()


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if info["generation"] == 0 or recorder.current.get() is None:
        return
    try:
        if phase == "start":
            _local.started = clock.now_ns()
            return
        started = getattr(_local, "started", None)
        _local.started = None
        if started is None:
            return
        pause = clock.now_ns() - started
        rec = recorder.current.get()
        index = recorder.parent.get()
        if pause >= MIN_PAUSE_NS and rec is not None and 0 <= index < len(rec.spans):
            rec.spans[index].event(
                "gc",
                {
                    "gc.generation": info["generation"],
                    "gc.pause_ns": pause,
                    "gc.collected": info.get("collected", 0),
                },
            )
    except Exception as exc:
        report("gc pause hook", exc)


def install() -> None:
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


def uninstall() -> None:
    if _on_gc in gc.callbacks:
        gc.callbacks.remove(_on_gc)
