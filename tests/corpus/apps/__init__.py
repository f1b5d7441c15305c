"""One module per real-app shape; each exposes ``create_app(workdir: Path) -> FastAPI``.

Every call builds a fresh app (new endpoint functions, new engines), so the first
request to it pays FastAPI's and SQLAlchemy's first-call costs. SQLite only;
files, when any, go under ``workdir``.
"""
