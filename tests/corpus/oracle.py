"""FastAPI's own answer to "which route template served this request?".

FastAPI ≥ 0.16x ships native OpenTelemetry telemetry that names each server
span after the route it resolved — ``include_router`` prefixes, nested
routers and mount prefixes included. Driving the corpus once with it on (an
SDK ``TracerProvider`` given to that app alone, nothing global) gives the
ground truth the registry's ``route`` column is checked against. Older
FastAPI has no native telemetry: :func:`fastapi_routes` returns ``None``.
"""

from typing import Any

from fastapi import FastAPI

from tests.corpus.registry import APPS, CorpusApp, drive_corpus


def native_telemetry_available() -> bool:
    return isinstance(getattr(FastAPI(), "_telemetry", None), dict)


def fastapi_routes(apps: tuple[CorpusApp, ...] = APPS) -> dict[str, list[str | None]] | None:
    """``{"app:label": [http.route of each response]}`` as FastAPI's telemetry resolved it."""
    if not native_telemetry_available():
        return None
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def configure(app: Any) -> None:
        app._telemetry.update(
            tracer_provider=provider, metrics=False, logs=False, operation_spans=False
        )

    def collect() -> list[str | None]:
        spans = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
        exporter.clear()
        return [
            None if s.attributes is None else _str(s.attributes.get("http.route")) for s in spans
        ]

    exchanges = drive_corpus(traced=False, apps=apps, configure=configure, collect=collect)
    provider.shutdown()
    return {f"{e.app}:{e.request.label}": list(e.collected) for e in exchanges}


def _str(value: object) -> str | None:
    return None if value is None else str(value)
