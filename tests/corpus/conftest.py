"""The corpus is recorded once per test session (a few seconds) and shared by every test."""

import pytest

from tests.corpus.driver import Answer
from tests.corpus.registry import CorpusTrace, drive_corpus, record_corpus


@pytest.fixture(scope="session")
def corpus() -> list[CorpusTrace]:
    """One traced response per corpus request (``concurrency`` copies count separately)."""
    return record_corpus()


@pytest.fixture(scope="session")
def untraced_answers() -> dict[str, list[Answer]]:
    """The same requests sent to the same apps without the tracer: ``{"app:label": answers}``."""
    return {f"{e.app}:{e.request.label}": e.answers for e in drive_corpus(traced=False)}


@pytest.fixture(scope="session")
def fastapi_routes() -> dict[str, list[str | None]]:
    """The route templates FastAPI's native telemetry resolves; skipped on FastAPI without it."""
    from tests.corpus.oracle import fastapi_routes as resolve

    routes = resolve()
    if routes is None:
        pytest.skip("this FastAPI has no native telemetry to resolve route templates")
    return routes
