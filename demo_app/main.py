"""The application factory; ``uvicorn tracer.demo_app.main:app`` serves the module-level ``app``."""

from fastapi import FastAPI

from .config import Settings
from .db import lifespan
from .errors import register_exception_handlers
from .middleware import install_middleware
from .routers import admin, auth, examples, health, items, lessons, search, services, users


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build a new app; each one gets its own database when its lifespan starts."""
    app = FastAPI(
        title="trace-request demo API",
        summary="An ordinary FastAPI app with users, auth, items and teaching examples.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings if settings is not None else Settings.from_env()
    install_middleware(app, app.state.settings)
    register_exception_handlers(app)
    app.include_router(users.router, prefix="/users")
    for module in (auth, admin, items, search, examples, lessons, health, services):
        app.include_router(module.router)
    return app


app = create_app()
