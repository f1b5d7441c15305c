"""An OTLP exporter configured the OpenTelemetry way, from ``OTEL_EXPORTER_OTLP_*`` variables.

Only when an endpoint variable is set: then spans go to the Collector, Jaeger
or Tempo the environment names, over HTTP (``http/protobuf``, the default) or
gRPC (``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``), through the official exporter
packages (``pip install 'trace-request[otlp]'`` or ``[otlp-grpc]``). The
exporters read the remaining variables (headers, timeout, compression)
themselves.
"""

from __future__ import annotations

import os
from typing import Any

from tracer.safety import warn_once
from tracer.sinks.exporters.otlp_sink import FLUSH_TIMEOUT_MS, OTLPSink

__all__ = ["ENDPOINT_VARIABLES", "FLUSH_TIMEOUT_MS", "OTLPSink", "sink_from_env"]

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


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
