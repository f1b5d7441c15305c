"""What a detector reports, and the thresholds that decide when a measurement is a finding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tracer.analysis.index import TraceIndex

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what went wrong or slow, where to look, and the numbers behind it."""

    code: str
    severity: Severity
    title: str
    detail: str
    layer: str
    span_id: str | None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "layer": self.layer,
            "span_id": self.span_id,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        severity = str(data["severity"])
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r} in finding {data.get('code')!r}")
        span_id = data.get("span_id")
        return cls(
            code=str(data["code"]),
            severity=severity,
            title=str(data["title"]),
            detail=str(data["detail"]),
            layer=str(data["layer"]),
            span_id=None if span_id is None else str(span_id),
            evidence=dict(data.get("evidence") or {}),
        )


@dataclass
class Thresholds:
    """When a measurement becomes a finding; every comparison is "at or above".

    ``dominant_step_ns`` is far above the ~30 ms (70 ms on a loaded machine)
    the demo's sign-up spends hashing a password: ordinary CPU work in a
    handler is not a finding, a step that alone takes a fifth of a second is.
    An outbound call is slow from a quarter of a second (what a user notices on
    a page that waits for it).
    """

    n_plus_one_min: int = 3
    loop_block_ns: int = 20_000_000
    pool_wait_ns: int = 5_000_000
    threadpool_wait_ns: int = 10_000_000
    dominant_step_ns: int = 200_000_000
    dominant_share: float = 0.5
    #: an outbound call this long is named, whatever share of the request it is
    outbound_slow_ns: int = 250_000_000
    #: back-to-back calls: at most this much of the caller's own code between them
    sequential_gap_ns: int = 2_000_000
    #: ... and running them together would save at least this much
    sequential_saving_ns: int = 5_000_000


#: A detector reads the trace only through its index.
Detector = Callable[[TraceIndex, Thresholds], list[Finding]]
