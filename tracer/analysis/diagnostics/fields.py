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

#: an OAuth2 token response (RFC 6749 §5.1): what a token endpoint exists to return
TOKEN_FIELDS = frozenset(
    {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
)
_TOKEN_PATH = re.compile(r"(?:^|[/_-])(?:access[_-]?)?token/?$|/(?:jwt|auth)/login/?$", re.I)


def is_token_endpoint(ix: TraceIndex, fields: list[str]) -> bool:
    """The request went to an OAuth2 token endpoint, so returning a token is its job.

    Evidence, any of: the body is exactly a token response (``access_token`` plus
    only other RFC 6749 token fields); the route took an OAuth2 password form;
    the route's path ends in ``token`` (``/token``, ``/login/access-token``).
    """
    if "access_token" in fields and set(fields) <= TOKEN_FIELDS:
        return True
    if any("OAuth2PasswordRequestForm" in s.name for s in ix.trace.spans):
        return True
    route = attr_str(ix.trace.root, "http.route") or ""
    return bool(_TOKEN_PATH.search(route))


def is_secret_field(name: str) -> bool:
    """``password_hash``, ``apiKey``, ``access_token``: a name no response should carry."""
    words = [w.lower() for w in _WORD.findall(name)]
    joined = "".join(words)
    return bool(_SECRET_WORDS.intersection(words)) or any(
        part in joined for part in ("password", "apikey", "privatekey", "credential")
    )


def wrong_fields(ix: TraceIndex, _: Thresholds) -> list[Finding]:
    """No response_model: the body is the returned object as is, secrets included.

    A token endpoint (:func:`is_token_endpoint`) returning ``access_token`` and
    ``token_type`` is not a leak; a password hash next to them still is. Field
    names come from ``response.fields`` on the ``jsonable_encoder`` span when
    the hooks record it; without them the trace can only say the body was not
    filtered.
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
    if secrets and is_token_endpoint(ix, fields):
        # a token endpoint returning its token is doing its job: only other secrets count
        secrets = [f for f in secrets if f not in TOKEN_FIELDS]
        if not secrets:
            return []
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
