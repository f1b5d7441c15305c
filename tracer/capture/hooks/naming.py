"""How hooks name what they see: callables, annotations, return values, validation errors.

Nothing here is cached: a cache keyed by the objects a request passes
(``run_in_threadpool`` wraps each call in a fresh ``functools.partial``)
would keep that request's arguments alive after it ended. Reading
``__name__`` is as cheap as a cache hit (measured: docs/how-it-works.md).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from tracer.capture.recorder import RawSpan
from tracer.redaction import scrub_message

_MODULE_PATH = re.compile(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)")

#: At most this many top-level field names are recorded for an unfiltered response.
MAX_FIELDS = 50


def call_name(call: Any) -> str:
    """The function's ``__name__`` (through partials), else its type's name."""
    while isinstance(call, functools.partial):
        call = call.func
    name = getattr(call, "__name__", None)
    if isinstance(name, str):
        return name
    return type(call).__name__


def type_name(annotation: Any) -> str:
    """``User``, ``list[User]``: an annotation without its module paths."""
    name = getattr(annotation, "__name__", None)
    if isinstance(name, str) and "[" not in repr(annotation):
        return name
    return _MODULE_PATH.sub(r"\1", repr(annotation).replace("typing.", ""))


def returned_kind(value: Any) -> str:
    """What a handler returned, in the words a reader of the trace needs."""
    if hasattr(value, "_sa_instance_state"):
        return "orm"
    if hasattr(type(value), "model_fields"):
        return "pydantic"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list | tuple):
        if value and hasattr(value[0], "_sa_instance_state"):
            return "list[orm]"
        return "list"
    if hasattr(type(value), "__dataclass_fields__"):
        return "dataclass"
    from starlette.responses import Response

    return "response" if isinstance(value, Response) else "other"


def record_fields(span: RawSpan, encoded: Any) -> None:
    """Top-level field names of an unfiltered response (names only, never values)."""
    sample = encoded[0] if isinstance(encoded, list) and encoded else encoded
    if isinstance(sample, dict):
        names = sorted(str(key) for key in sample)
        span.set("response.fields", names[:MAX_FIELDS])
        if len(names) > MAX_FIELDS:
            span.set("response.fields_truncated", True)


def _format_error(error: Any) -> str:
    """``loc: msg (type)``, the message scrubbed: a validator may quote the input it refused."""
    if not isinstance(error, dict):
        return scrub_message(str(error), 200)
    loc = ".".join(str(part) for part in error.get("loc", ()))
    return f"{loc}: {scrub_message(str(error.get('msg', '')), 160)} ({error.get('type', '')})"


def record_errors(span: RawSpan, errors: Any) -> None:
    """Validation errors as ``loc: msg (type)``: never the input that failed."""
    if errors:
        span.status = "error"
        span.set("validation.error_count", len(errors))
        span.set("validation.errors", [_format_error(e) for e in list(errors)[:20]])
