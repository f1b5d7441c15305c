"""Database work through SQLAlchemy's public events (sync and async engines, 2.0 and 2.1).

Listeners are attached to the ``Engine`` class, so every engine (including an
``AsyncEngine``'s ``sync_engine``) is covered without the user passing it in,
and they cost one contextvar read outside traced requests. This does not rely
on ``opentelemetry-instrumentation-sqlalchemy`` (0.66b1 refuses SQLAlchemy 2.1).

Pool checkout (including the wait for a free connection) is timed by wrapping
``Pool.connect``; COMMIT and ROLLBACK by wrapping ``Connection._commit_impl`` /
``_rollback_impl`` (present on 2.0 and 2.1; a missing one degrades with a warning).

A statement whose compiled form was not in SQLAlchemy's cache (``context.cache_hit``
says so) gets a ``SQL compile (cache miss)`` span: from ``before_execute`` to
``before_cursor_execute``, i.e. compiling plus building the execution context and
cursor. On a hit that (short) interval is left to the untraced gap.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from tracer.capture import clock, recorder
from tracer.capture.hooks.patching import Patcher
from tracer.capture.recorder import RawSpan
from tracer.safety import report

_SPAN_KEY = "_trace_request_span"
#: when ``before_execute`` ran for the statement being prepared in this context (0: none)
_prepared_at: ContextVar[int] = ContextVar("trace_request_sql_prepare", default=0)
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+[\"`\[]?([A-Za-z_][\w.]*)", re.IGNORECASE)


class DatabaseHooks:
    """Owns the event listeners so they can be removed again."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Any, str, Callable[..., Any]]] = []

    def install(self, patcher: Patcher) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Connection, Engine
        from sqlalchemy.pool import Pool

        for name, fn in (
            ("before_execute", _before_compile),
            ("before_cursor_execute", _before_execute),
            ("after_cursor_execute", _after_execute),
            ("handle_error", _handle_error),
        ):
            event.listen(Engine, name, fn)
            self._listeners.append((Engine, name, fn))
        patcher.patch(Pool, "connect", _wrap_checkout, phase="db (pool checkout)")
        patcher.patch(Connection, "_commit_impl", _wrap_txn("COMMIT"), phase="db (commit)")
        patcher.patch(Connection, "_rollback_impl", _wrap_txn("ROLLBACK"), phase="db (rollback)")

    def uninstall(self) -> None:
        from sqlalchemy import event

        for target, name, fn in self._listeners:
            if event.contains(target, name, fn):
                event.remove(target, name, fn)
        self._listeners.clear()


@functools.lru_cache(maxsize=512)
def statement_name(statement: str) -> tuple[str, str]:
    """``("SELECT users", "SELECT")`` for a SQL text: operation plus first table."""
    text = statement.lstrip()
    operation = text.split(None, 1)[0].upper() if text else "SQL"
    table = _TABLE.search(text)
    return (f"{operation} {table.group(1)}" if table else operation), operation


def redacted_parameters(parameters: Any) -> str:
    """Statement parameters for the trace, secret-looking named ones hidden (opt-in only)."""
    from tracer.redaction import REDACTED, is_secret_name

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if is_secret_name(str(k)) else v for k, v in value.items()}
        return value

    if isinstance(parameters, list):
        return repr([clean(p) for p in parameters[:10]])
    return repr(clean(parameters))


def _open_db_span(name: str) -> RawSpan | None:
    rec = recorder.current.get()
    if rec is None:
        return None
    parent = recorder.parent.get()
    step = rec.spans[parent].step if 0 <= parent < len(rec.spans) else 6
    return rec.open(name, "db", step, parent)


def _before_compile(conn: Any, clauseelement: Any, *args: Any) -> None:
    if recorder.current.get() is not None:
        _prepared_at.set(clock.now_ns())


def _compile_span(context: Any) -> None:
    """``SQL compile (cache miss)``: the statement was compiled for this execution."""
    started = _prepared_at.get()
    if not started:
        return
    _prepared_at.set(0)
    if getattr(getattr(context, "cache_hit", None), "name", None) != "CACHE_MISS":
        return
    span = _open_db_span("SQL compile (cache miss)")
    if span is not None:
        span.start = started
        span.end = clock.now_ns()
        span.set("db.cache", "miss")
        span.set("gap.cause", "SQL compilation")
        span.set("gap.first_call", True)


def _set_server(span: RawSpan, conn: Any) -> None:
    """Database name, host and port of a network database (OTel's ``db.namespace``,
    ``server.address``, ``server.port``); nothing for a file such as SQLite's."""
    url: Any = getattr(getattr(conn, "engine", None), "url", None)
    host = getattr(url, "host", None)
    if not host:
        return
    span.set("server.address", host)
    if url.port:
        span.set("server.port", url.port)
    if url.database:
        span.set("db.namespace", url.database)


def _before_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if recorder.current.get() is None or context is None:
        return
    try:
        _compile_span(context)
        name, operation = statement_name(statement)
        span = _open_db_span(name)
        if span is None:
            return
        span.set("db.system", conn.dialect.name)
        _set_server(span, conn)
        span.set("db.operation", operation)
        span.set("db.statement", statement[:2000])
        if executemany:
            span.set("db.executemany", True)
        rec = recorder.current.get()
        if rec is not None and rec.record_sql_parameters:
            # by name where SQLAlchemy knows the names (the cursor sees positional ones)
            named = getattr(context, "compiled_parameters", None)
            span.set("db.parameters", redacted_parameters(named or parameters))
        setattr(context, _SPAN_KEY, span)
    except Exception as exc:
        report("db statement hook", exc)


def _after_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    span = getattr(context, _SPAN_KEY, None)
    if span is None:
        return
    try:
        span.end = clock.now_ns()
        rowcount = getattr(cursor, "rowcount", -1)
        if isinstance(rowcount, int) and rowcount >= 0:
            span.set("db.rowcount", rowcount)
        setattr(context, _SPAN_KEY, None)
    except Exception as exc:
        report("db statement hook", exc)


def _handle_error(exception_context: Any) -> None:
    span = getattr(exception_context.execution_context, _SPAN_KEY, None)
    rec = recorder.current.get()
    if span is None or rec is None:
        return
    try:
        recorder.mark_error(rec, span, exception_context.original_exception)
        span.end = clock.now_ns()
        setattr(exception_context.execution_context, _SPAN_KEY, None)
    except Exception as exc:
        report("db error hook", exc)


def _wrap_checkout(original: Callable[..., Any]) -> Callable[..., Any]:
    def connect(self: Any) -> Any:
        if recorder.current.get() is None:
            return original(self)
        span = None
        try:
            span = _open_db_span("pool checkout")
            if span is not None:
                span.set("db.pool", type(self).__name__)
        except Exception as exc:
            report("db pool hook", exc)
        try:
            return original(self)
        finally:
            if span is not None:
                span.end = clock.now_ns()

    return connect


def _wrap_txn(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def impl(self: Any, *args: Any, **kwargs: Any) -> Any:
            if recorder.current.get() is None:
                return original(self, *args, **kwargs)
            span = None
            try:
                span = _open_db_span(name)
                if span is not None:
                    span.set("db.system", self.dialect.name)
                    _set_server(span, self)
                    span.set("db.operation", name)
            except Exception as exc:
                report("db transaction hook", exc)
            try:
                return original(self, *args, **kwargs)
            except BaseException as exc:
                rec = recorder.current.get()
                if span is not None and rec is not None:
                    recorder.mark_error(rec, span, exc)
                raise
            finally:
                if span is not None:
                    span.end = clock.now_ns()

        return impl

    return wrap
