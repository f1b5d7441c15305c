"""No value a client or the app supplied reaches any sink, by default.

One app plants a unique canary in every input channel — each credential-like
header form, the query, the path, JSON and form bodies, validator and
exception messages, SQL parameters (named and positional), database errors,
a redirect target, the response body, background-task and threadpool
arguments — and every byte every sink produces is searched for it: the store
file and its WAL (raw, and decoded), the OTLP/HTTP bodies a loopback
collector receives, the JSON and every terminal format, and the trace
endpoint's answer.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import BackgroundTasks, Depends, FastAPI, Form, Header, HTTPException
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, field_validator
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool
from starlette.concurrency import run_in_threadpool

import tracer
from tracer.model import Trace
from tracer.renderers import RENDERERS, get_renderer
from tracer.sinks.store import TraceStore

pytestmark = pytest.mark.anyio

#: A word (no digits, so no "token-like" rule can hide it by accident) and a number:
#: each channel below needs its own rule to keep them out.
CANARY = "Zebracanaryx"
NUMBER = 8675309123457
ENDPOINT_SECRET = "canary-endpoint-secret-0123456789"
SECRET_HEADERS = [
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "X-Api-Key",
    "X-Auth",
    "X-Forwarded-Authorization",
    "X-Upstream-Authorization",
    "Authentication",
    "X-Access-Key",
    "Private-Key",
    "X-Hub-Signature-256",
    "X-Jwt-Assertion",
    "X-Auth-Token",
    "X-Session",
]


class SignUp(BaseModel):
    email: str
    password: str

    @field_validator("password")
    @classmethod
    def long_enough(cls, value: str) -> str:
        if len(value) < 40:
            raise ValueError(f"password {value!r} is too short")
        return value


def keep(value: str) -> int:
    return len(value)


def token_checker(x_api_key: Annotated[str, Header()] = "") -> str:
    if x_api_key.startswith("bad"):
        raise HTTPException(401, f"bad token {x_api_key}")  # echoes a token-like value
    return x_api_key


class Quantity(BaseModel):
    label: str


def canary_app() -> FastAPI:
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (phone INTEGER UNIQUE, password_hash TEXT)")
        conn.exec_driver_sql("INSERT INTO users VALUES (?, ?)", (NUMBER, CANARY))
    app = FastAPI()

    @app.post("/signup")
    async def signup(body: SignUp) -> dict[str, str]:
        return {"email": body.email}

    @app.post("/form")
    async def form(
        username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> dict[str, int]:
        return {"n": len(username) + len(password)}

    @app.get("/items/{item_id}")
    async def item(
        item_id: str,
        background: BackgroundTasks,
        key: Annotated[str, Depends(token_checker)],
    ) -> RedirectResponse:
        await run_in_threadpool(keep, item_id)
        background.add_task(keep, item_id)
        with engine.connect() as conn:
            conn.execute(text("SELECT :email"), {"email": item_id}).all()
            conn.exec_driver_sql("SELECT ?", (item_id,)).all()
        return RedirectResponse(f"/callback?access_token={item_id}&state={CANARY}")

    @app.get("/echo")
    def echo() -> dict[str, str]:
        return {"secret": CANARY}

    @app.post("/duplicate")
    def duplicate() -> None:
        with engine.begin() as conn:  # UNIQUE violation: the error text quotes the parameters
            conn.execute(
                text("INSERT INTO users VALUES (:phone, :hash)"),
                {"phone": NUMBER, "hash": CANARY},
            )

    @app.get("/statement-error")
    def statement_error() -> None:
        with engine.connect() as conn:  # an unbindable parameter: StatementError
            conn.execute(text("SELECT :v"), {"v": object.__new__(type(CANARY, (), {}))})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"failed for '{CANARY}' via postgresql://app:{CANARY}@db/app")

    @app.get("/login-failed")
    async def login_failed() -> None:
        raise ValueError(f"login failed: password={CANARY}")

    @app.get("/exists")
    async def exists() -> None:
        raise HTTPException(409, f"user {CANARY}@example.org exists")

    @app.get("/model")
    async def model() -> None:
        Quantity.model_validate({"label": NUMBER})  # ValidationError quoting the input

    return app


class Collector(BaseHTTPRequestHandler):
    """A loopback OTLP/HTTP receiver that keeps the raw bodies."""

    bodies: list[bytes] = []  # noqa: RUF012 - shared by the handlers of one test

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.headers.get("content-encoding") == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        type(self).bodies.append(body)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    Collector.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}"
    )
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def _requests() -> list[tuple[str, str, dict[str, Any]]]:
    secret_headers = {name: f"v-{CANARY}" for name in SECRET_HEADERS}
    query = f"token={CANARY}&api_key={CANARY}&X-Amz-Signature={CANARY}&password={CANARY}&q={CANARY}"
    return [
        ("GET", f"/items/{CANARY}?{query}", {"headers": secret_headers}),
        ("GET", f"/items/{CANARY}", {"headers": {"x-api-key": f"bad-{CANARY}42x9"}}),
        ("POST", "/signup", {"json": {"email": f"{CANARY}@x.io", "password": CANARY}}),
        ("POST", "/form", {"data": {"username": CANARY, "password": CANARY}}),
        ("GET", "/echo", {}),
        ("POST", "/duplicate", {}),
        ("GET", "/statement-error", {}),
        ("GET", "/boom", {}),
        ("GET", "/login-failed", {}),
        ("GET", "/exists", {}),
        ("GET", "/model", {}),
        ("GET", f"/nowhere/{CANARY}", {}),
        ("GET", "/echo", {"headers": {"x-trace-request": f"1700000000.{CANARY}"}}),
    ]


def _found(blob: bytes) -> bool:
    return CANARY.encode() in blob or str(NUMBER).encode() in blob


def _files_with_canary(folder: Path) -> list[str]:
    """The store's files (database, WAL, SHM) whose raw bytes hold the canary."""
    return [path.name for path in folder.glob("traces.db*") if _found(path.read_bytes())]


