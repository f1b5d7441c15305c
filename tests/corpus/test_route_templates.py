"""``http.route`` on the root span is the full template FastAPI itself resolves (issue 12).

For every matched corpus request the root span's ``http.route`` (and its name,
``"<METHOD> <route>"``) must equal the registry's template, which
``test_registry_matches_fastapi`` checks against FastAPI's own telemetry.
Both once-known failures are fixed (issue 12): ``include_router(prefix=…)``
prefixes on FastAPI versions that include routers lazily (``_IncludedRouter``,
0.137+: the template comes from FastAPI's effective route context), and
requests served by a mount (``/static/{path}``, ``/admin/items/{item_id}``:
the ``Mount.handle`` hook prefixes every template resolved inside it).
"""

import pytest

from tests.corpus.registry import APPS, CorpusRequest, CorpusTrace


def _param(app: str, request: CorpusRequest) -> object:
    return pytest.param(app, request, id=f"{app}:{request.label}")


MATCHED = [_param(app.name, r) for app in APPS for r in app.requests if r.route is not None]
UNMATCHED = [
    pytest.param(app.name, r, id=f"{app.name}:{r.label}")
    for app in APPS
    for r in app.requests
    if r.route is None and r.mount is None
]
MOUNTED = [
    pytest.param(app.name, r, id=f"{app.name}:{r.label}")
    for app in APPS
    for r in app.requests
    if r.mount is not None
]


def _traced(corpus: list[CorpusTrace], app: str, request: CorpusRequest) -> list[CorpusTrace]:
    found = [ct for ct in corpus if ct.app == app and ct.request is request]
    assert len(found) == request.concurrency
    return found


def _assert_route(ct: CorpusTrace, expected: str) -> None:
    root = ct.trace.root
    assert root.attributes.get("http.route") == expected
    assert root.name == f"{ct.request.method} {expected}"
    if hasattr(ct.trace, "route"):  # a trace-level route, should the model grow one
        assert ct.trace.route == expected


@pytest.mark.parametrize(("app", "request_"), MATCHED)
def test_matched_request_has_fastapis_route_template(
    corpus: list[CorpusTrace], app: str, request_: CorpusRequest
) -> None:
    assert request_.route is not None
    for ct in _traced(corpus, app, request_):
        _assert_route(ct, request_.route)


@pytest.mark.parametrize(("app", "request_"), UNMATCHED)
def test_unmatched_request_has_no_route(
    corpus: list[CorpusTrace], app: str, request_: CorpusRequest
) -> None:
    for ct in _traced(corpus, app, request_):
        assert "http.route" not in ct.trace.root.attributes
        # no template: the name falls back to the path as recorded (value-free by default)
        assert ct.trace.root.name == f"{request_.method} {ct.trace.request['path']}"


@pytest.mark.parametrize(("app", "request_"), MOUNTED)
def test_mounted_request_has_mount_route_template(
    corpus: list[CorpusTrace], app: str, request_: CorpusRequest
) -> None:
    assert request_.mounted_route is not None and request_.mount is not None
    assert request_.mounted_route.startswith(request_.mount)
    for ct in _traced(corpus, app, request_):
        _assert_route(ct, request_.mounted_route)


def test_registry_matches_fastapi(fastapi_routes: dict[str, list[str | None]]) -> None:
    """The expected templates are FastAPI's own (its native telemetry, where it has one)."""
    wrong = {}
    for app in APPS:
        for request in app.requests:
            key = f"{app.name}:{request.label}"
            expected = request.mounted_route if request.mount else request.route
            if fastapi_routes[key] != [expected] * request.concurrency:
                wrong[key] = (fastapi_routes[key], expected)
    assert not wrong
