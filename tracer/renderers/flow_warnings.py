"""The sequence diagram's footnote: a response built outside some middleware skipped them."""

from __future__ import annotations

from tracer.analysis.index import analyse, short_layer_name
from tracer.model import Trace
from tracer.renderers import labels


def skipped_layers(trace: Trace) -> list[str]:
    """A response built outside some middleware skipped what those layers add."""
    index = analyse(trace)
    origin, layers = index.response_origin, index.layers
    names = [s.name for s in layers]
    classes = [str(s.attributes.get("middleware.class", s.name)) for s in layers]
    if origin is None or (origin not in names and origin not in classes):
        return []
    at = names.index(origin) if origin in names else classes.index(origin)
    inner = [short_layer_name(s.name) for s in index.user_layers(layers[at + 1 :])]
    if not inner:
        return []
    code = labels.status_text(trace.status_code).split(" ")[0]
    text = f"{code} came from {origin}, outside {', '.join(inner)}"
    headers = labels.header_names(trace.response.get("headers"))
    # CORS headers are owed only to a cross-origin request (one with an Origin header)
    cross_origin = "origin" in labels.header_names(trace.request.get("headers"))
    if (
        cross_origin
        and any("cors" in n.lower() for n in inner)
        and not any(h.startswith("access-control-") for h in headers)
    ):
        return [f"{text}: the response has no CORS headers"]
    return [f"{text}: headers those layers add are missing"]
