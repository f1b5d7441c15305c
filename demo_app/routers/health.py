"""Liveness probe for load balancers and orchestrators."""

from fastapi import APIRouter

from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Answer without touching the database, so it says the process is up, nothing more."""
    return Health()
