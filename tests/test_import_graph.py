"""No import circle in `etl/`, `indicators/` and `pages/`.

The graph is read from the source (ast), imports inside functions included, relative imports resolved. Importing
`a.b.c` from outside the package `a.b` also runs `a/b/__init__.py`, so it counts as an import of `a.b` too.
A circle is printed module by module, each with the imports that close it.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("etl", "indicators", "pages")
# The read side's layers, bottom to top: a module imports only from its own layer or a lower one.
LAYERS = [
    ("data", {"indicators.db", "indicators.catalog", "indicators.query", "indicators.secret", "indicators.foncier_query",
              "indicators.perimeter", "indicators.palettes", "indicators.format", "indicators.auth", "indicators.markup"}),
    ("content", {"indicators.content", "indicators.suivi"}),
    ("charts", {"indicators.chart_kit", "indicators.charts", "indicators.maps", "indicators.foncier"}),
    ("export", {"indicators.export", "indicators.plan"}),
    ("ui", {"indicators.ui", "indicators.presentation", "indicators.__main__"}),
    ("pages", {"pages"}),
]


def _name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the modules of etl/, indicators/, pages/ it imports (anywhere in its body)."""
    files = {_name(p, root): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out |= {t for a in node.names if (t := known(a.name))}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module
                for a in node.names:      # `from pkg import module` imports the module, else the package
                    t = known(f"{base}.{a.name}") if f"{base}.{a.name}" in files else known(base)
                    if t:
                        out.add(t)
        for t in list(out):               # a submodule imported from outside its package runs the package first
            parent = t.rpartition(".")[0]
            while parent in files and not (mod == parent or mod.startswith(parent + ".")):
                out.add(parent)
                parent = parent.rpartition(".")[0]
        out.discard(mod)
        graph[mod] = out
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(mod: str) -> int | None:
    for i, (_, members) in enumerate(LAYERS):
        if any(mod == m or mod.startswith(m + ".") for m in members):
            return i
    return None


def test_no_import_circle():
    graph = import_graph()
    found = circles(graph)
    text = "\n".join(f"circle of {len(c)} modules:\n" + "\n".join(f"  {m} -> {', '.join(sorted(graph[m] & set(c)))}"
                                                                for m in c) for c in found)
    assert not found, "\n" + text


def test_the_read_side_imports_only_downward():
    """data (db, catalog, query…) -> content (findings, plan follow-up) -> charts -> export (deck, annex, plan tables)
    -> ui -> pages: no module imports a higher layer."""
    graph = import_graph()
    upward = [f"{m} ({LAYERS[_layer(m)][0]}) -> {t} ({LAYERS[_layer(t)][0]})" for m in sorted(graph)
              for t in sorted(graph[m]) if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m)]
    assert not upward, "\n".join(upward)
    unplaced = [m for m in graph if m.startswith("indicators.") and _layer(m) is None]
    assert not unplaced, f"modules outside the layers (add them to LAYERS): {unplaced}"


def test_the_graph_sees_function_imports_and_relative_imports(tmp_path):
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "__init__.py").write_text("")
    (tmp_path / "etl" / "a.py").write_text("def f():\n    from . import b\n")
    (tmp_path / "etl" / "b.py").write_text("from .a import f\n")
    for pkg in ("indicators", "pages"):
        (tmp_path / pkg).mkdir()
    assert circles(import_graph(tmp_path)) == [["etl.a", "etl.b"]]
