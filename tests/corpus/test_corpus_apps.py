"""The corpus itself is right: every app answers what the registry says, traced or not.

The tracer must not change behaviour: with and without it, each request gets
the same status, the same body and the same headers, except the tracer's own
(``x-trace-id``, ``traceparent``, ``server-timing``).
"""

import re
from collections import Counter

import pytest

from tests.corpus.driver import Answer
from tests.corpus.registry import APPS, CorpusRequest, CorpusTrace

TRACER_HEADERS = frozenset({"x-trace-id", "traceparent", "server-timing"})

CASES = [
    pytest.param(app.name, request, id=f"{app.name}:{request.label}")
    for app in APPS
    for request in app.requests
]


def _traced(corpus: list[CorpusTrace], app: str, request: CorpusRequest) -> list[CorpusTrace]:
    return [ct for ct in corpus if ct.app == app and ct.request is request]


def _app_headers(answer: Answer) -> list[tuple[str, str]]:
    return [(name, value) for name, value in answer.headers if name not in TRACER_HEADERS]


def _sorted_bodies(answers: list[Answer]) -> list[bytes]:
    return sorted(answer.body for answer in answers)


def test_corpus_size_and_shapes(corpus: list[CorpusTrace]) -> None:
    assert len(corpus) >= 40
    per_app = Counter(ct.app for ct in corpus)
    assert set(per_app) == {app.name for app in APPS}
    assert sum(ct.clean for ct in corpus) >= 30
    statuses = {ct.status for ct in corpus}
    assert {200, 201, 400, 401, 403, 404, 422, 500} <= statuses


def test_request_labels_are_unique() -> None:
    for app in APPS:
        labels = [request.label for request in app.requests]
        assert len(labels) == len(set(labels)), app.name


def _recorded_path(request_: CorpusRequest) -> str:
    """What the trace holds by default: the template with its values hidden, or the shape."""
    template = request_.route or request_.mounted_route
    if template is not None and "{" in template:
        return re.sub(r"\{[^}]*\}", "…", template)
    if template is not None:
        return template
    raw = request_.path.partition("?")[0]
    return "/".join("…" if segment else "" for segment in raw.split("/"))


@pytest.mark.parametrize(("app", "request_"), CASES)
def test_traced_app_answers_expected_status(
    corpus: list[CorpusTrace], app: str, request_: CorpusRequest
) -> None:
    traced = _traced(corpus, app, request_)
    assert len(traced) == request_.concurrency
    for ct in traced:
        assert ct.answer.status == request_.status, ct.answer.body[:300]
        assert ct.trace.status_code == request_.status
        roots = [span for span in ct.trace.spans if span.parent_id is None]
        assert len(roots) == 1
        assert ct.trace.request["path"] == _recorded_path(request_)
        assert ("x-trace-id", ct.trace.trace_id) in ct.answer.headers


@pytest.mark.parametrize(("app", "request_"), CASES)
def test_untraced_app_answers_expected_status(
    untraced_answers: dict[str, list[Answer]], app: str, request_: CorpusRequest
) -> None:
    answers = untraced_answers[f"{app}:{request_.label}"]
    assert [answer.status for answer in answers] == [request_.status] * request_.concurrency
    for answer in answers:
        assert not {name for name, _ in answer.headers} & TRACER_HEADERS


@pytest.mark.parametrize(("app", "request_"), CASES)
def test_tracer_changes_nothing(
    corpus: list[CorpusTrace],
    untraced_answers: dict[str, list[Answer]],
    app: str,
    request_: CorpusRequest,
) -> None:
    traced = [ct.answer for ct in _traced(corpus, app, request_)]
    untraced = untraced_answers[f"{app}:{request_.label}"]
    assert Counter(a.status for a in traced) == Counter(a.status for a in untraced)
    assert _sorted_bodies(traced) == _sorted_bodies(untraced)
    assert sorted(map(_app_headers, traced)) == sorted(map(_app_headers, untraced))
