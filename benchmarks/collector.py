"""A loopback OTLP/HTTP collector that accepts every export and keeps nothing.

    python benchmarks/collector.py      # prints ``PORT <n>``, serves until killed

The ``otlp`` variant exports to it (``POST /v1/traces``, protobuf): the path a
team at scale uses, with the network hop and the exporter's encoding real, and
the collector's own CPU in a process of its own (not charged to the server).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV = "BENCH_COLLECTOR_URL"
_proc: list[subprocess.Popen[str]] = []


class _Accept(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def url() -> str:
    """The collector's base URL: the one in ``$BENCH_COLLECTOR_URL``, or a new one (set there)."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)], stdout=subprocess.PIPE, text=True
    )
    _proc.append(proc)
    atexit.register(_stop, proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        raise RuntimeError("the loopback collector did not start")
    os.environ[ENV] = f"http://127.0.0.1:{int(line.split()[1])}"  # servers started later inherit it
    return os.environ[ENV]


def _exit_with_parent(parent: int) -> None:
    """A benchmark killed mid-run leaves no collector behind."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Flush the OTLP sinks first (their own exit hook would run after this one), then stop."""
    try:
        from tracer.sinks.exporters import otlp_sink

        for sink in list(otlp_sink._open_sinks):
            sink.shutdown(2_000)
    finally:
        proc.terminate()


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
