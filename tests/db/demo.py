"""Running the demo on one database and reading what its requests traced."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

import tracer
from tracer.demo_app.config import IN_MEMORY_DATABASE_URL, Settings
from tracer.demo_app.main import create_app
from tracer.model import Span, Trace

POSTGRES_ENV = "TRACE_REQUEST_TEST_POSTGRES"
SIGN_UP = {"email": "ada@example.com", "password": "s3cret-pass"}


def postgres_url() -> str | None:
    """The PostgreSQL server the tests may use, if one is configured."""
    return os.environ.get(POSTGRES_ENV) or None


@dataclass(frozen=True)
class Database:
    """A database the demo can run on: its name (``db.system``) and URL."""

    name: str
    url: str

    @classmethod
    def named(cls, name: str) -> Database:
        if name == "sqlite":
            return cls(name, IN_MEMORY_DATABASE_URL)
        url = postgres_url()
        assert url is not None, f"{POSTGRES_ENV} is not set"
        return cls(name, url)


@dataclass
class Demo:
    """A running, instrumented demo app and a client that records one trace per request."""

    app: Any
    client: httpx.AsyncClient
    traces: Any

    async def send(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, Trace]:
        """One request and its trace (found by its id, so requests may run concurrently)."""
        response = await self.client.request(method, path, **kwargs)
        trace_id = response.headers["x-trace-id"]
        found = [t for t in self.traces.traces if t.trace_id == trace_id]
        assert len(found) == 1, f"{method} {path}: {len(found)} traces recorded"
        return response, found[0]


@asynccontextmanager
async def running_demo(database: Database, **settings: Any) -> AsyncIterator[Demo]:
    """The demo on ``database``, inside its lifespan (schema created and seeded), traced."""
    app = create_app(Settings(database_url=database.url, **settings))
    tracer.instrument(app, record_url_values=True)  # as the CLI
    async with app.router.lifespan_context(app):
        with tracer.capture(app) as traces:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
                yield Demo(app, client, traces)


def db_spans(trace: Trace) -> list[Span]:
    """The trace's database spans in start order."""
    return sorted((s for s in trace.spans if s.phase == "db"), key=lambda s: s.start_ns)


def db_phases(trace: Trace) -> list[str]:
    """Names of the database spans in start order, without SQL compiles.

    Whether a statement was compiled or found in SQLAlchemy's cache depends on
    what ran before it in the process, not on the database.
    """
    return [s.name for s in db_spans(trace) if s.name != "SQL compile (cache miss)"]


def db_system(span: Span) -> Any:
    """The span's database system, whichever attribute name the capture uses."""
    return span.attributes.get("db.system.name", span.attributes.get("db.system"))
