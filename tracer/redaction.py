"""What may be recorded: the one place that decides, for every sink.

By default a trace holds names, types, sizes, counts, statuses, templates
(route, SQL with placeholders) and durations — never a value a client or the
app supplied. Every hook that records text passes it through one of the
functions here, so the store, the OTLP export, the endpoint, the JSON and the
terminal all see the same, already-scrubbed, bounded strings:

- header values: credential-like names (matched by pattern) are replaced;
  URL-bearing headers (``Location``, ``Referer`` …) keep only their scheme,
  host and path; every value is bounded;
- query strings: names kept, values hidden (opt-in keeps values, except for
  secret-looking names);
- exception and validation messages: SQLAlchemy's ``[parameters: …]`` block,
  Pydantic's ``input_value=…``, quoted literals, credentials in URLs and
  ``name=value`` pairs with secret-looking names, and token-like words are
  replaced before anything is stored;
- SQL parameters: only under ``record_sql_parameters``, and even then
  secret-looking names hidden.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote, unquote, urlsplit

REDACTED = "[redacted]"
#: What stands in for a value inside a kept template (a query, a message).
HIDDEN = "…"
#: Default bound on one recorded string (header value, query, message).
DEFAULT_LIMIT = 1024
#: Most headers recorded per message; the rest are counted, not kept.
MAX_HEADERS = 64

#: Header or field names that look like they hold a secret.
SECRET_NAME = re.compile(
    r"auth|pass(?:word|wd)?|secret|token|key|credential|session|cookie|signature|"
    r"jwt|bearer|csrf|xsrf|otp|pin\b|private|assertion|ticket|nonce",
    re.I,
)
#: Headers whose value is a URL: recorded without its query or credentials.
URL_HEADERS = frozenset(
    {"location", "content-location", "referer", "origin", "link", "refresh", "host"}
)
_NOT_URL = frozenset({"origin", "host"})


def is_secret_name(name: str) -> bool:
    """A header, field, query or parameter name that may carry a credential."""
    return bool(SECRET_NAME.search(name))


def bound(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[: max(0, limit - 24)]}… [{len(text)} chars]"


#: Most field names kept in one list attribute; a last ``"… <n> more"`` item counts the rest.
MAX_FIELD_NAMES = 40
#: What a field or key name looks like; a dict keyed by data (emails, ids) records none of it.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}\Z")


def field_names(
    names: Iterable[object], limit: int = MAX_FIELD_NAMES, *, unseen: int = 0
) -> list[str]:
    """Names of fields, attributes or keys, safe to record: names only, never a value.

    Only name-like strings are kept (an identifier of up to 64 characters): a
    key that is data (``a@example.com``, ``"42"``) is counted, not kept. At
    most ``limit`` names; a last ``"… <n> more"`` item counts what was left out
    (plus ``unseen``: names the caller did not look at).
    """
    out: list[str] = []
    more = max(0, unseen)
    for name in names:
        if len(out) < limit and isinstance(name, str) and _FIELD_NAME.match(name):
            out.append(name)
        else:
            more += 1
    if more:
        out.append(f"{HIDDEN} {more} more")
    return out


# -- headers ---------------------------------------------------------------------------


def redact_headers(
    headers: Iterable[Sequence[str]],
    extra: frozenset[str] = frozenset(),
    *,
    limit: int = DEFAULT_LIMIT,
) -> list[list[str]]:
    """Lower-cased ``[name, value]`` pairs (lists round-trip through JSON), safe to keep.

    ``extra`` names more headers to hide (lower-case), e.g. a tenant or the
    trigger header. At most :data:`MAX_HEADERS` pairs are kept; a last
    ``["…", "<n> more"]`` pair counts the rest.
    """
    out: list[list[str]] = []
    dropped = 0
    for name, value in headers:
        if len(out) >= MAX_HEADERS:
            dropped += 1
            continue
        key = bound(name.lower(), 128)
        out.append([key, header_value(key, value, extra, limit)])
    if dropped:
        out.append([HIDDEN, f"{dropped} more"])
    return out


def header_value(key: str, value: str, extra: frozenset[str], limit: int) -> str:
    """One header's recordable value (``key`` lower-case)."""
    if key in extra or _secret_header(key):
        return REDACTED
    if key in URL_HEADERS and key not in _NOT_URL:
        return bound(scrub_url(value), limit)
    return bound(value, limit)


#: how a header's value is recorded, decided once per raw header name
_SECRET, _URL, _PLAIN = 0, 1, 2
_header_rules: dict[bytes, tuple[str, int]] = {}


def _header_rule(name: bytes) -> tuple[str, int]:
    rule = _header_rules.get(name)
    if rule is None:
        key = bound(name.decode("latin-1").lower(), 128)
        if _secret_header(key):
            kind = _SECRET
        elif key in URL_HEADERS and key not in _NOT_URL:
            kind = _URL
        else:
            kind = _PLAIN
        rule = (key, kind)
        if len(_header_rules) < 1024:  # names repeat; a flood of made-up ones is not cached
            _header_rules[name] = rule
    return rule


def header_name(raw: bytes) -> str:
    """A header's recordable name (lower-case, bounded) from its ASGI bytes; cached."""
    return _header_rule(raw)[0]


