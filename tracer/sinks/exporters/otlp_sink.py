"""The OTLP sink: finished traces to a Collector, Jaeger or Tempo, off the request path.

On the request's task, after the response, the trace is written in the OTLP
protobuf wire format (:mod:`.otlp_wire`: ~5× cheaper than SDK spans through
the pb2 encoder) and the bytes go on a bounded queue. Bytes, not the
``Trace``: a trace held until its batch leaves survives long enough to reach
Python's oldest GC generation, and a busy server then pays for full
collections (measured: ~150 µs of GC per request with the traces queued,
~1 µs with their bytes queued). One daemon thread per sink (per process: a
forked worker starts its own) wakes when enough spans wait or a few seconds
after the first arrived, joins the batch into one ``ExportTraceServiceRequest``
and hands it to the official exporter's HTTP client, so the endpoint,
headers, compression, TLS and retries are still the ones
``OTEL_EXPORTER_OTLP_*`` configured. An exporter without such a client (gRPC,
a custom ``SpanExporter``) gets SDK spans through its public ``export()``, on
the same thread (its traces are queued as they are).
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from tracer.model import Trace
from tracer.safety import report
from tracer.sinks.exporters._common import report_once
from tracer.sinks.exporters.otlp_wire import RequestWriter, encode_trace_spans

#: Export when this many spans wait (the SDK batch processor's default batch).
BATCH_SPANS = 512
#: Traces held at most; more are dropped and counted (a collector that is down
#: must not grow the app's memory).
QUEUE_TRACES = 2048
#: How long shutdown may wait for the last batch to reach the collector.
FLUSH_TIMEOUT_MS = 5_000

#: Sinks still open, flushed once at interpreter exit (weakly held: a dropped
#: sink is not kept alive by the exit hook).
_open_sinks: weakref.WeakSet[OTLPSink] = weakref.WeakSet()


def _schedule_delay() -> float:
    """``OTEL_BSP_SCHEDULE_DELAY`` (ms, the SDK's batch delay; 5000 by default) in seconds."""
    try:
        return max(0.001, int(os.environ.get("OTEL_BSP_SCHEDULE_DELAY", "5000")) / 1000)
    except ValueError:
        return 5.0


def _byte_sender(exporter: Any) -> Callable[[bytes], Any] | None:
    """The OTLP/HTTP exporter's own client (``export(bytes)``), when this version has one."""
    if not type(exporter).__module__.startswith("opentelemetry.exporter.otlp.proto.http"):
        return None
    send = getattr(getattr(exporter, "_client", None), "export", None)
    return send if callable(send) else None


class _Flush:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class OTLPSink:
    """Sends finished traces to an OTLP exporter, keeping trace-request's own ids
    (the trace id a client sees in ``x-trace-id`` is the one Jaeger or Tempo shows)."""

    def __init__(self, exporter: Any, *, delay: float | None = None) -> None:
        from opentelemetry.sdk.resources import Resource

        self.exporter = exporter
        self.resource = Resource.create({"service.name": _service_name()})
        self._writer = RequestWriter(self.resource.attributes, self.resource.schema_url)
        self._send_bytes = _byte_sender(exporter)
        self.delay = _schedule_delay() if delay is None else delay
        self.dropped = 0
        self._closed = False
        self._lock = threading.Lock()
        self._start_process()
        _open_sinks.add(self)

    def _start_process(self) -> None:
        """Fresh queue and no thread: at creation, and in a forked child (the
        parent's thread did not survive the fork)."""
        self._pid = os.getpid()
        #: encoded traces (bytes) and their span counts; ``Trace``s for an exporter
        #: without a byte client
        self._pending: collections.deque[tuple[bytes | Trace, int] | _Flush] = collections.deque()
        self._spans_waiting = 0
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the request side ---------------------------------------------------

    def __call__(self, trace: Trace) -> None:
        """Encode ``trace`` and queue it for export; never blocks, never raises."""
        try:
            if self._closed:
                return
            if self._pid != os.getpid():
                self._start_process()
            if len(self._pending) >= QUEUE_TRACES:
                self.dropped += 1
                return
            if self._thread is None:
                self._start_thread()
            count = len(trace.spans)
            item = encode_trace_spans(trace) if self._send_bytes is not None else trace
            self._pending.append((item, count))
            self._spans_waiting += count
            if self._spans_waiting >= BATCH_SPANS:  # a full batch: wake the thread now
                self._spans_waiting = 0
                self._wakeup.set()
        except Exception as exc:
            report("queueing a trace for OTLP export", exc)

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run, name="trace-request OTLP export", daemon=True
                )
                thread.start()
                self._thread = thread

    # -- flushing -----------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything queued before this call; ``False`` if it took longer."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return True
        marker = _Flush()
        self._pending.append(marker)
        self._wakeup.set()
        return marker.done.wait(timeout_millis / 1000)

    def shutdown(self, timeout_millis: int = FLUSH_TIMEOUT_MS) -> None:
        """Send what is queued (waiting at most ``timeout_millis``), then stop; idempotent.

        Called at lifespan shutdown and at interpreter exit: batches leave on a
        5 s schedule, so without this a server stopped by SIGTERM loses the
        spans of its last seconds.
        """
        if self._closed:
            return
        _open_sinks.discard(self)
        try:
            self.force_flush(timeout_millis)
        finally:
            self._closed = True
        try:
            self.exporter.shutdown()
        except Exception as exc:
            report("shutting the OTLP exporter down", exc)

    def at_shutdown(self) -> None:
        """The app's lifespan ended: send what is queued now (the sink stays usable)."""
        self.force_flush(FLUSH_TIMEOUT_MS)

    # -- the export thread --------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wakeup.wait(self.delay)
            self._wakeup.clear()
            self._drain()

    def _drain(self) -> None:
        """Export every trace waiting, in batches; release the flush markers met on the way."""
        pending = self._pending
        batch: list[bytes | Trace] = []
        spans = 0
        while pending:
            item = pending.popleft()
            if isinstance(item, _Flush):
                self._export(batch)
                batch, spans = [], 0
                item.done.set()
                continue
            batch.append(item[0])
            spans += item[1]
            if spans >= BATCH_SPANS:
                self._export(batch)
                batch, spans = [], 0
        self._export(batch)

    def _export(self, batch: list[bytes | Trace]) -> None:
        if not batch:
            return
        try:
            if self._send_bytes is not None:
                body = self._writer.request(b for b in batch if isinstance(b, bytes))
                result = self._send_bytes(body)
                if getattr(result, "success", True) is False:
                    raise RuntimeError(f"the collector refused the batch ({result!r})")
            else:
                from tracer.sinks.exporters.otel import to_readable_spans

                traces = [t for t in batch if isinstance(t, Trace)]
                spans = [s for t in traces for s in to_readable_spans(t, self.resource)]
                self.exporter.export(spans)
        except Exception as exc:
            self.dropped += len(batch)
            report_once("OTLP export", exc)


@atexit.register
def _flush_open_sinks() -> None:
    for sink in list(_open_sinks):
        sink.shutdown()


def _service_name() -> str:
    name = os.environ.get("OTEL_SERVICE_NAME")
    if name:
        return name
    for pair in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, _, value = pair.partition("=")
        if key.strip() == "service.name" and value.strip():
            return value.strip()
    return "trace-request"
