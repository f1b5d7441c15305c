"""The app factory, lifespan and database configuration."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from tracer.demo_app.config import Settings
from tracer.demo_app.main import create_app

NEW_USER = {"email": "ada@example.com", "password": "correct-horse"}


def test_module_level_app_is_a_fastapi_app() -> None:
    from tracer.demo_app.main import app

    assert isinstance(app, FastAPI)


def test_each_app_gets_its_own_database() -> None:
    with TestClient(create_app(Settings())) as first:
        assert first.post("/users", json=NEW_USER).status_code == 201
        with TestClient(create_app(Settings())) as second:
            assert [u["email"] for u in second.get("/users").json()] == [
                "admin@example.com",
                "grace@example.com",
                "alan@example.com",
            ]
        assert len(first.get("/users").json()) == 4


def test_lifespan_stores_and_disposes_the_engine(app: FastAPI) -> None:
    disposed: list[bool] = []
    with TestClient(app) as client:
        assert client.get("/users").status_code == 200
        assert app.state.sessionmaker.kw["bind"] is app.state.engine
        event.listen(
            app.state.engine.sync_engine, "engine_disposed", lambda _: disposed.append(True)
        )
        assert disposed == []

    assert disposed == [True]


def test_database_url_from_env_persists_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")

    with TestClient(create_app()) as client:
        assert client.post("/users", json=NEW_USER).status_code == 201
    with TestClient(create_app()) as client:
        emails = [u["email"] for u in client.get("/users").json()]

    # The user survived the restart, and the seed ran only once.
    assert emails == [
        "admin@example.com",
        "grace@example.com",
        "alan@example.com",
        "ada@example.com",
    ]
    assert (tmp_path / "demo.db").exists()


def test_tokens_survive_restarts_with_a_fixed_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("DEMO_SECRET_KEY", "fixed-for-this-test")
    credentials = {"email": "grace@example.com", "password": "grace-pass-123"}

    with TestClient(create_app()) as client:
        token = client.post("/login", json=credentials).json()["access_token"]
    with TestClient(create_app()) as client:
        me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert me.status_code == 200


def test_cors_origins_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_CORS_ORIGINS", "https://a.example, https://b.example")

    with TestClient(create_app()) as client:
        response = client.get("/health", headers={"Origin": "https://b.example"})

    assert response.headers["access-control-allow-origin"] == "https://b.example"


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    assert set(schema["paths"]) == {
        "/users",
        "/users/me",
        "/users/{user_id}",
        "/login",
        "/admin/stats",
        "/admin/outbox",
        "/items",
        "/items/{item_id}",
        "/search",
        "/sync/report",
        "/stream",
        "/users-with-items",
        "/users-with-items/eager",
        "/slow/blocking",
        "/slow/async",
        "/boom",
        "/health",
        "/quote/{sku}",
        "/quote/{sku}/sequential",
        "/quote/{sku}/parallel",
    }
    assert "password_hash" not in str(schema)
    assert client.get("/docs").status_code == 200


@pytest.mark.anyio
async def test_async_client_and_concurrent_requests(app: FastAPI) -> None:
    """The app also works under an async client; ``/slow/async`` requests overlap."""
    import anyio

    statuses: list[int] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:

            async def fetch() -> None:
                statuses.append((await client.get("/slow/async")).status_code)

            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(fetch)

    assert statuses == [200] * 5
