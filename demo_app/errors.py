"""Domain exceptions and the handlers that turn them into HTTP responses.

Raising ``UserNotFound`` keeps route code free of HTTP details; the handler
decides the status code and body in one place.
"""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse


class UserNotFound(Exception):
    """No user has the requested id."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} not found")
        self.user_id = user_id


def register_exception_handlers(app: FastAPI) -> None:
    """Install the app's handlers for domain exceptions."""

    @app.exception_handler(UserNotFound)
    async def user_not_found(request: Request, exc: UserNotFound) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})
