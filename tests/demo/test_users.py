"""POST /users, GET /users, GET /users/{user_id} and the welcome-e-mail background task."""

from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

NEW_USER = {"email": "ada@example.com", "password": "correct-horse"}


def test_create_user_returns_201_without_the_password(client: TestClient) -> None:
    response = client.post("/users", json=NEW_USER)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "created_at"}
    assert body["id"] == 4  # after the three seeded users
    assert body["email"] == "ada@example.com"
    created_at = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert created_at.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - created_at).total_seconds() < 60
    assert "password" not in response.text
    assert "pbkdf2" not in response.text


def test_created_user_can_be_read_back_and_logs_in(client: TestClient) -> None:
    created = client.post("/users", json=NEW_USER).json()

    assert client.get(f"/users/{created['id']}").json() == created
    login = client.post("/login", json=NEW_USER)
    assert login.status_code == 200


def test_email_is_normalised_to_lower_case(client: TestClient) -> None:
    response = client.post("/users", json={**NEW_USER, "email": "Ada@Example.COM"})

    assert response.status_code == 201
    assert response.json()["email"] == "ada@example.com"


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@example.com"])
def test_duplicate_email_is_409(client: TestClient, email: str) -> None:
    assert client.post("/users", json=NEW_USER).status_code == 201

    response = client.post("/users", json={"email": email, "password": "another-password"})

    assert response.status_code == 409
    assert response.json() == {"detail": "email taken"}


def test_seeded_email_is_taken(client: TestClient) -> None:
    response = client.post("/users", json={"email": "grace@example.com", "password": "12345678"})

    assert response.status_code == 409
    assert response.json() == {"detail": "email taken"}


def test_bad_email_is_422(client: TestClient) -> None:
    response = client.post("/users", json={"email": "not-an-email", "password": "long-enough"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", "email"],
                "msg": "Value error, not a valid email address",
                "input": "not-an-email",
                "ctx": {"error": {}},
            }
        ]
    }


def test_short_password_is_422(client: TestClient) -> None:
    response = client.post("/users", json={"email": "ada@example.com", "password": "short"})

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "string_too_short",
                "loc": ["body", "password"],
                "msg": "String should have at least 8 characters",
                "input": "short",
                "ctx": {"min_length": 8},
            }
        ]
    }


def test_missing_body_fields_are_422(client: TestClient) -> None:
    response = client.post("/users", json={})

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("missing", ["body", "email"]),
        ("missing", ["body", "password"]),
    ]


def test_signup_queues_a_welcome_email(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.post("/users", json=NEW_USER).status_code == 201

    # TestClient returns only after the background tasks have run.
    outbox = client.get("/admin/outbox", headers=admin_headers)

    assert outbox.status_code == 200
    [message] = outbox.json()
    assert set(message) == {"id", "recipient", "subject", "created_at"}
    assert message["recipient"] == "ada@example.com"
    assert message["subject"] == "Welcome to the demo app"


def test_rejected_signup_queues_nothing(client: TestClient, admin_headers: dict[str, str]) -> None:
    client.post("/users", json={"email": "grace@example.com", "password": "12345678"})
    client.post("/users", json={"email": "bad", "password": "12345678"})

    assert client.get("/admin/outbox", headers=admin_headers).json() == []


def test_read_user(client: TestClient) -> None:
    response = client.get("/users/2")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "email", "created_at"}
    assert (body["id"], body["email"]) == (2, "grace@example.com")


def test_unknown_user_is_404_from_the_custom_handler(client: TestClient) -> None:
    response = client.get("/users/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "user 999 not found"}


@pytest.mark.parametrize(
    ("user_id", "error_type"), [("0", "greater_than_equal"), ("abc", "int_parsing")]
)
def test_bad_user_id_is_422(client: TestClient, user_id: str, error_type: str) -> None:
    response = client.get(f"/users/{user_id}")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == (error_type, ["path", "user_id"])


def test_list_users_defaults(client: TestClient) -> None:
    response = client.get("/users")

    assert response.status_code == 200
    users = response.json()
    assert [(u["id"], u["email"]) for u in users] == [
        (1, "admin@example.com"),
        (2, "grace@example.com"),
        (3, "alan@example.com"),
    ]
    assert all(set(u) == {"id", "email", "created_at"} for u in users)


def test_list_users_pagination(client: TestClient) -> None:
    for n in range(3):
        client.post("/users", json={"email": f"user{n}@example.com", "password": "12345678"})

    # 3 seeded + 3 created: a page that straddles the seeded and the created users
    page = client.get("/users", params={"offset": 2, "limit": 2})

    assert page.status_code == 200
    assert [u["email"] for u in page.json()] == ["alan@example.com", "user0@example.com"]
    assert client.get("/users", params={"offset": 6}).json() == []


@pytest.mark.parametrize(
    ("params", "loc", "error_type"),
    [
        ({"limit": 0}, ["query", "limit"], "greater_than_equal"),
        ({"limit": 101}, ["query", "limit"], "less_than_equal"),
        ({"offset": -1}, ["query", "offset"], "greater_than_equal"),
        ({"limit": "many"}, ["query", "limit"], "int_parsing"),
    ],
)
def test_list_users_bad_pagination_is_422(
    client: TestClient, params: dict[str, object], loc: list[str], error_type: str
) -> None:
    response = client.get("/users", params=params)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == (error_type, loc)