def recordable_headers(
    raw: Iterable[Sequence[bytes]],
    extra: frozenset[str] = frozenset(),
    *,
    limit: int = DEFAULT_LIMIT,
) -> list[list[str]]:
    """:func:`redact_headers` of ASGI (bytes) header pairs, in one pass.

    The rule for each name is decided once and cached, and a value is decoded
    only when it is kept: on the request path this costs a dict lookup per header.
    """
    out: list[list[str]] = []
    dropped = 0
    rules = _header_rules
    for name, value in raw:
        if len(out) >= MAX_HEADERS:
            dropped += 1
            continue
        rule = rules.get(name) if type(name) is bytes else None
        key, kind = rule if rule is not None else _header_rule(bytes(name))
        if kind == _SECRET or key in extra:
            out.append([key, REDACTED])
            continue
        text = bytes(value).decode("latin-1")
        if kind == _URL:
            text = bound(scrub_url(text), limit)
        elif len(text) > limit:
            text = bound(text, limit)
        out.append([key, text])
    if dropped:
        out.append([HIDDEN, f"{dropped} more"])
    return out


@functools.lru_cache(maxsize=512)
def _secret_header(key: str) -> bool:
    """Per header name, decided once: the same few names arrive on every request."""
    return is_secret_name(key)


# -- URLs and query strings ------------------------------------------------------------


def redact_query(query: str, *, values: bool = False, limit: int = DEFAULT_LIMIT) -> str:
    """A query string with its names kept and its values hidden.

    With ``values`` (an explicit opt-in) values are kept, except where the
    name looks secret.
    """
    if not query:
        return ""
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if not sep:
            parts.append(name if values and not is_secret_name(unquote(name)) else HIDDEN)
            continue
        keep = values and not is_secret_name(unquote(name))
        parts.append(f"{name}={value if keep else HIDDEN}")
    return bound("&".join(parts), limit)


def scrub_path(path: str, limit: int = DEFAULT_LIMIT) -> str:
    """A request path with the segments that look like values hidden.

    Matched requests are named by their route template anyway; this is for
    the path itself (``url.path``, an unmatched request): numeric ids and
    words stay, token-like, e-mail-like and over-long segments become ``…``.
    """
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if len(segment) > 64 or _TOKENISH.search(segment) or _EMAIL.search(unquote(segment)):
            segments[i] = HIDDEN
    return bound("/".join(segments), limit)


def recordable_path(path: str, route: str | None, *, values: bool, limit: int) -> str:
    """The request path as a trace may hold it.

    By default a matched request's path is its route template with each
    parameter hidden (``/users/…/items``); an unmatched one keeps only its
    shape (``/…/…``): every segment came from the client. With ``values``
    (an explicit opt-in, e.g. the CLI tracing the user's own request) the
    path is kept, token-like segments still hidden.
    """
    if values:
        return scrub_path(path, limit)
    if route:
        return bound(_PARAMETER.sub(HIDDEN, route), limit)
    return bound("/".join(HIDDEN if segment else "" for segment in path.split("/")), limit)


_PARAMETER = re.compile(r"\{[^}]*\}")


def scrub_url(url: str) -> str:
    """Scheme, host and path of ``url``: no credentials, query values or fragment."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    except ValueError:
        return HIDDEN
    if parts.username or parts.password:
        host = f"{HIDDEN}@{host}"
    out = f"{parts.scheme}://{host}" if parts.scheme or parts.netloc else ""
    out += scrub_path(quote(unquote(parts.path), safe="/%:@!$&'()*+,;=-._~"))
    if parts.query:
        out += "?" + redact_query(parts.query)
    return out


# -- messages --------------------------------------------------------------------------

_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.S)
_PYDANTIC_INPUT = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.M)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^\s/@:]*(?::[^\s/@]*)?@", re.I)
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.){1,}'|\"(?:[^\"\\\n]|\\.){1,}\"")
_SECRET_PAIR = re.compile(
    r"\b([\w.-]*(?:" + SECRET_NAME.pattern + r")[\w.-]*)(\s*[=:]\s*)(\S+)", re.I
)
#: A word that looks like a token, a hash or a key: long, with letters and several digits.
_TOKENISH = re.compile(r"\b(?=(?:[A-Za-z_\-+/=]*\d){2})(?=[\w\-+/=]*[A-Za-z])[\w\-+/=]{12,}")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def scrub_message(text: str, limit: int = 500) -> str:
    """An exception or validator message with every quoted or secret-looking value hidden.

    What stays is the message's template: the words the code wrote, the
    names it mentions, numbers of no more than 15 digits.
    """
    text = _SQL_PARAMETERS.sub(f"[parameters: {HIDDEN}]", text)
    text = _PYDANTIC_INPUT.sub(f"input_value={HIDDEN}", text)
    text = _URL_CREDENTIALS.sub(rf"\1{HIDDEN}@", text)
    text = _QUOTED.sub(_hide_quoted, text)
    text = _SECRET_PAIR.sub(rf"\1\2{HIDDEN}", text)
    text = _EMAIL.sub(HIDDEN, text)
    text = _TOKENISH.sub(HIDDEN, text)
    return bound(text, limit)


def _hide_quoted(match: re.Match[str]) -> str:
    quote_char = match.group(0)[0]
    return f"{quote_char}{HIDDEN}{quote_char}"
