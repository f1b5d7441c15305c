"""An OTLP exporter configured the OpenTelemetry way, from ``OTEL_EXPORTER_OTLP_*`` variables.

Only when an endpoint variable is set: then spans go to the Collector, Jaeger
or Tempo the environment names, over HTTP (``http/protobuf``, the default) or
gRPC (``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``), through the official exporter
packages (``pip install 'trace-request[otlp]'`` or ``[otlp-grpc]``). The
exporters read the remaining variables (headers, timeout, compression)
themselves.
"""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Any

from tracer.model import Trace
from tracer.safety import report, warn_once

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
#: How long shutdown may wait for the last batch to reach the collector.
FLUSH_TIMEOUT_MS = 5_000

#: Sinks still open, flushed once at interpreter exit (weakly held: a dropped
#: sink is not kept alive by the exit hook).
_open_sinks: weakref.WeakSet[OTLPSink] = weakref.WeakSet()


class OTLPSink:
    """Sends finished traces to an OTLP exporter, keeping trace-request's own ids.

    Spans go through a ``BatchSpanProcessor`` (export happens off the request
    path) as ``ReadableSpan``s built from the trace, so the trace id a client
    sees in ``x-trace-id`` is the one Jaeger or Tempo shows.
    """

    def __init__(self, exporter: Any) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.processor = BatchSpanProcessor(exporter)
        self.resource = Resource.create({"service.name": _service_name()})
        self._closed = False
        _open_sinks.add(self)

    def __call__(self, trace: Trace) -> None:
        from tracer.sinks.exporters.otel import to_readable_spans

        for span in to_readable_spans(trace, self.resource):
            self.processor.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self.processor.force_flush(timeout_millis))

    def shutdown(self, timeout_millis: int = FLUSH_TIMEOUT_MS) -> None:
        """Send what is queued (waiting at most ``timeout_millis``), then stop; idempotent.

        Called at lifespan shutdown and at interpreter exit: the batch
        processor exports on a 5 s schedule, so without this a server stopped
        by SIGTERM loses the spans of its last seconds.
        """
        if self._closed:
            return
        self._closed = True
        _open_sinks.discard(self)
        try:
            self.processor.force_flush(timeout_millis)
            self.processor.shutdown()  # type: ignore[no-untyped-call]
        except Exception as exc:
            report("flushing the OTLP export at shutdown", exc)

    def at_shutdown(self) -> None:
        """The app's lifespan ended: send what is queued now (the sink stays usable)."""
        try:
            self.processor.force_flush(FLUSH_TIMEOUT_MS)
        except Exception as exc:
            report("flushing the OTLP export at shutdown", exc)


@atexit.register
def _flush_open_sinks() -> None:
    for sink in list(_open_sinks):
        sink.shutdown()


def sink_from_env() -> OTLPSink | None:
    """An :class:`OTLPSink` when an OTLP endpoint is configured, else ``None``."""
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return None
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    exporter = _exporter(protocol)
    return None if exporter is None else OTLPSink(exporter)


def _exporter(protocol: str) -> Any:
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        elif protocol in ("http/protobuf", "http"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
        else:
            warn_once(
                f"otlp-protocol:{protocol}",
                f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported (use http/protobuf "
                "or grpc): spans are not exported.",
            )
            return None
    except ImportError:
        extra = "otlp-grpc" if protocol == "grpc" else "otlp"
        warn_once(
            f"otlp-missing:{protocol}",
            f"an OTLP endpoint is configured but the {protocol} exporter is not installed "
            f"(pip install 'trace-request[{extra}]'): spans are not exported.",
        )
        return None
    return OTLPSpanExporter()


def _service_name() -> str:
    name = os.environ.get("OTEL_SERVICE_NAME")
    if name:
        return name
    for pair in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, _, value = pair.partition("=")
        if key.strip() == "service.name" and value.strip():
            return value.strip()
    return "trace-request"
