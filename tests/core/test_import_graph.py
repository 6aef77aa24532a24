"""The core's modules import each other without cycles (function-level lazy imports included)."""

from __future__ import annotations

import ast
import pathlib

import modeldeck

ROOT = pathlib.Path(modeldeck.__file__).parent


def _module_name(path: pathlib.Path, root: pathlib.Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, known: set[str], here: str, is_package: bool) -> set[str]:
    """Modules of modeldeck imported anywhere in `tree` except under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def resolve(name: str) -> None:
        while name and name not in known:  # `from a.b import c` where c is not a module
            name = name.rpartition(".")[0]
        if name and name != here:
            found.add(name)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = here if is_package else here.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                resolve(f"{base}.{alias.name}")
        for sub in ast.iter_child_nodes(node):
            visit(sub)

    visit(tree)
    return {m for m in found if m.startswith("modeldeck")}


def import_graph(root: pathlib.Path = ROOT) -> dict[str, set[str]]:
    files = {_module_name(p, root): p for p in root.rglob("*.py") if "migrations" not in p.parts}
    known = set(files)
    return {
        name: _imports(ast.parse(path.read_text()), known, name, path.name == "__init__.py")
        for name, path in files.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def test_the_graph_sees_lazy_imports() -> None:
    """Sanity: a function-level import is an edge (deck.py imports the grammar lazily)."""
    graph = import_graph()
    assert "modeldeck.commands" in graph["modeldeck.deck"]
    assert "modeldeck.workflow.execution" in graph["modeldeck.workflow.decisions"]


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_import_graph_is_acyclic() -> None:
    found = cycles(import_graph())
    assert found == [], f"{len(found)} import cycle(s): " + "; ".join(
        " <-> ".join(c) for c in found
    )
