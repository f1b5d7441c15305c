"""What a hook point is, how its arguments are bound, and how the table is installed or checked.

A :class:`HookPoint` names the attribute that is patched (a :class:`Target`,
or several alternatives across versions), the phase and step of its spans,
and the parameters its wrapper reads. The parameters are looked up in the
target's *signature* once, when it is patched (:class:`Binding`): a renamed or
removed parameter is found then — the hook is skipped with one warning — and
never turns into a ``None`` read on a request and a mislabelled span.

:func:`check` runs the same resolution without patching anything, for the
installed FastAPI version; ``tests/tracer/test_hook_table.py`` runs it on
every version of the matrix.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tracer.capture.hooks.patching import ORIGINAL_ATTR, Patcher
from tracer.model import Phase
from tracer.safety import warn_once

Version = tuple[int, ...]
Getter = Callable[[tuple[Any, ...], dict[str, Any]], Any]
Reader = Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, ...]]


class HookMismatch(Exception):
    """The target exists but is not what the table expects (say what, for the warning)."""


@dataclass(frozen=True)
class Target:
    """One patchable attribute and what the wrapper expects of its signature."""

    module: str
    #: ``"run_endpoint_function"`` or ``"Request.body"`` (an attribute of a class in ``module``)
    qualname: str
    #: parameters the wrapper reads by name; their position is resolved at patch time
    reads: tuple[str, ...] = ()
    #: read when this version has them (``None`` otherwise)
    optional_reads: tuple[str, ...] = ()
    #: parameters the wrapper itself takes positionally: the target's first ones, in this order
    leading: tuple[str, ...] = ()
    #: the FastAPI versions that have it, ``since <= version < until`` (for the table test)
    since: Version | None = None
    until: Version | None = None

    @property
    def where(self) -> str:
        return f"{self.module}.{self.qualname}"

    def applies_to(self, version: Version) -> bool:
        return (self.since is None or version >= self.since) and (
            self.until is None or version < self.until
        )

    def locate(self) -> tuple[object, str, Any]:
        """``(owner, attribute, current value)``; the value is ``None`` when it is missing.

        Only the owner's *own* attribute counts: an inherited one is patched on
        the class that defines it (another entry).
        """
        try:
            owner: Any = importlib.import_module(self.module)
        except Exception:  # not installed, or broken on import: treated as missing
            return None, self.qualname, None
        *path, attr = self.qualname.split(".")
        for part in path:
            owner = getattr(owner, part, None)
            if owner is None:
                return None, attr, None
        return owner, attr, vars(owner).get(attr)


#: Builds the wrapper around ``original`` from the resolved binding.
Factory = Callable[[Any, "Binding"], Any]


@dataclass(frozen=True)
class HookPoint:
    """One row of the hook table."""

    #: what goes unrecorded when it is missing, in the warning ("validation (body read)")
    label: str
    #: the phase and step of the span(s) it opens
    phase: Phase
    step: int
    #: how its spans are named (for readers of the table and docs)
    names: str
    #: alternatives across versions, newest first; the first one present is patched
    targets: tuple[Target, ...]
    wrap: Factory
    #: whether the target is ``async def`` (a sync wrapper around a coroutine function, or
    #: the reverse, would time the wrong thing)
    asynchronous: bool = True
    #: points that only make correct spans together; one missing disables them all
    group: str | None = None
    #: absence is expected and harmless (the attribute is inherited and patched elsewhere)
    optional: bool = False
    #: False: a reader row; ``wrap`` keeps the function for the hooks to call, nothing is set
    patch: bool = True


def _getter(param: inspect.Parameter, index: int) -> Getter:
    name = param.name
    default = None if param.default is param.empty else param.default
    if param.kind is param.KEYWORD_ONLY:
        return lambda args, kwargs: kwargs.get(name, default)
    if param.kind is param.POSITIONAL_ONLY:
        return lambda args, kwargs: args[index] if len(args) > index else default
    return lambda args, kwargs: args[index] if len(args) > index else kwargs.get(name, default)


def _none(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return None


def _reader(getters: tuple[Getter, ...]) -> Reader:
    if not getters:
        return lambda args, kwargs: ()
    if len(getters) == 1:
        (first,) = getters
        return lambda args, kwargs: (first(args, kwargs),)
    if len(getters) == 2:
        first, second = getters
        return lambda args, kwargs: (first(args, kwargs), second(args, kwargs))
    return lambda args, kwargs: tuple(get(args, kwargs) for get in getters)


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class Binding:
    """A target's parameters, resolved once against its real signature."""

    __slots__ = ("_getters", "point", "read", "target")

    def __init__(self, point: HookPoint, target: Target, original: Any) -> None:
        self.point = point
        self.target = target
        function = inspect.unwrap(original)
        if inspect.iscoroutinefunction(function) != point.asynchronous:
            kind = "a coroutine function" if point.asynchronous else "a plain function"
            raise HookMismatch(f"is no longer {kind}")
        try:
            parameters = list(inspect.signature(function).parameters.values())
        except (TypeError, ValueError) as exc:
            raise HookMismatch(f"has no readable signature ({exc})") from exc
        for index, name in enumerate(target.leading):
            if (
                index >= len(parameters)
                or parameters[index].name != name
                or parameters[index].kind not in _POSITIONAL
            ):
                raise HookMismatch(f"no longer takes {name!r} as positional parameter {index}")
        by_name = {p.name: (i, p) for i, p in enumerate(parameters) if p.kind not in _VARIADIC}
        self._getters: dict[str, Getter] = {}
        for name in (*target.reads, *target.optional_reads):
            if name in by_name:
                index, param = by_name[name]
                self._getters[name] = _getter(param, index)
            elif name in target.optional_reads:
                self._getters[name] = _none
            else:
                raise HookMismatch(f"has no parameter {name!r}")
        #: the values of ``target.reads`` for one call, in that order
        self.read: Reader = _reader(tuple(self._getters[name] for name in target.reads))

    def getter(self, name: str) -> Getter | None:
        """How to read parameter ``name`` of a call; ``None`` if this target does not declare it."""
        return self._getters.get(name)


