"""GZip, request id + timing, and CORS middleware."""

import re

import pytest
from fastapi.testclient import TestClient

ORIGIN = "https://app.example"


def test_large_response_is_gzipped(client: TestClient) -> None:
    response = client.get("/items", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) < len(response.content)
    assert len(response.content) > 500
    assert len(response.json()) == 9  # httpx decompressed it


def test_small_response_is_not_gzipped(client: TestClient) -> None:
    response = client.get("/health", headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in response.headers


def test_no_gzip_unless_the_client_accepts_it(client: TestClient) -> None:
    response = client.get("/items", headers={"Accept-Encoding": "identity"})

    assert "content-encoding" not in response.headers
    assert len(response.json()) == 9


def test_request_id_is_generated(client: TestClient) -> None:
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_incoming_request_id_is_kept(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "client-req.42"})

    assert response.headers["X-Request-ID"] == "client-req.42"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, ""])
def test_unsafe_incoming_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": incoming})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/users/999", 404), ("GET", "/search", 422), ("POST", "/health", 405)],
)
def test_error_responses_get_a_request_id(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)

    assert response.status_code == status
    assert "X-Request-ID" in response.headers


def test_server_timing_header(client: TestClient) -> None:
    response = client.get("/slow/async")

    match = re.fullmatch(r"app;dur=(\d+\.\d)", response.headers["Server-Timing"])
    assert match
    assert float(match.group(1)) >= 50.0


def test_cors_headers_for_an_allowed_origin(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-expose-headers"] == "X-Request-ID, Server-Timing"
    assert "Origin" in response.headers["vary"]


def test_no_cors_headers_for_another_origin(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_preflight(client: TestClient) -> None:
    response = client.options(
        "/users",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    # CORS is the outermost layer: it answers the preflight before the request-id layer.
    assert "x-request-id" not in response.headers


def test_cors_preflight_from_another_origin_is_400(client: TestClient) -> None:
    response = client.options(
        "/users",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
