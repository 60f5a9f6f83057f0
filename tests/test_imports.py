"""The rooms of the house: no import circle in ``research/`` or ``experiments/``, and the
library never imports the experiments.

Imports are read from the source with :mod:`ast`, so every import counts: at module level,
inside a function, or under ``if TYPE_CHECKING:``. A deferred import only hides a circle
until the day someone moves it. ``from package import name`` depends on ``package.name``
when that is a module, else on the package; importing ``a.b.c`` is not counted as
depending on ``a`` and ``a.b`` (a package that imports its own submodules would otherwise
form a circle with each of them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("research", "experiments")


def _module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``packages`` under ``root``."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _dependencies(name: str, source: str, modules: set[str], is_package: bool) -> set[str]:
    """The modules of ``modules`` that the source of module ``name`` imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph(root: Path = REPO, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """Module -> the modules it imports, within ``packages``."""
    files = _module_files(root, packages)
    names = set(files)
    return {
        name: _dependencies(name, path.read_text(), names, path.name == "__init__.py")
        for name, path in files.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph``: one cycle (a path back to its start) per strongly
    connected group of modules, found by a depth-first search.

    Examples
    --------
    >>> circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    [['a', 'b', 'c', 'a']]
    >>> circles({"a": {"b"}, "b": set()})
    []
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for group in groups:
        start = min(group)
        path, seen = [start], {start}
        while True:  # walk inside the group until a module repeats: that is a cycle
            nxt = min(m for m in graph[path[-1]] if m in group)
            if nxt in seen:
                found.append([*path[path.index(nxt) :], nxt])
                break
            path.append(nxt)
            seen.add(nxt)
    return sorted(found)


def test_circles_are_found_even_when_imports_are_deferred(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import f\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from . import a\n")
    (tmp_path / "pkg" / "c.py").write_text("import pkg.a\nfrom pkg import b\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.a"},
        "pkg.c": {"pkg.a", "pkg.b"},
    }
    assert circles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_no_import_circle_in_research_or_experiments(graph):
    assert {"research.graph.projection", "experiments.run"} <= set(graph)  # the walk saw both
    found = circles(graph)
    assert found == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_library_never_imports_the_experiments(graph):
    crossing = sorted(
        f"{module} -> {dep}"
        for module, deps in graph.items()
        if module.split(".")[0] == "research"
        for dep in deps
        if dep.split(".")[0] == "experiments"
    )
    assert crossing == []
