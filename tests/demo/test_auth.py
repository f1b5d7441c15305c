"""POST /login, the get_current_user chain (GET /users/me) and require_admin (GET /admin/*)."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tracer.demo_app.security import issue_token
from tracer.demo_app.seed import ADMIN_EMAIL, ADMIN_PASSWORD, USER_EMAIL, USER_PASSWORD

BAD_CREDENTIALS = {"detail": "incorrect email or password"}
INVALID_TOKEN = {"detail": "invalid or expired token"}


def test_login_returns_a_bearer_token(client: TestClient) -> None:
    response = client.post("/login", json={"email": USER_EMAIL, "password": USER_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str)
    assert body["access_token"]


def test_login_ignores_email_case(client: TestClient) -> None:
    response = client.post("/login", json={"email": "Grace@Example.com", "password": USER_PASSWORD})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": USER_EMAIL, "password": "wrong-password"},
        {"email": "nobody@example.com", "password": USER_PASSWORD},
    ],
    ids=["wrong-password", "unknown-email"],
)
def test_bad_credentials_are_401(client: TestClient, credentials: dict[str, str]) -> None:
    response = client.post("/login", json=credentials)

    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_login_without_password_is_422(client: TestClient) -> None:
    response = client.post("/login", json={"email": USER_EMAIL})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("missing", ["body", "password"])


def test_me_returns_the_token_owner(client: TestClient, grace_headers: dict[str, str]) -> None:
    response = client.get("/users/me", headers=grace_headers)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "email", "created_at"}
    assert (body["id"], body["email"]) == (2, USER_EMAIL)


def test_me_without_token_is_401(client: TestClient) -> None:
    response = client.get("/users/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer garbage", b"Bearer a.b", b"Bearer \xe9t\xe9.sig"],
    ids=["garbage", "bad-signature", "non-ascii"],
)
def test_me_with_invalid_token_is_401(client: TestClient, authorization: bytes) -> None:
    response = client.get("/users/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_signed_with_another_key_is_401(client: TestClient) -> None:
    token = issue_token(2, b"some other key", ttl_seconds=60)

    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_expired_token_is_401(app: FastAPI, client: TestClient) -> None:
    token = issue_token(2, app.state.settings.secret_key, ttl_seconds=-1)

    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_token_of_a_missing_user_is_401(app: FastAPI, client: TestClient) -> None:
    token = issue_token(999, app.state.settings.secret_key, ttl_seconds=60)

    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_admin_stats_for_admin(client: TestClient) -> None:
    login = client.post("/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    response = client.get("/admin/stats", headers=headers)

    assert response.status_code == 200
    assert response.json() == {"users": 3, "admins": 1, "items": 9, "outbox": 0}


def test_admin_stats_count_new_users_and_emails(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.post("/users", json={"email": "ada@example.com", "password": "correct-horse"})

    response = client.get("/admin/stats", headers=admin_headers)

    assert response.json() == {"users": 4, "admins": 1, "items": 9, "outbox": 1}


@pytest.mark.parametrize("path", ["/admin/stats", "/admin/outbox"])
def test_admin_routes_are_403_for_non_admins(
    client: TestClient, grace_headers: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=grace_headers)

    assert response.status_code == 403
    assert response.json() == {"detail": "admin only"}


@pytest.mark.parametrize("path", ["/admin/stats", "/admin/outbox"])
def test_admin_routes_are_401_without_token(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


def test_precomputed_seed_hashes_verify_their_passwords() -> None:
    from tracer.demo_app.security import verify_password
    from tracer.demo_app.seed import _SEED_HASHES

    assert _SEED_HASHES, "the seed hashes are precomputed"
    for password, stored in _SEED_HASHES.items():
        assert verify_password(password, stored)
        assert not verify_password(password + "x", stored)
