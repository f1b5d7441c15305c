"""Runtime settings, read from the environment once per app."""

import os
import secrets
from dataclasses import dataclass, field

IN_MEMORY_DATABASE_URL = "sqlite+aiosqlite://"


@dataclass(frozen=True)
class Settings:
    """Everything that differs between a test run, a local run and a deployment.

    The defaults give a throwaway in-memory database and a random signing key,
    so a fresh app needs no setup and leaks nothing between instances.
    """

    database_url: str = IN_MEMORY_DATABASE_URL
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    token_ttl_seconds: int = 3600
    cors_origins: tuple[str, ...] = ("https://app.example",)

    @classmethod
    def from_env(cls) -> "Settings":
        """Build settings from ``DEMO_*`` environment variables, falling back to defaults."""
        defaults = cls()
        secret = os.environ.get("DEMO_SECRET_KEY")
        origins = os.environ.get("DEMO_CORS_ORIGINS")
        return cls(
            database_url=os.environ.get("DEMO_DATABASE_URL") or defaults.database_url,
            secret_key=secret.encode() if secret else defaults.secret_key,
            cors_origins=(
                tuple(o.strip() for o in origins.split(",") if o.strip())
                if origins
                else defaults.cors_origins
            ),
        )
