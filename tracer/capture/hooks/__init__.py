"""Where the tracer touches the framework: ASGI probes, FastAPI patches, SQLAlchemy events."""