async def test_no_canary_reaches_any_sink(collector: None, tmp_path: Path) -> None:
    from tracer.sinks.exporters.otlp_sink import _flush_open_sinks

    traces: list[Trace] = []
    store_path = tmp_path / "traces.db"
    store = TraceStore(str(store_path))
    app = tracer.instrument(
        canary_app(),
        on_trace=traces.append,
        store=store,
        endpoint_secret=ENDPOINT_SECRET,
        trigger_secret="a-trigger-secret",
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        statuses = []
        for method, url, kwargs in _requests():
            response = await client.request(method, url, **kwargs)
            statuses.append(response.status_code)
        assert statuses == [307, 401, 422, 200, 200, 500, 500, 500, 500, 409, 500, 404, 200]
        store.flush()  # the endpoint reads the store, which writes off the request path
        answers = []
        for trace in traces:
            answer = await client.get(
                f"/_trace-request/traces/{trace.trace_id}",
                headers={"authorization": f"Bearer {ENDPOINT_SECRET}"},
            )
            assert answer.status_code == 200
            answers.append(answer.content)
    _flush_open_sinks()
    assert len(traces) == len(statuses)

    leaks: list[str] = []
    for trace in traces:
        label = f"{trace.request.get('method')} {trace.root.name if trace.spans else ''}"
        if _found(trace.to_json().encode()):
            leaks.append(f"trace JSON of {label}")
        for name in RENDERERS:
            rendered = get_renderer(name)(width=120).render(trace)
            if _found(rendered.encode() if isinstance(rendered, str) else rendered):
                leaks.append(f"--format {name} of {label}")
        stored = store.get(trace.trace_id)
        assert stored is not None
        if _found(stored.to_json().encode()):
            leaks.append(f"store row of {label}")
    leaks += [f"raw bytes of {name}" for name in _files_with_canary(tmp_path)]
    assert Collector.bodies, "the OTLP export sent nothing"
    if any(_found(body) for body in Collector.bodies):
        leaks.append("OTLP request body")
    if any(_found(answer) for answer in answers):
        leaks.append("trace endpoint answer")
    store.close()
    assert leaks == []
