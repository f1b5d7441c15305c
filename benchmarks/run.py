"""trace-request benchmarks: one command, one run, every figure from the same run.

    python benchmarks/run.py            # full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # smoke run (< 60 s)

Sections (each can be skipped, e.g. ``--skip http,startup``):

inprocess  endpoint × variant, in-process (httpx.ASGITransport), interleaved rounds
http       GET /health throughput over HTTP (uvicorn, one worker, 127.0.0.1)
startup    ``trace-request POST /users --json ...`` vs importing its stack
render     a 1,000-span trace drawn as sequence and as waterfall
memory     bytes per recorded span (tracemalloc)

Every comparison is made inside this run: variants are interleaved round by
round and a ratio is the median of the per-round ratios. The exit status is 0
when the benchmarks ran, whatever the targets say (``--strict`` makes a missed
target exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    fmt_ratio,
    fmt_us,
    median,
    overhead_ratio_per_round,
    ratio_per_round,
    spread,
    table,
)

SECTIONS = ("inprocess", "http", "startup", "render", "memory", "store")


class Plan:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.inprocess_rounds = 3 if quick else 11
        self.inprocess_scale = 0.25 if quick else 1.0
        self.inprocess_warmup = 15 if quick else 40
        self.http_variants = (
            ["base", "defaults", "fastapi"]
            if quick
            else ["base", "defaults", "full", "otlp", "unsampled", "otel", "fastapi"]
        )
        self.http_rounds = 2 if quick else 5
        self.http_requests = 500 if quick else 2000
        self.http_concurrency = 16
        self.startup_rounds = 2 if quick else 9
        self.render_repeats = 2 if quick else 5
        self.memory_requests = 60 if quick else 300
        self.store_traces = 300 if quick else 2000


class Report:
    """Collects printed sections, targets and a JSON document."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, bool, str]] = []
        self.data: dict[str, Any] = {}

    def target(self, name: str, ok: bool, detail: str) -> None:
        self.targets.append((name, ok, detail))


def say(text: str = "") -> None:
    print(text, flush=True)


def _iqr(values: list[float]) -> str:
    lo, hi = spread(values)
    return f"[{lo:.3f}–{hi:.3f}]" if values else ""


# -- in-process ------------------------------------------------------------------------------


def _extra_per_round(cell: Any, base: Any) -> list[float]:
    """``cell − base`` in µs, per round (both measured in the same round)."""
    return [(c - b) / 1000 for c, b in zip(cell.round_medians, base.round_medians, strict=False)]


