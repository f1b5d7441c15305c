"""The middleware stack: CORS outermost, then request id + timing, then GZip.

``add_middleware`` wraps the app built so far, so the layer added last runs first.
"""

import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from .config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed into logs and headers, so accept only short, plain ones.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Add CORS, request-id/timing and GZip middleware to ``app``."""
    app.add_middleware(GZipMiddleware, minimum_size=500)

    @app.middleware("http")
    async def request_id_and_timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Tag every response with a request id (the caller's, if valid) and its duration.

        The duration ends when the response headers are ready, so for a
        streaming response it does not include producing the body.
        """
        request_id = request.headers.get(REQUEST_ID_HEADER, "")
        if not _VALID_REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers[REQUEST_ID_HEADER] = request_id
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response

    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[REQUEST_ID_HEADER, "Server-Timing"],
    )
