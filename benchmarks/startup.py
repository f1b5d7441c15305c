"""CLI start-up: wall time of ``trace-request POST /users --json ...`` vs importing its stack.

Each command runs as a subprocess, interleaved (rotated order per round),
timed with ``perf_counter_ns`` from spawn to exit; the figure is the median.
Bytecode is cached as it is after ``pip install`` (the environment may set
``PYTHONDONTWRITEBYTECODE``; the runs here use a private
``PYTHONPYCACHEPREFIX`` warmed by one untimed run of each command instead).

Reference commands break the CLI's time down:

``python -c pass``                 the interpreter alone
``import baseline``                ``import fastapi, sqlalchemy, aiosqlite, rich``
``import demo app``                ``import tracer.demo_app.main`` (the app the CLI loads)
``import everything``              the demo app + every module the CLI imports
``trace-request POST /users``      the whole command (lifespan, request, drawing)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import median, rotated

ROOT = Path(__file__).resolve().parent.parent
BODY = '{"email": "ada@example.com", "password": "s3cret-pass"}'


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("trace-request")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cli.main import run; run()"]


def commands() -> dict[str, list[str]]:
    py = sys.executable
    return {
        "python -c pass": [py, "-c", "pass"],
        "import baseline": [py, "-c", "import fastapi, sqlalchemy, aiosqlite, rich"],
        "import demo app": [py, "-c", "import tracer.demo_app.main"],
        "import everything": [
            py,
            "-c",
            "import tracer.demo_app.main, httpx, typer, tracer, tracer.renderers, "
            "tracer.analysis.diagnostics, tracer.cli.main, tracer.cli.driving, "
            "tracer.cli.loading, tracer.cli.output",
        ],
        "trace-request POST /users": [*_cli(), "POST", "/users", "--json", BODY],
    }


@dataclass
class StartupResult:
    runs: int
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def median_s(self, name: str) -> float:
        return median(self.times[name])

    def ratio(self, name: str, base: str = "import baseline") -> list[float]:
        """Per round: ``name`` / ``base`` (both measured in the same round)."""
        return [a / b for a, b in zip(self.times[name], self.times[base], strict=False) if b]


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter_ns()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, timeout=120)
    seconds = (time.perf_counter_ns() - t0) / 1e9
    problem = ""
    if proc.returncode != 0:
        problem = f"{' '.join(argv[-3:])}: exit {proc.returncode}: {proc.stderr.decode()[-500:]}"
    return seconds, problem


def run(rounds: int = 5, log: object = print) -> StartupResult:
    cache = tempfile.mkdtemp(prefix="trace-request-bench-pyc-")
    env = dict(
        os.environ,
        PYTHONPYCACHEPREFIX=cache,
        PYTHONPATH=str(ROOT),
        # never the user's trace store, should a command open one
        TRACE_REQUEST_STORE=os.path.join(cache, "traces.db"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    cmds = commands()
    result = StartupResult(rounds, {name: [] for name in cmds})
    try:
        for argv in cmds.values():  # compile and cache bytecode; warm the file cache
            _run(argv, env)
        for r in range(rounds):
            for name in rotated(list(cmds), r):
                seconds, problem = _run(cmds[name], env)
                result.times[name].append(seconds)
                if problem:
                    result.errors.append(problem)
            log(f"  start-up round {r + 1}/{rounds} done")  # type: ignore[operator]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return result


if __name__ == "__main__":  # pragma: no cover - manual use
    res = run(3)
    for name in res.times:
        print(f"{res.median_s(name) * 1000:7.0f} ms  {name}")
    print("ratio", median(res.ratio("trace-request POST /users")), res.errors)