def section_inprocess(plan: Plan, report: Report) -> None:
    from benchmarks import inprocess
    from benchmarks.apps import INPROCESS_VARIANTS, OURS, PEERS, VARIANT_LABELS

    say("== in-process: endpoint × variant (httpx.ASGITransport, interleaved) ==")
    result = asyncio.run(
        inprocess.run(plan.inprocess_rounds, plan.inprocess_scale, plan.inprocess_warmup, say)
    )
    rows = []
    data: dict[str, Any] = {}
    for ep in result.endpoints:
        base = result.samples[(ep.key, "base")]
        # the cheapest peer on this endpoint: the smaller median extra time
        peer = min(PEERS, key=lambda p: median(_extra_per_round(result.samples[(ep.key, p)], base)))
        for name in INPROCESS_VARIANTS:
            samples = result.samples[(ep.key, name)]
            ratios = ratio_per_round(samples, base)
            extra = _extra_per_round(samples, base)
            overhead = (
                overhead_ratio_per_round(samples, result.samples[(ep.key, peer)], base)
                if name in OURS or name == "unsampled"
                else []
            )
            spans = result.spans_per_request[(ep.key, name)]
            rows.append(
                [
                    ep.label if name == "base" else "",
                    VARIANT_LABELS[name] + (" ← cheapest peer" if name == peer else ""),
                    fmt_us(samples.median_ns),
                    f"{median(extra):+,.0f} µs" if name != "base" else "",
                    fmt_ratio(median(ratios)) if name != "base" else "1",
                    _iqr(ratios) if name != "base" else "",
                    f"{median(overhead):.2f}" if overhead else "",
                    f"{spans:.0f}" if name != "base" else "",
                ]
            )
            data[f"{ep.key}/{name}"] = {
                "median_us": samples.median_ns / 1000,
                "mean_us": samples.mean_ns / 1000,
                "extra_us": median(extra),
                "ratio": median(ratios),
                "ratio_iqr": spread(ratios),
                "vs_cheapest_peer": median(overhead) if overhead else None,
                "vs_cheapest_peer_iqr": spread(overhead) if overhead else None,
                "cheapest_peer": peer,
                "spans_per_request": spans,
                "requests": samples.requests,
            }
    say(
        table(
            [
                "endpoint",
                "variant",
                "median/req",
                "extra/req",
                "ratio",
                "ratio IQR",
                "extra ÷ cheapest peer's",
                "spans/req",
            ],
            rows,
            "<<>>>>>>",
        )
    )
    say(
        f"{result.rounds} rounds, {result.seconds:.0f} s. median/req: median over rounds of "
        "each round's median request; extra/req and ratios: medians over rounds of the "
        "same-round difference or ratio (IQR across rounds)."
    )
    say(
        f"harness floor (same client, an ASGI app that answers at once): "
        f"{fmt_us(result.floor.median_ns)}/request, included in every figure above."
    )
    for note in result.notes:
        say(f"note: {note}")
    say()
    report.data["inprocess"] = {
        "rounds": result.rounds,
        "seconds": result.seconds,
        "floor_us": result.floor.median_ns / 1000,
        "notes": result.notes,
        "cells": data,
    }

    def cell(key: str) -> dict[str, Any]:
        return data[key]  # type: ignore[no-any-return]

    for name, what in (
        ("defaults", "as shipped (store on)"),
        ("full", "store=False + sink"),
        ("otlp", "OTLP exporter"),
    ):
        for key, label in (("health", "GET /health"), ("post_users_cheap", "POST /users")):
            c = cell(f"{key}/{name}")
            value, peer = c["vs_cheapest_peer"], c["cheapest_peer"]
            report.target(
                f"{what}: extra time ≤ 1/3 of the cheapest peer's, in-process {label}",
                value is not None and value <= 1 / 3,
                f"{value:.2f} ({c['extra_us']:+,.0f} µs vs {peer} "
                f"{cell(f'{key}/{peer}')['extra_us']:+,.0f} µs)"
                if value is not None
                else "no data",
            )
    worst_key = max(
        (f"{ep.key}/unsampled" for ep in result.endpoints), key=lambda k: cell(k)["ratio"]
    )
    worst = cell(worst_key)["ratio"]
    report.target(
        "not sampled ≤ 1.03× baseline (every endpoint)",
        worst <= 1.03,
        f"worst {worst:.3f}× ({worst_key.split('/')[0]})",
    )


# -- HTTP ------------------------------------------------------------------------------------


def section_http(plan: Plan, report: Report) -> None:
    from benchmarks import collector, http_load
    from benchmarks.apps import VARIANT_LABELS

    if "otlp" in plan.http_variants:
        collector.url()  # started first: the servers inherit its address

    say(
        f"== HTTP: GET /health, uvicorn (1 worker, h11, asyncio) on 127.0.0.1, "
        f"{plan.http_requests} requests × concurrency {plan.http_concurrency} per round =="
    )
    result = http_load.run(
        variants=plan.http_variants,
        rounds=plan.http_rounds,
        requests=plan.http_requests,
        concurrency=plan.http_concurrency,
        warmup=min(300, plan.http_requests),
        max_seconds=60.0,
        log=say,
    )
    rows = []
    data: dict[str, Any] = {}
    for name in result.variants:
        ratios = result.ratio(name)
        client_cpu = median(
            [r.client_cpu_s * 1e6 / r.completed for r in result.rounds[name] if r.completed]
        )
        rows.append(
            [
                VARIANT_LABELS[name],
                f"{result.rps(name):,.0f}",
                fmt_ratio(median(ratios)) if name != "base" else "1",
                _iqr(ratios) if name != "base" else "",
                f"{result.server_cpu_us(name):,.0f} µs",
                f"{result.p50_ms(name):.2f} ms",
                f"{client_cpu:,.0f} µs",
            ]
        )
        data[name] = {
            "rps": result.rps(name),
            "ratio": median(ratios),
            "ratio_rounds": ratios,
            "server_cpu_us": result.server_cpu_us(name),
            "p50_ms": result.p50_ms(name),
            "client_cpu_us": client_cpu,
        }
    say(
        table(
            [
                "variant",
                "req/s",
                "ratio",
                "ratio IQR",
                "server CPU/req",
                "p50 latency",
                "client CPU/req",
            ],
            rows,
            "<>>>>>>",
        )
    )
    say(f"{plan.http_rounds} rounds, {result.seconds:.0f} s; server CPU from /proc (user+system).")
    say()
    report.data["http"] = data
    shipped = data["defaults"]
    report.target(
        "HTTP GET /health throughput, as shipped (store on) ≥ 0.90× untraced",
        shipped["ratio"] >= 0.90,
        f"{shipped['ratio']:.3f}× ({shipped['server_cpu_us']:,.0f} µs server CPU/req vs "
        f"{data['base']['server_cpu_us']:,.0f} untraced)",
    )


