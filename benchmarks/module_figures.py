"""Module figures for the one-place architecture: the largest modules, function-level imports,
and import cycles among symgrad's modules (read from the source with `ast`, nothing imported).

    python benchmarks/module_figures.py
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "symgrad"


def modules() -> dict[str, pathlib.Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
            skip |= {id(x) for x in ast.walk(n)}
    return skip


def import_graph(mods: dict[str, pathlib.Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Module-level imports between symgrad modules, and the function-level imports."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    inner: list[str] = []
    for m, p in mods.items():
        tree = ast.parse(p.read_text())
        pkg = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        skip = _type_checking_nodes(tree)
        for f in ast.walk(tree):
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for n in ast.walk(f):
                    if isinstance(n, (ast.Import, ast.ImportFrom)):
                        skip.add(id(n))
                        inner.append(f"{m}:{n.lineno} {ast.unparse(n)}")
        for n in ast.walk(tree):
            if id(n) in skip or not (isinstance(n, ast.ImportFrom) and n.level):
                continue
            base = pkg.split(".")[: len(pkg.split(".")) - n.level + 1]
            target = ".".join(base + ([n.module] if n.module else []))
            subs = [f"{target}.{a.name}" for a in n.names if f"{target}.{a.name}" in mods]
            for c in subs or [target]:
                if c in mods and c != m:
                    graph[m].add(c)
    return graph, inner


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main() -> None:
    mods = modules()
    sizes = sorted(((len(p.read_text().splitlines()), m) for m, p in mods.items()), reverse=True)
    print("largest modules (lines):")
    for n, m in sizes[:5]:
        print(f"  {n:5d}  {m}")
    graph, inner = import_graph(mods)
    print(f"function-level imports: {len(inner)}")
    for line in inner:
        print(f"  {line}")
    found = cycles(graph)
    print(f"import cycles: {len(found)}")
    for c in found:
        print("  " + " <-> ".join(c))


if __name__ == "__main__":
    main()
