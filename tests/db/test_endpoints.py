"""Every demo endpoint answers the same on every database (the demo runs unchanged)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.db.demo import SIGN_UP, Database, running_demo
from tracer.demo_app.seed import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.anyio

#: (method, path, request options, expected status), in this order, on one app
TOUR: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/health", {}, 200),
    ("POST", "/users", {"json": SIGN_UP}, 201),
    ("POST", "/users", {"json": SIGN_UP}, 409),
    ("POST", "/users", {"json": {"email": "nope", "password": "x"}}, 422),
    ("GET", "/users/4", {}, 200),
    ("GET", "/users/99", {}, 404),
    ("GET", "/users?offset=1&limit=2", {}, 200),
    ("POST", "/login", {"json": {"email": ADMIN_EMAIL, "password": "wrong-pass"}}, 401),
    ("GET", "/users/me", {}, 401),
    ("GET", "/items", {}, 200),
    ("GET", "/items/1", {}, 200),
    ("GET", "/items/999", {}, 404),
    ("GET", "/search?q=notebook", {}, 200),
    ("GET", "/search?q=n", {}, 422),
    ("GET", "/sync/report?limit=100", {}, 200),
    ("GET", "/stream", {}, 200),
    ("GET", "/users-with-items", {}, 200),
    ("GET", "/users-with-items/eager", {}, 200),
    ("GET", "/slow/blocking", {}, 200),
    ("GET", "/slow/async", {}, 200),
    ("GET", "/boom", {}, 500),
    ("GET", "/examples/leaky-user/1", {}, 200),
    ("POST", "/examples/failing-task", {}, 202),
    ("GET", "/examples/pool-exhausted", {}, 200),
    ("GET", "/examples/threadpool-starved", {}, 200),
]

ADMIN_ONLY = ["/users/me", "/admin/stats", "/admin/outbox"]


async def test_every_endpoint_answers(database: Database) -> None:
    async with running_demo(database) as demo:
        answered = []
        for method, path, options, _ in TOUR:
            response, _ = await demo.send(method, path, **options)
            answered.append((method, path, options, response.status_code))
        login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        response, _ = await demo.send("POST", "/login", json=login)
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        admin = [(await demo.send("GET", path, headers=headers))[0] for path in ADMIN_ONLY]
        outbox = admin[2].json()
    assert answered == TOUR
    assert [r.status_code for r in admin] == [200, 200, 200]
    assert admin[0].json()["email"] == ADMIN_EMAIL
    assert admin[1].json()["users"] == 4
    # the sign-up's welcome e-mail, written by its background task
    assert [m["recipient"] for m in outbox] == [SIGN_UP["email"]]
