"""A real uvicorn server with the tracer embedded: load, the store bound, tail, --url."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tracer.sinks.store import TraceStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MAX_TRACES = 60
ENDPOINT_SECRET = "live-test-endpoint-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script() -> str:
    found = shutil.which("trace-request", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.skip("the console script is not installed")
    return found


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


SERVER_PIDS: dict[str, int] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    store = tmp_path_factory.mktemp("live") / "traces.db"
    port = _free_port()
    env = {
        **os.environ,
        "TRACE_REQUEST_STORE": str(store),
        "TRACE_REQUEST_MAX_TRACES": str(MAX_TRACES),
        "TRACE_REQUEST_ENDPOINT_SECRET": ENDPOINT_SECRET,
    }
    log = (store.parent / "uvicorn.log").open("w")  # a pipe nobody reads would fill and block
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.live.served_app:app",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"uvicorn did not start: {(store.parent / 'uvicorn.log').read_text()}")
    SERVER_PIDS[base] = process.pid
    try:
        yield base, store
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


MIX = [
    ("GET", "/health", 200),
    ("GET", "/users/1", 200),
    ("GET", "/search?q=p", 422),
    ("GET", "/users/me", 401),
    ("GET", "/boom", 500),
    ("GET", "/stream", 200),
    ("GET", "/nowhere", 404),
]


async def _mixed_load(base: str, count: int) -> list[tuple[int, int]]:
    """``count`` concurrent requests over MIX plus sign-ups: ``(status, expected)`` each."""
    limits = httpx.Limits(max_connections=10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=20) as client:

        async def one(i: int) -> tuple[int, int]:
            method, path, expected = MIX[i % len(MIX)]
            if i % 10 == 9:  # a sign-up: PBKDF2 in the threadpool, a background task
                email = f"load{i}-{os.urandom(4).hex()}@example.com"
                response = await client.post(
                    "/users", json={"email": email, "password": "long-enough"}
                )
                return response.status_code, 201
            # uvicorn closes the connection after an unhandled error: a request queued
            # behind it on the same keep-alive connection fails with or without a tracer
            headers = {"connection": "close"} if expected == 500 else {}
            response = await client.request(method, path, headers=headers)
            return response.status_code, expected

        return await asyncio.gather(*(one(i) for i in range(count)))


def test_serves_a_concurrent_mixed_load_and_keeps_the_last_n(server: tuple[str, Path]) -> None:
    base, store_path = server
    results = asyncio.run(_mixed_load(base, 210))
    assert [got for got, _ in results] == [want for _, want in results]
    store = TraceStore(store_path)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and store.count() < MAX_TRACES:
        time.sleep(0.1)
    time.sleep(0.3)  # let the writer finish its last batch
    assert store.count() == MAX_TRACES
    newest = store.list(limit=MAX_TRACES)
    assert {row.status for row in newest} <= {200, 201, 401, 404, 422, 500}
    # each stored trace holds exactly its own request's spans
    for row in newest[:15]:
        trace = store.get(row.trace_id)
        assert trace is not None
        assert trace.root.attributes["url.path"] == row.path
        assert all(trace.root.start_ns <= s.start_ns <= trace.root.end_ns for s in trace.spans)


def test_url_sends_a_real_request_and_draws_its_trace(server: tuple[str, Path]) -> None:
    base, store_path = server
    result = subprocess.run(
        [
            _script(),
            "GET",
            "/users/2",
            "--url",
            base,
            "--store",
            str(store_path),
            "--format",
            "tree",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "GET /users/{user_id}" in result.stdout
    assert "SELECT users" in result.stdout
    assert "HTTP 200" in result.stderr or "HTTP 200" in result.stdout


def test_url_without_the_store_fetches_the_trace_from_the_endpoint(
    server: tuple[str, Path],
) -> None:
    base, _store_path = server
    env = {k: v for k, v in os.environ.items() if k != "TRACE_REQUEST_STORE"}
    result = subprocess.run(
        [_script(), "GET", "/items/1", "--url", base, "--format", "tree", "--no-color"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "TRACE_REQUEST_ENDPOINT_SECRET": ENDPOINT_SECRET},
    )
    assert result.returncode == 0, result.stderr
    assert "GET /items/{item_id}" in result.stdout
    wrong = subprocess.run(
        [_script(), "GET", "/items/1", "--url", base],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "TRACE_REQUEST_ENDPOINT_SECRET": "not-the-servers-secret"},
    )
    assert wrong.returncode == 1
    assert "401" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_tail_shows_traces_as_they_arrive(server: tuple[str, Path]) -> None:
    base, store_path = server
    tail = subprocess.Popen(
        [_script(), "tail", "--store", str(store_path), "--format", "tree", "--no-color"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # tail starts after what is already stored
        for item_id in (1, 2, 3):
            assert httpx.get(f"{base}/items/{item_id}", timeout=10).status_code == 200
        time.sleep(2.0)
    finally:
        tail.send_signal(signal.SIGINT)
        out, err = tail.communicate(timeout=15)
    assert tail.returncode == 130, err  # Ctrl-C: the shell's convention, 128 + SIGINT
    assert "Traceback" not in err
    assert out.count("GET /items/{item_id}") >= 3
    assert "GET /health" not in out, "tail shows only what arrives after it started"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_memory_stays_flat_under_repeated_load(server: tuple[str, Path]) -> None:
    """A short soak: after warm-up, more rounds of mixed load do not grow the server."""
    base, _ = server

    def round_() -> None:
        results = asyncio.run(_mixed_load(base, 300))
        assert [got for got, _ in results] == [want for _, want in results]

    round_()  # warm-up: caches, pools, the store's ring fills up
    round_()
    before = _rss_kib(SERVER_PIDS[base])
    # 4 rounds in the suite; TRACE_REQUEST_SOAK_ROUNDS=500 makes it a long soak (docs/security.md)
    for _ in range(int(os.environ.get("TRACE_REQUEST_SOAK_ROUNDS", "4"))):
        round_()
    after = _rss_kib(SERVER_PIDS[base])
    # 300 traced requests a round (the mix above): a leak of 10 kB each would add 12 MB in 4
    assert after - before < 8 * 1024, f"RSS grew from {before} to {after} KiB"
