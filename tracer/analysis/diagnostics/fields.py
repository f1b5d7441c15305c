"""What the response carried: an unfiltered body, or one that leaks secret-looking fields."""

from __future__ import annotations

import re
from typing import Any

from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.readers import attr_str, attr_strs

_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "hash", "hashed", "secret", "token", "salt", "credentials"}
)

_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def is_secret_field(name: str) -> bool:
    """``password_hash``, ``apiKey``, ``access_token``: a name no response should carry."""
    words = [w.lower() for w in _WORD.findall(name)]
    joined = "".join(words)
    return bool(_SECRET_WORDS.intersection(words)) or any(
        part in joined for part in ("password", "apikey", "privatekey", "credential")
    )


def wrong_fields(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """No response_model: the body is the returned object as is, secrets included.

    Field names come from ``response.fields`` on the ``jsonable_encoder`` span
    when the hooks record it; without them the trace can only say the body
    was not filtered.
    """
    trace = ix.trace
    encoder = next((s for s in trace.spans if s.name == "jsonable_encoder"), None)
    if encoder is None:
        return []
    handler = next((s for s in trace.spans if s.phase == "handler"), None)
    returned = (attr_str(handler, "handler.returned") if handler else None) or "object"
    who = handler.name if handler else "the handler"
    route = attr_str(trace.root, "http.route") or trace.root.name
    fields = attr_strs(encoder, "response.fields")
    secrets = [f for f in fields if is_secret_field(f)]
    evidence: dict[str, Any] = {"returned": returned, "route": route, "fields": fields}
    if secrets:
        return [
            Finding(
                code="wrong_fields",
                severity="error",
                title=f"response leaks {', '.join(secrets)}: {route} has no response_model",
                detail=(
                    f"{who} returned a {returned} and jsonable_encoder sent all of its fields "
                    f"({', '.join(fields)}). Declare a response_model without "
                    f"{', '.join(secrets)} so FastAPI filters the body."
                ),
                layer="serialization (no response_model)",
                span_id=encoder.span_id,
                evidence={**evidence, "secret_fields": secrets},
            )
        ]
    if fields:
        return []
    return [
        Finding(
            code="wrong_fields",
            severity="info",
            title=f"unfiltered response: {route} has no response_model",
            detail=(
                f"{who} returned a {returned} and jsonable_encoder sent it as it is: unless it "
                "is a Pydantic model, every attribute goes out, e.g. hashes or internal flags. "
                "Declare response_model to choose the fields."
            ),
            layer="serialization (no response_model)",
            span_id=encoder.span_id,
            evidence=evidence,
        )
    ]
