"""Our span attributes as OpenTelemetry semantic conventions, and back.

The in-process :class:`~tracer.model.Trace` keeps its own attribute names; the
export speaks the current HTTP and database conventions so Jaeger or Tempo show
a request the way other instrumentations do: the root is the HTTP server span
(``METHOD route``), statements are database CLIENT spans, and every attribute of
our own sits under the one ``trace_request.`` prefix. :func:`from_otel` undoes
:func:`to_otel` exactly, so OTLP files of our traces read back as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracer.model import Span, Trace

PREFIX = "trace_request."
#: Attributes the model itself names ``trace_request.*``: exported and read back as they are.
NATIVE_KEYS = frozenset(
    PREFIX + name
    for name in (
        "request",
        "response",
        "response_end_ns",
        "meta",
        "response_origin",
        "response_ns",
        "unfinished",
        "synthetic",
    )
)
#: The root's name when the export renamed it (``GET`` for an unmatched ``GET /…``).
NAME_KEY = PREFIX + "span_name"

KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
#: HTTP server-span keys: standard on the root, ours (prefixed) anywhere else.
ROOT_KEYS = frozenset(
    {
        "http.request.method",
        "http.request.method_original",
        "http.route",
        "http.response.status_code",
        "url.path",
        "url.query",
        "url.scheme",
        "network.protocol.version",
        "server.address",
        "server.port",
        "client.address",
        "user_agent.original",
    }
)
#: Database client-span keys, standard on a span that carries ``db.system``.
DB_KEYS = frozenset(
    {
        "db.system.name",
        "db.query.text",
        "db.operation.name",
        "db.collection.name",
        "db.namespace",
        "server.address",
        "server.port",
    }
)
#: HTTP client-span keys, standard on an outbound call (recorded under these names).
OUTBOUND_KEYS = frozenset(
    {
        "http.request.method",
        "http.response.status_code",
        "http.request.body.size",
        "http.response.body.size",
        "url.full",
        "server.address",
        "server.port",
    }
)
#: Standard on any span.
ANY_KEYS = frozenset({"error.type"})
#: model key -> convention key (on db spans for the ``db.*`` ones).
RENAMED = {
    "db.system": "db.system.name",
    "db.statement": "db.query.text",
    "db.operation": "db.operation.name",
    "code.function": "code.function.name",
}
_UNRENAMED = {v: k for k, v in RENAMED.items()}
#: SQLAlchemy dialect name -> ``db.system.name`` where the two differ.
DB_SYSTEMS = {"mssql": "microsoft.sql_server", "oracle": "oracle.db"}
_DIALECTS = {v: k for k, v in DB_SYSTEMS.items()}
_DERIVED_ROOT = (
    "url.scheme",
    "network.protocol.version",
    "server.address",
    "server.port",
    "client.address",
    "user_agent.original",
    "http.request.method_original",
    "error.type",
)


def is_db(attributes: Mapping[str, Any]) -> bool:
    """A database client call (statement, COMMIT, ROLLBACK), not pool or compile work."""
    return "db.system" in attributes


def kind_name(span: Span, *, is_root: bool) -> str:
    """``SERVER`` for a request's root, ``CLIENT`` for database calls, else ``INTERNAL``
    (a lifespan root too: the server asked for no request)."""
    if is_root:
        return "INTERNAL" if span.phase == "lifespan" else "SERVER"
    return "CLIENT" if is_db(span.attributes) or span.phase == "outbound" else "INTERNAL"


def _headers(request: Mapping[str, Any]) -> dict[str, str]:
    """Request headers (a list of pairs, or a mapping) by lower-case name, first wins."""
    raw = request.get("headers") or ()
    pairs: Sequence[Any] = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
    out: dict[str, str] = {}
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            out.setdefault(str(pair[0]).lower(), str(pair[1]))
    return out


def _host_port(authority: str, scheme: str) -> tuple[str, int | None]:
    host, port = authority.strip(), ""
    if host.startswith("["):  # [::1]:8000
        end = host.find("]")
        host, port = host[1:end], host[end + 2 :] if end >= 0 else ""
    elif host.count(":") == 1:
        host, port = host.split(":")
    if port.isdigit():
        return host, int(port)
    return host, {"http": 80, "https": 443}.get(scheme)


def _usable(value: str) -> bool:
    return bool(value) and value != "[redacted]"


def server_attributes(trace: Trace, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """HTTP server-span attributes the root does not hold but the request summary does."""
    request = trace.request
    out: dict[str, Any] = {}
    scheme = str(request.get("scheme") or "")
    if scheme:
        out["url.scheme"] = scheme
    version = str(request.get("http_version") or "")
    if version:
        out["network.protocol.version"] = version
    headers = _headers(request)
    host = headers.get("host", "")
    if _usable(host):
        address, port = _host_port(host, scheme)
        if address:
            out["server.address"] = address
            if port is not None:
                out["server.port"] = port
    forwarded = headers.get("x-forwarded-for", "").split(",")[0].strip()
    if _usable(forwarded):
        out["client.address"] = forwarded
    agent = headers.get("user-agent", "")
    if _usable(agent):
        out["user_agent.original"] = agent
    method = attributes.get("http.request.method")
    if isinstance(method, str) and method and method not in KNOWN_METHODS:
        out["http.request.method_original"] = method
    status = attributes.get("http.response.status_code")
    if isinstance(status, int) and status >= 500 and "error.type" not in attributes:
        out["error.type"] = str(status)
    return {k: v for k, v in out.items() if k not in attributes}


def server_name(attributes: Mapping[str, Any]) -> str:
    """``METHOD route``, or ``METHOD`` when no route matched (``HTTP`` for an unknown method)."""
    method = str(attributes.get("http.request.method") or "")
    method = method if method in KNOWN_METHODS else "HTTP"
    route = attributes.get("http.route")
    return f"{method} {route}" if isinstance(route, str) and route else method


def collection(span_name: str, operation: Any) -> str | None:
    """The table of a statement span named ``<OPERATION> <table>`` (the recorder's naming)."""
    head, _, tail = span_name.partition(" ")
    if operation and head == operation and tail and " " not in tail:
        return tail
    return None


def _key(key: str, *, is_root: bool, db: bool, outbound: bool = False) -> str:
    if key.startswith(PREFIX) or key in ANY_KEYS or (outbound and key in OUTBOUND_KEYS):
        return key
    if key in RENAMED and (db or not key.startswith("db.")):
        return RENAMED[key]
    if (is_root and key in ROOT_KEYS) or (db and key in DB_KEYS):
        return key
    return PREFIX + key


def to_otel(trace: Trace, span: Span, *, is_root: bool) -> tuple[str, dict[str, Any]]:
    """The exported span name and attributes (phase and step included)."""
    source = span.attributes
    db = is_db(source)
    outbound = span.phase == "outbound"
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key == "db.system" and db and isinstance(value, str):
            value = DB_SYSTEMS.get(value, value)
        out[_key(key, is_root=is_root, db=db, outbound=outbound)] = value
    out[PREFIX + "lifecycle.phase"] = span.phase
    out[PREFIX + "lifecycle.step"] = span.step
    name = span.name
    if db:
        table = collection(span.name, source.get("db.operation"))
        if table is not None and "db.collection.name" not in source:
            out["db.collection.name"] = table
    if is_root and "http.request.method" in source:
        out.update(server_attributes(trace, source))
        if out.get("http.request.method_original"):
            out["http.request.method"] = "_OTHER"
        name = server_name(source)
        if name != span.name:
            out[NAME_KEY] = span.name
    return name, out


def from_otel(name: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Undo :func:`to_otel` for one of our spans (phase and step already taken out).

    The root's derived server attributes are dropped later, by :func:`drop_derived`,
    once the request summary is known.
    """
    name = str(attributes.pop(NAME_KEY, name))
    db = "db.system.name" in attributes
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key.startswith(PREFIX) and key not in NATIVE_KEYS:
            key = key[len(PREFIX) :]
        elif key in _UNRENAMED and (db or not key.startswith("db.")):
            key = _UNRENAMED[key]
            if key == "db.system" and isinstance(value, str):
                value = _DIALECTS.get(value, value)
        out[key] = value
    if db and out.get("db.collection.name") == collection(name, out.get("db.operation")):
        out.pop("db.collection.name", None)
    return name, out


def drop_derived(trace: Trace, attributes: dict[str, Any]) -> None:
    """Take the server attributes :func:`to_otel` derived off the rebuilt root."""
    original = attributes.pop("http.request.method_original", None)
    if original is not None and attributes.get("http.request.method") == "_OTHER":
        attributes["http.request.method"] = original
    others = {k: v for k, v in attributes.items() if k not in _DERIVED_ROOT}
    for key, value in server_attributes(trace, others).items():
        if attributes.get(key) == value:
            del attributes[key]
