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

SECTIONS = ("inprocess", "http", "startup", "render", "memory")


class Plan:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.inprocess_rounds = 3 if quick else 11
        self.inprocess_scale = 0.25 if quick else 1.0
        self.inprocess_warmup = 15 if quick else 40
        self.http_variants = (
            ["base", "full"] if quick else ["base", "full", "unsampled", "otel", "store"]
        )
        self.http_rounds = 2 if quick else 5
        self.http_requests = 500 if quick else 2000
        self.http_concurrency = 16
        self.startup_rounds = 2 if quick else 9
        self.render_repeats = 2 if quick else 5
        self.memory_requests = 60 if quick else 300


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


def section_inprocess(plan: Plan, report: Report) -> None:
    from benchmarks import inprocess
    from benchmarks.apps import INPROCESS_VARIANTS, VARIANT_LABELS

    say("== in-process: endpoint × variant (httpx.ASGITransport, interleaved) ==")
    result = asyncio.run(
        inprocess.run(plan.inprocess_rounds, plan.inprocess_scale, plan.inprocess_warmup, say)
    )
    rows = []
    data: dict[str, Any] = {}
    for ep in result.endpoints:
        base = result.samples[(ep.key, "base")]
        otel = result.samples[(ep.key, "otel")]
        for name in INPROCESS_VARIANTS:
            cell = result.samples[(ep.key, name)]
            ratios = ratio_per_round(cell, base)
            mean_ratios = ratio_per_round(cell, base, means=True)
            overhead = (
                overhead_ratio_per_round(cell, otel, base) if name in ("full", "unsampled") else []
            )
            spans = result.spans_per_request[(ep.key, name)]
            rows.append(
                [
                    ep.label if name == "base" else "",
                    VARIANT_LABELS[name],
                    fmt_us(cell.median_ns),
                    fmt_ratio(median(ratios)) if name != "base" else "1",
                    _iqr(ratios) if name != "base" else "",
                    fmt_us(cell.mean_ns),
                    fmt_ratio(median(mean_ratios)) if name != "base" else "1",
                    f"{median(overhead):.2f}" if overhead else "",
                    f"{spans:.0f}" if name != "base" else "",
                ]
            )
            data[f"{ep.key}/{name}"] = {
                "median_us": cell.median_ns / 1000,
                "mean_us": cell.mean_ns / 1000,
                "ratio": median(ratios),
                "ratio_iqr": spread(ratios),
                "ratio_mean": median(mean_ratios),
                "overhead_vs_otel": median(overhead) if overhead else None,
                "overhead_vs_otel_rounds": overhead,
                "spans_per_request": spans,
                "requests": cell.requests,
            }
    say(
        table(
            [
                "endpoint",
                "variant",
                "median/req",
                "ratio",
                "ratio IQR",
                "mean/req",
                "ratio(mean)",
                "(ours−base)/(otel−base)",
                "spans/req",
            ],
            rows,
            "<<>><>>>>",
        )
    )
    say(
        f"{result.rounds} rounds, {result.seconds:.0f} s. median/req: median over rounds of "
        "each round's median request; ratio: median over rounds of the same-round ratio "
        "(IQR across rounds); mean/req includes GC pauses."
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

    for key, label in (("health", "GET /health"), ("post_users_cheap", "POST /users")):
        value = cell(f"{key}/full")["overhead_vs_otel"]
        suffix = " (1-iteration hash, where the tracer's cost is visible)" if "users" in key else ""
        report.target(
            f"full overhead ≤ 1/3 of OTel's, {label}{suffix}",
            value is not None and value <= 1 / 3,
            f"(ours−base)/(otel−base) = {value:.2f}" if value is not None else "no data",
        )
    shipped = cell("post_users/full")["overhead_vs_otel"]
    if shipped is not None:
        say(
            f"info: POST /users as shipped: (ours−base)/(otel−base) = {shipped:.2f} — both "
            "overheads are well inside the round-to-round spread of a 100k-iteration PBKDF2 "
            "request, so this figure is noise; the target is judged on the cheap-hash variant."
        )
    health = cell("health/full")["ratio"]
    report.target("in-process GET /health, full ≤ 1.25× baseline", health <= 1.25, f"{health:.3f}×")
    users = cell("post_users/full")["ratio"]
    report.target(
        "in-process POST /users (as shipped), full ≤ 1.05× baseline", users <= 1.05, f"{users:.3f}×"
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
    from benchmarks import http_load
    from benchmarks.apps import VARIANT_LABELS

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
    full = data["full"]["ratio"]
    report.target(
        "HTTP GET /health throughput, full ≥ 0.90× baseline", full >= 0.90, f"{full:.3f}×"
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
        ],
        [
            "during recording (Recorder + RawSpans)",
            f"{result.per_raw_span:,.0f} B",
            f"{result.raw_spans / result.requests:.0f}" if result.requests else "",
        ],
    ]
    say(table(["what", "bytes/span", "spans/request"], rows, "<>>"))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer rounds (< 60 s)")
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
