"""One uvicorn server (one worker) for the HTTP benchmark; started by ``http_load``.

    python benchmarks/serve.py VARIANT

Binds 127.0.0.1 on a free port, prints ``PORT <n>`` on stdout, then serves
``demo_app.main.create_app()`` in the given variant (base, full, unsampled,
otel) until it is terminated. Access logs are off for every variant.
"""

from __future__ import annotations

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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
