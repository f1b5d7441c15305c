"""The command line as a Typer app: named commands, the default ``trace``, exit codes.

In-process runs go through :func:`tracer.cli.main.run`, the console script's
entry point, so what is checked is what a user's shell sees: the exit status
and stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracer.cli import main
from tracer.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("trace", "tour", "list", "show", "tail")


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """``trace-request ARGS`` in-process, as the console script runs it."""
    monkeypatch.setattr(sys, "argv", ["trace-request", *args])
    with pytest.raises(SystemExit) as exited:
        main.run()
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out, err


def spawn(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """The entry point in a fresh interpreter (the installed package, or this checkout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", "from tracer.cli.main import run; run()", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_help_lists_every_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(["--help"], capsys, monkeypatch)
    assert code == 0
    listed = out.split("Commands:", 1)[1].split()
    for name in COMMANDS:
        assert name in listed
    assert "Usage: trace-request [trace] METHOD PATH" in out


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_its_own_help(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli([name, "-h"], capsys, monkeypatch)
    assert code == 0
    assert out.startswith(f"Usage: trace-request {name} [OPTIONS]")


@pytest.mark.parametrize(
    "args",
    [
        ["GET", "/health", "--format", "json"],
        ["--format", "json", "GET", "/health"],  # options before METHOD PATH
        ["trace", "GET", "/health", "--format", "json"],  # the default, named
        ["get", "/health", "--format", "json"],  # a method in lower case is not a command
    ],
)
def test_trace_is_the_default_command(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 0, err
    document = json.loads(out)
    assert document["request"]["path"] == "/health"
    assert document["response"]["status_code"] == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--width", "5", "GET", "/health"], "Invalid value for '--width'"),
        (["GET", "/health", "--width", "0"], "Invalid value for '--width'"),
        (["GET", "/health", "--repeat", "0"], "Invalid value for '--repeat'"),
        (["GET", "/health", "--bogus"], "No such option: --bogus"),
        (["--bogus", "GET", "/health"], "No such option: --bogus"),
        (["tour", "--width", "5"], "Invalid value for '--width'"),
        (["list", "--limit", "0"], "Invalid value for '--limit'"),
        (["show"], "Missing argument 'TRACE_ID'"),
        (["tuor"], "No such command 'tuor'. Did you mean 'tour'?"),
    ],
)
def test_option_errors_are_usage_errors_with_exit_2(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 2
    assert "Usage: trace-request" in err
    assert f"Error: {message}" in err
    assert "Traceback" not in err + out
    assert "internal error" not in err


def test_no_arguments_shows_the_commands(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli([], capsys, monkeypatch)
    assert code == 2
    assert "Commands:" in out + err
    assert "tour" in out + err


def test_ctrl_c_during_a_trace_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr("tracer.cli.driving.drive_many", interrupted)
    code, _, err = run_cli(["GET", "/health"], capsys, monkeypatch)
    assert code == 130
    assert "Traceback" not in err
    assert "internal error" not in err


def test_a_real_bug_is_still_an_internal_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr("tracer.cli.driving.drive_many", broken)
    code, _, err = run_cli(["GET", "/health"], capsys, monkeypatch)
    assert code == 1
    assert "internal error: RuntimeError: a bug" in err
    assert "Traceback" not in err


def test_ctrl_c_ends_tail_with_130(tmp_path: Path) -> None:
    proc = spawn("tail", "--store", str(tmp_path / "traces.db"), "--no-color", cwd=tmp_path)
    try:
        assert proc.stderr is not None
        # tail says it waits for the store once it is following: interrupt it there
        assert "waiting for the trace store" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def test_option_error_in_a_fresh_interpreter(tmp_path: Path) -> None:
    proc = spawn("--width", "5", "GET", "/health", cwd=tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "Error: Invalid value for '--width'" in err
    assert "Traceback" not in out + err


def test_dangling_symlink_output_is_not_replaced_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "trace.json"
    link.symlink_to(tmp_path / "missing.json")
    code, _, err = run_cli(["GET", "/health", "-o", str(link)], capsys, monkeypatch)
    assert code == 2
    assert "link to a missing file" in err and "--force" in err
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "missing.json")
    assert not (tmp_path / "missing.json").exists()
    code, _, err = run_cli(["GET", "/health", "-o", str(link), "--force"], capsys, monkeypatch)
    assert code == 0, err
    assert not link.is_symlink()
    assert json.loads(link.read_text())["response"]["status_code"] == 200


def test_non_utf8_path_is_sent_percent_encoded(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [b"GET", b"/caf\xe9?q=\xe9", b"--format", b"json"]
    done = subprocess.run(
        [sys.executable, "-c", "from tracer.cli.main import run; run()", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    request = json.loads(done.stdout)["request"]
    assert request["path"] == "/caf\ufffd"  # what a server makes of %E9
    assert request["query"] == "q=%E9"
    assert b"internal error" not in done.stderr


def test_the_cli_never_imports_click() -> None:
    """typer >= 0.29 vendors click: ``click`` is not installed by a bare ``pip install``."""
    code = (
        "import sys; sys.modules['click'] = None\n"
        "sys.argv = ['trace-request', 'GET', '/users/1', '--steps', '--no-color']\n"
        "from tracer.cli.main import run; run()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import ast

    for path in sorted((ROOT / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            assert not any(n.split(".")[0] == "click" for n in names), path


def test_typer_test_runner_sees_the_same_app() -> None:
    result = CliRunner().invoke(app, ["--help"], prog_name="trace-request")
    assert result.exit_code == 0
    assert "tail" in result.stdout
