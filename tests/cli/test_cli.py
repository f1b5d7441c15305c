"""The ``trace-request`` command: formats, files, round trips and every bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracer.cli.main import app
from tracer.model import Trace

runner = CliRunner()
SIGNUP = '{"email": "ada@example.com", "password": "s3cret-pass"}'


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the command in-process the way the console script does (one-line errors)."""
    from tracer.cli import main

    result = runner.invoke(app, list(args), standalone_mode=False, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        try:
            raise result.exception
        except main.CLIError as exc:
            return exc.exit_code, result.stdout, f"trace-request: error: {exc}"
    return result.exit_code, result.stdout, result.stderr


def test_post_users_prints_the_response_and_the_sequence_diagram() -> None:
    code, out, _ = invoke("POST", "/users", "--json", SIGNUP, "--no-color", "--width", "120")
    assert code == 0
    assert "HTTP 201 Created" in out
    assert "ada@example.com" in out
    assert "POST /users" in out
    assert "s3cret-pass" not in out.split("HTTP 201")[1]


def test_json_format_writes_only_the_document_to_stdout() -> None:
    code, out, err = invoke("GET", "/users/1", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["request"]["method"] == "GET"
    assert document["response"]["status_code"] == 200
    span = document["spans"][0]
    for key in ("span_id", "parent_id", "name", "phase", "step", "start_ns", "end_ns", "status"):
        assert key in span
    assert "HTTP 200" in err


def test_json_round_trips_to_the_same_diagram(tmp_path: Path) -> None:
    saved = tmp_path / "trace.json"
    code, _, _ = invoke("GET", "/search?q=p", "-o", str(saved))
    assert code == 0
    trace = Trace.from_json(saved.read_text())
    assert trace.status_code == 422
    from tracer.renderers import get_renderer

    expected = get_renderer("sequence")(width=100, color=False).render(trace)
    code, out, _ = invoke("--load", str(saved), "--no-color", "--width", "100")
    assert code == 0
    # the same diagram, then the findings the CLI prints under it
    assert out.startswith(expected.rstrip("\n"))
    assert "422 from validation (query)" in out[len(expected.rstrip()) :]


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("trace.mmd", lambda text: text.startswith("sequenceDiagram")),
        ("trace.svg", lambda text: text.lstrip().startswith("<svg")),
        ("trace.html", lambda text: "<html" in text.lower()),
        ("trace.txt", lambda text: "POST /users" in text),
    ],
)
def test_output_file_format_is_guessed_from_the_extension(
    tmp_path: Path, name: str, check: object
) -> None:
    target = tmp_path / name
    code, _, _ = invoke("POST", "/users", "--json", SIGNUP, "-o", str(target))
    assert code == 0
    assert callable(check)
    assert check(target.read_text())


@pytest.mark.parametrize("fmt", ["sequence", "waterfall", "tree", "mermaid"])
def test_every_format_renders_from_the_cli(fmt: str) -> None:
    code, out, _ = invoke("GET", "/users/1", "--format", fmt, "--no-color", "--width", "100")
    assert code == 0
    assert out.strip()


def test_repeat_shows_the_warm_trace() -> None:
    code, out, _ = invoke("GET", "/health", "--repeat", "3", "--format", "json")
    assert code == 0
    assert json.loads(out)["response"]["status_code"] == 200


