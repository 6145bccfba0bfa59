"""The layers stay apart and the import graph stays acyclic.

Read from the source with `ast`, so function-level imports count as much as top-level
ones: a cycle hidden inside a function is still a cycle for whoever reads the code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("highlights", "db", "tasks", "flows", "api", "cli", "bridge")

# What each layer may import (besides itself). The core knows numbers and files; db the
# tables; tasks run one stage each; flows order them; the front ends sit on top. The CLI
# may start the API server; nothing below a front end imports one.
ALLOWED = {
    "highlights": set(),
    "db": {"highlights"},
    "tasks": {"highlights", "db"},
    "flows": {"highlights", "db", "tasks"},
    "bridge": {"highlights", "db", "flows", "tasks"},
    "api": {"highlights", "db", "flows", "tasks"},
    "cli": {"highlights", "db", "flows", "tasks"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported project module, line) for every import anywhere in the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _resolve(alias.name, known, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:  # `from package import submodule` reads the package too
                    yield full, node.lineno
                yield from _resolve(base, known, node.lineno)


def _resolve(dotted: str, known: set[str], line: int) -> Iterator[tuple[str, int]]:
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            yield candidate, line
            return
        parts.pop()


def _graph() -> dict[str, dict[str, int]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in _imports(name, path, known):
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_sees_a_cycle_made_of_function_level_imports(tmp_path: Path) -> None:
    graph = {"a": {"b": 3}, "b": {"c": 9}, "c": {"a": 12}, "d": {"a": 1}}
    assert _cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from pkg.other import thing\n    return thing\n")
    assert list(_imports("pkg.m", source, {"pkg.other", "pkg.m"})) == [("pkg.other", 2)]
    # A package's __init__ that imports a submodule which reads the package back is a cycle.
    source.write_text("from pkg import sibling\n")
    assert sorted(_imports("pkg.m", source, {"pkg", "pkg.m", "pkg.sibling"})) == [
        ("pkg", 1), ("pkg.sibling", 1)]


def test_no_module_imports_another_that_imports_it_back_at_any_depth() -> None:
    cycles = _cycles(_graph())
    graph = _graph()
    described = [
        " -> ".join(f"{m} (imports {[t for t in graph[m] if t in cycle]})" for m in cycle)
        for cycle in cycles
    ]
    assert not cycles, "import cycles:\n" + "\n".join(described)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_layer_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [
        f"{name}:{line} imports {target}"
        for name, edges in _graph().items() if name.split(".")[0] == package
        for target, line in edges.items()
        if target.split(".")[0] not in ALLOWED[package] | {package}
    ]
    if package == "cli":  # the CLI may start the API server, and nothing else of the API
        wrong = [w for w in wrong if not w.endswith(("imports api.server", "imports api"))]
    assert not wrong, "\n".join(wrong)
