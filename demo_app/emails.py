"""Outgoing e-mail, queued in the ``outbox`` table instead of sent over the network."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import OutboxMessage


async def send_welcome_email(sessionmaker: async_sessionmaker[AsyncSession], email: str) -> None:
    """Queue a welcome e-mail; runs as a background task, after the response is sent.

    It opens its own session: the request's session may already be closed by then.
    """
    async with sessionmaker() as session:
        session.add(
            OutboxMessage(
                recipient=email,
                subject="Welcome to the demo app",
                body=f"Hi {email}, thanks for signing up!",
            )
        )
        await session.commit()
