"""The app's own output as span events: its ``logging`` records and (in the CLI) its prints.

A line the app writes or logs while a request is traced becomes an event on
the span running at that moment (``app.output`` with ``stream``, or ``log``
with ``logger`` and ``level``), so a ``print`` in a dependency is drawn in
that dependency's row. Like every recorded string its ``text`` is scrubbed
(:func:`tracer.redaction.scrub_message`) and bounded, and a request keeps at
most :data:`MAX_EVENTS` lines / :data:`MAX_CHARS` characters; the rest are
counted in the trace's ``meta["app_output"]``.

Logging is watched through the log-record factory rather than a handler on
the root logger: a handler there would make ``logging.basicConfig()`` a no-op
and be dropped by ``dictConfig``. The factory runs for every record a logger
lets through; outside a traced request it costs one contextvar read. The
threshold is process-wide, like logging itself: the lowest any user asked for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from tracer.capture import clock
from tracer.capture.recorder import current, parent
from tracer.redaction import scrub_message
from tracer.safety import report

#: Most app-output events one request keeps; later lines are counted as dropped.
MAX_EVENTS = 50
#: Most characters of app-output text one request keeps.
MAX_CHARS = 8192
#: Longest line kept (after scrubbing).
LINE_LIMIT = 500
#: Where a trace counts its app-output events: ``{"events", "chars", "dropped"}``.
META_KEY = "app_output"
#: What ``record_logs=True`` records: INFO and above (DEBUG only when asked for).
DEFAULT_LEVEL = logging.INFO

#: ``(ns since the request began, name of the span)``: where a line landed.
Where = tuple[int, str]
Listener = Callable[[logging.LogRecord, Where | None], None]

_lock = threading.RLock()
_guard = threading.local()
_levels: list[int] = []
_listeners: list[Listener] = []
_previous: Callable[..., logging.LogRecord] | None = None


def note(name: str, attributes: dict[str, Any], text: str) -> Where | None:
    """Record ``text`` as an event on the span running in this context; never raises.

    ``None`` when no traced request is running here; otherwise where it
    landed, even when the request's budget was spent and the line was only counted.
    """
    rec = current.get()
    if rec is None:
        return None
    try:
        with _lock:
            spans = rec.spans
            if not spans:
                return None
            now = clock.now_ns()
            index = parent.get()
            span = spans[index] if 0 <= index < len(spans) else spans[0]
            budget = rec.meta.get(META_KEY)
            if budget is None:
                budget = rec.meta[META_KEY] = {"events": 0, "chars": 0, "dropped": 0}
            kept = scrub_message(text.strip(), LINE_LIMIT) if budget["events"] < MAX_EVENTS else ""
            if budget["events"] >= MAX_EVENTS or budget["chars"] + len(kept) > MAX_CHARS:
                budget["dropped"] += 1
            else:
                budget["events"] += 1
                budget["chars"] += len(kept)
                if span.events is None:
                    span.events = []
                span.events.append((name, now, {**attributes, "text": kept}))
            return now - spans[0].start, span.name if span.index else "request"
    except Exception as exc:
        report("recording app output", exc)
        return None


def note_output(stream: str, text: str) -> Where | None:
    """A line the app wrote to ``stdout``/``stderr`` (the CLI's capture calls this)."""
    return note("app.output", {"stream": stream}, text)


def note_log(record: logging.LogRecord) -> Where | None:
    """A ``logging`` record, as a ``log`` event; the tracer's own warnings are not the app's."""
    if record.name.startswith("trace_request") or record.levelno < min(_levels, default=0):
        return None
    attributes: dict[str, Any] = {"logger": record.name, "level": record.levelname}
    if record.exc_info and record.exc_info[0] is not None:
        attributes["exception.type"] = record.exc_info[0].__qualname__
    return note("log", attributes, message(record))


def message(record: logging.LogRecord) -> str:
    """The record's message as logging would format it, or its raw template if that fails."""
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous is not None
    record = _previous(*args, **kwargs)
    if current.get() is None and not _listeners:  # the common case: one contextvar read
        return record
    if getattr(_guard, "busy", False):  # a log line from our own recording: not the app's
        return record
    _guard.busy = True
    try:
        where = note_log(record) if _levels else None
        for listener in list(_listeners):
            listener(record, where)
    except Exception as exc:
        report("recording a log record", exc)
    finally:
        _guard.busy = False
    return record


def level_of(value: bool | str | int) -> int | None:
    """``record_logs``'s value as a level number; ``None`` when off."""
    if value is False or value is None:
        return None
    if value is True:
        return DEFAULT_LEVEL
    if isinstance(value, int):
        return value
    level = logging.getLevelName(value.upper())
    if not isinstance(level, int):
        raise ValueError(f"record_logs: unknown level {value!r} (e.g. 'INFO', 'WARNING')")
    return level


def acquire(level: int | None, listener: Listener | None = None) -> None:
    """Start recording log records at ``level`` (and feeding ``listener``) until :func:`release`."""
    global _previous
    with _lock:
        if level is not None:
            _levels.append(level)
        if listener is not None:
            _listeners.append(listener)
        if _previous is None and (_levels or _listeners):
            _previous = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_factory)


def release(level: int | None, listener: Listener | None = None) -> None:
    """Undo one :func:`acquire`; the factory goes when nobody records any more."""
    global _previous
    with _lock:
        if level is not None and level in _levels:
            _levels.remove(level)
        if listener is not None and listener in _listeners:
            _listeners.remove(listener)
        # a factory set after ours wraps ours: leave it, ours then passes records through
        idle = not _levels and not _listeners
        if idle and _previous is not None and logging.getLogRecordFactory() is _factory:
            logging.setLogRecordFactory(_previous)
            _previous = None
