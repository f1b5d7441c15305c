"""The teaching views as a teacher uses them: ``--step N``, ``--steps``, ``--compare``, the tour.

Every screen is counted at a projector's 100 × 40: the lines printed and their
width in terminal cells.
"""

from __future__ import annotations

import io
import re

import fastapi
import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from tests.cli.test_cli import SIGNUP, invoke
from tracer.cli import output as out
from tracer.cli.pager import page
from tracer.cli.shapes import TRACER_HEADERS

#: The lesson's demo runs on the FastAPI the project installs: a yield dependency's
#: teardown after the response (0.118+) and FastAPI's own layers change the screens on
#: the oldest versions the tracer supports (scripts/matrix.sh runs tests/cli there too).
LESSON_FASTAPI = pytest.mark.skipif(
    tuple(int(part) for part in fastapi.__version__.split(".")[:2]) < (0, 121),
    reason="the lesson's screens are written for FastAPI 0.121+",
)


ESCAPE = re.compile(r"\x1b")


def fits(text: str, rows: int = 40, columns: int = 100) -> None:
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= rows, f"{len(lines)} lines"
    assert max(cell_len(line) for line in lines) <= columns


@LESSON_FASTAPI
def test_step_4_of_post_users_fits_a_projector_and_draws_the_dependency_tree() -> None:
    code, text, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--step", "4", "--no-color", "--width", "100"
    )
    assert code == 0
    fits(text)
    assert "▶ 4 dependencies" in text
    assert "└ get_sessionmaker() → sessionmaker" in text  # the sub-dependency, one level down
    assert "cached: solved once per request" in text
    assert "get_db teardown · code after yield, after the response" in text
    assert "demo         trace-request GET /users/me --step 4" in text
    assert "HTTP 201" not in text  # one screen: the status is in the title


@pytest.mark.parametrize("step", range(1, 11))
def test_every_step_of_a_request_fits_and_shows_names_never_values(step: int) -> None:
    code, text, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--step", str(step), "--no-color", "--width", "100"
    )
    assert code == 0
    fits(text)
    for value in ("ada@example.com", "s3cret-pass", "pbkdf2"):
        assert value not in text


@LESSON_FASTAPI
def test_the_object_at_each_step() -> None:
    _, scope, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--step", "1", "--no-color", "--width", "100"
    )
    assert "ASGI scope: POST, route /users, HTTP/1.1, 7 headers" in " ".join(scope.split())
    _, body, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--step", "5", "--no-color", "--width", "100"
    )
    assert "JSON body 55 B" in body
    _, shaped, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--step", "7", "--no-color", "--width", "100"
    )
    assert "returned User" in shaped and "UserRead" in shaped
    _, headers, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--step", "8", "--no-color", "--width", "100"
    )
    words = " ".join(headers.split())
    # which layer added which header, from the names recorded as the response left each layer
    assert "request_id_and_timing +x-request-id +server-timing; CORSMiddleware +vary" in words
    assert "not recorded" not in words
    assert "the tracer's: x-trace-id, traceparent" in words
    assert {"x-trace-id", "traceparent"} == TRACER_HEADERS


def test_steps_are_usage_errors_outside_1_to_10_and_with_documents() -> None:
    from typer.testing import CliRunner

    from tracer.cli.main import app

    assert CliRunner().invoke(app, ["GET", "/users/1", "--step", "11"]).exit_code == 2
    code, _, err = invoke("GET", "/users/1", "--step", "4", "--format", "json")
    assert code != 0 and "--step draws its own view" in err


def test_compare_says_the_status_changed_and_why() -> None:
    code, text, _ = invoke(
        "POST",
        "/users",
        "--json",
        SIGNUP,
        "--repeat",
        "3",
        "--compare",
        "--no-color",
        "--width",
        "100",
    )
    assert code == 0
    fits(text)
    words = " ".join(text.split())
    assert "request 1 (cold) and request 3 (warm)" in words
    assert "the status changed: 201 Created in request 1, 409 Conflict in request 3" in words
    assert "raised HTTPException" in words
    # which first-call costs request 1 pays depends on what this process already ran
    assert "first-call costs only request 1 paid: " in words


def test_compare_of_the_same_request_shows_first_call_costs_only() -> None:
    code, text, _ = invoke(
        "GET", "/users/1", "--repeat", "2", "--compare", "--no-color", "--width", "80"
    )
    assert code == 0
    assert "status changed" not in text
    assert "first-call costs" in " ".join(text.split())


def test_the_tour_fits_a_projector_stop_by_stop() -> None:
    from tracer.cli.tour import STOPS

    code, text, _ = invoke("tour", "--no-color", "--width", "100")
    assert code == 0
    stops = re.split(r"(?m)^(?=Stop \d+/\d+ · )", text)[1:]
    assert len(stops) == len(STOPS) + 1
    for number, stop in enumerate(stops, start=1):
        assert stop.startswith(f"Stop {number}/{len(stops)} · ")
        fits(stop, rows=39)  # the 40th row is the pager's hint in a terminal
        if number <= len(STOPS):
            assert " lesson: " in stop
    for row in ("422", "500", "N+1", "missing index", "no response_model", "pool", "stale"):
        assert row in text
    assert "cannot show" in stops[-1]


def test_no_color_in_a_terminal_writes_no_escape_code() -> None:
    console = out.make_console(color=False, width=100)
    console.file = io.StringIO()
    console._force_terminal = True  # what a TTY would make it
    console.print(Text("bold", "bold italic reverse"), Text("red", "red"))
    assert console.is_terminal
    assert not ESCAPE.search(console.file.getvalue())


def test_pager_moves_next_previous_and_quits() -> None:
    keys = iter(["n", "\x1b[C", "p", "q"])
    buffer = io.StringIO()
    console = Console(file=buffer, width=60, color_system=None)
    screens = [lambda n=n: [Text(f"screen {n}")] for n in range(4)]
    page(
        console,
        screens,
        [f"S{n}" for n in range(4)],
        key=lambda: next(keys),
        live=True,
        clear=False,
    )
    shown = [line for line in buffer.getvalue().splitlines() if line.startswith("screen")]
    assert shown == ["screen 0", "screen 1", "screen 2", "screen 1"]
