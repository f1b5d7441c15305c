"""The stored document: the same JSON with or without orjson, and a fallback that never fails."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from tests.store.conftest import make_trace
from tracer.sinks.store import encoding


def test_the_document_is_the_trace_as_compact_json() -> None:
    trace = make_trace(1)
    trace.meta["big"] = 2**70  # past 64 bits: orjson refuses it, the stdlib writes it
    document = zlib.decompress(encoding.encode(trace)).decode()
    assert json.loads(document) == json.loads(trace.to_json())
    assert encoding.decode(encoding.encode(trace)).to_dict() == trace.to_dict()


def test_orjson_and_the_stdlib_write_the_same_json() -> None:
    pytest.importorskip("orjson")
    trace = make_trace(2)
    trace.meta.update({3: "int key"})  # type: ignore[dict-item]  # json writes "3"; orjson must too
    fast = zlib.decompress(encoding.encode(trace))
    slow = zlib.decompress(encoding.encode(trace, fast=False))
    assert json.loads(fast) == json.loads(slow)


def test_an_encoder_that_refuses_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: Any) -> bytes:
        raise TypeError("Integer exceeds 64-bit range")

    monkeypatch.setattr(encoding, "_orjson_dumps", refuse)
    trace = make_trace(3)
    assert encoding.decode(encoding.encode(trace)).to_dict() == trace.to_dict()
