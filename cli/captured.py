"""What the app prints and logs while the CLI drives it: kept apart from the CLI's output.

While :class:`AppOutput` is entered, ``sys.stdout`` and ``sys.stderr`` are
swapped process-wide (every thread writes through the ``sys`` attributes, so
threadpool endpoints and background tasks are caught too), the app's own log
handlers that write to the terminal are muted, and each ``logging`` record is
kept with its logger and level. Each line is kept raw for the "app output"
block and, when written inside a traced request, also becomes a scrubbed
event on the span running then (:mod:`tracer.capture.app_output`). Everything
is restored on every exit path; the CLI prints only after that.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tracer.capture import app_output

#: Most lines kept for the block; past it they are only counted.
MAX_LINES = 500
#: Longest line kept for the block.
LINE_LIMIT = 2000


@dataclass(slots=True)
class OutputLine:
    """One line the app wrote (``stdout``/``stderr``) or logged (a logger name and level)."""

    section: str
    source: str
    level: str | None
    text: str
    #: ns since the traced request began, and the span it was written in (None outside one)
    offset_ns: int | None = None
    span: str | None = None


class _Stream(io.TextIOBase):
    """A text stream that turns writes into lines, per thread, so interleaved prints stay whole."""

    def __init__(self, name: str, owner: AppOutput, real: Any) -> None:
        super().__init__()
        self.name = name
        self._owner = owner
        self._real = real
        self._pending: dict[int, str] = {}
        self._lock = threading.Lock()
        self.buffer = _Bytes(self)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._real, "encoding", None) or "utf-8")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        key = threading.get_ident()
        with self._lock:
            *lines, rest = (self._pending.pop(key, "") + text).split("\n")
            if rest:
                self._pending[key] = rest
        for line in lines:  # outside the lock: recording reads this thread's context
            self._owner.add(self.name, None, line)
        return len(text)

    def close_lines(self) -> None:
        """What was written without a final newline, as lines."""
        with self._lock:
            rest, self._pending = list(self._pending.values()), {}
        for line in rest:
            self._owner.add(self.name, None, line)


class _Bytes:
    """``sys.stdout.buffer`` for apps that write bytes."""

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        self._stream.write(bytes(data).decode(self._stream.encoding, "replace"))
        return len(data)

    def flush(self) -> None:
        pass


class _Mute(logging.Filter):
    """On the app's own terminal handlers while captured: the record is kept, not printed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


class AppOutput:
    """``with AppOutput() as output:`` everything the app writes or logs, by section."""

    def __init__(self) -> None:
        self.lines: list[OutputLine] = []
        self.dropped = 0
        self.section = "import"
        self._lock = threading.Lock()
        self._saved: tuple[Any, Any, Any] | None = None
        self._muted: list[logging.Handler] = []
        self._mute = _Mute()

    def start(self, section: str) -> None:
        """Lines written from now on belong to ``section`` (``startup``, ``request 1`` …)."""
        self.section = section

    def add(self, source: str, level: str | None, text: str, where: Any = None) -> None:
        """Keep one line; inside a traced request, record it on the running span first."""
        if not text.strip():
            return
        if level is None:
            where = app_output.note_output(source, text)
        with self._lock:
            if len(self.lines) >= MAX_LINES:
                self.dropped += 1
                return
            line = OutputLine(self.section, source, level, text[:LINE_LIMIT].rstrip())
            if where is not None:
                line.offset_ns, line.span = where
            self.lines.append(line)

    def of(self, *sections: str) -> list[OutputLine]:
        return [line for line in self.lines if line.section in sections]

    def _log(self, record: logging.LogRecord, where: app_output.Where | None) -> None:
        self._mute_terminal_handlers()  # a handler added since (basicConfig in the lifespan)
        self.add(record.name or "root", record.levelname, app_output.message(record), where)

    def _mute_terminal_handlers(self) -> None:
        """Mute every stream handler that writes to the terminal (or to our streams)."""
        streams = {id(s) for s in (*(self._saved or ())[:2], sys.__stdout__, sys.__stderr__)}
        streams |= {id(sys.stdout), id(sys.stderr)}
        loggers: list[Any] = [logging.getLogger()]
        loggers += list(logging.Logger.manager.loggerDict.values())
        for logger in loggers:
            for handler in list(getattr(logger, "handlers", ())):
                if (
                    isinstance(handler, logging.StreamHandler)
                    and not isinstance(handler, logging.FileHandler)
                    and id(getattr(handler, "stream", None)) in streams
                    and self._mute not in handler.filters
                ):
                    handler.addFilter(self._mute)
                    self._muted.append(handler)

    def __enter__(self) -> AppOutput:
        self._saved = (sys.stdout, sys.stderr, logging.lastResort)
        self._mute_terminal_handlers()
        # with no handler at all, logging prints WARNING+ through lastResort: kept by _log instead
        logging.lastResort = logging.NullHandler()
        app_output.acquire(logging.NOTSET, self._log)
        self._out = _Stream("stdout", self, self._saved[0])
        self._err = _Stream("stderr", self, self._saved[1])
        sys.stdout, sys.stderr = self._out, self._err
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._saved is not None
        try:
            self._out.close_lines()
            self._err.close_lines()
        finally:
            sys.stdout, sys.stderr, logging.lastResort = self._saved
            app_output.release(logging.NOTSET, self._log)
            for handler in self._muted:
                handler.removeFilter(self._mute)
            self._muted.clear()
