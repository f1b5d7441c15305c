"""``trace-request tour``: the lesson on a projector, one screen (100 × 40) per stop.

Success first, then every row of the cheat sheet's "where things go wrong"
table the demo can show, each stop: the request small (one line per step),
the step that matters large (its rows of the diagram), the finding, and a
one-line lesson. The rows the demo cannot show end the tour, each with why.
In a terminal: n/p/q; anywhere else every stop in turn, each under a
``Stop N/M · <title>`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text

from tracer.cli.driving import RequestSpec

JSON = [("content-type", "application/json")]
SIGNUP = b'{"email": "ada@example.com", "password": "s3cret-pass"}'
#: rows under the ``Stop N/M`` line: with it and the pager's hint, 40
BODY_ROWS = 38


@dataclass(frozen=True)
class Stop:
    """One request of the tour: what it shows, the step to look at, the one-line lesson."""

    title: str
    symptom: str
    step: int
    lesson: str
    spec: RequestSpec
    command: str


def _get(path: str, *headers: tuple[str, str]) -> RequestSpec:
    return RequestSpec("GET", path, list(headers))


STOPS: tuple[Stop, ...] = (
    Stop(
        "201 · a request that works",
        "—",
        6,
        "All ten steps; the handler's SQL and hash dominate, the e-mail goes after the response.",
        RequestSpec("POST", "/users", JSON, SIGNUP),
        "trace-request POST /users --json '{...}' --steps",
    ),
    Stop(
        "422 · validation stops the request",
        "422 with detail → Pydantic input",
        5,
        "RequestValidationError → FastAPI's handler → JSONResponse(422): the handler never ran.",
        _get("/search?q=p"),
        "trace-request GET '/search?q=p' --step 5",
    ),
    Stop(
        "409 · the handler says no",
        "an HTTPException → the handler",
        6,
        "The same e-mail again: the SELECT finds it, HTTPException(409), get_db rolls back.",
        RequestSpec("POST", "/users", JSON, SIGNUP),
        "trace-request POST /users --json '{...}' --repeat 2 --compare",
    ),
    Stop(
        "401 · a dependency says no",
        "401/403 → the auth chain",
        4,
        "OAuth2PasswordBearer, a sub-dependency of get_current_user, raised before the handler.",
        _get("/users/me"),
        "trace-request GET /users/me --step 4",
    ),
    Stop(
        "404 · no route",
        "404/405 → the router",
        3,
        "The router tried every route; ExceptionMiddleware turned HTTPException(404) into JSON.",
        _get("/nowhere"),
        "trace-request GET /nowhere --step 3",
    ),
    Stop(
        "500 · an unhandled error",
        "500 → the handler or the database",
        8,
        "ServerErrorMiddleware builds the 500 outside your middleware: no CORS headers on it.",
        _get("/boom", ("origin", "https://app.example")),
        "trace-request GET /boom -H 'Origin: https://app.example' --step 8",
    ),
    Stop(
        "slow · N+1 queries",
        "slow response → the database (N+1)",
        6,
        "One query for 200 authors, then one per author: 201 round trips.",
        _get("/examples/n-plus-one"),
        "trace-request GET /examples/n-plus-one --step 6",
    ),
    Stop(
        "fast · the N+1 fixed",
        "slow response → the fix",
        6,
        "selectinload: the same answer in two queries, a fraction of the handler time.",
        _get("/examples/n-plus-one/fixed"),
        "trace-request GET /examples/n-plus-one/fixed --step 6",
    ),
    Stop(
        "slow · a missing index",
        "slow response → the database (missing index)",
        6,
        "EXPLAIN QUERY PLAN says SCAN: every row read; /examples/missing-index/fixed: SEARCH.",
        _get("/examples/missing-index"),
        "trace-request GET /examples/missing-index --step 6",
    ),
    Stop(
        "wrong fields · no response_model",
        "wrong fields → the response shape",
        7,
        "No response_model: jsonable_encoder sent the ORM object as is, password_hash too.",
        _get("/examples/leaky-user/1"),
        "trace-request GET /examples/leaky-user/1 --step 7",
    ),
    Stop(
        "stuck · the pool is exhausted",
        "DB stuck → pool exhausted",
        6,
        "The query waited at pool checkout for the only connection: size the pool to the load.",
        _get("/examples/pool-exhausted"),
        "trace-request GET /examples/pool-exhausted --step 6",
    ),
    Stop(
        "stale · the identity map",
        "stale data → session expiry",
        6,
        "The second SELECT ran, yet the session kept its old object: populate_existing fixes it.",
        _get("/examples/stale-data"),
        "trace-request GET /examples/stale-data --step 6",
    ),
    Stop(
        "slow · the event loop blocked",
        "slow response → the handler",
        6,
        "time.sleep inside async def holds the event loop: no other request runs meanwhile.",
        _get("/slow/blocking"),
        "trace-request GET /slow/blocking --step 6",
    ),
    Stop(
        "200 · a streaming response",
        "—",
        9,
        "The handler returned at once; the body was produced chunk by chunk while being sent.",
        _get("/stream"),
        "trace-request GET /stream --step 9",
    ),
)
NOT_SHOWN_TITLE = "what the demo cannot show"


def stop_lines(stop: Stop, exchange: Any, *, width: int, ascii: bool) -> list[Text]:
    """One stop's screen (at most :data:`BODY_ROWS` lines at ``width``)."""
    from tracer.analysis.diagnostics import diagnose
    from tracer.analysis.index import analyse
    from tracer.cli.focus import diagram_excerpt, line, summary_lines, wrapped
    from tracer.renderers import theme
    from tracer.renderers.labels import format_duration, status_text

    trace = exchange.trace
    took = format_duration(analyse(trace).response_ns or 0, "u" if ascii else "µ")
    arrow = "->" if ascii else "→"
    head = (
        f" {stop.spec.method} {stop.spec.path} {arrow} {status_text(exchange.status_code)} · {took}"
    )
    out = [line(head, theme.TITLE, width=width, ascii=ascii)]
    if stop.symptom != "—":
        out.append(line(f" cheat sheet: {stop.symptom}", theme.WARN, width=width, ascii=ascii))
    out.extend(summary_lines(trace, stop.step, width, ascii))
    tail: list[Text] = []
    findings = diagnose(trace)
    if findings:
        tail.extend(
            wrapped(f" ! {findings[0].title}", theme.WARN, width=width, ascii=ascii, limit=2)
        )
    tail.extend(wrapped(f" lesson: {stop.lesson}", "bold", width=width, ascii=ascii, limit=2))
    tail.append(line(f" try: {stop.command}", theme.MUTED, width=width, ascii=ascii))
    room = BODY_ROWS - len(out) - len(tail)
    out.extend(diagram_excerpt(trace, stop.step, width, ascii, max_lines=room)[:room])
    return out + tail


