"""Pydantic request and response models: the API's contract, separate from the ORM."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Deliberately loose: one "@", no spaces, a dot in the domain. Real validation is
# sending a confirmation e-mail; the email-validator package is not a dependency.
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_email(value: str) -> str:
    if not _EMAIL_RE.fullmatch(value):
        raise ValueError("not a valid email address")
    return value.lower()


Email = Annotated[str, Field(max_length=254), AfterValidator(_check_email)]


class UserCreate(BaseModel):
    """Sign-up payload."""

    email: Email
    password: str = Field(min_length=8, max_length=128)


class UserRead(BaseModel):
    """A user as the API shows it: never the password hash, never the admin flag."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    created_at: datetime


class LoginRequest(BaseModel):
    """Credentials as JSON (form login would need the python-multipart package)."""

    email: str
    password: str


class Token(BaseModel):
    """An OAuth2-style bearer token response."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"


class ItemRead(BaseModel):
    """An item as listed in the catalogue."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    price_cents: int
    owner_id: int


class ItemSummary(BaseModel):
    """The short form of an item, nested under its owner."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class UserWithItems(BaseModel):
    """A user and the items they own (the N+1 example's response)."""

    id: int
    email: str
    items: list[ItemSummary]


class SearchHit(BaseModel):
    """One match of a search, user or item."""

    kind: Literal["item", "user"]
    id: int
    label: str


class SearchResults(BaseModel):
    """A page of search matches."""

    q: str
    page: int
    size: int
    results: list[SearchHit]


class AdminStats(BaseModel):
    """Row counts an operator wants at a glance."""

    users: int
    admins: int
    items: int
    outbox: int


class OutboxMessageRead(BaseModel):
    """A queued e-mail, as shown to admins."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    recipient: str
    subject: str
    created_at: datetime


class PrimeReport(BaseModel):
    """Result of the CPU-bound sync example."""

    limit: int
    prime_count: int
    largest_prime: int


class SleepResult(BaseModel):
    """Result of the slow examples: how long they slept and whether that blocked the loop."""

    slept_ms: int
    blocked_event_loop: bool


class Health(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"
