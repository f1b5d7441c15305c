"""What the simple hook points record: span names and attributes from the parameters read.

Each :class:`~tracer.capture.hooks.skeleton.SpanSpec` here is used by one
row of :mod:`~tracer.capture.hooks.table`; its functions take the values of
that row's ``reads``, in order.
"""

from __future__ import annotations

from typing import Any

from tracer.capture.hooks.fields import body_model, response_shape
from tracer.capture.hooks.naming import (
    call_name,
    record_errors,
    record_fields,
    returned_kind,
    type_name,
)
from tracer.capture.hooks.skeleton import SpanSpec
from tracer.capture.recorder import RawSpan, Recorder

# -- validation (5) ------------------------------------------------------------------------


def _location(fields: Any) -> str:
    return str(getattr(getattr(fields[0].field_info, "in_", None), "value", "params"))


def _params_name(fields: Any) -> str | None:
    return f"validate {_location(fields)}" if fields else None


def _params_start(span: RawSpan, rec: Recorder, fields: Any) -> None:
    span.set("validation.source", _location(fields))
    span.set("validation.fields", [f.alias for f in fields])


def _validated(span: RawSpan, result: Any, *values: Any) -> None:
    """``(values, errors)`` returned by a validation function: record the errors."""
    record_errors(span, result[1])


#: ``request_params_to_args(fields, ...)``: one span per location (path, query, header, cookie)
PARAMS = SpanSpec(name=_params_name, before=_params_start, after=_validated, settle=True)


def _body_fields_start(span: RawSpan, rec: Recorder, body_fields: Any) -> None:
    span.set("validation.source", "body")
    fields = body_fields or []
    if len(fields) == 1:
        model = body_model(fields[0].field_info.annotation)  # cached per annotation
        span.set("validation.model", model.name)
        span.set("validation.fields", model.fields or [fields[0].alias])
    else:  # embedded: each parameter is a top-level key of the JSON body
        span.set("validation.fields", [f.alias for f in fields])


#: ``request_body_to_args(body_fields, ...)``: the body model (or embedded fields)
BODY_FIELDS = SpanSpec(
    name="validate body", before=_body_fields_start, after=_validated, settle=True
)


def _body_bytes(span: RawSpan, data: bytes, request: Any) -> None:
    span.set("body.bytes", len(data))


#: ``Request.body``: skipped once the body is cached on the request
BODY = SpanSpec(name="read body", skip=lambda request: hasattr(request, "_body"), after=_body_bytes)
#: ``Request.json``: skipped once parsed
JSON = SpanSpec(name="parse JSON", skip=lambda request: hasattr(request, "_json"))

# -- handler (6) ---------------------------------------------------------------------------


def _endpoint_name(dependant: Any, is_coroutine: Any) -> str:
    return call_name(getattr(dependant, "call", None))


def _endpoint_start(span: RawSpan, rec: Recorder, dependant: Any, is_coroutine: Any) -> None:
    call = getattr(dependant, "call", None)
    span.set("handler.kind", "async" if is_coroutine else "sync")
    span.set("code.function", getattr(call, "__qualname__", call_name(call)))


def _endpoint_end(span: RawSpan, result: Any, dependant: Any, is_coroutine: Any) -> None:
    span.set("handler.returned", type(result).__name__)
    span.set("handler.returned_kind", returned_kind(result))


#: ``run_endpoint_function(*, dependant, values, is_coroutine)``: the endpoint itself
ENDPOINT = SpanSpec(
    name=_endpoint_name,
    before=_endpoint_start,
    after=_endpoint_end,
    timed=lambda dependant, is_coroutine: bool(is_coroutine),
)

# -- serialization (7) ---------------------------------------------------------------------


def _model(field: Any) -> str | None:
    return type_name(field.field_info.annotation) if field is not None else None


def _serialize_name(field: Any, *_: Any) -> str:
    model = _model(field)
    return f"serialize {model}" if model else "jsonable_encoder"


def _serialize_start(
    span: RawSpan, rec: Recorder, field: Any, content: Any, include: Any, exclude: Any
) -> None:
    model = _model(field)
    if not model:
        return
    span.set("response_model", model)
    shape = response_shape(field.field_info.annotation, content)  # cached per class pair
    if shape is None:
        return
    kept = shape.kept
    if include is not None or exclude is not None:  # response_model_include / _exclude
        kept = [n for n in kept if (include is None or n in include) and n not in (exclude or ())]
    span.set("response_model.fields", kept)
    if shape.dropped is not None:
        span.set("response_model.dropped", shape.dropped)


def _serialize_end(span: RawSpan, result: Any, field: Any, *_: Any) -> None:
    if field is None:  # no response_model: nothing filtered the fields
        record_fields(span, result)


#: ``serialize_response(*, field, response_content, include, exclude, ...)``
SERIALIZE = SpanSpec(name=_serialize_name, before=_serialize_start, after=_serialize_end)


def _response_bytes(span: RawSpan, data: bytes, response: Any, content: Any = None) -> None:
    span.set("response.bytes", len(data))


#: ``JSONResponse.render(self, content)``
RENDER = SpanSpec(name=lambda response: f"render {type(response).__name__}", after=_response_bytes)

# -- background (10) -----------------------------------------------------------------------


def _task_name(task: Any) -> str:
    return call_name(getattr(task, "func", None))


def _task_start(span: RawSpan, rec: Recorder, task: Any) -> None:
    func = getattr(task, "func", None)
    span.set("code.function", getattr(func, "__qualname__", call_name(func)))
    span.set("background.after_response", rec.response_end >= 0)


#: ``BackgroundTask.__call__(self)``: one task, usually after the response was sent
BACKGROUND = SpanSpec(name=_task_name, before=_task_start)
