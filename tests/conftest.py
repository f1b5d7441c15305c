"""Suite-wide fixtures.

With ``TRACE_REQUEST_INSTRUMENT_DEMO=1`` every demo app the tests create is
instrumented: the demo's own suite then proves the tracer changes nothing
(``tests/tracer/test_demo_unchanged.py`` runs it that way).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # apps instrumented with the default store write here, never to the user's cache
    import tempfile

    store_dir = tempfile.mkdtemp(prefix="trace-request-tests-")
    os.environ["TRACE_REQUEST_STORE"] = os.path.join(store_dir, "traces.db")
    # a database the developer's shell points at is not the demo's (tests/db asks for
    # PostgreSQL explicitly, through TRACE_REQUEST_TEST_POSTGRES)
    for name in ("DATABASE_URL", "DEMO_DATABASE_URL", "DEMO_DATABASE_SCHEMA"):
        os.environ.pop(name, None)
    if os.environ.get("TRACE_REQUEST_INSTRUMENT_DEMO") == "1":
        import tracer
        import tracer.demo_app.main

        original = tracer.demo_app.main.create_app

        def create_app(*args: Any, **kwargs: Any) -> Any:
            return tracer.instrument(original(*args, **kwargs))

        tracer.demo_app.main.create_app = create_app  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _no_tracer_leaks() -> Iterator[None]:
    """Each test leaves no recorder, fake clock or global sink behind."""
    from tracer.capture import clock, instrumentation, recorder

    yield
    clock.reset()
    assert recorder.current.get() is None
    assert not instrumentation._global_sinks, "a capture() block was left open"
