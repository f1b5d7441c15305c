"""A small but realistic FastAPI app used to demonstrate request tracing.

It knows nothing about the tracer: everything here is ordinary FastAPI, so a
trace of it shows what a real application's requests go through.
"""
