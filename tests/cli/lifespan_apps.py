"""Apps for ``trace-request --lifespan --app tests.cli.lifespan_apps:…``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


class BootError(RuntimeError):
    pass


@asynccontextmanager
async def _failing(app: FastAPI) -> AsyncIterator[None]:
    print("connecting to the config service")
    raise BootError("the config service is down")
    yield


#: startup raises: the trace is drawn, then the CLI exits 1
failing = FastAPI(lifespan=_failing)
