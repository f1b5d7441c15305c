"""An app that prints and logs everywhere: lifespan, middleware, dependencies, handler, task.

``trace-request … --app tests.cli.noisy_app:app`` must keep its machine
output clean however much of this the app writes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, Request

log = logging.getLogger("noisy")
log.setLevel(logging.INFO)
# an app that configured logging at import: a handler bound to the real stdout
_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
log.addHandler(_handler)

print("noisy: imported")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    print("noisy: starting up")
    yield
    print("noisy: shutting down", file=sys.stderr)


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def shout(request: Request, call_next: Any) -> Any:
    if request.url.path.startswith("/signup"):
        print("middleware: before")
    return await call_next(request)


async def current_user() -> str:
    print("dependency: looking up the user")
    log.warning("dependency: token expires soon")
    return "ada"


def settings() -> dict[str, str]:  # a def dependency: runs in a worker thread
    print("threaded dependency: reading settings")
    return {"mode": "test"}


def welcome(user: str) -> None:
    print(f"background: welcome mail for {user}")
    log.info("background: mail queued")


@app.post("/signup")
async def signup(
    tasks: BackgroundTasks,
    user: Annotated[str, Depends(current_user)],
    config: Annotated[dict[str, str], Depends(settings)],
) -> dict[str, str]:
    print("handler: creating user", user)
    sys.stderr.write("handler: to stderr\n")
    print("handler: password=hunter2-secret token=abcDEF1234567890xyz")
    tasks.add_task(welcome, user)
    return {"user": user}


@app.get("/flood")
async def flood() -> dict[str, int]:
    for i in range(120):
        print(f"flood line {i}")
    return {"lines": 120}