# -- start-up --------------------------------------------------------------------------------


def section_startup(plan: Plan, report: Report) -> None:
    from benchmarks import startup

    say(f"== CLI start-up: subprocess wall time, {plan.startup_rounds} interleaved rounds ==")
    result = startup.run(plan.startup_rounds, say)
    rows = []
    for name in result.times:
        ratios = result.ratio(name)
        rows.append(
            [
                name,
                f"{result.median_s(name) * 1000:,.0f} ms",
                fmt_ratio(median(ratios)),
                _iqr(ratios),
            ]
        )
    say(table(["command", "median wall", "÷ import baseline", "IQR"], rows, "<>>>"))
    for error in result.errors:
        say(f"error: {error}")
    say()
    cli = median(result.ratio("trace-request POST /users"))
    report.data["startup"] = {
        name: {"median_s": result.median_s(name), "ratio": median(result.ratio(name))}
        for name in result.times
    }
    report.target(
        "CLI start-up ≤ 1.3× import baseline", cli <= 1.3 and not result.errors, f"{cli:.2f}×"
    )


# -- rendering -------------------------------------------------------------------------------


def section_render(plan: Plan, report: Report) -> None:
    from benchmarks import rendering

    say("== rendering a 1,000-span trace (width=120, color=False) ==")
    result = rendering.run(plan.render_repeats)
    rows = [
        [
            name,
            f"{result.median_s[name] * 1000:,.0f} ms",
            f"{result.first_s[name] * 1000:,.0f} ms",
            str(result.lines[name]),
        ]
        for name in result.median_s
    ]
    say(
        table(["renderer", f"median of {plan.render_repeats}", "first call", "lines"], rows, "<>>>")
    )
    say(f"trace: {result.spans} spans")
    say()
    report.data["render"] = {
        "spans": result.spans,
        "median_s": result.median_s,
        "first_s": result.first_s,
    }
    for name, seconds in result.median_s.items():
        report.target(
            f"render 1,000 spans as {name} < 0.2 s", seconds < 0.2, f"{seconds * 1000:.0f} ms"
        )


# -- memory ----------------------------------------------------------------------------------


def section_memory(plan: Plan, report: Report) -> None:
    from benchmarks import memory

    say(f"== memory per span (tracemalloc, {plan.memory_requests} traced requests) ==")
    result = memory.run(plan.memory_requests)
    rows = [
        [
            "finished Trace (kept by a sink)",
            f"{result.per_trace_span:,.0f} B",
            f"{result.trace_spans / result.requests:.0f}",
            f"{result.per_trace_span * result.trace_spans / result.requests:,.0f} B",
        ],
        [
            "during recording (Recorder + RawSpans)",
            f"{result.per_raw_span:,.0f} B",
            f"{result.raw_spans / result.requests:.0f}" if result.requests else "",
            f"{result.per_raw_span * result.raw_spans / result.requests:,.0f} B",
        ],
    ]
    say(table(["what", "bytes/span", "spans/request", "bytes/trace"], rows, "<>>>"))
    say(
        "object sizes (sys.getsizeof, shallow): "
        + ", ".join(f"{k} {v} B" for k, v in result.sizes.items())
    )
    say(f"app's own growth over the same requests (subtracted): {result.control_bytes:,} B")
    for note in result.notes:
        say(f"note: {note}")
    say()
    report.data["memory"] = {
        "bytes_per_trace_span": result.per_trace_span,
        "bytes_per_raw_span": result.per_raw_span,
        "sizes": result.sizes,
    }


# -- the store's writer ---------------------------------------------------------------------


def section_store(plan: Plan, report: Report) -> None:
    from benchmarks import store_cost

    say(f"== trace store: writer CPU per trace ({plan.store_traces} traces per case, tmpfs) ==")
    result = store_cost.run(plan.store_traces)
    rows = []
    for label in result.spans:
        rows.append(
            [
                f"{label} ({result.spans[label]} spans)",
                f"{result.persisted_us[label]:,.0f} µs",
                f"{result.budgeted_us[label]:,.1f} µs ({result.budget_kept[label]} kept)",
                *(f"{result.encode_us[e][label]:,.0f} µs" for e in result.encode_us),
            ]
        )
    encoders = [f"encode, {e}" for e in result.encode_us]
    say(
        table(
            ["trace", "persisted (budget=None)", "offered, default budget, load", *encoders],
            rows,
            "<>>" + ">" * len(encoders),
        )
    )
    say(
        f"process CPU from the first add() to the end of flush(), per trace; the writer "
        f"encodes with {result.encoder}. 'load': all {plan.store_traces} in one budget window."
    )
    say()
    report.data["store"] = {
        "persisted_us": result.persisted_us,
        "budgeted_us": result.budgeted_us,
        "budget_kept": result.budget_kept,
        "encode_us": result.encode_us,
        "encoder": result.encoder,
    }


