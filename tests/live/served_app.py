"""The demo app with the tracer embedded, for a real uvicorn server in tests.

TRACE_REQUEST_STORE=/tmp/t.db uvicorn tests.live.served_app:app
"""

from __future__ import annotations

import os

import tracer
from tracer.demo_app.main import create_app
from tracer.sinks.store import TraceStore

app = tracer.instrument(
    create_app(),
    store=TraceStore(
        os.environ["TRACE_REQUEST_STORE"],
        max_traces=int(os.environ.get("TRACE_REQUEST_MAX_TRACES", "1000")),
        # the tests read back every trace, even right after a burst of load
        budget=None,
    ),
)
