"""The command imports what the request and the chosen view need, and nothing else.

Not a timing test: what is (not) in ``sys.modules``, in a fresh interpreter,
after ``import tracer.cli.main`` and after a plain ``trace-request POST /users``
run as the console script runs it. The figures are in docs/performance.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BODY = '{"email": "ada@example.com", "password": "s3cret-pass"}'

#: only the chosen view, the request and its trace: none of these on the plain path
NEVER_ON_A_PLAIN_TRACE = (
    "opentelemetry.sdk",  # no exporter configured
    "opentelemetry.exporter",
    "tracer.sinks.store",  # in-process traces stay in memory
    "tracer.sinks.exporters.otlp_json",  # --load only
    "tracer.cli.tour",
    "tracer.cli.store_commands",
    "tracer.cli.lifespan",
    "tracer.cli.live",
    "tracer.cli.focus",
    "tracer.cli.compare",
)


def _fresh(code: str, tmp_path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return last


def test_importing_the_cli_loads_no_app_stack_and_no_renderer(tmp_path: Path) -> None:
    code = (
        "import json, sys, tracer.cli.main\n"
        "heavy = ('asyncio', 'httpx', 'fastapi', 'starlette', 'sqlalchemy', 'pydantic',\n"
        "         'rich.console', 'tracer.renderers', 'tracer.analysis', 'tracer.demo_app',\n"
        "         'opentelemetry.sdk', 'tracer.sinks.store')\n"
        "print(json.dumps({'loaded': [m for m in heavy if m in sys.modules]}), file=sys.stderr)\n"
    )
    assert _fresh(code, tmp_path) == {"loaded": []}


def test_a_plain_trace_loads_only_what_it_draws(tmp_path: Path) -> None:
    code = (
        "import gc, json, sys\n"
        f"sys.argv = ['trace-request', 'POST', '/users', '--json', {BODY!r}]\n"
        "from tracer.cli.main import run\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"never = {NEVER_ON_A_PLAIN_TRACE!r}\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(never))\n"
        "print(json.dumps({'loaded': loaded,\n"
        "    'gc_on': gc.isenabled(), 'frozen': gc.get_freeze_count() > 0}), file=sys.stderr)\n"
    )
    assert _fresh(code, tmp_path) == {
        "loaded": [],
        "gc_on": True,  # back on before the traced request (tracer.cli.startup)
        "frozen": True,
    }
