"""A served app stopped by SIGTERM right after its requests still delivers every span."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 10


class Collector(BaseHTTPRequestHandler):
    """A loopback OTLP/HTTP receiver that keeps the (trace id, span id) of every span."""

    spans: set[tuple[str, str]] = set()  # noqa: RUF012 - shared by the handlers of one test
    lock = threading.Lock()

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["content-length"])))
        with self.lock:
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        self.spans.add((span.trace_id.hex(), span.span_id.hex()))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.spans = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_right_after_the_requests_flushes_every_trace(
    collector: str, tmp_path: Path
) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    port = _free_port()
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_SERVICE_NAME": "flush"}
    log_path = tmp_path / "uvicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "tests.live.served_otlp_app:app"),
                *("--port", str(port), "--host", "127.0.0.1", "--no-access-log"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{base}/nowhere", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"uvicorn did not start: {log_path.read_text()}")
                    time.sleep(0.1)
            trace_ids = set()
            with httpx.Client(base_url=base, timeout=10) as client:
                for _ in range(REQUESTS):
                    response = client.get("/health")
                    assert response.status_code == 200
                    trace_ids.add(response.headers["x-trace-id"])
            process.send_signal(signal.SIGTERM)  # at once: the batch's 5 s timer has not fired
            # uvicorn re-raises the signal after its graceful shutdown: no atexit runs
            # then, so the spans must be flushed by the lifespan shutdown itself
            assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        finally:
            if process.poll() is None:
                process.kill()
    received = {trace for trace, _ in Collector.spans}
    assert trace_ids <= received, f"lost {len(trace_ids - received)} of {REQUESTS} traces"
    per_trace = [sum(1 for t, _ in Collector.spans if t == tid) for tid in trace_ids]
    assert min(per_trace) > 1, per_trace  # whole traces, not only their roots
