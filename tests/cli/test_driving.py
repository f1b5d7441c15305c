"""The CLI's in-process client: what it sends, and what it makes of odd answers."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracer.cli.driving import RequestSpec, call_asgi, parse_request
from tracer.cli.errors import CLIError


def _app() -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        text = f"{request.method} {request.url.path} q={request.query_params.get('q')} {body!r}"
        headers = {"x-ua": request.headers.get("user-agent", "")}
        return Response(text, headers=headers)

    async def zipped(request: Request) -> Response:
        return Response(gzip.compress(b"x" * 1000), headers={"content-encoding": "gzip"})

    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    return Starlette(
        routes=[
            Route("/echo/{rest:path}", echo, methods=["GET", "POST"]),
            Route("/zipped", zipped),
            Route("/boom", boom),
        ]
    )


def test_path_query_body_and_headers_reach_the_app() -> None:
    spec = RequestSpec("POST", "/echo/a%20b?q=hi", [("User-Agent", "me")], b"{}")
    status, headers, body = asyncio.run(call_asgi(_app(), spec))
    assert status == 200
    assert body == b"POST /echo/a b q=hi b'{}'"
    assert ("x-ua", "me") in headers  # the user's header replaces the default one


def test_an_app_that_raises_before_answering_gets_a_500() -> None:
    status, _headers, _body = asyncio.run(call_asgi(_app(), RequestSpec("GET", "/boom", [])))
    assert status == 500


def test_gzip_bodies_are_shown_decoded() -> None:
    from tracer.cli.driving import _decoded

    status, headers, body = asyncio.run(call_asgi(_app(), RequestSpec("GET", "/zipped", [])))
    assert status == 200
    assert _decoded(headers, body) == b"x" * 1000
    assert _decoded([("content-encoding", "gzip")], b"not gzip") == b"not gzip"


def test_instrumenting_without_an_exporter_does_not_load_the_opentelemetry_sdk() -> None:
    code = (
        "import sys; from fastapi import FastAPI; import tracer; "
        "tracer.instrument(FastAPI(), store=False); "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


def test_non_ascii_header_values_and_paths_are_sent_as_a_client_would() -> None:
    spec = RequestSpec("GET", "/echo/caf\u00e9?q=\u20acuro 1", [("User-Agent", "price \u20ac")])
    status, headers, body = asyncio.run(call_asgi(_app(), spec))
    assert status == 200
    assert body == "GET /echo/caf\u00e9 q=\u20acuro 1 b''".encode()
    assert ("x-ua", "price \u00e2\u0082\u00ac") in headers  # UTF-8 bytes, read back as latin-1


@pytest.mark.parametrize(
    ("header", "message"),
    [("Bad Name: x", "not a valid header name"), ("X-A: b\rc", "line break")],
)
def test_bad_headers_are_refused_before_anything_runs(header: str, message: str) -> None:
    with pytest.raises(CLIError, match=message):
        parse_request("GET", "/", None, None, [header])


def test_bytes_that_are_not_utf8_are_percent_encoded_as_given() -> None:
    # what the OS makes of $'/caf\xe9?q=\xe9 x' in argv on a UTF-8 system
    spec = parse_request("GET", "/caf\udce9?q=\udce9 x", None, None, [])
    assert spec.path == "/caf%E9?q=%E9%20x"
    status, _headers, body = asyncio.run(
        call_asgi(_app(), RequestSpec("GET", "/echo" + spec.path, []))
    )
    assert status == 200
    assert body.startswith("GET /echo/caf\ufffd q=\ufffd x".encode())  # as a server decodes it


def test_a_raw_body_is_sent_byte_for_byte() -> None:
    spec = parse_request("POST", "/", None, "caf\udce9", [])
    assert spec.content == b"caf\xe9"


@pytest.mark.parametrize(
    ("json_body", "header", "message"),
    [
        ('{"a": "\udce9"}', None, "--json is not valid UTF-8"),
        (None, "X-A: \udce9", "the value of 'X-A' is not valid UTF-8"),
    ],
)
def test_text_that_must_be_utf8_is_refused_in_one_line(
    json_body: str | None, header: str | None, message: str
) -> None:
    with pytest.raises(CLIError, match=message):
        parse_request("POST", "/", json_body, None, [header] if header else [])
