"""Sending the request in-process (lifespan included) and catching its trace."""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracer.cli.errors import CLIError

if TYPE_CHECKING:
    from tracer.cli.captured import AppOutput

#: an HTTP header name (RFC 9110 token)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY", "TRACE")


@dataclass
class RequestSpec:
    """What to send: validated before the app is even imported."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    content: bytes | None = None


@dataclass
class Exchange:
    """One request's response and trace."""

    status_code: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    trace: Any


def parse_request(
    method: str, path: str, json_body: str | None, data: str | None, headers: list[str]
) -> RequestSpec:
    """Validate the user's request arguments into a :class:`RequestSpec`."""
    import json

    verb = method.upper()
    if verb not in METHODS:
        raise CLIError(f"unknown HTTP method {method!r} (use one of {', '.join(METHODS)})")
    if not path.startswith("/"):
        raise CLIError(f"PATH must start with '/', got {path!r}")
    path = _undecodable_bytes_percent_encoded(path)
    if json_body is not None and data is not None:
        raise CLIError("give either --json or --data, not both")
    pairs: list[tuple[str, str]] = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise CLIError(f"-H must look like 'Name: value', got {header!r}")
        if not _TOKEN.fullmatch(name.strip()):
            raise CLIError(f"-H: {name.strip()!r} is not a valid header name")
        if any(c in value for c in "\r\n\0"):
            raise CLIError(f"-H: the value of {name.strip()!r} contains a line break")
        if not _is_text(value):
            raise CLIError(f"-H: the value of {name.strip()!r} is not valid UTF-8")
        pairs.append((name.strip(), value.strip()))
    content: bytes | None = None
    if json_body is not None:
        try:
            json.loads(json_body)
        except json.JSONDecodeError as exc:
            raise CLIError(f"--json is not valid JSON: {exc.msg} at column {exc.colno}") from exc
        if not _is_text(json_body):
            raise CLIError("--json is not valid UTF-8")
        content = json_body.encode()
        if not any(n.lower() == "content-type" for n, _ in pairs):
            pairs.append(("content-type", "application/json"))
    elif data is not None:
        content = _as_given(data, "--data")  # the bytes as given, as curl --data sends them
    return RequestSpec(verb, path, pairs, content)


def _is_text(value: str) -> bool:
    """False when ``value`` holds bytes that were not UTF-8 (the OS escapes them as surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: what stays as it is when a path is percent-encoded: every printable ASCII character but space
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _undecodable_bytes_percent_encoded(path: str) -> str:
    """``/caf\\xe9`` (Latin-1 bytes from the shell) as ``/caf%E9``, as a client sends it.

    The OS hands such bytes over as lone surrogates, which no text encoding
    accepts; percent-encoding the original bytes keeps them exactly.
    """
    if _is_text(path):
        return path
    from urllib.parse import quote

    return quote(_as_given(path, "PATH"), safe=_URL_SAFE)


def _as_given(value: str, what: str) -> bytes:
    """The bytes the user typed, undecodable ones included (the OS escaped them)."""
    try:
        return os.fsencode(value)
    except UnicodeEncodeError as exc:
        raise CLIError(f"{what} holds characters that are not text: {value!r}") from exc


#: A path no app routes: one untraced GET to it builds what FastAPI builds on first use
WARM_UP_PATH = "/__trace-request-warm-up__"


def drive(
    app: Any,
    spec: RequestSpec,
    repeat: int = 1,
    *,
    warm: bool = True,
    output: AppOutput | None = None,
) -> Exchange:
    """Run the app's lifespan, send the request ``repeat`` times, return the last exchange."""
    return drive_many(app, [spec] * repeat, warm=warm, output=output)[-1]


def drive_many(
    app: Any, specs: list[RequestSpec], *, warm: bool = True, output: AppOutput | None = None
) -> list[Exchange]:
    """Send each request in turn to one running app (one lifespan); each gets its trace.

    With ``warm``, an untraced GET to :data:`WARM_UP_PATH` goes first, so the
    traces show the requests rather than the app's one-off first-request costs
    (FastAPI builds included routers' handlers on first use: 10-40 ms).
    ``output``, when given, is told which part of the run each app line belongs
    to (``startup``, ``warm-up``, ``request 1`` …, ``shutdown``).
    """
    return asyncio.run(_drive(app, specs, warm, output))


