"""The package's shape: no import cycles, small modules, short functions.

The import graph counts every ``import`` statement, at module level or inside a function
(imports inside functions hide a cycle from Python's import machinery; they do not remove it),
including ``TYPE_CHECKING`` blocks. Edges go to the module an import names: ``from . import x``
where ``x`` is a submodule is an edge to that submodule, not to the package's ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import PACKAGE

PACKAGE = PACKAGE
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
#: Functions allowed past MAX_FUNCTION_LINES, each with the reason.
LONG_FUNCTIONS: dict[str, str] = {}


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _target(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: {modules it imports}}`` among the modules under ``root``."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                target = _target(module, path.name == "__init__.py", node.module, node.level)
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    if full in modules:
                        edges.add(full)
                    elif target in modules:
                        edges.add(target)
        edges.discard(module)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(graph[child])))
    return None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("from .b import f\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    assert find_cycle({"x": {"y"}, "y": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_internal_modules_never_import_the_public_api():
    importers = sorted(m for m, edges in import_graph().items() if "gan_zoo.api" in edges)
    assert importers == ["gan_zoo"], f"only gan_zoo/__init__.py may import gan_zoo.api: {importers}"


@pytest.mark.parametrize("module", sorted(_modules(PACKAGE)))
def test_module_and_functions_are_small(module):
    path = _modules(PACKAGE)[module]
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path} has {lines} lines (at most {MAX_MODULE_LINES})"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            name = f"{module}.{node.name}"
            if name in LONG_FUNCTIONS:
                continue
            assert length <= MAX_FUNCTION_LINES, (
                f"{name} ({path.name}:{node.lineno}) has {length} lines "
                f"(at most {MAX_FUNCTION_LINES})"
            )


# The layers: the table in docs/architecture.md is the rule (as import-linter's layer contracts).
ARCHITECTURE_DOC = PACKAGE.parent / "docs" / "architecture.md"


def read_layers(text: str) -> list[tuple[int, str, list[str]]]:
    """``[(rank, name, module patterns)]`` from the table between the layers markers."""
    import re

    table = text.split("<!-- layers:begin -->")[1].split("<!-- layers:end -->")[0]
    layers = []
    for line in table.strip().splitlines()[2:]:  # header and separator
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rank, _, name = cells[0].partition(" ")
        layers.append((int(rank), name, re.findall(r"`([^`]+)`", cells[1])))
    return layers


def layer_of(module: str, layers: list[tuple[int, str, list[str]]]) -> tuple[int, str] | None:
    """The layer whose most specific pattern matches ``module`` (``pkg.*`` matches below pkg)."""
    from fnmatch import fnmatchcase

    best = None
    for rank, name, patterns in layers:
        for pattern in patterns:
            if fnmatchcase(module, pattern):
                specificity = len(pattern.replace("*", ""))
                if best is None or specificity > best[0]:
                    best = (specificity, rank, name)
    return None if best is None else best[1:]


def layer_violations(graph: dict[str, set[str]], layers) -> list[str]:
    """Every module the table does not place, and every import that points to a higher layer."""
    problems = [
        f"{m} is on no layer of docs/architecture.md"
        for m in sorted(graph)
        if layer_of(m, layers) is None
    ]
    for module in sorted(graph):
        here = layer_of(module, layers)
        for dep in sorted(graph[module]):
            there = layer_of(dep, layers) if dep in graph else None
            if here and there and there[0] > here[0]:
                problems.append(
                    f"{module} ({here[1]}) imports {dep} ({there[1]}), a layer above it"
                )
    return problems


def test_every_module_sits_on_a_layer_and_imports_only_its_own_or_lower():
    layers = read_layers(ARCHITECTURE_DOC.read_text(encoding="utf-8"))
    assert [rank for rank, _, _ in layers] == sorted((rank for rank, _, _ in layers), reverse=True)
    assert layer_violations(import_graph(), layers) == []


def test_a_deliberate_upward_import_fails(tmp_path):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "errors.py").write_text("def f():\n    from .training import loop\n")
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "__init__.py").write_text("")
    (tmp_path / "training" / "loop.py").write_text("from .. import errors\n")
    (tmp_path / "stray.py").write_text("")
    layers = read_layers(ARCHITECTURE_DOC.read_text(encoding="utf-8"))
    graph = {
        m.replace(tmp_path.name, "gan_zoo", 1): {
            d.replace(tmp_path.name, "gan_zoo", 1) for d in deps
        }
        for m, deps in import_graph(tmp_path).items()
    }
    problems = layer_violations(graph, layers)
    assert (
        "gan_zoo.errors (base) imports gan_zoo.training.loop (services), a layer above it"
        in problems
    )
    assert "gan_zoo.stray is on no layer of docs/architecture.md" in problems
