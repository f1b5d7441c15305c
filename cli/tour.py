"""``trace-request tour``: a scripted walk through the demo, one lesson per request.

Success, then each way a request goes wrong, each shown with the ten steps
explained and the findings. Interactive terminals pause between stops;
anything else gets the whole tour at once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from tracer.cli.driving import RequestSpec, drive_many

JSON = [("content-type", "application/json")]
SIGNUP = b'{"email": "ada@example.com", "password": "s3cret-pass"}'


@dataclass(frozen=True)
class Stop:
    """One request of the tour and what it teaches."""

    title: str
    lesson: str
    spec: RequestSpec


STOPS: tuple[Stop, ...] = (
    Stop(
        "201 · a request that works",
        "All ten steps: middleware in, routing, get_db, UserCreate validation, the handler's "
        "SQL, response_model, middleware out, send, and a background task after the response.",
        RequestSpec("POST", "/users", JSON, SIGNUP),
    ),
    Stop(
        "422 · validation stops the request",
        "q must be 2-50 characters. Pydantic rejects it in step 5: the handler never runs.",
        RequestSpec("GET", "/search?q=p", []),
    ),
    Stop(
        "409 · the handler says no",
        "The same e-mail again: the handler's SELECT finds it and raises HTTPException(409); "
        "get_db rolls back in its teardown.",
        RequestSpec("POST", "/users", JSON, SIGNUP),
    ),
    Stop(
        "401 · a dependency says no",
        "No bearer token: OAuth2PasswordBearer, inside get_current_user, raises before the "
        "handler is called.",
        RequestSpec("GET", "/users/me", []),
    ),
    Stop(
        "404 · no route",
        "The router tries every route and raises HTTPException(404); ExceptionMiddleware "
        "turns it into the response.",
        RequestSpec("GET", "/nowhere", []),
    ),
    Stop(
        "500 · an unhandled error",
        "The handler raises; the error climbs through every layer to ServerErrorMiddleware, "
        "which builds the 500 outside your middleware: no CORS or X-Request-ID headers.",
        RequestSpec("GET", "/boom", [("origin", "https://app.example")]),
    ),
    Stop(
        "200 · a streaming response",
        "The handler returns at once; the body is produced afterwards, chunk by chunk, "
        "while the response is being sent.",
        RequestSpec("GET", "/stream", []),
    ),
    Stop(
        "slow · the event loop blocked",
        "time.sleep inside async def holds the event loop: no other request can run meanwhile.",
        RequestSpec("GET", "/slow/blocking", []),
    ),
    Stop(
        "slow · N+1 queries",
        "One query for the users, then one more per user: the classic N+1.",
        RequestSpec("GET", "/users-with-items", []),
    ),
)


def run_tour(*, width: int | None, ascii_only: bool, no_color: bool, step_by_step: bool) -> None:
    """Walk through the demo API: success, 422, 409, 401, 404, 500, streaming, slow requests."""
    from rich.rule import Rule
    from rich.text import Text

    from tracer.cli import output as out
    from tracer.cli.loading import load_app
    from tracer.renderers import SequenceRenderer

    console = out.make_console(color=not no_color, width=width)
    interactive = sys.stdin.isatty() and console.is_terminal
    from tracer.cli.captured import AppOutput

    captured = AppOutput()
    with console.status("running the tour's requests against the demo…"), captured:
        exchanges = drive_many(load_app(None), [stop.spec for stop in STOPS], output=captured)
    for number, (stop, exchange) in enumerate(zip(STOPS, exchanges, strict=True), start=1):
        console.print(Rule(f" {number}/{len(STOPS)} · {stop.title} ", align="left"))
        console.print(Text(f" {stop.spec.method} {stop.spec.path}", style="bold"))
        console.print(Text(f" {stop.lesson}", style="italic"), soft_wrap=False)
        console.print(out.response_summary(exchange), soft_wrap=True)
        view: Any = SequenceRenderer(
            width=width, ascii=ascii_only, color=not no_color, explain=True
        ).renderable(exchange.trace)
        if step_by_step:
            out.reveal(console, view)
        else:
            console.print(view)
        console.print(out.findings(exchange.trace, width=width, ascii=ascii_only))
        block = out.app_output_block(captured.of(f"request {number}"), raw=True)
        if block is not None:
            console.print(block, soft_wrap=True)
        if interactive and number < len(STOPS):
            import typer

            console.print("[dim] any key: next stop · q: quit[/dim]", end="\r")
            if typer.getchar().lower() == "q":
                console.print(" " * 40)
                return
            console.print(" " * 40, end="\r")
