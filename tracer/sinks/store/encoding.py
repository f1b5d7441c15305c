"""The stored document: compact JSON, zlib level 1; orjson when it is installed.

Encoding is most of the writer's CPU per persisted trace. Measured on the
demo's 26-span ``GET /health`` trace (2 shared cores): ``json.dumps`` ≈ 60 µs,
``orjson.dumps`` ≈ 6 µs, zlib level 1 ≈ 25 µs. orjson is optional (the
``fast`` extra): without it the stdlib encoder writes the same JSON. orjson
is used with the options that keep the output what ``json.dumps(...,
default=repr)`` gives for a trace's values (string keys from int keys;
dataclasses and datetimes through ``repr``); anything it still refuses (an
integer past 64 bits) falls back to the stdlib for that trace.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

from tracer.model import Trace
from tracer.sinks.store.summary import summarize

_orjson_dumps: Callable[[Any], bytes] | None
try:  # optional: ``pip install trace-request[fast]``
    import orjson  # type: ignore[import-not-found, unused-ignore]

    _OPTIONS = (
        orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
    )

    def _orjson_dumps(data: Any) -> bytes:
        encoded: bytes = orjson.dumps(data, default=repr, option=_OPTIONS)
        return encoded

except ImportError:  # pragma: no cover - depends on the environment
    _orjson_dumps = None

#: Which JSON encoder the writer uses (the benchmark reports it).
ENCODER = "orjson" if _orjson_dumps is not None else "json"


def _stdlib_dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=repr).encode("utf-8")


def encode(trace: Trace, *, fast: bool = True) -> bytes:
    """``trace`` as compressed compact JSON; ``fast=False`` forces the stdlib encoder."""
    data = trace.to_dict()
    document: bytes | None = None
    if fast and _orjson_dumps is not None:
        try:
            document = _orjson_dumps(data)
        except TypeError:  # e.g. an int past 64 bits: the stdlib writes it
            document = None
    if document is None:
        document = _stdlib_dumps(data)
    # level 1: half the CPU of the default level for a document ~10 % bigger
    return zlib.compress(document, 1)


def decode(document: bytes) -> Trace:
    """The trace back from :func:`encode`'s bytes (raises zlib/Unicode/JSON errors as is)."""
    return Trace.from_json(zlib.decompress(document).decode("utf-8"))


#: One ``traces`` row, in ``schema.INSERT``'s order.
Row = tuple[str, int, str, str, str | None, int | None, int, int, int, bytes, str]


def row(trace: Trace, reason: str) -> Row:
    """The row of a trace the budget kept for ``reason``: its summary columns and document."""
    s = summarize(trace)
    return (
        s.trace_id,
        s.started_ns,
        s.method,
        s.path,
        s.route,
        s.status,
        s.duration_ns,
        s.span_count,
        int(s.error),
        encode(trace),
        reason,
    )
