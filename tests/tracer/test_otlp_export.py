"""OTLP over HTTP, configured from OTEL_EXPORTER_OTLP_*, received by a real server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import tracer

pytestmark = pytest.mark.anyio


class Receiver(BaseHTTPRequestHandler):
    """A minimal OTLP/HTTP trace receiver: decodes what arrives and keeps it."""

    received: list[Any] = []  # noqa: RUF012 - shared by the handler instances of one test

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        type(self).received.append((self.path, request))
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_spans_arrive_over_otlp_http_with_phase_attributes(
    receiver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "billing-api")
    app = FastAPI()

    @app.get("/invoices/{invoice_id}")
    async def read_invoice(invoice_id: int) -> dict[str, int]:
        return {"id": invoice_id}

    from tracer.sinks.exporters.otlp_env import OTLPSink

    tracer.instrument(app)
    (sink,) = [s for s in app._trace_request_instrumentation.sinks if isinstance(s, OTLPSink)]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/invoices/7")
    assert response.status_code == 200
    assert sink.force_flush(10_000)
    sink.shutdown()

    assert Receiver.received, "nothing reached the OTLP receiver"
    assert {path for path, _ in Receiver.received} == {"/v1/traces"}
    spans = [
        (resource_spans.resource, span)
        for _, request in Receiver.received
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    by_name = {span.name: span for _, span in spans}
    assert "GET /invoices/{invoice_id}" in by_name
    assert "read_invoice" in by_name

    def attributes(span: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kv in span.attributes:
            value = kv.value
            out[kv.key] = getattr(value, value.WhichOneof("value"))
        return out

    handler = attributes(by_name["read_invoice"])
    assert handler["trace_request.lifecycle.phase"] == "handler"
    assert handler["trace_request.lifecycle.step"] == 6
    root = attributes(by_name["GET /invoices/{invoice_id}"])
    assert root["http.route"] == "/invoices/{invoice_id}"
    assert root["http.response.status_code"] == 200
    # the id the client saw in the response is the id the backend shows
    assert {span.trace_id.hex() for _, span in spans} == {response.headers["x-trace-id"]}
    service = {
        kv.value.string_value
        for resource, _ in spans
        for kv in resource.attributes
        if kv.key == "service.name"
    }
    assert service == {"billing-api"}


def test_no_endpoint_means_no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracer.sinks.exporters.otlp_env import sink_from_env

    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert sink_from_env() is None
