"""Field names of models and returned objects: what a body model declares, what a
``response_model`` keeps and what it drops from the object the handler returned.

Names only, never a value: a model's names come from its class (Pydantic's
``model_fields``, a dataclass's fields, an ORM class's mapped columns), never
from an instance, so no attribute of the app's object is read (no lazy load,
no SQL, no property). A dict's keys are the one per-request input; they pass
through :func:`tracer.redaction.field_names` like every name list here.

Everything derived from classes is computed once per class (or annotation,
or pair of them) and kept in a small bounded cache keyed by those classes,
which live as long as the app: a request pays one dict lookup. Nothing about
a request is kept.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Iterable
from typing import Any, NamedTuple

from tracer.capture.hooks.naming import type_name
from tracer.redaction import field_names

#: Most entries in each cache; the oldest goes first (apps have a bounded number of models).
CACHE_SIZE = 512
#: Most keys of a returned dict looked at per request (the rest are counted, not named).
DICT_KEYS = 200
_MISS = object()
#: origins whose *last* type argument is the item type (``dict[str, User]``)
_MAPPINGS = frozenset({dict, typing.Mapping, typing.MutableMapping})


class BodyModel(NamedTuple):
    """A body annotation: its name and its model's field names (``None``: not a model)."""

    name: str
    fields: list[str] | None


class ResponseShape(NamedTuple):
    """What a response model keeps of one returned type; ``dropped`` ``None``: not known."""

    kept: list[str]
    kept_set: frozenset[str]
    dropped: list[str] | None


_bodies: dict[Any, BodyModel] = {}
_shapes: dict[tuple[Any, type], ResponseShape | None] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> Any:
    try:
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)), None)
        cache[key] = value
    except (TypeError, RuntimeError, StopIteration):  # unhashable key; a concurrent eviction
        pass
    return value


def _cached(cache: dict[Any, Any], key: Any) -> Any:
    try:
        return cache.get(key, _MISS)
    except TypeError:  # an annotation with unhashable metadata: computed every time
        return _MISS


def class_fields(cls: Any) -> list[str] | None:
    """The declared field names of a Pydantic model, dataclass or mapped ORM class.

    ``None`` for anything else (a plain class's attributes are per instance).
    For an ORM class: its mapped column attributes, read from the mapper,
    never from an instance (no lazy load, no SQL).
    """
    if not isinstance(cls, type):
        return None
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):
        return list(fields)
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    if getattr(cls, "_sa_class_manager", None) is not None:
        from sqlalchemy import inspect

        mapper: Any = inspect(cls, raiseerr=False)
        attrs = getattr(mapper, "column_attrs", None)
        if attrs is not None:
            return [str(prop.key) for prop in attrs]
    return None


def model_class(annotation: Any) -> type | None:
    """The model class an annotation is about: ``User``, ``list[User]``, ``User | None``,
    ``dict[str, User]``; ``None`` when there is no single one."""
    for _ in range(5):
        if isinstance(annotation, type) and class_fields(annotation) is not None:
            return annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None) and a is not ...]
        if not args:
            return None
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated or origin in _MAPPINGS:
            annotation = args[0] if origin is typing.Annotated else args[-1]
        elif len(args) == 1 or origin in (list, set, frozenset, tuple):
            annotation = args[0]
        else:  # a union of several models: which one applies is per value
            return None
    return None


def _alias(name: str, info: Any) -> str:
    alias = getattr(info, "alias", None)
    return alias if isinstance(alias, str) and alias else name


def _body_model(annotation: Any) -> BodyModel:
    model = model_class(annotation)
    fields = None
    if model is not None:
        declared = getattr(model, "model_fields", None)
        names: Iterable[object] = (
            [_alias(n, i) for n, i in declared.items()]
            if isinstance(declared, dict)
            else class_fields(model) or ()
        )
        fields = field_names(names)
    return BodyModel(type_name(annotation), fields)


def body_model(annotation: Any) -> BodyModel:
    """A body parameter's annotation: its name and the JSON field names it declares
    (aliases where set). Cached per annotation."""
    hit = _cached(_bodies, annotation)
    if hit is _MISS:
        hit = _remember(_bodies, annotation, _body_model(annotation))
    return typing.cast(BodyModel, hit)


def _shape(annotation: Any, returned: type) -> ResponseShape | None:
    model = model_class(annotation)
    kept = class_fields(model) if model is not None else None
    if kept is None:
        return None
    kept_set = frozenset(kept)
    dropped = None
    if not issubclass(returned, dict):
        declared = class_fields(returned)
        if declared is not None:
            dropped = field_names(n for n in declared if n not in kept_set)
    return ResponseShape(field_names(kept), kept_set, dropped)


def response_shape(annotation: Any, content: Any) -> ResponseShape | None:
    """What the response model ``annotation`` keeps of ``content`` and what it drops.

    A list is judged by its first item. Computed once per (annotation, returned
    type); a dict's dropped keys are the one part read per request.
    """
    sample = content
    if isinstance(content, list | tuple):
        sample = content[0] if content else None
    returned = type(sample)
    key = (annotation, returned)
    hit = _cached(_shapes, key)
    if hit is _MISS:
        hit = _remember(_shapes, key, _shape(annotation, returned))
    shape = typing.cast(ResponseShape | None, hit)
    if shape is None or not isinstance(sample, dict):
        return shape
    looked = list(itertools.islice(dict.keys(sample), DICT_KEYS))
    extra = [k for k in looked if k not in shape.kept_set]
    return shape._replace(dropped=field_names(extra, unseen=len(sample) - len(looked)))


def forget() -> None:
    """Empty the caches (the app was uninstrumented; tests)."""
    _bodies.clear()
    _shapes.clear()
