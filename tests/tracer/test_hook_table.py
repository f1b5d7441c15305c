"""The hook table matches the installed FastAPI / Starlette, and a mismatch is caught.

scripts/matrix.sh runs this on every FastAPI version of the matrix: a hook
point that is renamed, removed or given another signature fails here
instead of silently dropping (or mislabelling) a phase.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any

import fastapi
import fastapi.dependencies.utils as dep_utils
import fastapi.routing
import pytest
from fastapi import Depends, FastAPI

import tracer
from tests.tracer.helpers import names, request
from tracer import safety
from tracer.capture.hooks import table
from tracer.capture.hooks.patching import ORIGINAL_ATTR, Patcher, is_ours
from tracer.capture.hooks.points import HookPoint, Target, Version, check, install, prepare

#: the installed FastAPI, in full (``0.115.14`` -> ``(0, 115, 14)``)
VERSION: Version = tuple(int(part) for part in fastapi.__version__.split(".")[:3])


def current_user(n: int) -> str:
    return f"user{n}"


def problems() -> list[str]:
    return check(table.HOOKS, VERSION)


def test_every_hook_point_matches_the_installed_fastapi() -> None:
    assert problems() == []


def ours_in(function: Any) -> bool:
    """Whether our wrapper is ``function`` or under it (another instrumentation, such as
    OpenTelemetry's FastAPIInstrumentor, may have wrapped it again since)."""
    return is_ours(function)


def test_every_hook_point_is_patched_once_an_app_is_instrumented() -> None:
    tracer.instrument(FastAPI())
    for point in table.HOOKS:
        if not point.patch:  # a reader row: FastAPI's function is called, never replaced
            continue
        meant = [t for t in point.targets if t.applies_to(VERSION)]
        for target in meant:
            _owner, _attr, current = target.locate()
            assert ours_in(current), target.where


def test_the_check_reports_a_removed_hook_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(fastapi.routing, "run_endpoint_function")
    assert problems() == [
        "handler: fastapi.routing.run_endpoint_function not found in this version"
    ]


def test_the_check_reports_a_renamed_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run_endpoint_function(*, dependent: Any, values: Any, is_coroutine: bool) -> Any:
        raise AssertionError("never called")

    monkeypatch.setattr(fastapi.routing, "run_endpoint_function", run_endpoint_function)
    assert problems() == [
        "handler: fastapi.routing.run_endpoint_function has no parameter 'dependant' "
        "in this version"
    ]


def test_the_check_reports_a_moved_positional_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio.to_thread

    async def run_sync(limiter: Any, func: Any, *args: Any) -> Any:
        raise AssertionError("never called")

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    assert problems() == [
        "threadpool (app code): anyio.to_thread.run_sync no longer takes 'func' as "
        "positional parameter 0 in this version"
    ]


def test_the_check_reports_a_function_that_became_async(monkeypatch: pytest.MonkeyPatch) -> None:
    async def request_params_to_args(fields: Any, received_params: Any) -> Any:
        raise AssertionError("never called")

    monkeypatch.setattr(dep_utils, "request_params_to_args", request_params_to_args)
    assert problems() == [
        "validation: fastapi.dependencies.utils.request_params_to_args is no longer "
        "a plain function in this version"
    ]


def test_version_dependent_alternatives_are_checked_for_their_own_versions() -> None:
    """The yield hook is ``solve_generator(*, call, ...)`` before 0.121, ``_solve_generator``
    from 0.121: checking the table for the other era names the one this FastAPI lacks."""
    (point,) = [p for p in table.HOOKS if p.label == "dependency (yield)"]
    resolved = prepare(point)
    assert resolved.problem is None and resolved.target is not None
    if VERSION >= (0, 121):
        assert resolved.target.qualname == "_solve_generator"
        assert check([point], (0, 120, 0)) == [
            "dependency (yield): fastapi.dependencies.utils.solve_generator "
            "not found in this version"
        ]
    else:
        assert resolved.target.qualname == "solve_generator"
        assert check([point], (0, 121, 0)) == [
            "dependency (yield): fastapi.dependencies.utils._solve_generator "
            "not found in this version"
        ]


def test_an_inherited_attribute_is_optional_before_its_version() -> None:
    (point,) = [p for p in table.HOOKS if p.targets[0].qualname == "APIRoute.handle"]
    assert point.optional
    assert check([point], (0, 136, 0)) == []  # inherits Route.handle: nothing to patch
    expected = (
        []
        if VERSION >= (0, 137)
        else ["routing: fastapi.routing.APIRoute.handle not found in this version"]
    )
    assert check([point], (0, 137, 0)) == expected


# -- on a user's machine: one warning, no wrong span -----------------------------------------


@pytest.fixture
def unpatched_dependency_group(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[HookPoint]]:
    """The dependency group's targets put back to FastAPI's own functions for this test
    (other tests leave the process-wide hooks installed); monkeypatch restores ours."""
    tracer.instrument(FastAPI())  # installed process-wide first, whatever ran before
    group = [p for p in table.HOOKS if p.group == "dependency"]
    for point in group:
        for target in point.targets:
            owner, attr, current = target.locate()
            if current is not None:
                monkeypatch.setattr(owner, attr, getattr(current, ORIGINAL_ATTR, current))
    safety.reset()
    yield group
    safety.reset()


@pytest.mark.anyio
async def test_a_renamed_parameter_degrades_to_one_warning_and_no_wrong_span(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    unpatched_dependency_group: list[HookPoint],
) -> None:
    real = dep_utils.request_params_to_args

    def request_params_to_args(fields_: Any, received_params: Any) -> Any:  # renamed
        return real(fields_, received_params)

    monkeypatch.setattr(dep_utils, "request_params_to_args", request_params_to_args)
    patcher = Patcher()
    with caplog.at_level(logging.WARNING, logger="trace_request"):
        installed = install(patcher, table.HOOKS, table.GROUPS)
    try:
        warnings = [r.getMessage() for r in caplog.records if r.name == "trace_request"]
        assert warnings == [
            "trace-request: fastapi.dependencies.utils.request_params_to_args has no "
            "parameter 'fields' in this version: the dependency phase (and parameter "
            "validation) is not recorded."
        ]
        for point in unpatched_dependency_group:  # the whole group, not just the broken one
            for target in point.targets:
                assert target.where not in installed
                _owner, _attr, current = target.locate()
                assert current is None or getattr(current, ORIGINAL_ATTR, None) is None
        app = FastAPI()

        @app.get("/items/{n}")
        async def item(n: int, user: Annotated[str, Depends(current_user)]) -> dict[str, Any]:
            return {"n": n, "user": user}

        response, trace = await request(app, "GET", "/items/3")
        assert response.json() == {"n": 3, "user": "user3"}
        assert [s for s in trace.spans if s.phase == "dependency"] == []
        assert "validate path" not in names(trace)
        assert "item" in names(trace, "handler")  # the other phases still recorded
        assert len([r for r in caplog.records if r.name == "trace_request"]) == 1
    finally:
        patcher.restore()


def test_a_wrapper_that_fails_to_build_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(original: Any, binding: Any) -> Any:
        raise RuntimeError("bug in a factory")

    point = HookPoint(
        "handler",
        "handler",
        6,
        "-",
        (Target(__name__, "current_user", reads=("n",)),),
        broken,
        asynchronous=False,
    )
    assert check([point], VERSION) == [
        f"handler: {__name__}.current_user could not be wrapped (RuntimeError: bug in a factory)"
    ]
    safety.reset()
    try:
        with caplog.at_level(logging.WARNING, logger="trace_request"):
            assert install(Patcher(), [point], {}) == set()
        assert len([r for r in caplog.records if r.name == "trace_request"]) == 1
        assert current_user(1) == "user1"  # untouched
    finally:
        safety.reset()


def test_our_wrapper_is_found_under_a_closure_wrapper(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenTelemetry's instrumentation wraps BackgroundTask.__call__ in a closure; a second
    instrument() must see ours inside it and not wrap it again (two spans per task)."""
    from starlette.background import BackgroundTask

    tracer.instrument(FastAPI())
    ours = BackgroundTask.__call__

    async def closure_wrapper(self: BackgroundTask) -> None:
        return await ours(self)

    monkeypatch.setattr(BackgroundTask, "__call__", closure_wrapper)
    assert is_ours(BackgroundTask.__call__)
    tracer.instrument(FastAPI())
    assert BackgroundTask.__call__ is closure_wrapper  # not wrapped a second time
