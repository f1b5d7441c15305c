"""Which database the demo uses: DEMO_DATABASE_URL, else DATABASE_URL, else in-memory SQLite."""

from __future__ import annotations

import pytest

from tracer.demo_app.config import IN_MEMORY_DATABASE_URL, Settings, async_database_url
from tracer.demo_app.db import THROWAWAY_SCHEMA_PREFIX, resolve_database

PG = "postgresql+asyncpg://u:p@127.0.0.1:5432/db"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DEMO_DATABASE_URL", "DATABASE_URL", "DEMO_DATABASE_SCHEMA"):
        monkeypatch.delenv(name, raising=False)


def test_default_is_in_memory_sqlite() -> None:
    assert Settings.from_env().database_url == IN_MEMORY_DATABASE_URL


def test_database_url_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PG)
    assert Settings.from_env().database_url == PG


def test_demo_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.setenv("DEMO_DATABASE_URL", "sqlite+aiosqlite:///demo.db")
    assert Settings.from_env().database_url == "sqlite+aiosqlite:///demo.db"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///demo.db", "sqlite+aiosqlite:///demo.db"),
        (PG, PG),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_driverless_urls_get_the_async_driver(
    given: str, used: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert async_database_url(given) == used
    monkeypatch.setenv("DATABASE_URL", given)
    assert Settings.from_env().database_url == used


def test_schema_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DATABASE_SCHEMA", "demo")
    assert Settings.from_env().database_schema == "demo"


def test_postgres_gets_a_throwaway_schema_unless_one_is_named() -> None:
    first = resolve_database(Settings(database_url=PG))
    second = resolve_database(Settings(database_url=PG))
    assert first.schema is not None and first.schema.startswith(THROWAWAY_SCHEMA_PREFIX)
    assert first.schema != second.schema
    assert first.drop_schema
    named = resolve_database(Settings(database_url=PG, database_schema="demo"))
    assert (named.schema, named.drop_schema, named.url) == ("demo", False, PG)


def test_sqlite_file_is_kept_and_memory_becomes_a_temporary_file() -> None:
    kept = resolve_database(Settings(database_url="sqlite+aiosqlite:///demo.db"))
    assert (kept.url, kept.schema, kept.scratch) == ("sqlite+aiosqlite:///demo.db", None, None)
    scratch = resolve_database(Settings())
    assert scratch.scratch is not None and scratch.url.endswith("/demo.db")
    scratch.scratch.rmdir()
