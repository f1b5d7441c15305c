"""Small readers shared by the diagnostics and ``explain``: typed attributes, words, numbers."""

from __future__ import annotations

from tracer.model import Span, Trace


def fmt_ns(ns: int) -> str:
    """A duration for a sentence: ``0.42 ms``, ``31.2 ms``, ``1.25 s``."""
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f} s"
    if ns >= 10_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e6:.2f} ms"


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def attr_int(span: Span, key: str) -> int | None:
    value = span.attributes.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def attr_str(span: Span, key: str) -> str | None:
    value = span.attributes.get(key)
    return value if isinstance(value, str) else None


def attr_strs(span: Span, key: str) -> list[str]:
    value = span.attributes.get(key)
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def layer_of(span: Span) -> str:
    """Where to look, in the words of the ten steps."""
    if span.phase in ("handler", "dependency"):
        return f"{span.phase} {span.name}"
    if span.phase == "validation":
        return f"validation ({attr_str(span, 'validation.source') or span.name})"
    if span.phase == "serialization":
        return f"serialization ({span.name})"
    if span.phase == "background":
        return f"background task {span.name}"
    if span.phase == "db":
        return "database"
    if span.phase == "outbound":
        return f"outbound call to {span.attributes.get('server.address') or 'another service'}"
    if span.phase in ("asgi", "send"):
        return "server"
    return span.name


def endpoint_name(trace: Trace) -> str:
    """The matched endpoint's function name, else the route."""
    for span in trace.spans:
        name = attr_str(span, "routing.endpoint")
        if name:
            return name
    return attr_str(trace.root, "http.route") or trace.root.name
