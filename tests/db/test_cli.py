"""``DATABASE_URL=… trace-request POST /users --json …``: the CLI, in a subprocess, per database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.db.demo import SIGN_UP, Database, db_phases, db_spans, db_system
from tests.db.test_requests import SIGN_UP_PHASES
from tracer.model import Trace

ROOT = Path(__file__).resolve().parents[2]


def trace_request_command() -> list[str]:
    """The console script next to this interpreter, else the same entry point via ``-c``."""
    script = shutil.which("trace-request", path=os.path.dirname(sys.executable))
    if script is not None:
        return [script]
    return [sys.executable, "-c", "from tracer.cli.main import run; run()"]


@pytest.mark.slow
def test_cli_traces_sign_up_on_the_database_in_database_url(
    database: Database, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DEMO_DATABASE_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = str(ROOT)
    if database.name != "sqlite":  # SQLite is the default: nothing to set
        env["DATABASE_URL"] = database.url
    args = ["POST", "/users", "--json", json.dumps(SIGN_UP), "--format", "json"]
    result = subprocess.run(
        [*trace_request_command(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    trace = Trace.from_json(result.stdout)
    assert trace.status_code == 201
    assert db_phases(trace) == SIGN_UP_PHASES
    statements = [s for s in db_spans(trace) if s.name in ("SELECT users", "INSERT users")]
    assert {db_system(s) for s in statements} == {database.name}
