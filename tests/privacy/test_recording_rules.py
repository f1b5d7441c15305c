"""The recording rules: what a trace may hold, decided in tracer.redaction alone."""

from __future__ import annotations

import pytest

import tracer
from tracer.redaction import (
    HIDDEN,
    MAX_HEADERS,
    REDACTED,
    bound,
    recordable_headers,
    redact_headers,
    redact_query,
    scrub_message,
    scrub_path,
    scrub_url,
)

SECRET = "CANARYzq81vx7"


def _redact(
    pairs: list[tuple[str, str]], extra: frozenset[str] = frozenset(), **options: int
) -> list[list[str]]:
    """Both header paths (decoded text pairs; raw ASGI bytes, in one pass) must agree."""
    text = redact_headers(pairs, extra, **options)
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs]
    assert recordable_headers(raw, extra, **options) == text
    return text


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "X-Auth",
        "X-Forwarded-Authorization",
        "X-Upstream-Authorization",
        "Authentication",
        "X-Access-Key",
        "Private-Key",
        "X-Hub-Signature-256",
        "X-Jwt-Assertion",
        "X-CSRF-Token",
        "X-Session-Id",
        "X-Client-Secret",
        "X-Amz-Security-Token",
    ],
)
def test_credential_like_headers_are_hidden_by_name_pattern(name: str) -> None:
    assert _redact([(name, SECRET)]) == [[name.lower(), REDACTED]]


@pytest.mark.parametrize("name", ["content-type", "accept", "x-request-id", "user-agent"])
def test_ordinary_headers_keep_their_value(name: str) -> None:
    assert _redact([(name, "v")]) == [[name, "v"]]


def test_extra_names_are_hidden_too() -> None:
    assert _redact([("x-trace-request", SECRET)], frozenset({"x-trace-request"})) == [
        ["x-trace-request", REDACTED]
    ]


def test_url_bearing_headers_keep_only_scheme_host_and_path() -> None:
    location = f"https://user:{SECRET}@api.example:8443/cb?access_token={SECRET}&state=1#frag"
    [[_, value]] = _redact([("Location", location)])
    assert SECRET not in value
    assert value == f"https://{HIDDEN}@api.example:8443/cb?access_token={HIDDEN}&state={HIDDEN}"


def test_header_values_and_counts_are_bounded() -> None:
    [[_, value]] = _redact([("x-big", "a" * 100_000)], limit=256)
    assert len(value) <= 256 and value.endswith("[100000 chars]")
    many = _redact([(f"x-{i}", "v") for i in range(MAX_HEADERS + 10)])
    assert len(many) == MAX_HEADERS + 1
    assert many[-1] == [HIDDEN, "10 more"]


def test_query_values_are_hidden_and_names_kept() -> None:
    query = f"page=2&token={SECRET}&api_key={SECRET}&X-Amz-Signature={SECRET}&flag"
    assert (
        redact_query(query)
        == f"page={HIDDEN}&token={HIDDEN}&api_key={HIDDEN}&X-Amz-Signature={HIDDEN}&{HIDDEN}"
    )


def test_query_values_opt_in_still_hides_secret_names() -> None:
    query = f"page=2&password={SECRET}&q=shoes"
    assert redact_query(query, values=True) == f"page=2&password={HIDDEN}&q=shoes"


def test_query_is_bounded() -> None:
    assert len(redact_query("q=" + "x" * 10_000, values=True, limit=300)) <= 300


@pytest.mark.parametrize(
    "message",
    [
        # SQLAlchemy IntegrityError / StatementError text
        "(sqlite3.IntegrityError) UNIQUE constraint failed: users.email\n"
        "[SQL: INSERT INTO users (email, password_hash) VALUES (?, ?)]\n"
        f"[parameters: ('{SECRET}@example.com', '$2b$12${SECRET}')]\n"
        "(Background on this error at: https://sqlalche.me/e/20/gkpj)",
        f"[parameters: {{'email': '{SECRET}'}}]",
        # a validator that quotes its input
        f"Value error, password '{SECRET}' is too short",
        # Pydantic's repr of an error
        "1 validation error for User\nname\n  Input should be a valid string "
        f"[type=string_type, input_value={SECRET}, input_type=int]",
        # a DSN with its password
        f"could not connect to postgresql://app:{SECRET}@db:5432/app",
        f'token="{SECRET}"',
        f"password={SECRET}",
        f"Authorization: {SECRET}",
        f"user {SECRET}@example.org not found",
        f"bad signature {SECRET}",
    ],
)
def test_messages_are_scrubbed_of_values(message: str) -> None:
    scrubbed = scrub_message(message)
    assert SECRET not in scrubbed, scrubbed


def test_scrubbing_keeps_the_template() -> None:
    message = (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: users.email\n"
        "[SQL: INSERT INTO users (email) VALUES (?)]\n[parameters: ('a@b.c',)]"
    )
    assert scrub_message(message) == (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: users.email\n"
        f"[SQL: INSERT INTO users (email) VALUES (?)]\n[parameters: {HIDDEN}]"
    )
    assert scrub_message("User 42 not found") == "User 42 not found"
    assert (
        scrub_message("password: String should be longer") == f"password: {HIDDEN} should be longer"
    )


def test_scrub_url_without_credentials_or_query() -> None:
    assert scrub_url("/static/app.js") == "/static/app.js"
    assert scrub_url("http://[::1") == HIDDEN


def test_bound_says_how_much_was_cut() -> None:
    assert bound("abc", 10) == "abc"
    assert bound("x" * 50, 30).endswith("[50 chars]")


@pytest.mark.parametrize(
    "token",
    ["\xb9.x", "1700000000.\u00e9" * 3, "¹²³.abc", "", ".", "abc", "1700000000." + "é" * 64],
)
def test_malformed_trigger_tokens_are_false_never_an_error(token: str) -> None:
    assert tracer.verify_token(token, b"s3cret-s3cret-s3cret") is False


def test_a_valid_trigger_token_still_verifies() -> None:
    token = tracer.trigger_token(b"s3cret", now=1_700_000_000)
    assert tracer.verify_token(token, b"s3cret", now=1_700_000_010)
    assert not tracer.verify_token(token, b"other", now=1_700_000_010)


def test_paths_keep_words_and_ids_and_hide_value_like_segments() -> None:
    assert scrub_path("/users/42/items") == "/users/42/items"
    assert scrub_path(f"/reset/{SECRET}") == f"/reset/{HIDDEN}"
    assert scrub_path("/u/ada%40example.com") == f"/u/{HIDDEN}"
    assert scrub_path("/x/" + "a" * 100) == f"/x/{HIDDEN}"
