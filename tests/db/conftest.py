"""The databases the DB-facing tests run against: SQLite always, PostgreSQL when configured.

``TRACE_REQUEST_TEST_POSTGRES=postgresql+asyncpg://…`` turns the PostgreSQL half on;
``bash scripts/postgres.sh run -- python -m pytest -q tests/db`` starts a throwaway
server and sets it. Every test that takes ``database`` runs once per database, its id
ending in ``[sqlite]`` or ``[postgresql]``, and the run says after collection which
databases that is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
from sqlalchemy.engine import make_url

from tests.db.demo import POSTGRES_ENV, Database, postgres_url

_NOT_CONFIGURED = (
    f"PostgreSQL not configured: set {POSTGRES_ENV}=postgresql+asyncpg://… "
    "(`bash scripts/postgres.sh run -- python -m pytest -q tests/db` starts a server)"
)


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only (the demo's drivers are asyncio's), so test ids name just the database."""
    return "asyncio"


def _named(name: str) -> Database:
    # skipped here, not by a mark: `-ra` then sums the skips up in one line
    if name == "postgresql" and postgres_url() is None:
        pytest.skip(_NOT_CONFIGURED)
    return Database.named(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Database:
    """One of the databases under test (its name is the test id's last part)."""
    return _named(str(request.param))


@pytest.fixture
def postgres() -> Database:
    """PostgreSQL only (tests of what only it has: schemas); skipped when not configured."""
    return _named("postgresql")


def pytest_report_collectionfinish(
    config: pytest.Config, start_path: object, items: Sequence[pytest.Item]
) -> list[str]:
    """Say which databases the DB-facing tests run against, right after collection."""
    if not any(item.nodeid.startswith("tests/db/") for item in items):
        return []
    url = postgres_url()
    postgres = (
        f"postgresql ({make_url(url).render_as_string(hide_password=True)}, from {POSTGRES_ENV})"
        if url is not None
        else f"postgresql SKIPPED ({POSTGRES_ENV} is not set)"
    )
    if os.environ.get("DEMO_DATABASE_URL") or os.environ.get("DATABASE_URL"):
        postgres += "; DEMO_DATABASE_URL/DATABASE_URL are ignored here"
    return [f"tests/db databases: sqlite (aiosqlite, a temporary file per app); {postgres}"]
