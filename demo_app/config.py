"""Runtime settings, read from the environment once per app."""

import os
import secrets
from dataclasses import dataclass, field

IN_MEMORY_DATABASE_URL = "sqlite+aiosqlite://"

#: driver-less URLs (as hosting platforms and other tools write them) → the async driver
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def async_database_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+asyncpg://…`` (and ``sqlite://`` → aiosqlite).

    The demo is async throughout; a URL that names its driver is kept as it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return f"{_ASYNC_DRIVERS.get(scheme.lower(), scheme)}://{rest}"


@dataclass(frozen=True)
class Settings:
    """Everything that differs between a test run, a local run and a deployment.

    The defaults give a throwaway in-memory database and a random signing key,
    so a fresh app needs no setup and leaks nothing between instances.

    On PostgreSQL each app works in a schema of its own: ``database_schema`` names
    one to keep (created if missing, seeded once); ``None`` gives a throwaway
    schema, dropped at shutdown, as the in-memory SQLite default is.
    """

    database_url: str = IN_MEMORY_DATABASE_URL
    database_schema: str | None = None
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    token_ttl_seconds: int = 3600
    cors_origins: tuple[str, ...] = ("https://app.example",)

    @classmethod
    def from_env(cls) -> "Settings":
        """Build settings from ``DEMO_*`` environment variables, falling back to defaults.

        The database is ``DEMO_DATABASE_URL``, else ``DATABASE_URL``, else in-memory SQLite.
        """
        defaults = cls()
        secret = os.environ.get("DEMO_SECRET_KEY")
        origins = os.environ.get("DEMO_CORS_ORIGINS")
        url = os.environ.get("DEMO_DATABASE_URL") or os.environ.get("DATABASE_URL")
        return cls(
            database_url=async_database_url(url) if url else defaults.database_url,
            database_schema=os.environ.get("DEMO_DATABASE_SCHEMA") or None,
            secret_key=secret.encode() if secret else defaults.secret_key,
            cors_origins=(
                tuple(o.strip() for o in origins.split(",") if o.strip())
                if origins
                else defaults.cors_origins
            ),
        )
