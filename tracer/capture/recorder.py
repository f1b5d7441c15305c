"""The per-request recorder: the only tracer code on the hot path.

Hooks call :func:`start` / :func:`finish` to append small records to the
buffer of the request that is current in this context (a contextvar, so
concurrent requests, threadpool workers and background tasks each see their
own). Nothing here builds OpenTelemetry objects: the :class:`~tracer.model.Trace`
is assembled once, after the request, by :meth:`Recorder.build`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from typing import Any

from tracer.capture import clock
from tracer.model import Phase, Span, SpanEvent, Status, Trace
from tracer.redaction import scrub_message
from tracer.safety import report

#: The smallest ``max_attribute_length`` a config accepts: a string set on a
#: span longer than this is checked against the real limit when the trace is built.
MIN_LIMIT = 16


class RawSpan:
    """A span while it is being recorded: integer ids, monotonic times."""

    __slots__ = (
        "attributes",
        "end",
        "events",
        "index",
        "long",
        "name",
        "parent",
        "phase",
        "start",
        "status",
        "step",
    )

    def __init__(
        self,
        index: int,
        parent: int,
        name: str,
        phase: Phase,
        step: int,
        start: int,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.parent = parent
        self.name = name
        self.phase: Phase = phase
        self.step = step
        self.start = start
        self.end = -1
        self.status: Status = "ok"
        #: attributes given here are the hooks' own short values, never cut;
        #: :meth:`set` flags values that :meth:`Recorder.build` may have to cut
        self.attributes = attributes
        self.long = False
        self.events: list[tuple[str, int, dict[str, Any]]] | None = None

    def set(self, key: str, value: Any) -> None:
        attributes = self.attributes
        if attributes is None:
            self.attributes = attributes = {}
        attributes[key] = value
        cls = type(value)
        if cls is int or cls is bool or self.long:  # the usual values: nothing to check
            return
        if isinstance(value, list) or (isinstance(value, str) and len(value) > MIN_LIMIT):
            self.long = True

    def event(self, name: str, attributes: dict[str, Any]) -> None:
        if self.events is None:
            self.events = []
        self.events.append((name, clock.now_ns(), attributes))


class Recorder:
    """The buffer of one request. Created by the server-edge probe."""

    __slots__ = (
        "dropped",
        "errors_seen",
        "fixed_ids",
        "header_names",
        "header_raw",
        "last_layer",
        "max_spans",
        "meta",
        "monotonic0",
        "msg_t",
        "otel_parent",
        "pending_match",
        "propagate",
        "record_sql_parameters",
        "request",
        "response",
        "response_end",
        "response_origin",
        "root_id",
        "spans",
        "trace_id",
        "wall0",
    )

    def __init__(self, max_spans: int = 2000) -> None:
        #: chosen up front: the response carries them (``x-trace-id``, ``traceparent``)
        ids = os.urandom(24).hex()
        self.trace_id = ids[:32]
        self.root_id = ids[32:]
        self.wall0 = clock.wall_ns()
        self.monotonic0 = clock.now_ns()
        self.spans: list[RawSpan] = []
        self.max_spans = max_spans
        self.dropped = 0
        self.request: dict[str, Any] = {}
        self.response: dict[str, Any] = {}
        self.response_end = -1
        self.meta: dict[str, Any] = {}
        #: ids of exceptions already attributed to the span that raised them
        self.errors_seen: set[int] = set()
        #: middleware layer entered last, whose request path ends at the next probe
        self.last_layer: RawSpan | None = None
        #: the open ``match`` span, ended when a route's handler starts
        self.pending_match: RawSpan | None = None
        #: when the response message in flight left the layer below (step 8)
        self.msg_t = -1
        #: name of the innermost layer that sent ``http.response.start``
        self.response_origin: str | None = None
        #: copied from the app's config: the db hook reads it per statement
        self.record_sql_parameters = False
        #: False: don't look for a server span; None: look for one; else its SpanContext
        self.otel_parent: Any = False
        #: copied from the app's config: outbound calls carry this trace's ``traceparent``
        self.propagate = True
        #: span ids chosen before the trace is built (:meth:`span_id`), by span index
        self.fixed_ids: dict[int, str] | None = None
        #: the response header names the last layer saw (raw) and recorded (reused when equal)
        self.header_raw: tuple[Any, ...] | None = None
        self.header_names: list[str] = []

    def open(
        self,
        name: str,
        phase: Phase,
        step: int,
        parent: int,
        start: int = -1,
        attributes: dict[str, Any] | None = None,
    ) -> RawSpan:
        """Append a span that has started; the caller ends it by setting ``end``."""
        spans = self.spans
        index = len(spans)
        span = RawSpan(
            index, parent, name, phase, step, clock.now_ns() if start < 0 else start, attributes
        )
        if index < self.max_spans:
            spans.append(span)
        else:
            self.dropped += 1
        return span

    def span_id(self, span: RawSpan) -> str:
        """The id ``span`` will have in the built trace, chosen now: an outgoing
        ``traceparent`` names it before the trace exists (a dropped span: the root's)."""
        if span.index == 0 or span.index >= len(self.spans):
            return self.root_id
        fixed = self.fixed_ids
        if fixed is None:
            self.fixed_ids = fixed = {}
        chosen = fixed.get(span.index)
        if chosen is None:
            chosen = fixed[span.index] = os.urandom(8).hex()
        return chosen

    def build(self, max_attribute_length: int = 1024) -> Trace:
        """Turn the buffer into a :class:`Trace` (ids, epoch times, open spans closed).

        Long string attributes (SQL text, error messages) are cut to
        ``max_attribute_length``: a huge value never makes a huge trace. The
        raw spans' attribute dicts are handed over, not copied: a recorder is
        built once, after its request.
        """
        raw_spans = self.spans
        offset = self.wall0 - self.monotonic0
        last = self.monotonic0
        for raw in raw_spans:
            if raw.end > last:
                last = raw.end
            if raw.start > last:
                last = raw.start
        count = len(raw_spans)
        # one read of the OS's randomness for every span id but the root's (chosen up front)
        hexed = os.urandom(8 * max(0, count - 1)).hex()
        ids = [hexed[i : i + 16] for i in range(-16, len(hexed), 16)]
        ids[0] = self.root_id
        for index, chosen in (self.fixed_ids or {}).items():
            ids[index] = chosen
        limit = max_attribute_length
        spans: list[Span] = []
        append = spans.append
        for raw in raw_spans:
            attributes = raw.attributes
            if attributes is None:
                attributes = {}
            elif raw.long:
                attributes = _limited(attributes, limit)
            end = raw.end
            if end < 0:
                end = last
                attributes["trace_request.unfinished"] = True
            parent = raw.parent
            append(
                Span(
                    ids[raw.index],
                    ids[parent] if 0 <= parent < count else None,
                    raw.name,
                    raw.phase,
                    raw.step,
                    raw.start + offset,
                    end + offset,
                    raw.status,
                    attributes,
                    [
                        SpanEvent(name, t + offset, _limited(attrs, limit))
                        for name, t, attrs in raw.events
                    ]
                    if raw.events
                    else [],
                )
            )
        meta = self.meta
        if self.dropped:
            meta["dropped_spans"] = self.dropped
        return Trace(
            self.trace_id,
            spans,
            self.request,
            self.response,
            self.response_end + offset if self.response_end >= 0 else None,
            meta,
        )


MAX_LIST_ITEMS = 50


def _limited(attributes: dict[str, Any], limit: int) -> dict[str, Any]:
    """A copy with long strings cut to ``limit`` and long lists to ``MAX_LIST_ITEMS``."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, str) and len(value) > limit:
            value = f"{value[: limit - 20]}…[{len(value)} chars]"
        elif isinstance(value, list):
            items = value[:MAX_LIST_ITEMS]
            value = [
                f"{v[: limit - 20]}…[{len(v)} chars]"
                if isinstance(v, str) and len(v) > limit
                else v
                for v in items
            ]
        out[key] = value
    return out


#: The recorder of the request being handled in this context, if it is traced.
current: ContextVar[Recorder | None] = ContextVar("trace_request_recorder", default=None)
#: Index of the innermost open span in this context (the parent of the next one).
parent: ContextVar[int] = ContextVar("trace_request_parent", default=-1)


def start(name: str, phase: Phase, step: int) -> tuple[Recorder, RawSpan, Token[int]] | None:
    """Open a span under the current one and make it current.

    ``None`` when this request is not traced, or when recording failed (the
    failure is reported once; the caller just runs the original code).
    """
    rec = current.get()
    if rec is None:
        return None
    try:
        span = rec.open(name, phase, step, parent.get())
        return rec, span, parent.set(span.index)
    except Exception as exc:
        report(f"recording {phase}", exc)
        return None


def finish(
    handle: tuple[Recorder, RawSpan, Token[int]], error: BaseException | None = None
) -> None:
    """Close a span opened by :func:`start` and restore the previous parent; never raises."""
    rec, span, token = handle
    try:
        if error is not None:
            mark_error(rec, span, error)  # first: its event must fall inside the span
        span.end = clock.now_ns()
    except Exception as exc:
        report(f"recording {span.phase}", exc)
    try:
        parent.reset(token)
    except ValueError:  # reset from another context (should not happen); keep going
        parent.set(span.parent)


#: Longest exception message kept (after scrubbing).
MESSAGE_LIMIT = 500


Handle = tuple[Recorder, RawSpan, Token[int]]


def call_in_span(handle: Handle | None, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` inside the span ``handle`` opened (``None``: just the call);
    the span is closed with the error it raised, if any, and the error goes on."""
    try:
        result = function(*args)
    except BaseException as exc:
        if handle is not None:
            finish(handle, exc)
        raise
    if handle is not None:
        finish(handle)
    return result


async def await_in_span(handle: Handle | None, awaitable: Awaitable[Any]) -> Any:
    """:func:`call_in_span` for a coroutine: awaited inside the span."""
    try:
        result = await awaitable
    except BaseException as exc:
        if handle is not None:
            finish(handle, exc)
        raise
    if handle is not None:
        finish(handle)
    return result


def mark_error(rec: Recorder, span: RawSpan, error: BaseException) -> None:
    """Record that ``error`` passed through ``span``; the first span to see it raised it."""
    span.status = "error"
    key = id(error)
    if key not in rec.errors_seen:
        rec.errors_seen.add(key)
        span.event(
            "exception",
            {
                "exception.type": type(error).__qualname__,
                "exception.message": _message(error),
            },
        )
    else:
        span.set("error.type", type(error).__qualname__)


def _message(error: BaseException) -> str:
    """The exception's text with every value in it hidden (see :mod:`tracer.redaction`).

    SQLAlchemy quotes the statement's parameters, Pydantic the input, a DSN
    its password; ``str()`` itself may fail on a hostile exception.
    """
    try:
        text = str(error)
    except Exception:
        return ""
    return scrub_message(text, MESSAGE_LIMIT)
