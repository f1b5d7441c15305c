"""The diagnostics name the demo's N+1 and pool-starvation examples on every database."""

from __future__ import annotations

import pytest

from tests.db.demo import Database, running_demo
from tracer.analysis.diagnostics import Finding, diagnose
from tracer.model import Trace

pytestmark = pytest.mark.anyio

MS = 1_000_000


def findings(trace: Trace, code: str) -> list[Finding]:
    return [f for f in diagnose(trace) if f.code == code]


async def test_n_plus_one_is_named(database: Database) -> None:
    async with running_demo(database) as demo:
        _, trace = await demo.send("GET", "/users-with-items")
        _, eager = await demo.send("GET", "/users-with-items/eager")
    [finding] = findings(trace, "n_plus_one")
    assert finding.layer == "database"
    assert finding.evidence["count"] == 3  # one per seeded user
    assert finding.evidence["name"] == "SELECT items"
    assert finding.evidence["issued_by"] == "users_with_items_n_plus_one"
    # placeholders (SQLite's ?, asyncpg's $1) are one shape
    assert "WHERE items.owner_id = ?" in finding.evidence["statement"]
    assert findings(eager, "n_plus_one") == []


async def test_pool_starvation_is_named(database: Database) -> None:
    async with running_demo(database) as demo:
        _, trace = await demo.send("GET", "/examples/pool-exhausted")
    [finding] = findings(trace, "waiting")
    assert finding.layer == "connection pool"
    assert finding.evidence["waiter"] == "pool_exhausted"
    # the example holds the only connection for 30 ms, counted from just before the wait
    assert finding.evidence["wait_ns"] >= 20 * MS
