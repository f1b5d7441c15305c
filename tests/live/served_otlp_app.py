"""The demo app embedded with its defaults, for a server exporting over OTLP (env-configured).

OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 uvicorn tests.live.served_otlp_app:app
"""

from __future__ import annotations

import tracer
from tracer.demo_app.main import create_app

app = tracer.instrument(create_app())
