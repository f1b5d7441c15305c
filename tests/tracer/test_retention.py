"""Nothing the tracer keeps refers to a request's objects once the request is over.

Regression (issue 13, finding 1): span names were cached by the callable a
hook saw, and ``run_in_threadpool`` hands each call over as a fresh
``functools.partial`` holding its arguments, so the last 1024 calls'
arguments stayed alive (150 requests each passing a 5 MB body: 940 MB RSS).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from tests.tracer.helpers import names, request

pytestmark = pytest.mark.anyio

#: one weak reference per large object a request created
alive: list[weakref.ref[Big]] = []


class Big:
    """A large, weakly referenceable argument (a request body, a file, a result set)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.payload = bytearray(1_000_000)
        alive.append(weakref.ref(self))


def checksum(big: Big) -> int:
    return len(big.payload)


def store_later(big: Big) -> None:
    big.payload[0] = 1


def load_big() -> Big:  # a ``def`` dependency: called through the threadpool
    return Big("sync dependency")


async def open_big() -> Iterator[Big]:  # a yield dependency
    yield Big("yield dependency")


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/upload")
    async def upload(
        tasks: BackgroundTasks,
        loaded: Annotated[Big, Depends(load_big)],
        opened: Annotated[Big, Depends(open_big)],
    ) -> dict[str, int]:
        argument = Big("threadpool argument")
        size = await run_in_threadpool(checksum, argument)
        tasks.add_task(store_later, Big("background task argument"))
        tasks.add_task(store_later, loaded)
        return {"size": size + len(opened.payload)}

    return app


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    alive.clear()
    yield
    alive.clear()


async def test_request_arguments_are_not_kept_alive_after_the_request() -> None:
    app = make_app()
    traces = []
    for _ in range(3):
        response, trace = await request(app, "POST", "/upload")
        assert response.status_code == 200
        traces.append(trace)  # the traces themselves are kept, as a sink would
    # the request really went through the hooks that see these objects (a sync background
    # task runs through the threadpool hook; BackgroundTask.__call__ itself may be wrapped
    # over by OpenTelemetry's FastAPIInstrumentor in other tests of this process)
    seen = set(names(trace))
    assert {"load_big", "open_big", "threadpool checksum", "threadpool store_later"} <= seen
    assert len(alive) == 3 * 4
    gc.collect()
    kept = sorted(ref().label for ref in alive if ref() is not None)  # type: ignore[union-attr]
    assert kept == []
