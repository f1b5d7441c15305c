"""The options of :func:`tracer.instrument`, validated once, read on every request."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from tracer.capture.app_output import level_of
from tracer.capture.recorder import MIN_LIMIT
from tracer.capture.trigger import verify_token
from tracer.types import Scope

#: ``triggered``: traced in full because a valid trigger header asked for it (the store
#: always keeps such a trace).
Decision = Literal["trace", "triggered", "errors", "skip"]


@dataclass(frozen=True)
class TraceConfig:
    """What to trace and what to keep out of traces.

    ``sample_rate`` is the share of requests traced in full; an unsampled
    request costs one random draw, and with ``always_trace_errors`` one
    wrapped ``send`` so that a 5xx or an exception still leaves a (root-only)
    trace. A request carrying a valid ``trigger_header`` (see
    :mod:`tracer.capture.trigger`) is traced in full whatever the rate; with no
    ``trigger_secret`` the header is ignored.
    """

    sample_rate: float = 1.0
    always_trace_errors: bool = True
    trigger_header: str = "x-trace-request"
    trigger_secret: bytes | None = None
    trigger_max_age: int = 300
    exclude_paths: frozenset[str] = frozenset()
    max_spans: int = 2000
    max_attribute_length: int = 1024
    redact_headers: frozenset[str] = frozenset()
    record_sql_parameters: bool = False
    record_url_values: bool = False
    response_headers: bool = True
    #: outbound ``httpx`` calls carry the W3C ``traceparent`` of their span
    propagate: bool = True
    #: lowest ``logging`` level recorded as span events (``record_logs``); None: off
    record_logs: int | None = None
    _trigger_key: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be between 0 and 1, got {self.sample_rate}")
        if self.max_spans < 1:
            raise ValueError(f"max_spans must be at least 1, got {self.max_spans}")
        if self.max_attribute_length < MIN_LIMIT:
            raise ValueError(
                f"max_attribute_length must be at least {MIN_LIMIT}, "
                f"got {self.max_attribute_length}"
            )
        object.__setattr__(self, "_trigger_key", self.trigger_header.lower().encode("latin-1"))
        # the trigger token is replayable for its lifetime: never recorded
        object.__setattr__(
            self, "redact_headers", self.redact_headers | {self.trigger_header.lower()}
        )

    def decide(self, scope: Scope) -> Decision:
        """Trace this request in full, watch it only for errors, or leave it alone."""
        if scope.get("path", "") in self.exclude_paths:
            return "skip"
        if self.sample_rate >= 1.0 or (
            self.sample_rate > 0.0 and random.random() < self.sample_rate
        ):
            return "trace"
        if self.trigger_secret is not None and self._triggered(scope):
            return "triggered"
        return "errors" if self.always_trace_errors else "skip"

    def _triggered(self, scope: Scope) -> bool:
        assert self.trigger_secret is not None
        for name, value in scope.get("headers") or ():
            if name == self._trigger_key:
                token = bytes(value).decode("latin-1")
                return verify_token(token, self.trigger_secret, max_age=self.trigger_max_age)
        return False


def config_from(
    *,
    sample_rate: float | None = None,
    always_trace_errors: bool = True,
    trigger_header: str = "x-trace-request",
    trigger_secret: bytes | str | None = None,
    exclude_paths: Iterable[str] = (),
    max_spans: int = 2000,
    max_attribute_length: int = 1024,
    redact_headers: Iterable[str] = (),
    record_sql_parameters: bool = False,
    record_url_values: bool = False,
    response_headers: bool = True,
    record_logs: bool | str | int = False,
    propagate: bool = True,
) -> TraceConfig:
    """A :class:`TraceConfig`, with OpenTelemetry's and our environment variables as defaults.

    ``OTEL_TRACES_SAMPLER=traceidratio`` / ``parentbased_traceidratio`` with
    ``OTEL_TRACES_SAMPLER_ARG`` set the sample rate when none is given;
    ``TRACE_REQUEST_TRIGGER_SECRET`` the trigger secret.
    """
    if sample_rate is None:
        sample_rate = _env_sample_rate()
    if trigger_secret is None:
        trigger_secret = os.environ.get("TRACE_REQUEST_TRIGGER_SECRET") or None
    return TraceConfig(
        sample_rate=sample_rate,
        always_trace_errors=always_trace_errors,
        trigger_header=trigger_header,
        trigger_secret=trigger_secret.encode()
        if isinstance(trigger_secret, str)
        else trigger_secret,
        exclude_paths=frozenset(exclude_paths),
        max_spans=max_spans,
        max_attribute_length=max_attribute_length,
        redact_headers=frozenset(h.lower() for h in redact_headers),
        record_sql_parameters=record_sql_parameters,
        record_url_values=record_url_values,
        response_headers=response_headers,
        record_logs=level_of(record_logs),
        propagate=propagate,
    )


def _env_sample_rate() -> float:
    sampler = os.environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if sampler in ("always_off", "parentbased_always_off"):
        return 0.0
    if sampler in ("traceidratio", "parentbased_traceidratio"):
        try:
            return min(1.0, max(0.0, float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1"))))
        except ValueError:
            return 1.0
    return 1.0
