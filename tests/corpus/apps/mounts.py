"""Mounts: ``StaticFiles`` on a directory, a mounted FastAPI sub-application, an SPA fallback.

The SPA fallback is the common catch-all ``/{full_path:path}`` route returning
``index.html``, declared last so the API and the mounts win.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

#: a fixed mtime, so ``last-modified``/``etag`` are the same in every run
FILE_TIME = 1_700_000_000


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (FILE_TIME, FILE_TIME))


def create_app(workdir: Path) -> FastAPI:
    static = workdir / "static"
    dist = workdir / "dist"
    _write(static / "hello.txt", "hello from a static file\n")
    _write(static / "css" / "site.css", "body { margin: 0; }\n")
    _write(dist / "index.html", "<!doctype html><div id=app></div>\n")

    sub = FastAPI(title="admin sub-application")

    @sub.get("/items/{item_id}")
    async def sub_item(item_id: int) -> dict[str, object]:
        return {"item": item_id, "app": "sub"}

    @sub.get("/")
    def sub_root() -> dict[str, str]:
        return {"app": "sub"}

    app = FastAPI(title="mounts")

    @app.get("/api/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    app.mount("/static", StaticFiles(directory=static), name="static")
    app.mount("/admin", sub, name="admin")

    index = dist / "index.html"

    @app.get("/{full_path:path}", include_in_schema=False)
    async def spa(full_path: str) -> FileResponse:
        return FileResponse(index)

    return app
