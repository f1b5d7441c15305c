"""``instrument(app, record_logs=...)``: the app's log records as events on the running span."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI

import tracer
from tests.tracer.helpers import find, request
from tracer.capture import app_output
from tracer.capture.recorder import Recorder, current
from tracer.model import Trace

pytestmark = pytest.mark.anyio

log = logging.getLogger("tests.app_logs")
LOGGER = {"logger": "tests.app_logs", "level": "WARNING"}


async def current_user() -> str:
    log.warning("token for %s expires soon", "ada")
    return "ada"


def audit(user: str) -> None:
    log.error("audit write failed for %s", user)


def make_app(**options: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(
        tasks: BackgroundTasks, user: Annotated[str, Depends(current_user)]
    ) -> dict[str, str]:
        log.info("handler ran")
        log.warning("password=hunter2 rejected for user 'ada'")
        tasks.add_task(audit, user)
        return {"user": user}

    @app.get("/chatty")
    async def chatty() -> dict[str, int]:
        for i in range(60):
            log.warning("line %d", i)
        return {"lines": 60}

    tracer.instrument(app, store=False, record_url_values=True, **options)
    return app


@pytest.fixture
def logs_at_debug() -> Iterator[None]:
    """The logger lets every record through; record_logs alone decides what is kept."""
    before = log.level
    log.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        log.setLevel(before)


@pytest.fixture
def app_with(logs_at_debug: None) -> Iterator[Any]:
    apps: list[FastAPI] = []

    def build(**options: Any) -> FastAPI:
        apps.append(make_app(**options))
        return apps[-1]

    yield build
    for app in apps:
        tracer.uninstrument(app)


def log_events(trace: Trace) -> list[tuple[str, dict[str, Any]]]:
    return [(s.name, e.attributes) for s in trace.spans for e in s.events if e.name == "log"]


async def test_warnings_are_recorded_on_the_span_running_when_they_were_logged(
    app_with: Any,
) -> None:
    _, trace = await request(app_with(record_logs="WARNING"), "GET", "/me")
    events = log_events(trace)
    assert [(span, e["level"], e["text"]) for span, e in events] == [
        ("current_user", "WARNING", "token for ada expires soon"),
        ("me", "WARNING", "password=… rejected for user '…'"),  # scrubbed like any text
        ("threadpool audit", "ERROR", "audit write failed for ada"),  # a def task: in a thread
    ]
    assert all(e["logger"] == "tests.app_logs" for _, e in events)
    assert find(trace, "threadpool audit").phase == "background"
    assert trace.meta["app_output"] == {"events": 3, "chars": 84, "dropped": 0}
    assert "hunter2" not in trace.to_json()


async def test_true_records_info_and_up(app_with: Any) -> None:
    _, trace = await request(app_with(record_logs=True), "GET", "/me")
    assert ("me", "INFO", "handler ran") in [
        (span, e["level"], e["text"]) for span, e in log_events(trace)
    ]


async def test_nothing_is_recorded_when_off(app_with: Any) -> None:
    _, trace = await request(app_with(), "GET", "/me")
    assert log_events(trace) == []
    assert "app_output" not in trace.meta


async def test_a_request_keeps_at_most_the_cap_and_counts_the_rest(app_with: Any) -> None:
    _, trace = await request(app_with(record_logs="WARNING"), "GET", "/chatty")
    assert len(log_events(trace)) == app_output.MAX_EVENTS
    assert trace.meta["app_output"]["dropped"] == 60 - app_output.MAX_EVENTS


def test_a_record_that_cannot_be_formatted_is_kept_as_its_template(app_with: Any) -> None:
    app_with(record_logs="WARNING")
    rec = Recorder()
    span = rec.open("GET /broken", "asgi", 1, -1)
    token = current.set(rec)
    try:  # logging's own formatting error must not surface where the app logs
        record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "%d items", ("x",), None)
    finally:
        current.reset(token)
    assert record.msg == "%d items"
    assert span.events == [("log", span.events[0][1], {**LOGGER, "text": "%d items"})]


def test_no_handler_is_added_so_basic_config_still_works(app_with: Any) -> None:
    before = list(logging.getLogger().handlers)
    app = app_with(record_logs="WARNING")
    assert logging.getLogger().handlers == before  # basicConfig() would still configure
    assert logging.getLogRecordFactory() is not logging.LogRecord
    tracer.uninstrument(app)
    assert logging.getLogRecordFactory() is logging.LogRecord


def test_outside_a_request_a_record_is_left_alone(app_with: Any) -> None:
    app_with(record_logs="DEBUG")
    record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "idle", (), None)
    assert record.getMessage() == "idle"


def test_record_logs_takes_a_level_name_or_number() -> None:
    assert app_output.level_of(False) is None
    assert app_output.level_of(True) == logging.INFO
    assert app_output.level_of("warning") == logging.WARNING
    assert app_output.level_of(logging.ERROR) == logging.ERROR
    with pytest.raises(ValueError, match="unknown level"):
        app_output.level_of("LOUD")
