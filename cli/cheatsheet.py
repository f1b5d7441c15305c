"""The lesson's "where things go wrong" table (design §7), step by step, with the demo for each.

Data only: the step focus (``--step N``) prints the row for its step, the tour
walks through them. A command here must work as written against the bundled demo
(``tests/cli/test_teaching_docs.py`` runs them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pitfall:
    """What can go wrong in one step, and the demo command that shows it."""

    what: str
    command: str


PITFALLS: dict[int, tuple[Pitfall, ...]] = {
    1: (
        Pitfall(
            "the body arrives in receive messages, read only when something asks for it "
            "(step 5); a client that disconnects mid-body ends the request there",
            "trace-request POST /users --json '{}' --step 1",
        ),
    ),
    2: (
        Pitfall(
            "middleware order decides who sees what: an outer layer answers before inner ones run",
            "trace-request GET /boom -H 'Origin: https://app.example' --step 2",
        ),
    ),
    3: (
        Pitfall(
            "404 (no route matches) or 405 (the path exists, not for this method)",
            "trace-request GET /nowhere --step 3",
        ),
    ),
    4: (
        Pitfall(
            "401/403 from the auth chain (token → current user → role); a slow or blocking "
            "dependency delays every route that uses it",
            "trace-request GET /users/me --step 4",
        ),
    ),
    5: (
        Pitfall(
            "422 with detail: RequestValidationError → FastAPI's handler → JSONResponse(422); "
            "the handler never runs",
            "trace-request GET '/search?q=p' --step 5",
        ),
    ),
    6: (
        Pitfall(
            "500 from the handler or the database; slow: N+1 queries, a missing index; "
            "stuck: pool exhausted; stale data: the session's identity map",
            "trace-request GET /examples/n-plus-one --step 6",
        ),
    ),
    7: (
        Pitfall(
            "wrong fields: no response_model (the ORM object goes out as is, password hash "
            "included) or the wrong shape",
            "trace-request GET /examples/leaky-user/1 --step 7",
        ),
    ),
    8: (
        Pitfall(
            "a 500 built by ServerErrorMiddleware skips your layers: no CORS or X-Request-ID "
            "headers, so the browser reports a CORS error",
            "trace-request GET /boom -H 'Origin: https://app.example' --step 8",
        ),
    ),
    9: (
        Pitfall(
            "streaming: the handler returns at once and the body is produced while it is sent",
            "trace-request GET /stream --step 9",
        ),
    ),
    10: (
        Pitfall(
            "a background task fails after the client already got its 2xx; nobody is told",
            "trace-request POST /examples/failing-task --step 10",
        ),
    ),
}


@dataclass(frozen=True)
class Unshowable:
    """A row of the table the in-process demo cannot show, and why."""

    symptom: str
    why: str


#: Rows (or parts of rows) of the table no in-process request against the demo can show.
NOT_SHOWN: tuple[Unshowable, ...] = (
    Unshowable(
        "DB connection refused",
        "the demo's SQLite is a file, not a server: nothing can refuse a connection",
    ),
    Unshowable(
        "a pooler in front of the database, stale connections (pool_pre_ping)",
        "needs a network database and a connection dropped behind the pool's back",
    ),
    Unshowable(
        "stale data from replica lag",
        "the demo has one database and no replica; /examples/stale-data shows the session side",
    ),
)