async def _drive(
    app: Any, specs: list[RequestSpec], warm: bool, output: AppOutput | None
) -> list[Exchange]:
    import tracer
    from tracer.cli import startup

    def section(name: str) -> None:
        if output is not None:
            output.start(name)

    if not tracer.is_instrumented(app):
        # in-process runs keep their traces in memory; the path and query are the
        # ones the user typed, so the trace may show them (record_url_values)
        tracer.instrument(app, store=False, record_url_values=True)
    section("startup")
    try:
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
    except Exception as exc:
        raise CLIError(f"the app's startup (lifespan) failed: {type(exc).__name__}: {exc}") from exc
    exchanges: list[Exchange] = []
    try:
        if warm:
            section("warm-up")
            await call_asgi(app, RequestSpec("GET", WARM_UP_PATH, []))
        # The CLI's start-up (imports, app, lifespan) leaves many young objects: without
        # this, a collection lands inside the traced request and reads as its own time.
        startup.settle()
        for number, spec in enumerate(specs, 1):
            section(f"request {number}")
            with tracer.capture(app) as traces:
                status, headers, body = await call_asgi(app, spec)
            if not traces.traces:
                raise CLIError(f"{spec.method} {spec.path} was not traced", exit_code=1)
            exchanges.append(
                Exchange(
                    status_code=status,
                    reason=_reason(status),
                    headers=headers,
                    body=_decoded(headers, body),
                    trace=traces.last,
                )
            )
    finally:
        section("shutdown")
        try:
            await lifespan.__aexit__(None, None, None)
        except Exception:  # a failing shutdown must not hide the traces
            pass
    return exchanges


#: Sent with every in-process request, as an HTTP client would (GZip sees ``accept-encoding``).
DEFAULT_HEADERS = (
    ("host", "localhost"),
    ("accept", "*/*"),
    ("accept-encoding", "gzip, deflate"),
    ("connection", "keep-alive"),
    ("user-agent", "trace-request"),
)


async def call_asgi(app: Any, spec: RequestSpec) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP request straight into the ASGI app: ``(status, headers, body)``.

    An in-process client of a few lines instead of httpx's (which costs the
    CLI ~40 ms of imports). Like a server, it answers 500 when the app raised
    before starting a response, and keeps what was sent when it raised after.
    """
    from urllib.parse import quote, unquote, urlsplit

    url = urlsplit(spec.path)
    # percent-encode what a client would (non-ASCII, spaces); what is encoded stays so
    raw_path = quote(url.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(url.query, safe="=&%:@!$'()*+,;/?-._~")
    given = {name.lower() for name, _ in spec.headers}
    headers = [(k, v) for k, v in DEFAULT_HEADERS if k not in given] + list(spec.headers)
    body = spec.content or b""
    if body and "content-length" not in given:
        headers.append(("content-length", str(len(body))))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": spec.method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        # values as UTF-8, as curl sends them; names are ASCII tokens (checked above)
        "headers": [(k.lower().encode("ascii"), v.encode("utf-8")) for k, v in headers],
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
        "state": {},
    }
    request_sent = False
    response_done = asyncio.Event()
    status = 0
    response_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await response_done.wait()  # as a server does: disconnect once the response is out
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            response_headers.extend(
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers") or ()
            )
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                response_done.set()

    try:
        await app(scope, receive, send)
    except Exception:
        if not status:  # nothing was sent: what a server answers
            status, response_headers, chunks = 500, [], [b"Internal Server Error"]
    finally:
        response_done.set()
    return status, response_headers, b"".join(chunks)


def _reason(status: int) -> str:
    """The phrase the renderers print (the same on every Python version)."""
    from tracer.renderers.labels import status_text

    return status_text(status).partition(" ")[2]


def _decoded(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """The body as an HTTP client shows it: gzip/deflate content-encoding undone."""
    encoding = next((v.lower() for k, v in headers if k.lower() == "content-encoding"), "")
    try:
        if encoding == "gzip":
            import gzip

            return gzip.decompress(body)
        if encoding == "deflate":
            import zlib

            return zlib.decompress(body)
    except Exception:  # a body that says gzip but is not: show it as it came
        return body
    return body
