"""The real-app corpus (tests/corpus), recorded once per session for these checks too."""

import pytest

from tests.corpus.registry import CorpusTrace, record_corpus


@pytest.fixture(scope="session")
def corpus() -> list[CorpusTrace]:
    return record_corpus()
