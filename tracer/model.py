"""The trace model: plain, typed, serialisable data that every other part shares.

A :class:`Trace` is what the hooks produce and what processors, renderers,
exporters and the store consume. It knows nothing of FastAPI or OpenTelemetry,
so a trace saved as JSON (or rebuilt from OTLP JSON) renders like a live one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Phase = Literal[
    "asgi",
    "middleware",
    "routing",
    "dependency",
    "validation",
    "handler",
    "db",
    "outbound",
    "serialization",
    "send",
    "background",
    "lifespan",  # the app's startup and shutdown: traces of their own, outside the ten steps
]
PHASES: tuple[Phase, ...] = get_args(Phase)
Status = Literal["ok", "error", "unset"]

#: The ten steps educators teach, by number (see docs/concepts.md).
STEP_NAMES: dict[int, str] = {
    1: "ASGI hand-off",
    2: "middleware in",
    3: "routing",
    4: "dependencies",
    5: "validation",
    6: "handler",
    7: "serialization",
    8: "middleware out",
    9: "send",
    10: "background",
}

FORMAT_VERSION = 1


@dataclass(slots=True)
class SpanEvent:
    """A point in time inside a span (an exception, a cache hit, a message)."""

    name: str
    time_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "time_ns": self.time_ns, "attributes": self.attributes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpanEvent:
        return cls(
            name=str(data["name"]),
            time_ns=int(data["time_ns"]),
            attributes=dict(data.get("attributes") or {}),
        )


@dataclass(slots=True)
class Span:
    """One timed phase of a request.

    ``start_ns``/``end_ns`` are nanoseconds since the Unix epoch (so they map
    straight onto OpenTelemetry timestamps); ``parent_id`` is ``None`` only for
    the root span.
    """

    span_id: str
    parent_id: str | None
    name: str
    phase: Phase
    step: int
    start_ns: int
    end_ns: int
    status: Status = "ok"
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "phase": self.phase,
            "step": self.step,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "status": self.status,
            "attributes": self.attributes,
            "events": [event.to_dict() for event in self.events],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        phase = str(data["phase"])
        if phase not in PHASES:  # narrows str to Phase below
            raise ValueError(f"unknown phase {phase!r} in span {data.get('name')!r}")
        status = str(data.get("status", "ok"))
        if status not in ("ok", "error", "unset"):
            raise ValueError(f"unknown status {status!r} in span {data.get('name')!r}")
        parent = data.get("parent_id")
        return cls(
            span_id=str(data["span_id"]),
            parent_id=None if parent is None else str(parent),
            name=str(data["name"]),
            phase=phase,
            step=int(data["step"]),
            start_ns=int(data["start_ns"]),
            end_ns=int(data["end_ns"]),
            status=status,  # type: ignore[arg-type]
            attributes=dict(data.get("attributes") or {}),
            events=[SpanEvent.from_dict(e) for e in data.get("events") or []],
        )


@dataclass(slots=True)
class Trace:
    """Everything recorded for one request.

    ``request`` holds at least ``method`` and ``path`` (plus ``query``,
    ``headers``, ``body_excerpt`` when known, already redacted); ``response``
    holds ``status_code`` (``None`` when the app sent no response) and
    ``headers``. ``response_end_ns`` is when the last body message left the
    server edge: the request's own duration ends there, background work
    after it does not count.
    """

    trace_id: str
    spans: list[Span]
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    response_end_ns: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Span:
        for span in self.spans:
            if span.parent_id is None:
                return span
        raise ValueError("trace has no root span")

    @property
    def start_ns(self) -> int:
        return min(s.start_ns for s in self.spans) if self.spans else 0

    @property
    def end_ns(self) -> int:
        return max(s.end_ns for s in self.spans) if self.spans else 0

    @property
    def status_code(self) -> int | None:
        code = self.response.get("status_code")
        return None if code is None else int(code)

    def children(self, span_id: str) -> list[Span]:
        return sorted((s for s in self.spans if s.parent_id == span_id), key=lambda s: s.start_ns)

    def by_id(self) -> dict[str, Span]:
        return {s.span_id: s for s in self.spans}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "trace-request",
            "version": FORMAT_VERSION,
            "trace_id": self.trace_id,
            "request": self.request,
            "response": self.response,
            "response_end_ns": self.response_end_ns,
            "meta": self.meta,
            "spans": [span.to_dict() for span in self.spans],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        if not isinstance(data, dict) or "spans" not in data:
            raise ValueError("not a trace-request document: no 'spans' list")
        end = data.get("response_end_ns")
        return cls(
            trace_id=str(data.get("trace_id", "")),
            spans=[Span.from_dict(s) for s in data["spans"]],
            request=dict(data.get("request") or {}),
            response=dict(data.get("response") or {}),
            response_end_ns=None if end is None else int(end),
            meta=dict(data.get("meta") or {}),
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """Readable with ``indent``; with ``indent=None``, compact (no spaces) for storage."""
        separators = (",", ":") if indent is None else None
        return json.dumps(self.to_dict(), indent=indent, separators=separators, default=repr)

    @classmethod
    def from_json(cls, text: str) -> Trace:
        return cls.from_dict(json.loads(text))
