"""Step 5: validation split by source; 422 errors without input values."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Cookie, FastAPI, Header, Query
from pydantic import BaseModel, Field

from tests.tracer.helpers import exception_event, find, names, request

pytestmark = pytest.mark.anyio


class Signup(BaseModel):
    email: str = Field(pattern=r".+@.+")
    password: str = Field(min_length=8)


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/signup/{team_id}")
    async def signup(
        team_id: int,
        body: Signup,
        q: Annotated[str, Query(min_length=2)],
        x_client: Annotated[str, Header()] = "cli",
        session: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, str]:
        return {"email": body.email}

    return app


async def test_each_source_gets_a_span_in_step_5() -> None:
    response, trace = await request(
        make_app(),
        "POST",
        "/signup/4?q=ok",
        json={"email": "ada@example.com", "password": "long-enough"},
        headers={"x-client": "tests", "cookie": "session=abc"},
    )
    assert response.status_code == 200
    for source in ("path", "query", "header", "cookie", "body"):
        span = find(trace, f"validate {source}")
        assert span.step == 5
        assert span.attributes["validation.source"] == source
        assert span.status == "ok"
    assert find(trace, "validate body").attributes["validation.model"] == "Signup"
    assert find(trace, "read body").attributes["body.bytes"] > 0
    assert "parse JSON" in names(trace)


async def test_422_records_loc_type_and_message_but_never_the_input() -> None:
    response, trace = await request(
        make_app(),
        "POST",
        "/signup/x?q=p",
        json={"email": "nope", "password": "hunter2"},
    )
    assert response.status_code == 422
    body = find(trace, "validate body")
    assert body.status == "error"
    assert body.attributes["validation.error_count"] == 2
    errors = body.attributes["validation.errors"]
    assert any(e.startswith("body.password:") and "string_too_short" in e for e in errors)
    assert find(trace, "validate query").attributes["validation.errors"][0].startswith("query.q:")
    assert find(trace, "validate path").status == "error"
    serialized = trace.to_json()
    assert "hunter2" not in serialized
    assert "handler" not in {s.phase for s in trace.spans}


async def test_malformed_json_is_a_422_from_the_parse_step() -> None:
    response, trace = await request(
        make_app(),
        "POST",
        "/signup/1?q=ok",
        content=b'{"email": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    parse = find(trace, "parse JSON")
    assert parse.status == "error"
    assert exception_event(parse).attributes["exception.type"] == "JSONDecodeError"
