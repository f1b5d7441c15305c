"""GET /search: query-parameter validation (the 422 teaching cases) and results."""

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}),
        (
            {"q": "p"},
            {
                "type": "string_too_short",
                "loc": ["query", "q"],
                "msg": "String should have at least 2 characters",
                "input": "p",
                "ctx": {"min_length": 2},
            },
        ),
        (
            {"q": "x" * 51},
            {
                "type": "string_too_long",
                "loc": ["query", "q"],
                "msg": "String should have at most 50 characters",
                "input": "x" * 51,
                "ctx": {"max_length": 50},
            },
        ),
        (
            {"q": "pen", "page": 0},
            {
                "type": "greater_than_equal",
                "loc": ["query", "page"],
                "msg": "Input should be greater than or equal to 1",
                "input": "0",
                "ctx": {"ge": 1},
            },
        ),
        (
            {"q": "pen", "page": 501},
            {
                "type": "less_than_equal",
                "loc": ["query", "page"],
                "msg": "Input should be less than or equal to 500",
                "input": "501",
                "ctx": {"le": 500},
            },
        ),
        (
            {"q": "pen", "size": 101},
            {
                "type": "less_than_equal",
                "loc": ["query", "size"],
                "msg": "Input should be less than or equal to 100",
                "input": "101",
                "ctx": {"le": 100},
            },
        ),
    ],
    ids=["missing-q", "q-too-short", "q-too-long", "page-0", "page-501", "size-101"],
)
def test_invalid_query_is_422(
    client: TestClient, params: dict[str, object], error: dict[str, object]
) -> None:
    response = client.get("/search", params=params)

    assert response.status_code == 422
    assert response.json() == {"detail": [error]}


def test_every_invalid_parameter_is_reported(client: TestClient) -> None:
    response = client.get("/search", params={"q": "p", "page": 0, "size": 101})

    assert response.status_code == 422
    assert [e["loc"][1] for e in response.json()["detail"]] == ["q", "page", "size"]


def test_search_matches_items_and_users(client: TestClient) -> None:
    response = client.get("/search", params={"q": "GRA"})

    assert response.status_code == 200
    assert response.json() == {
        "q": "GRA",
        "page": 1,
        "size": 10,
        "results": [
            {"kind": "user", "id": 2, "label": "grace@example.com"},
        ],
    }


def test_search_matches_item_descriptions(client: TestClient) -> None:
    response = client.get("/search", params={"q": "adjust"})

    assert response.json()["results"] == [
        {"kind": "item", "id": 2, "label": "Monitor"},
        {"kind": "item", "id": 3, "label": "Desk lamp"},
    ]


def test_search_pages(client: TestClient) -> None:
    first = client.get("/search", params={"q": "example", "size": 1})
    second = client.get("/search", params={"q": "example", "size": 1, "page": 2})
    third = client.get("/search", params={"q": "example", "size": 1, "page": 3})
    fourth = client.get("/search", params={"q": "example", "size": 1, "page": 4})

    assert first.json()["results"] == [{"kind": "user", "id": 1, "label": "admin@example.com"}]
    assert second.json()["results"] == [{"kind": "user", "id": 2, "label": "grace@example.com"}]
    assert third.json()["results"] == [{"kind": "user", "id": 3, "label": "alan@example.com"}]
    assert fourth.json() == {"q": "example", "page": 4, "size": 1, "results": []}


def test_like_wildcards_are_literal(client: TestClient) -> None:
    response = client.get("/search", params={"q": "%%"})

    assert response.status_code == 200
    assert response.json()["results"] == []
