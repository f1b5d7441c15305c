"""The /items router and its router-level X-API-Version dependency."""

import pytest
from fastapi.testclient import TestClient

ITEM_KEYS = {"id", "name", "description", "price_cents", "owner_id"}


def test_list_items(client: TestClient) -> None:
    response = client.get("/items")

    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert all(set(item) == ITEM_KEYS for item in items)
    assert items[0] == {
        "id": 1,
        "name": "Keyboard",
        "description": "Mechanical keyboard with brown switches",
        "price_cents": 8900,
        "owner_id": 1,
    }


def test_list_items_pagination(client: TestClient) -> None:
    response = client.get("/items", params={"offset": 6, "limit": 5})

    assert [item["name"] for item in response.json()] == ["Headphones", "Plant", "Chalkboard"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_list_items_bad_pagination_is_422(client: TestClient, params: dict[str, int]) -> None:
    assert client.get("/items", params=params).status_code == 422


def test_read_item(client: TestClient) -> None:
    response = client.get("/items/5")

    assert response.status_code == 200
    assert response.json() == {
        "id": 5,
        "name": "Notebook",
        "description": "Dotted A5 notebook for sketching designs",
        "price_cents": 1200,
        "owner_id": 2,
    }


def test_unknown_item_is_404(client: TestClient) -> None:
    response = client.get("/items/99")

    assert response.status_code == 404
    assert response.json() == {"detail": "item 99 not found"}


def test_item_id_below_one_is_422(client: TestClient) -> None:
    response = client.get("/items/0")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("greater_than_equal", ["path", "item_id"])


@pytest.mark.parametrize("path", ["/items", "/items/1"])
def test_supported_api_version_is_accepted(client: TestClient, path: str) -> None:
    assert client.get(path, headers={"X-API-Version": "1"}).status_code == 200


@pytest.mark.parametrize("path", ["/items", "/items/1", "/items/99"])
def test_unsupported_api_version_is_400_on_every_item_route(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"X-API-Version": "9"})

    assert response.status_code == 400
    assert response.json() == {"detail": "unsupported X-API-Version: 9"}


def test_api_version_check_is_limited_to_the_items_router(client: TestClient) -> None:
    assert client.get("/health", headers={"X-API-Version": "9"}).status_code == 200
