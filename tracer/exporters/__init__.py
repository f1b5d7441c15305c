"""Getting traces out: OpenTelemetry spans (a TracerProvider or any SpanExporter) and OTLP/JSON.

See docs/opentelemetry.md for how a Trace maps onto OpenTelemetry spans.
"""

from __future__ import annotations

from tracer.exporters.otel import export_to_provider, export_with_exporter, to_readable_spans
from tracer.exporters.otlp_json import from_otlp_json, to_otlp_json, to_otlp_json_lines

__all__ = [
    "export_to_provider",
    "export_with_exporter",
    "from_otlp_json",
    "to_otlp_json",
    "to_otlp_json_lines",
    "to_readable_spans",
]
