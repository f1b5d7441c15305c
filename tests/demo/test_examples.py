"""The teaching endpoints: sync, streaming, N+1, blocking vs async sleep, boom, health.

Plus the ``/examples/*`` ones the diagnostics teach with: a leaky response, a
failing background task, slow serialisation, an exhausted pool, a starved threadpool.
"""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

USERS_WITH_ITEMS = [
    {
        "id": 1,
        "email": "admin@example.com",
        "items": [
            {"id": 1, "name": "Keyboard"},
            {"id": 2, "name": "Monitor"},
            {"id": 3, "name": "Desk lamp"},
        ],
    },
    {
        "id": 2,
        "email": "grace@example.com",
        "items": [
            {"id": 4, "name": "Compiler handbook"},
            {"id": 5, "name": "Notebook"},
            {"id": 6, "name": "Coffee mug"},
            {"id": 7, "name": "Headphones"},
            {"id": 8, "name": "Plant"},
        ],
    },
    {
        "id": 3,
        "email": "alan@example.com",
        "items": [
            {"id": 9, "name": "Chalkboard"},
        ],
    },
]


def test_sync_report(client: TestClient) -> None:
    response = client.get("/sync/report")

    assert response.status_code == 200
    assert response.json() == {"limit": 50000, "prime_count": 5133, "largest_prime": 49999}


def test_sync_report_small_limit(client: TestClient) -> None:
    response = client.get("/sync/report", params={"limit": 30})

    assert response.json() == {"limit": 30, "prime_count": 10, "largest_prime": 29}


@pytest.mark.parametrize("limit", [1, 1_000_001])
def test_sync_report_limit_out_of_range_is_422(client: TestClient, limit: int) -> None:
    assert client.get("/sync/report", params={"limit": limit}).status_code == 422


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_stream_sends_every_chunk(client: TestClient, encoding: str) -> None:
    with client.stream("GET", "/stream", headers={"Accept-Encoding": encoding}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        body = b"".join(response.iter_bytes())

    assert body == b"chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n"


def test_users_with_items_n_plus_one(client: TestClient) -> None:
    response = client.get("/users-with-items")

    assert response.status_code == 200
    assert response.json() == USERS_WITH_ITEMS


def test_eager_variant_returns_the_same(client: TestClient) -> None:
    response = client.get("/users-with-items/eager")

    assert response.status_code == 200
    assert response.json() == USERS_WITH_ITEMS


def test_n_plus_one_issues_a_query_per_user(app: FastAPI, client: TestClient) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    sync_engine = app.state.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        client.get("/users-with-items")
        n_plus_one = len(statements)
        statements.clear()
        client.get("/users-with-items/eager")
        eager = len(statements)
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)

    assert (n_plus_one, eager) == (1 + 3, 2)


@pytest.mark.parametrize(("path", "blocked"), [("/slow/blocking", True), ("/slow/async", False)])
def test_slow_endpoints(client: TestClient, path: str, blocked: bool) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"slept_ms": 50, "blocked_event_loop": blocked}


def test_boom_is_a_bare_500(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    # Built by ServerErrorMiddleware, outside the user middleware: no request id.
    assert "x-request-id" not in response.headers


def test_boom_raises_through_the_default_client(client: TestClient) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        client.get("/boom")


def test_health(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_leaky_user_sends_the_password_hash(client: TestClient) -> None:
    response = client.get("/examples/leaky-user/1")

    assert response.status_code == 200
    body = response.json()
    # the point of the example: no response_model, so every column goes out
    assert sorted(body) == ["created_at", "email", "id", "is_admin", "password_hash"]
    assert body["password_hash"].startswith("pbkdf2_sha256$")
    assert "password_hash" not in client.get("/users/1").json()


def test_leaky_user_unknown_id_is_404(client: TestClient) -> None:
    assert client.get("/examples/leaky-user/999").status_code == 404


def test_failing_task_answers_202_then_the_task_raises(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/examples/failing-task")

    assert response.status_code == 202
    assert response.json() == {"queued": True}


def test_failing_task_error_surfaces_in_the_default_client(client: TestClient) -> None:
    with pytest.raises(ConnectionError, match="mail server refused"):
        client.post("/examples/failing-task")


def test_slow_serialization_returns_every_row(client: TestClient) -> None:
    response = client.get("/examples/slow-serialization")

    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 250
    assert rows[:2] == [{"sku": 0, "price": "0.00"}, {"sku": 1, "price": "1.00"}]


def test_pool_exhausted_waits_then_answers(client: TestClient) -> None:
    response = client.get("/examples/pool-exhausted")

    assert response.status_code == 200
    assert response.json() == {"value": 1}


def test_threadpool_starved_answers_once_a_thread_frees_up(client: TestClient) -> None:
    for _ in range(2):  # the borrowed threads are given back: a second call works too
        response = client.get("/examples/threadpool-starved")
        assert response.status_code == 200
        assert response.json() == {"slept_ms": 0, "blocked_event_loop": False}


def test_teaching_endpoints_stay_out_of_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith("/examples/")]


# -- the lessons' own database (demo_app/routers/lessons.py) ------------------------------


def _counting(app: FastAPI, client: TestClient, path: str) -> tuple[object, int]:
    """``path``'s JSON and how many statements it ran (the lesson database made first)."""
    client.get("/examples/missing-index/fixed")  # creates and fills the lessons' database
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    sync_engine = app.state.lesson_engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        response = client.get(path)
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return response.json(), len(statements)


def test_n_plus_one_at_scale_and_its_fix_answer_the_same(app: FastAPI, client: TestClient) -> None:
    from tracer.demo_app.routers.lessons import AUTHORS

    slow, n_plus_one = _counting(app, client, "/examples/n-plus-one")
    fast, fixed = _counting(app, client, "/examples/n-plus-one/fixed")
    assert slow == fast
    assert len(slow) == AUTHORS  # type: ignore[arg-type]
    assert (n_plus_one, fixed) == (1 + AUTHORS, 2)


def test_missing_index_shows_the_query_plan(client: TestClient) -> None:
    scan = client.get("/examples/missing-index").json()
    search = client.get("/examples/missing-index/fixed").json()
    assert scan == {"orders": 40, "plan": ["SCAN lesson_orders"], "uses_index": False}
    assert search["orders"] == 40 and search["uses_index"]
    assert search["plan"][0].startswith("SEARCH lesson_orders USING INDEX")


def test_stale_data_comes_from_the_identity_map(client: TestClient) -> None:
    first = client.get("/examples/stale-data").json()
    assert first == {
        "first_read": 10,
        "other_session_wrote": 9,
        "same_session_reads": 10,
        "with_populate_existing": 9,
        "stale": True,
    }
    assert client.get("/examples/stale-data").json()["first_read"] == 9  # it was committed


def test_the_lessons_database_is_disposed_at_shutdown(app: FastAPI) -> None:
    with TestClient(app) as client:
        client.get("/examples/stale-data")
        assert app.state.lesson_engine is not None
    assert getattr(app.state, "lesson_engine", None) is None
