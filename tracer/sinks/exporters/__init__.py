"""Getting traces out: OpenTelemetry spans (a TracerProvider or any SpanExporter) and OTLP/JSON.

See docs/opentelemetry.md for how a Trace maps onto OpenTelemetry spans. The
names load on first use: importing the OpenTelemetry SDK costs start-up time
that an app exporting nothing (or only to the local store) should not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.sinks.exporters.otel import (
        export_to_provider,
        export_with_exporter,
        to_readable_spans,
    )
    from tracer.sinks.exporters.otlp_json import from_otlp_json, to_otlp_json, to_otlp_json_lines

__all__ = [
    "export_to_provider",
    "export_with_exporter",
    "from_otlp_json",
    "to_otlp_json",
    "to_otlp_json_lines",
    "to_readable_spans",
]

_HOME = {
    "export_to_provider": "otel",
    "export_with_exporter": "otel",
    "to_readable_spans": "otel",
    "from_otlp_json": "otlp_json",
    "to_otlp_json": "otlp_json",
    "to_otlp_json_lines": "otlp_json",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'tracer.sinks.exporters' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tracer.sinks.exporters.{module}"), name)
