"""An app that prints and logs: the machine formats stay clean, the output is shown apart.

``tests/cli/noisy_app.py`` prints or logs at import, in its lifespan, in an
``@app.middleware`` function, an async and a ``def`` dependency, the handler
and a background task, and has a log handler bound to the real stdout.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracer.cli.captured import AppOutput
from tracer.cli.errors import CLIError
from tracer.cli.main import app
from tracer.model import Trace
from tracer.renderers.flow import build_flow

ROOT = Path(__file__).resolve().parents[2]
NOISY = "tests.cli.noisy_app:app"
#: each line the request writes, the span it must land on, and that span's lane
EXPECTED = [
    ("app.output", "middleware: before", "shout", "middleware"),
    ("app.output", "dependency: looking up the user", "current_user", "dependency"),
    ("log", "dependency: token expires soon", "current_user", "dependency"),
    ("app.output", "threaded dependency: reading settings", "settings", "dependency"),
    ("app.output", "handler: creating user ada", "signup", "handler"),
    ("app.output", "handler: to stderr", "signup", "handler"),
    ("app.output", "background: welcome mail for ada", "threadpool welcome", "background"),
    ("log", "background: mail queued", "threadpool welcome", "background"),
]
SECRET = "hunter2-secret"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh interpreter, stdout and stderr kept apart."""
    return subprocess.run(
        [sys.executable, "-m", "tracer.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def json_run() -> subprocess.CompletedProcess[str]:
    return run_cli("POST", "/signup", "--app", NOISY, "--format", "json")


def events(trace: Trace) -> list[tuple[str, str, str]]:
    return [
        (e.name, str(e.attributes["text"]), s.name)
        for s in sorted(trace.spans, key=lambda s: s.start_ns)
        for e in sorted(s.events, key=lambda e: e.time_ns)
        if e.name in ("app.output", "log")
    ]


def test_format_json_on_stdout_is_only_the_document(
    json_run: subprocess.CompletedProcess[str],
) -> None:
    assert json_run.returncode == 0, json_run.stderr
    document = json.loads(json_run.stdout)  # nothing the app printed is mixed in
    assert document["response"]["status_code"] == 200
    for line in ("noisy: imported", "noisy: starting up", "WARNING:noisy:", "INFO:noisy:"):
        assert line not in json_run.stdout


def test_the_json_holds_each_line_as_an_event_on_the_span_it_was_written_in(
    json_run: subprocess.CompletedProcess[str],
) -> None:
    trace = Trace.from_json(json_run.stdout)
    found = events(trace)
    for name, text, span, _ in EXPECTED:
        assert (name, text, span) in found
    spans = {s.name: s for s in trace.spans}
    for _, _, span, phase in EXPECTED:
        assert spans[span].phase == phase
    log_event = next(
        e for s in trace.spans for e in s.events if e.attributes.get("text") == EXPECTED[2][1]
    )
    assert log_event.attributes == {
        "logger": "noisy",
        "level": "WARNING",
        "text": "dependency: token expires soon",
    }
    # scrubbed like any recorded text
    assert ("app.output", "handler: password=… token=…", "signup") in found
    assert SECRET not in json_run.stdout
    assert trace.meta["app_output"]["dropped"] == 0


def test_the_sequence_diagram_draws_each_line_in_its_spans_lane(
    json_run: subprocess.CompletedProcess[str],
) -> None:
    flow = build_flow(Trace.from_json(json_run.stdout))
    lanes = flow.lanes.lanes
    rows = {row.text: lanes[row.src].kind for row in flow.rows if row.kind == "event"}
    for name, text, _, lane in EXPECTED:
        prefix = "WARNING noisy" if "token" in text else "INFO noisy" if name == "log" else ""
        stream = "stderr" if "stderr" in text else "stdout"
        assert rows[f"{prefix or stream} · {text}"] == lane


def test_the_app_output_block_goes_to_stderr_raw_with_its_sections(
    json_run: subprocess.CompletedProcess[str],
) -> None:
    err = json_run.stderr
    assert "app output · 12 lines, as the app wrote them" in err
    for section, text in [
        ("import", "noisy: imported"),
        ("startup", "noisy: starting up"),
        ("shutdown", "noisy: shutting down"),
    ]:
        assert any(section in line and text in line for line in err.splitlines()), err
    assert f"password={SECRET}" in err  # the person's own output, as written
    assert "WARNING noisy  dependency: token expires soon  (in current_user)" in err


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (("--format", "mermaid"), "sequenceDiagram"),
        (("-o", "-"), "{"),
        (("-o", "-", "--format", "tree"), "POST /signup"),
    ],
)
def test_other_machine_outputs_stay_clean(args: tuple[str, ...], starts: str) -> None:
    result = run_cli("POST", "/signup", "--app", NOISY, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith(starts), result.stdout[:200]
    assert "noisy: imported" not in result.stdout
    assert "noisy: imported" in result.stderr


def test_in_the_terminal_the_block_follows_the_diagram() -> None:
    result = CliRunner().invoke(
        app, ["POST", "/signup", "--app", NOISY, "--no-color", "--width", "140"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    diagram, _, block = out.partition(" app output ·")
    assert "◇ stdout · dependency: looking up the user" in diagram
    assert "◇ WARNING noisy · dependency: token expires soon" in diagram
    assert "(in current_user)" in block
    assert "handler: password=… token=…" in diagram  # the diagram draws the trace: scrubbed


def test_the_cap_keeps_fifty_lines_in_the_trace_and_all_in_the_block() -> None:
    result = CliRunner().invoke(app, ["GET", "/flood", "--app", NOISY, "--format", "json"])
    assert result.exit_code == 0, result.output
    trace = Trace.from_json(result.stdout)
    assert len(events(trace)) == 50
    assert trace.meta["app_output"] == {"events": 50, "chars": 640, "dropped": 70}
    assert "flood line 119" in result.stderr


def test_with_repeat_only_the_shown_request_is_listed() -> None:
    result = CliRunner().invoke(
        app, ["POST", "/signup", "--app", NOISY, "--format", "json", "--repeat", "2"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.count("middleware: before") == 1
    assert "more from the warm-up and earlier requests" in result.stderr


def test_a_loaded_trace_shows_the_output_it_holds(
    json_run: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    saved = tmp_path / "trace.json"
    saved.write_text(json_run.stdout)
    result = CliRunner().invoke(app, ["--load", str(saved), "--no-color", "--width", "140"])
    assert result.exit_code == 0, result.output
    assert "app output · 9 lines, from the trace" in result.stdout
    assert "handler: password=… token=…  (in signup)" in result.stdout


def test_url_shows_what_the_servers_record_logs_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's trace (record_logs on) is drawn with its log events and block."""
    import asyncio

    import tracer
    from tests.tracer.helpers import request
    from tests.tracer.test_app_logs import make_app
    from tracer.cli import live
    from tracer.cli.driving import Exchange

    server = make_app(record_logs="WARNING")
    try:
        response, trace = asyncio.run(request(server, "GET", "/me"))
    finally:
        tracer.uninstrument(server)

    def send_live(*_: Any, **__: Any) -> Exchange:
        return Exchange(200, "OK", list(response.headers.multi_items()), response.content, trace)

    monkeypatch.setattr(live, "send_live", send_live)
    result = CliRunner().invoke(
        app, ["GET", "/me", "--url", "http://server", "--no-color", "--width", "140"]
    )
    assert result.exit_code == 0, result.output
    assert "◇ WARNING tests.app_logs · token for ada expires soon" in result.stdout
    assert "app output · 3 lines, from the trace" in result.stdout


# -- the capture itself ---------------------------------------------------------------


def test_capture_is_restored_on_every_exit_path() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    factory, last_resort = logging.getLogRecordFactory(), logging.lastResort

    def fail(error: BaseException) -> None:
        with AppOutput():
            print("on the way out")
            raise error

    for error in (CLIError("startup failed"), KeyboardInterrupt()):
        with pytest.raises(type(error)):
            fail(error)
        assert (sys.stdout, sys.stderr) == (stdout, stderr)
        assert logging.getLogRecordFactory() is factory
        assert logging.lastResort is last_resort


def test_threads_and_unfinished_lines_are_captured() -> None:
    with AppOutput() as output:
        worker = threading.Thread(target=lambda: print("from a thread"))
        worker.start()
        worker.join()
        sys.stdout.write("no newline")
        sys.stdout.buffer.write(b"bytes too\n")
        logging.getLogger("noisy.quiet").warning("no handler: lastResort stays quiet")
    assert [(line.source, line.level, line.text) for line in output.lines] == [
        ("stdout", None, "from a thread"),
        ("stdout", None, "no newlinebytes too"),
        ("noisy.quiet", "WARNING", "no handler: lastResort stays quiet"),
    ]


def test_a_failing_startup_still_shows_what_the_app_said() -> None:
    result = CliRunner().invoke(app, ["GET", "/", "--app", "tests.cli.test_app_output:failing_app"])
    assert isinstance(result.exception, CLIError)
    assert "the app's startup (lifespan) failed" in str(result.exception)
    assert "startup  stdout  connecting to the database…" in result.stderr


def _failing_lifespan(app: Any) -> Any:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        print("connecting to the database…")
        raise RuntimeError("no database")
        yield

    return lifespan(app)


def failing_app() -> Any:
    from fastapi import FastAPI

    return FastAPI(lifespan=_failing_lifespan)
