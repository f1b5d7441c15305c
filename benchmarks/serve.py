"""One uvicorn server (one worker) for the HTTP benchmark; started by ``http_load``.

    python benchmarks/serve.py VARIANT

Binds 127.0.0.1 on a free port, prints ``PORT <n>`` on stdout, then serves
``tracer.demo_app.main.create_app()`` in the given variant (base, full, unsampled,
otel) until it is terminated. Access logs are off for every variant.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    import uvicorn

    from benchmarks.apps import make_variant

    name = sys.argv[1]
    variant = make_variant(name, keep_otel_spans=False)
    profile_to = os.environ.get("BENCH_PROFILE_DIR")
    if profile_to:  # where a server's CPU goes: cProfile of the whole run, written at exit
        import atexit
        import cProfile

        profiler = cProfile.Profile()
        path = os.path.join(profile_to, f"{name}.prof")
        atexit.register(lambda: (profiler.disable(), profiler.dump_stats(path)))
        profiler.enable()
    # proto=IPPROTO_TCP as asyncio's own create_server gives: accepted sockets inherit it, and
    # asyncio sets TCP_NODELAY only on those (with proto 0, Nagle + delayed ACK add ~40 ms)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        variant.app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        workers=1,
    )
    # uvicorn re-raises SIGTERM after its graceful shutdown: exit normally then, so the
    # benchmark's scratch database (atexit) is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