# -- main ------------------------------------------------------------------------------------


def _environment() -> str:
    import fastapi
    import opentelemetry.instrumentation.fastapi as otel_fastapi
    import sqlalchemy
    import starlette
    import uvicorn

    otel_version = getattr(otel_fastapi, "__version__", None)
    if otel_version is None:
        from importlib.metadata import version

        otel_version = version("opentelemetry-instrumentation-fastapi")
    return (
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"fastapi {fastapi.__version__}, starlette {starlette.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, uvicorn {uvicorn.__version__}, "
        f"opentelemetry-instrumentation-fastapi {otel_version}"
    )


BENCH_DIR = ROOT / ".bench"
SA20_VENV = BENCH_DIR / "sqlalchemy-2.0"
_IN_VENV = "TRACE_REQUEST_BENCH_VENV"


def _reexec_with_sqlalchemy_20(argv: list[str]) -> None:
    """Re-run under ``.bench/sqlalchemy-2.0`` when this interpreter has SQLAlchemy >= 2.1.

    opentelemetry-instrumentation-sqlalchemy refuses 2.1, and the peers must
    record DB spans as we do. The venv holds only ``sqlalchemy<2.1``; a
    ``.pth`` file puts this interpreter's site-packages after it, so
    everything else (fastapi, OTel, this project) is the same install.
    Created once (one ``pip install``), reused after; on failure the run goes
    on here and the report says OTel has no DB spans.
    """
    import sqlalchemy

    if os.environ.get(_IN_VENV) or tuple(map(int, sqlalchemy.__version__.split(".")[:2])) < (
        2,
        1,
    ):
        return
    import subprocess
    import sysconfig

    python = SA20_VENV / "bin" / "python"
    try:
        if not python.exists():
            say(f"creating {SA20_VENV} (sqlalchemy<2.1 for OTel's SQLAlchemy instrumentation)")
            BENCH_DIR.mkdir(exist_ok=True)
            (BENCH_DIR / ".gitignore").write_text("*\n")
            subprocess.run([sys.executable, "-m", "venv", str(SA20_VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "sqlalchemy>=2.0,<2.1"], check=True
            )
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        parent = sysconfig.get_paths()["purelib"]
        Path(purelib, "zz_trace_request_bench.pth").write_text(
            f"import site; site.addsitedir({parent!r})\n"
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        say(f"note: could not prepare {SA20_VENV} ({exc}); running with SQLAlchemy 2.1")
        return
    sys.stdout.flush()
    env = dict(os.environ, **{_IN_VENV: "1"})
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *argv], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer rounds (< 2 min)")
    parser.add_argument(
        "--no-venv",
        action="store_true",
        help="run in this interpreter even with SQLAlchemy >= 2.1 (OTel then has no DB spans)",
    )
    parser.add_argument(
        "--skip", default="", help=f"comma-separated sections to skip: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--only", default="", help="comma-separated sections to run (default: all)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    plan = Plan(args.quick)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = (skip | only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    chosen = [s for s in SECTIONS if s not in skip and (not only or s in only)]
    if not args.no_venv and {"inprocess", "http"} & set(chosen):
        _reexec_with_sqlalchemy_20(sys.argv[1:] if argv is None else argv)

    report = Report()
    started = time.perf_counter()
    say(f"trace-request benchmarks — {'quick' if args.quick else 'full'} run")
    say(_environment())
    say()
    runners = {
        "inprocess": section_inprocess,
        "http": section_http,
        "startup": section_startup,
        "render": section_render,
        "memory": section_memory,
        "store": section_store,
    }
    for name in chosen:
        runners[name](plan, report)

    say("== targets ==")
    if args.quick:
        say("(quick run: too few rounds to judge a target by; the full run is the measurement)")
    for name, ok, detail in report.targets:
        say(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    elapsed = time.perf_counter() - started
    met = sum(ok for _, ok, _ in report.targets)
    say(f"\n{met}/{len(report.targets)} targets met; {elapsed:.0f} s")
    if args.json:
        report.data["targets"] = [
            {"target": n, "pass": ok, "measured": d} for n, ok, d in report.targets
        ]
        report.data["mode"] = "quick" if args.quick else "full"
        report.data["environment"] = _environment()
        report.data["seconds"] = elapsed
        Path(args.json).write_text(json.dumps(report.data, indent=2, default=str) + "\n")
    if args.strict and not all(ok for _, ok, _ in report.targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
