"""Fixtures for the demo app: a fresh app (and so a fresh in-memory database) per test."""

import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tracer.demo_app.config import Settings
from tracer.demo_app.main import create_app
from tracer.demo_app.seed import ADMIN_EMAIL, ADMIN_PASSWORD, USER_EMAIL, USER_PASSWORD

try:
    from starlette.exceptions import StarletteDeprecationWarning
except ImportError:  # older Starlette: no such class, and no httpx warning
    StarletteDeprecationWarning = DeprecationWarning  # type: ignore[misc,assignment]

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient and warns when it falls back to
    # httpx; the warning fires once, at first import, and the suite turns warnings into errors.
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with", category=StarletteDeprecationWarning
    )
    from fastapi.testclient import TestClient


@pytest.fixture
def app() -> FastAPI:
    """A new app with default settings, whatever ``DEMO_*`` variables the shell has."""
    return create_app(Settings())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client inside the app's lifespan, so the database exists and is seeded."""
    with TestClient(app) as test_client:
        yield test_client


def _login(client: TestClient, email: str, password: str) -> dict[str, str]:
    """Log in and return the ``Authorization`` header for the token."""
    response = client.post("/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    """``Authorization`` header of the seeded admin."""
    return _login(client, ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def grace_headers(client: TestClient) -> dict[str, str]:
    """``Authorization`` header of the seeded non-admin user."""
    return _login(client, USER_EMAIL, USER_PASSWORD)