def not_shown_lines(*, width: int, ascii: bool) -> list[Text]:
    """The closing stop: the table's rows no in-process demo request can show, and why."""
    from tracer.cli.cheatsheet import NOT_SHOWN
    from tracer.cli.focus import line, wrapped

    out = [line(" rows of the cheat sheet this demo cannot show, and why", "bold", width=width)]
    for row in NOT_SHOWN:
        out.extend(wrapped(f" - {row.symptom}: {row.why}", "", width=width, ascii=ascii, limit=3))
    out.extend(
        wrapped(
            " lesson: what a trace cannot show, a load test or production metrics must.",
            "bold",
            width=width,
            ascii=ascii,
        )
    )
    return out


def run_tour(*, width: int | None, ascii_only: bool, no_color: bool) -> None:
    """Run every stop's request against one demo app, then show the stops."""
    from tracer.cli import output as out
    from tracer.cli.captured import AppOutput
    from tracer.cli.driving import drive_many
    from tracer.cli.loading import load_app
    from tracer.cli.pager import interactive, page

    console = out.make_console(color=not no_color, width=width)
    w = width or min(console.width, 160)
    captured = AppOutput()
    if interactive(console) and not no_color:
        with console.status("running the tour's requests against the demo…"), captured:
            exchanges = drive_many(load_app(None), [stop.spec for stop in STOPS], output=captured)
    else:
        with captured:
            exchanges = drive_many(load_app(None), [stop.spec for stop in STOPS], output=captured)
    total = len(STOPS) + 1
    screens: list[Callable[[], list[Text]]] = [
        partial(stop_lines, stop, exchange, width=w, ascii=ascii_only)
        for stop, exchange in zip(STOPS, exchanges, strict=True)
    ]
    screens.append(partial(not_shown_lines, width=w, ascii=ascii_only))
    titles = [*(stop.title for stop in STOPS), NOT_SHOWN_TITLE]
    headers = [f"Stop {n}/{total} · {title}" for n, title in enumerate(titles, start=1)]
    page(console, screens, headers, clear=not no_color)
