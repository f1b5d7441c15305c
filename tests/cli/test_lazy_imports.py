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
    # httpx's own command line (tracer.cli.startup): the demo app imports httpx
    "click",
    "pygments",
    "rich.progress",
    "rich.syntax",
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
        "cli = sys.modules.get('httpx._main')\n"
        "httpx_cli = 'absent' if cli is None else 'stand-in'\n"
        "httpx_cli = 'real' if hasattr(cli, '__file__') else httpx_cli\n"
        "print(json.dumps({'loaded': loaded, 'httpx_cli': httpx_cli,\n"
        "    'gc_on': gc.isenabled(), 'frozen': gc.get_freeze_count() > 0}), file=sys.stderr)\n"
    )
    assert _fresh(code, tmp_path) == {
        "loaded": [],
        "httpx_cli": "stand-in",  # imported when httpx.main is called
        "gc_on": True,  # back on before the traced request (tracer.cli.startup)
        "frozen": True,
    }


def test_httpx_command_line_still_runs_when_called(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from tracer.cli import startup\n"
        "startup.defer_httpx_cli()\n"
        "import httpx\n"
        "deferred = 'click' not in sys.modules\n"
        "try:\n"
        "    httpx.main(['--help'])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "real = hasattr(sys.modules['httpx._main'], '__file__')\n"
        "print(json.dumps({'deferred': deferred, 'exit': code, 'real': real}), file=sys.stderr)\n"
    )
    assert _fresh(code, tmp_path) == {"deferred": True, "exit": 0, "real": True}
