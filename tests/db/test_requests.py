"""The demo's database requests trace the same phases on every database.

Each test runs once per database (``[sqlite]``, ``[postgresql]``): the same
requests, the same span names in the same order, ``db.system`` naming the
database that answered.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from tests.db.demo import SIGN_UP, Database, db_phases, db_spans, db_system, running_demo
from tracer.demo_app.routers import users
from tracer.demo_app.security import hash_password
from tracer.model import Trace

pytestmark = pytest.mark.anyio

SEEDED = ["admin@example.com", "grace@example.com", "alan@example.com"]

#: POST /users → 201: the e-mail check, the insert and its commit, the refresh, then the
#: welcome e-mail written to the outbox by the background task (its own session), and
#: get_db's commit once that has run
SIGN_UP_PHASES = [
    "pool checkout",
    "SELECT users",
    "INSERT users",
    "COMMIT",
    "pool checkout",
    "SELECT users",
    "pool checkout",
    "INSERT outbox",
    "COMMIT",
    "COMMIT",
]


#: the exception type a duplicate key raises, per database
UNIQUE_VIOLATION = {"sqlite": "IntegrityError", "postgresql": "UniqueViolationError"}


def assert_statements_name(trace: Trace, database: Database) -> None:
    """Every statement, commit and rollback says which database ran it."""
    for span in db_spans(trace):
        if span.name not in ("pool checkout", "SQL compile (cache miss)"):
            assert db_system(span) == database.name, span


async def test_sign_up_201_traces_check_insert_commit(database: Database) -> None:
    async with running_demo(database) as demo:
        response, trace = await demo.send("POST", "/users", json=SIGN_UP)
    assert response.status_code == 201, response.text
    assert response.json()["email"] == SIGN_UP["email"]
    assert db_phases(trace) == SIGN_UP_PHASES
    assert_statements_name(trace, database)
    insert = next(s for s in db_spans(trace) if s.name == "INSERT users")
    assert insert.attributes["db.operation"] == "INSERT"
    assert insert.attributes["db.rowcount"] == 1
    assert "s3cret-pass" not in trace.to_json()  # parameters stay out unless asked for
    assert all(s.status == "ok" for s in db_spans(trace))


async def test_sign_up_409_rolls_back(database: Database) -> None:
    async with running_demo(database) as demo:
        first, _ = await demo.send("POST", "/users", json=SIGN_UP)
        again, trace = await demo.send("POST", "/users", json=SIGN_UP)
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json() == {"detail": "email taken"}
    # get_db rolls the session back when the handler raises
    assert db_phases(trace) == ["pool checkout", "SELECT users", "ROLLBACK"]
    assert_statements_name(trace, database)


async def test_sign_up_race_fails_the_insert_and_rolls_back(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups with one e-mail both pass the check; the database refuses the second."""
    # both requests hash the password only after their check: meet there, then go on
    barrier = threading.Barrier(2, timeout=10)

    def hash_after_both_checked(password: str) -> str:
        barrier.wait()
        return hash_password(password)

    monkeypatch.setattr(users, "hash_password", hash_after_both_checked)
    results: list[tuple[int, Trace]] = []
    async with running_demo(database) as demo:

        async def sign_up() -> None:
            response, trace = await demo.send("POST", "/users", json=SIGN_UP)
            results.append((response.status_code, trace))

        async with anyio.create_task_group() as group:
            group.start_soon(sign_up)
            group.start_soon(sign_up)
    assert sorted(status for status, _ in results) == [201, 409]
    lost = next(trace for status, trace in results if status == 409)
    spans = db_spans(lost)
    insert = next(s for s in spans if s.name == "INSERT users")
    assert insert.status == "error"
    # the driver's own class: sqlite3's IntegrityError, asyncpg's UniqueViolationError
    # (SQLAlchemy's adaptation of it, an IntegrityError subclass)
    error = insert.events[0].attributes["exception.type"]
    assert error.endswith(UNIQUE_VIOLATION[database.name]), error
    assert "ROLLBACK" in [s.name for s in spans if s.start_ns > insert.start_ns]
    assert_statements_name(lost, database)


async def test_list_users(database: Database) -> None:
    async with running_demo(database) as demo:
        response, trace = await demo.send("GET", "/users?limit=10")
    assert response.status_code == 200
    assert [u["email"] for u in response.json()] == SEEDED
    assert db_phases(trace) == ["pool checkout", "SELECT users", "COMMIT"]
    assert_statements_name(trace, database)


async def test_n_plus_one_example_queries_once_per_user(database: Database) -> None:
    async with running_demo(database) as demo:
        response, trace = await demo.send("GET", "/users-with-items")
        eager, eager_trace = await demo.send("GET", "/users-with-items/eager")
    assert response.status_code == eager.status_code == 200
    assert response.json() == eager.json()
    # one SELECT for the users, then one per user (three seeded)
    assert db_phases(trace) == ["pool checkout", "SELECT users", *["SELECT items"] * 3, "COMMIT"]
    assert db_phases(eager_trace) == ["pool checkout", "SELECT users", "SELECT items", "COMMIT"]
    assert_statements_name(trace, database)


async def test_pool_exhausted_example_waits_on_its_own_database(database: Database) -> None:
    async with running_demo(database) as demo:
        response, trace = await demo.send("GET", "/examples/pool-exhausted")
    assert response.json() == {"value": 1}
    phases = db_phases(trace)
    # the holder's checkout, then the query's (it waits for the holder's connection)
    assert phases[:4] == ["pool checkout", "pool checkout", "SELECT", "ROLLBACK"]
    assert_statements_name(trace, database)
    waited = max((s for s in db_spans(trace) if s.name == "pool checkout"), key=_duration)
    assert waited.duration_ns >= 20_000_000  # held for 30 ms


def _duration(span: Any) -> int:
    return int(span.duration_ns)
