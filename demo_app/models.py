"""SQLAlchemy ORM models: users, the items they own, and an e-mail outbox."""

from datetime import datetime, timezone

from sqlalchemy import DateTime, Dialect, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC timestamp that comes back timezone-aware.

    SQLite stores no offset, so without this the API would return naive times.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base shared by every table, so one ``create_all`` builds the schema."""


class User(Base):
    """An account; ``password_hash`` never leaves the server (see ``schemas.UserRead``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)

    # lazy="raise": an implicit lazy load would do hidden I/O, which async sessions forbid.
    items: Mapped[list["Item"]] = relationship(
        back_populates="owner", lazy="raise", order_by="Item.id"
    )


class Item(Base):
    """Something a user owns; the join target of the N+1 example."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    price_cents: Mapped[int]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    owner: Mapped[User] = relationship(back_populates="items", lazy="raise")


class OutboxMessage(Base):
    """An e-mail waiting to be sent; writing a row stands in for talking to SMTP."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
