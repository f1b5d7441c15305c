"""The layout keeps its promises: one namespace, no import cycles, small modules.

These read the source as text (``ast``), so they run in milliseconds and fail
on the commit that breaks a rule, not months later.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tracer"
#: The most lines a module may have; past it, split it by what its parts hold.
MAX_LINES = 420
#: The pipeline's stages, each a folder (or the model module) a reader can find by name.
STAGES = ("capture", "model.py", "analysis", "renderers", "sinks")


def _modules() -> Iterator[tuple[str, Path]]:
    """Every module of the installed namespace, with its dotted name (links followed)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path) -> set[str]:
    """The modules ``name`` imports, at import time or lazily inside functions.

    Imports for type checking only are left out: they never run.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    return {
        name: {target for target in _imports(name, path) if target in modules} - {name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_import_graph_has_no_cycles() -> None:
    graph = _graph()
    # a package importing its own submodules is how packages re-export; not a cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(("name", "path"), list(_modules()), ids=lambda v: str(v))
def test_no_module_is_past_the_size_limit(name: str, path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by what its parts hold"


def test_the_folders_name_the_pipeline_stages() -> None:
    for stage in STAGES:
        assert (PACKAGE / stage).exists(), stage


def test_cli_and_demo_are_imported_only_inside_the_tracer_namespace() -> None:
    offenders = []
    for name, path in _modules():
        for target in _imports(name, path):
            if target.split(".")[0] in ("cli", "demo_app"):
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_importing_everything_loads_no_top_level_cli_or_demo_app(tmp_path: Path) -> None:
    code = (
        "import sys, tracer.cli.main, tracer.demo_app.main, tracer.renderers; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cli', 'demo_app')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"
