"""Throughput over real HTTP: uvicorn (one worker) on 127.0.0.1, a bounded asyncio load.

One server process per variant (``benchmarks/serve.py``), all started up front
on random free ports. Each round sends ``requests`` keep-alive ``GET /health``
requests at ``concurrency`` connections to each server in turn (order rotated
per round). The load generator is plain asyncio streams (HTTP/1.1 keep-alive,
Content-Length bodies): far cheaper per request than the server, so the
server is the bottleneck. Every loop is bounded by a request count and a
deadline, and the servers are terminated at the end.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import median, rotated

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class RoundResult:
    completed: int
    seconds: float
    server_cpu_s: float
    client_cpu_s: float
    latencies_ns: list[int]

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0


@dataclass
class HttpResult:
    variants: list[str]
    rounds: dict[str, list[RoundResult]] = field(default_factory=dict)
    requests: int = 0
    concurrency: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def rps(self, variant: str) -> float:
        return median([r.rps for r in self.rounds[variant]])

    def ratio(self, variant: str, base: str = "base") -> list[float]:
        """Throughput ratio to ``base``, per round."""
        return [
            v.rps / b.rps
            for v, b in zip(self.rounds[variant], self.rounds[base], strict=False)
            if b.rps
        ]

    def server_cpu_us(self, variant: str) -> float:
        return median(
            [r.server_cpu_s * 1e6 / r.completed for r in self.rounds[variant] if r.completed]
        )

    def p50_ms(self, variant: str) -> float:
        return median([median(r.latencies_ns) / 1e6 for r in self.rounds[variant]])


class Server:
    def __init__(self, variant: str) -> None:
        self.variant = variant
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "serve.py"), variant],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.port = 0

    def read_port(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("PORT "):
                self.port = int(line.split()[1])
                return
            if not line and self.proc.poll() is not None:
                break
        err = self.proc.stderr.read() if self.proc.stderr else ""
        raise RuntimeError(f"server {self.variant} did not start: {err[-2000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except OSError:
            return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n\r\n"


async def _connection(
    port: int, budget: list[int], deadline: float, latencies: list[int], errors: list[str]
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            t0 = time.perf_counter_ns()
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter_ns() - t0)
            if status != 200:
                errors.append(f"status {status}")
                break
            done += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    return done


async def _load(server: Server, requests: int, concurrency: int, max_seconds: float) -> RoundResult:
    budget = [requests]
    latencies: list[int] = []
    errors: list[str] = []
    cpu0 = server.cpu_seconds()
    client0 = time.process_time()
    t0 = time.perf_counter()
    deadline = time.monotonic() + max_seconds
    counts = await asyncio.gather(
        *(_connection(server.port, budget, deadline, latencies, errors) for _ in range(concurrency))
    )
    seconds = time.perf_counter() - t0
    result = RoundResult(
        completed=sum(counts),
        seconds=seconds,
        server_cpu_s=server.cpu_seconds() - cpu0,
        client_cpu_s=time.process_time() - client0,
        latencies_ns=latencies,
    )
    if errors:
        raise RuntimeError(f"{server.variant}: {errors[:3]}")
    return result


async def _wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await _load(server, 1, 1, 5.0)
            return
        except (OSError, asyncio.IncompleteReadError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def run_async(
    variants: list[str],
    rounds: int,
    requests: int,
    concurrency: int,
    warmup: int,
    max_seconds: float,
    log: object = print,
) -> HttpResult:
    servers = [Server(v) for v in variants]
    result = HttpResult(variants, {v: [] for v in variants}, requests, concurrency)
    started = time.perf_counter()
    try:
        for server in servers:
            server.read_port()
        for server in servers:
            await _wait_ready(server)
            await _load(server, warmup, concurrency, max_seconds)
        by_name = {s.variant: s for s in servers}
        for r in range(rounds):
            for name in rotated(variants, r):
                await asyncio.sleep(0.2)  # let the previous server's stragglers settle
                result.rounds[name].append(
                    await _load(by_name[name], requests, concurrency, max_seconds)
                )
            log(f"  HTTP round {r + 1}/{rounds} done ({time.perf_counter() - started:.0f} s)")  # type: ignore[operator]
    finally:
        for server in servers:
            server.stop()
    result.seconds = time.perf_counter() - started
    return result


def run(**kwargs: object) -> HttpResult:
    return asyncio.run(run_async(**kwargs))  # type: ignore[arg-type]


if __name__ == "__main__":  # pragma: no cover - manual use
    res = run(
        variants=["base", "full"],
        rounds=2,
        requests=1000,
        concurrency=16,
        warmup=200,
        max_seconds=60.0,
    )
    for v in res.variants:
        print(
            v,
            f"{res.rps(v):.0f} req/s",
            f"server {res.server_cpu_us(v):.0f} µs/req",
            f"p50 {res.p50_ms(v):.2f} ms",
        )
    print("ratio", res.ratio("full"))
