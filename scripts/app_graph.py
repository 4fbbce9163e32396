#!/usr/bin/env python3
"""Print the app dependency graph: each of our top-level packages -> the packages of ours it imports.

Reads every .py file's AST (migrations and tests left out), module-level and function-level
imports alike, so an import hidden inside a function still shows. Usage:

    python scripts/app_graph.py            # app -> apps
    python scripts/app_graph.py --inner    # also list each function-level import between apps
    python scripts/app_graph.py --cycles   # exit 1 if the graph has a cycle (names the apps in it)
    python scripts/app_graph.py --check-layers  # exit 1 if a module of ours is in no import-linter layer
    python scripts/app_graph.py --split    # an app's interface modules (pages, API, admin, commands: the
                                           # layers contract's upper layers) as a node of their own, "app[ui]"
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"tests", "scripts", "migrations", ".venv", "static", "templates", "node_modules", "mutants"}


def our_apps() -> set[str]:
    return {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name not in SKIP_DIRS}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, bool, int]]:
    """(imported module, inside a function?, line) for each import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, bool, int]] = []
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.append((target, in_function, child.lineno))
            visit(child, nested)

    visit(tree, False)
    return found


def interface_modules() -> set[str]:
    """Submodules named in the layers contract's interface layers (those above 'payments')."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c["layers"] for c in config["contracts"] if c.get("type") == "layers")
    upper = layers[: next(i for i, layer in enumerate(layers) if layer.strip().startswith("payments."))]
    names = {part.strip() for layer in upper for part in layer.replace("|", ":").split(":")}
    return {name for name in names if "." in name}


def graph(split: bool = False) -> tuple[dict[str, set[str]], list[str]]:
    apps = our_apps()
    ui = interface_modules() if split else set()

    def node(module: str) -> str:
        parts = module.split(".")
        return f"{parts[0]}[ui]" if any(".".join(parts[:i]) in ui for i in range(2, len(parts) + 1)) else parts[0]

    edges: dict[str, set[str]] = defaultdict(set)
    inner: list[str] = []
    for app in sorted(apps):
        edges[app]
        for path in sorted((ROOT / app).rglob("*.py")):
            if SKIP_DIRS & set(path.relative_to(ROOT).parts):
                continue
            source = node(module_name(path))
            for target, in_function, line in imports(path):
                other = target.split(".")[0]
                if other in apps and node(target) != source:
                    edges[source].add(node(target))
                    if in_function:
                        inner.append(f"{path.relative_to(ROOT)}:{line} imports {target} inside a function")
    return edges, inner


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one app (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
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
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return found


def unlayered() -> list[str]:
    """Modules of ours that no layer of pyproject.toml's layers contract names (nor an ancestor of)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    named: set[str] = set()
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):
            named.update(part.strip() for part in layer.replace("|", ":").split(":") if part.strip())
    missing = []
    for app in sorted(our_apps()):
        for path in sorted((ROOT / app).rglob("*.py")):
            if SKIP_DIRS & set(path.relative_to(ROOT).parts):
                continue
            name = module_name(path)
            parts = name.split(".")
            if len(parts) > 1 and not any(".".join(parts[:i]) in named for i in range(1, len(parts) + 1)):
                missing.append(name)
    return missing


def main(argv: list[str]) -> int:
    if "--check-layers" in argv:
        missing = unlayered()
        for name in missing:
            print(f"{name} is in no layer of [tool.importlinter] (pyproject.toml): add it to one")
        return 1 if missing else 0
    edges, inner = graph(split="--split" in argv)
    for app in sorted(edges):
        print(f"{app} -> {', '.join(sorted(edges[app])) or '(none)'}")
    if "--inner" in argv:
        print(f"\nfunction-level imports between apps: {len(inner)}")
        for line in inner:
            print(f"  {line}")
    knots = cycles(edges)
    print(f"\ncycles: {len(knots)}")
    for knot in knots:
        print(f"  {' <-> '.join(knot)}")
    return 1 if ("--cycles" in argv and knots) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