@dataclass(frozen=True)
class Prepared:
    """A wrapper built and ready to be set (or a reason it cannot be)."""

    point: HookPoint
    target: Target | None
    owner: object = None
    attr: str = ""
    wrapper: Any = None
    problem: str | None = None


def prepare(point: HookPoint, targets: Iterable[Target] | None = None) -> Prepared:
    """Find the first present target, bind its signature and build the wrapper; patch nothing."""
    tried = tuple(point.targets if targets is None else targets)
    for target in tried:
        owner, attr, current = target.locate()
        if current is None:
            continue
        original = getattr(current, ORIGINAL_ATTR, current)  # already patched: check the original
        try:
            wrapper = point.wrap(original, Binding(point, target, original))
        except HookMismatch as exc:
            return Prepared(point, target, problem=f"{target.where} {exc} in this version")
        except Exception as exc:  # a bug of ours must not break instrument(): skip the hook
            problem = f"{target.where} could not be wrapped ({type(exc).__name__}: {exc})"
            return Prepared(point, target, problem=problem)
        return Prepared(point, target, owner, attr, wrapper)
    names = " / ".join(target.where for target in tried) or "(no target)"
    return Prepared(point, None, problem=f"{names} not found in this version")


def check(table: Iterable[HookPoint], version: Version) -> list[str]:
    """Every problem the table has on this FastAPI ``version`` (empty: all hook points match).

    A point must resolve to the alternative meant for this version, that
    alternative must exist, and its signature must have what the table reads.
    """
    problems: list[str] = []
    for point in table:
        meant = [t for t in point.targets if t.applies_to(version)]
        if not meant:
            if not point.optional:
                problems.append(f"{point.label}: no target for FastAPI {version}")
            continue
        prepared = prepare(point, meant)
        if prepared.problem is not None:
            problems.append(f"{point.label}: {prepared.problem}")
    return problems


def install(patcher: Patcher, table: Iterable[HookPoint], groups: dict[str, str]) -> set[str]:
    """Patch every point that matches; warn once per missing point (or group) and skip it.

    A group (``groups`` maps it to what it records) is patched whole or not at
    all: its spans are only right when every member sees its part.
    Returns the ``where`` of every target patched.
    """
    plans: dict[str, list[Prepared]] = {}
    for point in table:
        key = point.group or point.targets[0].where
        plans.setdefault(key, []).append(prepare(point))
    installed: set[str] = set()
    for key, members in plans.items():
        failed = [p for p in members if p.problem is not None and not p.point.optional]
        if failed:
            first = failed[0]
            what = groups.get(first.point.group or "", f"the {first.point.label} phase")
            warn_once(f"missing:{key}", f"{first.problem}: {what} is not recorded.")
            continue
        for plan in members:
            if plan.target is None or plan.problem is not None:
                continue  # optional and absent
            if not plan.point.patch:  # a reader: bound by ``prepare``, nothing to set
                installed.add(plan.target.where)
                continue
            if patcher.apply(plan.owner, plan.attr, plan.wrapper):
                installed.add(plan.target.where)
    return installed
