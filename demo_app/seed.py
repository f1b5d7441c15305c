"""Demo data: an admin, a normal user and a few items, so every endpoint has something to show."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .models import Item, User
from .security import hash_password

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-pass-123"
USER_EMAIL = "grace@example.com"
THIRD_EMAIL = "alan@example.com"
USER_PASSWORD = "grace-pass-123"

# (owner e-mail, name, description, price in cents)
_ITEMS = [
    (ADMIN_EMAIL, "Keyboard", "Mechanical keyboard with brown switches", 8900),
    (ADMIN_EMAIL, "Monitor", "27-inch 4K monitor with a height-adjustable stand", 32900),
    (ADMIN_EMAIL, "Desk lamp", "LED desk lamp with adjustable colour temperature", 4500),
    (USER_EMAIL, "Compiler handbook", "A well-thumbed guide to writing compilers", 5400),
    (USER_EMAIL, "Notebook", "Dotted A5 notebook for sketching designs", 1200),
    (USER_EMAIL, "Coffee mug", "Large mug that says 'It's always a bug'", 1500),
    (USER_EMAIL, "Headphones", "Noise-cancelling headphones for focus time", 19900),
    (USER_EMAIL, "Plant", "A small cactus that survives being ignored", 900),
    (THIRD_EMAIL, "Chalkboard", "For drawing state machines", 3900),
]


#: The seed passwords' PBKDF2 hashes, computed once ahead of time: hashing on purpose
#: takes ~30 ms each, which every start of the demo (and of the CLI) would pay.
#: ``tests/demo`` checks that they still verify.
_SEED_HASHES = {
    ADMIN_PASSWORD: "pbkdf2_sha256$100000$63W6STrBG9tJW3QSEF2-tA$"
    "UrnHmedVSHk2ZAYzBiK9rUhL6YzdNHVjTm6BFJUd888",
    USER_PASSWORD: "pbkdf2_sha256$100000$Fv8MnVQblzH1wyblH3_HiQ$"
    "_0bkngunIsNoBmUqflveX8hXmbHWXPfRWO9-Dogro7M",
}


def _seed_password_hash(password: str) -> str:
    return _SEED_HASHES.get(password) or hash_password(password)


async def seed_demo_data(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Insert the demo users and items, unless a persistent database already has users."""
    async with sessionmaker() as session:
        if await session.scalar(select(User.id).limit(1)) is not None:
            return
        admin = User(
            email=ADMIN_EMAIL, password_hash=_seed_password_hash(ADMIN_PASSWORD), is_admin=True
        )
        grace = User(email=USER_EMAIL, password_hash=_seed_password_hash(USER_PASSWORD))
        # a third user, so the N+1 example issues as many queries as a real page would
        alan = User(email=THIRD_EMAIL, password_hash=_seed_password_hash(USER_PASSWORD))
        owners = {ADMIN_EMAIL: admin, USER_EMAIL: grace, THIRD_EMAIL: alan}
        session.add_all([admin, grace, alan])
        session.add_all(
            Item(name=name, description=description, price_cents=price, owner=owners[owner])
            for owner, name, description, price in _ITEMS
        )
        await session.commit()