def test_unknown_path_is_traced_not_an_error() -> None:
    code, out, _ = invoke("GET", "/nowhere", "--format", "json")
    assert code == 0
    assert json.loads(out)["response"]["status_code"] == 404


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["FETCH", "/users"], "unknown HTTP method 'FETCH'"),
        (["POST", "/users", "--json", "{nope"], "--json is not valid JSON"),
        (["GET", "/users", "--app", "no_such_module:app"], "cannot import module 'no_such_module'"),
        (["GET", "/users", "--app", "os:sep"], "is a str, not an ASGI app"),
        (["GET", "/users", "--app", "tracer.demo_app.main"], "module:attribute"),
        (["GET", "/users", "--format", "pdf"], "unknown format 'pdf'"),
        (["GET", "/users", "-o", "/no/such/dir/t.json"], "does not exist"),
        (["GET", "users"], "PATH must start with '/'"),
        (["GET"], "give METHOD and PATH"),
        (["--load", "/no/such/file.json"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args: list[str], message: str) -> None:
    code, _, err = invoke(*args)
    assert code != 0
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_existing_output_file_is_never_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "keep.json"
    target.write_text("precious")
    code, _, err = invoke("GET", "/health", "-o", str(target))
    assert code != 0
    assert "--force" in err
    assert target.read_text() == "precious"
    code, _, _ = invoke("GET", "/health", "-o", str(target), "--force")
    assert code == 0
    assert json.loads(target.read_text())["response"]["status_code"] == 200


def test_user_app_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "myservice.py").write_text(
        "from fastapi import FastAPI\n"
        "def make():\n"
        "    app = FastAPI()\n"
        "    @app.get('/hi')\n"
        "    async def hi() -> dict[str, str]:\n"
        "        return {'hi': 'there'}\n"
        "    return app\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("GET", "/hi", "--app", "myservice:make", "--format", "json")
    assert code == 0
    assert json.loads(out)["request"]["path"] == "/hi"


def _console_script() -> str:
    found = shutil.which("trace-request", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.skip("the console script is not installed in this environment")
    return found


def test_installed_console_script_end_to_end(tmp_path: Path) -> None:
    script = _console_script()
    ok = subprocess.run(
        [script, "POST", "/users", "--json", SIGNUP, "--no-color", "--width", "100"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert "HTTP 201 Created" in ok.stdout
    bad = subprocess.run(
        [script, "POST", "/users", "--json", "{oops"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("trace-request: error: --json is not valid JSON")
    assert "Traceback" not in bad.stderr


def test_explain_numbers_and_explains_every_step() -> None:
    code, out, _ = invoke(
        "POST", "/users", "--json", SIGNUP, "--explain", "--no-color", "--width", "120"
    )
    assert code == 0
    for step, role in [
        (1, "ASGI"),
        (4, "Depends: per-request resources"),
        (5, "Pydantic in"),
        (7, "Pydantic out"),
        (10, "background"),
    ]:
        assert f"{step} · {role}" in out
    words = " ".join(out.split())  # explanations wrap at the width
    assert "get_db ran up to its `yield`" in words
    assert "send_welcome_email ran after the 201 was sent" in words


def test_explain_says_why_a_step_did_not_happen() -> None:
    code, out, _ = invoke("GET", "/search?q=p", "--explain", "--no-color", "--width", "100")
    assert code == 0
    assert "steps that did not happen" in out
    words = " ".join(out.split())
    assert "no background tasks: the handler never ran" in words
    assert "422 from validation (query)" in words


def test_steps_without_a_terminal_prints_every_step_in_turn() -> None:
    code, stepped, _ = invoke("GET", "/users/1", "--steps", "--no-color", "--width", "100")
    assert code == 0
    headers = [line for line in stepped.splitlines() if line.startswith("Step ")]
    assert headers[0] == "Step 1/10 · ASGI hand-off"
    assert len(headers) == 10


def test_findings_are_printed_under_the_diagram_and_in_json() -> None:
    code, out, _ = invoke("GET", "/slow/blocking", "--no-color", "--width", "100")
    assert code == 0
    assert "held the event loop" in out
    assert out.index("held the event loop") > out.index("own time by step")
    code, out, _ = invoke("GET", "/slow/blocking", "--format", "json")
    analysis = json.loads(out)["analysis"]
    assert [f["code"] for f in analysis["findings"]] == ["event_loop_blocked"]
    assert set(analysis["time_by_step_ns"]) <= {str(n) for n in range(1, 11)}
    assert [s["step"] for s in analysis["steps"]] == list(range(1, 11))


def test_warm_up_is_untraced_and_cold_keeps_first_request_costs() -> None:
    code, out, _ = invoke("GET", "/health", "--format", "json")
    assert code == 0
    assert json.loads(out)["request"]["path"] == "/health"
    code, out, _ = invoke("GET", "/health", "--format", "json", "--cold")
    assert code == 0
    assert json.loads(out)["request"]["path"] == "/health"


def test_tour_runs_end_to_end_with_no_arguments() -> None:
    script = _console_script()
    result = subprocess.run(
        [script, "tour", "--no-color", "--width", "100"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    for status in (
        "201 Created",
        "422 Unprocessable",
        "409 Conflict",
        "401 Unauthorized",
        "404 Not Found",
        "500 Internal Server Error",
    ):
        assert status in text
    assert "held the event loop" in text
    assert "N+1 queries" in text
    assert text.count("\nStop ") + text.startswith("Stop ") == 15
    assert "∅" in text  # steps that did not happen are marked
