"""The trace_requests fixture, run in a real pytest session (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

APP = """
import time
from fastapi import FastAPI, Depends
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
with engine.begin() as c:
    c.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"))
    c.execute(text("INSERT INTO users (name) VALUES ('ada'), ('grace'), ('alan')"))

app = FastAPI()

@app.get("/users")
def users() -> list[dict]:
    with engine.connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT id FROM users"))]
        one = text("SELECT id, name FROM users WHERE id = :i")
        return [dict(c.execute(one, {"i": i}).mappings().one()) for i in ids]

@app.get("/slow")
async def slow() -> dict:
    time.sleep(0.03)
    return {}
"""


def test_fixture_passes_and_fails_with_the_diagram(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app_under_test=APP)
    pytester.makepyfile(
        test_lifecycle="""
from fastapi.testclient import TestClient
from app_under_test import app

def test_counts_queries(trace_requests):
    client = TestClient(trace_requests(app))
    assert client.get("/users").status_code == 200
    assert len(trace_requests.last.queries()) == 4
    trace_requests.last.assert_max_queries(4)

def test_catches_n_plus_one(trace_requests):
    client = TestClient(trace_requests(app))
    client.get("/users")
    trace_requests.last.assert_max_queries(2)

def test_catches_loop_blocking(trace_requests):
    client = TestClient(trace_requests(app))
    client.get("/slow")
    trace_requests.last.assert_no_event_loop_blocking()
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*GET /users → 200: 4 SQL statements, expected at most 2:*",
            "*SELECT id, name FROM users WHERE id = ?*",
            "*GET /slow → 200: slow held the event loop*",
        ]
    )
    # the rendered sequence diagram is part of the failure message
    assert "own time by step" in result.stdout.str()
