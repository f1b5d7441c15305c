"""The request object at each step (issue #15): the names capture records for the teaching views.

Body validation records the body model's field names, step 7 what the
``response_model`` kept and dropped of the returned object, and the
exception handler that built an error response gets a span of its own
(``handler.name``, ``exception.type``). Names only, never a value; computed
once per class; and the app answers exactly as it does untraced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tests.cli.test_cli import SIGNUP, invoke
from tests.tracer.helpers import find, parent_of, request
from tracer import safety
from tracer.analysis import invariants
from tracer.analysis.index import analyse
from tracer.capture.hooks import exceptions, fields, spans
from tracer.model import Span, Trace
from tracer.redaction import MAX_FIELD_NAMES, field_names

pytestmark = pytest.mark.anyio


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    members: Mapped[list[Account]] = relationship(back_populates="team")


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    #: a relationship is not a column: never read (no lazy load), never listed
    team: Mapped[Team | None] = relationship(back_populates="members")


class AccountOut(BaseModel):
    id: int
    email: str


class AccountIn(AccountOut):
    password: str


class Signup(BaseModel):
    email: str
    password: str


@dataclasses.dataclass
class Row:
    id: int
    email: str
    secret_note: str


class Oops(Exception):
    pass


class SyncOops(Exception):
    pass


def current_user(request: Request) -> str:
    raise HTTPException(401, "not signed in")


def make_app() -> FastAPI:
    app = FastAPI()

    @app.exception_handler(Oops)
    async def oops_handler(request: Request, exc: Oops) -> JSONResponse:
        return JSONResponse({"detail": "oops"}, status_code=418)

    @app.exception_handler(SyncOops)
    def sync_oops_handler(request: Request, exc: SyncOops) -> PlainTextResponse:
        return PlainTextResponse("sync oops", status_code=409)

    @app.post("/signup", response_model=AccountOut)
    async def signup(body: Signup) -> dict[str, Any]:
        return {"id": 1, "email": body.email, "password": body.password, "a@b.io": 1}

    @app.post("/two")
    async def two(first: Signup, second: AccountOut) -> dict[str, int]:
        return {"ok": 1}

    @app.get("/orm", response_model=AccountOut)
    async def orm() -> Account:
        return Account(id=1, email="ada@example.com", password_hash="pbkdf2$x")

    @app.get("/pydantic", response_model=AccountOut)
    async def pydantic_model() -> AccountIn:
        return AccountIn(id=1, email="ada@example.com", password="s3cret-pass")

    @app.get("/dataclass", response_model=list[AccountOut])
    def dataclass_rows() -> list[Row]:
        return [Row(1, "ada@example.com", "hush")]

    @app.get("/excluded", response_model=AccountIn, response_model_exclude={"password"})
    async def excluded() -> AccountIn:
        return AccountIn(id=1, email="ada@example.com", password="s3cret-pass")

    @app.get("/search")
    async def search(q: Annotated[str, Query(min_length=2)], page: int = 1) -> dict[str, str]:
        return {"q": q}

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
        return {"user": user}

    @app.get("/oops")
    async def oops() -> None:
        raise Oops("no")

    @app.get("/sync-oops")
    async def sync_oops() -> None:
        raise SyncOops("no")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


@pytest.fixture
def _reset_safety() -> Iterator[None]:
    safety.reset()
    yield
    safety.reset()


def well_accounted(trace: Trace) -> None:
    assert invariants.check(trace) == []


def serialize_span(trace: Trace) -> Span:
    return next(s for s in trace.spans if "response_model" in s.attributes)


def handler_spans(trace: Trace) -> list[Span]:
    return [s for s in trace.spans if "handler.name" in s.attributes]


# -- step 5: the body's field names ------------------------------------------------------------


async def test_the_body_model_records_its_field_names() -> None:
    _, trace = await request(
        make_app(), "POST", "/signup", json={"email": "ada@example.com", "password": "s3cret"}
    )
    body = find(trace, "validate body")
    assert body.attributes["validation.model"] == "Signup"
    assert body.attributes["validation.fields"] == ["email", "password"]
    well_accounted(trace)


async def test_embedded_bodies_record_their_parameter_names() -> None:
    _, trace = await request(
        make_app(),
        "POST",
        "/two",
        json={"first": {"email": "a", "password": "b"}, "second": {"id": 1, "email": "c"}},
    )
    assert find(trace, "validate body").attributes["validation.fields"] == ["first", "second"]


async def test_a_422_on_query_parameters_records_their_names_and_the_handler() -> None:
    response, trace = await request(make_app(), "GET", "/search?q=p")
    assert response.status_code == 422
    query = find(trace, "validate query")
    assert query.attributes["validation.fields"] == ["q", "page"]
    (handler,) = handler_spans(trace)
    assert handler.name == "request_validation_exception_handler"
    assert handler.attributes["handler.name"] == "request_validation_exception_handler"
    assert handler.attributes["exception.type"] == "RequestValidationError"
    assert (handler.phase, handler.step) == ("serialization", 8)
    assert parent_of(trace, handler).name == "route /search"  # inside what caught it
    assert parent_of(trace, find(trace, "render JSONResponse")) is handler
    path = analyse(trace).error_path
    assert path is not None
    assert path.handler == "request_validation_exception_handler"
    assert path.response is not None and path.response.name == "render JSONResponse"
    assert analyse(trace).own_by_step[handler.span_id].keys() == {8}
    well_accounted(trace)


# -- step 7: what the response_model kept and dropped --------------------------------------------


async def test_a_dict_returned_under_a_response_model_drops_its_other_keys() -> None:
    response, trace = await request(
        make_app(), "POST", "/signup", json={"email": "ada@example.com", "password": "s3cret"}
    )
    assert response.json() == {"id": 1, "email": "ada@example.com"}
    span = serialize_span(trace)
    assert span.attributes["response_model.fields"] == ["id", "email"]
    # a key that is data, not a name, is counted, never recorded
    assert span.attributes["response_model.dropped"] == ["password", "… 1 more"]
    assert "a@b.io" not in trace.to_json()
    well_accounted(trace)


async def test_an_orm_object_drops_its_mapped_columns_without_loading_anything() -> None:
    _, trace = await request(make_app(), "GET", "/orm")
    span = serialize_span(trace)
    assert span.attributes["response_model.fields"] == ["id", "email"]
    assert span.attributes["response_model.dropped"] == ["password_hash", "team_id"]
    assert not [s for s in trace.spans if s.phase == "db"]


async def test_a_pydantic_model_drops_the_fields_its_response_model_has_not() -> None:
    _, trace = await request(make_app(), "GET", "/pydantic")
    span = serialize_span(trace)
    assert span.attributes["response_model.fields"] == ["id", "email"]
    assert span.attributes["response_model.dropped"] == ["password"]


async def test_a_list_of_dataclasses_is_judged_by_its_first_item() -> None:
    _, trace = await request(make_app(), "GET", "/dataclass")
    span = serialize_span(trace)
    assert span.attributes["response_model"] == "list[AccountOut]"
    assert span.attributes["response_model.fields"] == ["id", "email"]
    assert span.attributes["response_model.dropped"] == ["secret_note"]


async def test_response_model_exclude_is_not_kept() -> None:
    response, trace = await request(make_app(), "GET", "/excluded")
    assert "password" not in response.json()
    span = serialize_span(trace)
    assert span.attributes["response_model.fields"] == ["id", "email"]
    assert span.attributes["response_model.dropped"] == []


def test_names_are_computed_once_per_class_pair_and_the_cache_is_bounded() -> None:
    fields.forget()
    one = fields.response_shape(AccountOut, Account(id=1, email="a", password_hash="h"))
    two = fields.response_shape(AccountOut, Account(id=2, email="b", password_hash="i"))
    assert one is two
    assert fields.body_model(Signup) is fields.body_model(Signup)
    for n in range(fields.CACHE_SIZE + 10):
        fields.response_shape(AccountOut, type(f"T{n}", (), {})())
    assert len(fields._shapes) <= fields.CACHE_SIZE
    fields.forget()


def test_name_lists_are_bounded_and_hold_names_only() -> None:
    names = field_names([f"f{n}" for n in range(MAX_FIELD_NAMES + 5)] + ["a b", 3])
    assert names[:-1] == [f"f{n}" for n in range(MAX_FIELD_NAMES)]
    assert names[-1] == "… 7 more"
    shape = fields.response_shape(AccountOut, {f"k{n}": n for n in range(1000)})
    assert shape is not None and shape.dropped is not None
    assert len(shape.dropped) == MAX_FIELD_NAMES + 1
    assert shape.dropped[-1] == f"… {1000 - MAX_FIELD_NAMES} more"


# -- step 8: the exception handler ---------------------------------------------------------------


async def test_an_httpexception_from_a_dependency_names_fastapis_handler() -> None:
    response, trace = await request(make_app(), "GET", "/me")
    assert response.status_code == 401
    (handler,) = handler_spans(trace)
    assert handler.attributes["handler.name"] == "http_exception_handler"
    assert handler.attributes["exception.type"] == "HTTPException"
    assert parent_of(trace, handler).name == "route /me"
    well_accounted(trace)


async def test_a_404_from_the_router_is_handled_in_exception_middleware() -> None:
    response, trace = await request(make_app(), "GET", "/nowhere")
    assert response.status_code == 404
    (handler,) = handler_spans(trace)
    assert handler.attributes["handler.name"] == "http_exception_handler"
    assert parent_of(trace, handler).name == "ExceptionMiddleware"
    path = analyse(trace).error_path
    assert path is not None and path.catcher == "ExceptionMiddleware"
    assert path.handler == "http_exception_handler"
    well_accounted(trace)


async def test_a_custom_handler_is_named_and_answers_as_it_does_untraced() -> None:
    plain = make_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=plain), base_url="http://t"
    ) as client:
        expected = [await client.get(p) for p in ("/oops", "/sync-oops")]
    app = make_app()
    got = []
    for path, name in (("/oops", "oops_handler"), ("/sync-oops", "sync_oops_handler")):
        response, trace = await request(app, "GET", path)
        got.append(response)
        (handler,) = handler_spans(trace)
        assert handler.name == name
        assert handler.attributes["handler.name"] == f"make_app.<locals>.{name}"
        assert handler.step == 8
        error_path = analyse(trace).error_path
        assert error_path is not None and error_path.handler == f"make_app.<locals>.{name}"
        well_accounted(trace)
    assert [(r.status_code, r.content) for r in got] == [
        (r.status_code, r.content) for r in expected
    ]
    _, trace = await request(app, "GET", "/sync-oops")
    (handler,) = handler_spans(trace)
    pool = next(s for s in trace.spans if s.name.startswith("threadpool "))
    assert parent_of(trace, pool) is handler and pool.step == 8  # a def handler: in the pool


async def test_an_unhandled_exception_has_no_handler_span() -> None:
    response, trace = await request(make_app(), "GET", "/boom")
    assert response.status_code == 500
    assert handler_spans(trace) == []
    path = analyse(trace).error_path
    assert path is not None and path.handler == "ServerErrorMiddleware"


@pytest.mark.usefixtures("_reset_safety")
async def test_a_failure_in_these_hooks_leaves_the_response_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer bug")

    monkeypatch.setattr(spans, "response_shape", explode)
    monkeypatch.setattr(spans, "body_model", explode)
    monkeypatch.setattr(exceptions, "_stand_in", explode)
    app = make_app()
    ok, _ = await request(app, "POST", "/signup", json={"email": "a@b.io", "password": "x"})
    assert ok.json() == {"id": 1, "email": "a@b.io"}
    oops, trace = await request(app, "GET", "/oops")
    assert (oops.status_code, oops.json()) == (418, {"detail": "oops"})
    assert handler_spans(trace) == []
    assert safety.dropped["exception handler hook"] == 1
    assert safety.dropped["validation hook"] == 1


# -- the teaching views no longer say "not recorded" for these ------------------------------------


def _step(step: int, *args: str) -> str:
    code, text, _ = invoke(*args, "--step", str(step), "--no-color", "--width", "100")
    assert code == 0
    return " ".join(text.split())


def test_step_5_shows_the_body_models_field_names() -> None:
    text = _step(5, "POST", "/users", "--json", SIGNUP)
    assert "coming out UserCreate(email, password)" in text
    assert "not recorded" not in text


def test_step_7_shows_what_the_response_model_kept_and_dropped() -> None:
    text = _step(7, "POST", "/users", "--json", SIGNUP)
    assert "UserRead: kept id, email, created_at; dropped password_hash" in text
    assert "not recorded" not in text
    assert "s3cret-pass" not in text and "pbkdf2" not in text


def test_step_8_of_a_422_names_the_exception_handler() -> None:
    text = _step(8, "GET", "/search?q=p")
    assert "request_validation_exception_handler" in text
    assert "RequestValidationError handler" not in text
    step_8 = _step(8, "POST", "/users", "--json", SIGNUP)
    # what is left there is the per-layer header names, another part of issue #15
    assert "not recorded" not in step_8.replace("not recorded which layer added which header", "")
