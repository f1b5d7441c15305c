"""Finding the app to trace: ``module:attr`` (an app or a factory), the demo by default."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Any

from tracer.cli.errors import CLIError

DEMO_APP = "tracer.demo_app.main:create_app"


def load_app(spec: str | None) -> Any:
    """Import ``module:attr`` the way uvicorn does (current directory importable)."""
    spec = spec or DEMO_APP
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CLIError(f"--app must look like module:attribute, got {spec!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CLIError(f"--app: cannot import module {module_name!r}") from exc
        raise CLIError(f"--app: importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise CLIError(
            f"--app: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise CLIError(f"--app: module {module_name!r} has no attribute {attr!r}") from exc
    if inspect.isfunction(target) or (inspect.isclass(target) and not _is_asgi_app(target)):
        try:
            target = target()
        except Exception as exc:
            raise CLIError(f"--app: factory {spec} raised {type(exc).__name__}: {exc}") from exc
    if not _is_asgi_app(target):
        raise CLIError(f"--app: {spec} is a {type(target).__name__}, not an ASGI app")
    if not (hasattr(target, "build_middleware_stack") and hasattr(target, "router")):
        raise CLIError(
            f"--app: {spec} is an ASGI app but not FastAPI or Starlette; only those can be traced"
        )
    return target


def _is_asgi_app(obj: Any) -> bool:
    call = getattr(obj, "__call__", None)  # noqa: B004
    return not inspect.isclass(obj) and call is not None and inspect.iscoroutinefunction(call)
