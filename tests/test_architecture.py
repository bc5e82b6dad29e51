"""The layout's rules, checked on the source: no import cycles, layers import only downwards,
and every function-level import of the library is a commented lazy import (start-up time)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "senforecast"

# a module may import from its own layer or a lower one; "england" is a facade re-exporting
# io.england, datasets.england, models.panel and evaluation.england
LAYERS = {"core": 0, "io": 1, "projection": 1, "models": 2, "datasets": 2, "evaluation": 3, "planning": 3,
          "plotting": 3, "england": 3, "reporting": 4, "pipeline": 5}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, module: str, is_pkg: bool) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".") if is_pkg else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    if not base.startswith("senforecast"):
        return []
    # `from pkg import sub` imports the submodule when one exists
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        sub_path = PKG.parent / Path(*sub.split("."))
        out.append(sub if (sub_path.with_suffix(".py").exists() or sub_path.is_dir()) else base)
    return out


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports():
    """(module, imported module, line, at module level?, source line) for every library import."""
    rows = []
    for path in sorted(PKG.rglob("*.py")):
        module, is_pkg = _module_name(path), path.name == "__init__.py"
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))

        def visit(node, top: bool):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    continue
                if isinstance(child, ast.ImportFrom):
                    for target in _resolve(child, module, is_pkg):
                        rows.append((module, target, child.lineno, top, lines[child.lineno - 1]))
                elif isinstance(child, ast.Import):
                    for alias in child.names:
                        if alias.name.startswith("senforecast"):
                            rows.append((module, alias.name, child.lineno, top, lines[child.lineno - 1]))
                nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                visit(child, top and not nested)

        visit(tree, True)
    return rows


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[1]] if "." in module else 99


IMPORTS = _imports()


def test_no_import_cycles_among_module_level_imports():
    graph: dict[str, set[str]] = {}
    for src, dst, _, top, _ in IMPORTS:
        if top and src != dst:
            graph.setdefault(src, set()).add(dst)
    state: dict[str, int] = {}
    cycles = []

    def dfs(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # a package's __init__ importing its own submodules is not a cycle back into it
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif state.get(nxt) is None:
                dfs(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            dfs(node, [])
    cycles = [c for c in cycles if not all(c[0].startswith(m) or m.startswith(c[0]) for m in c)]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_layers_import_only_downwards():
    upward = [f"{src}:{line} imports {dst}" for src, dst, line, top, _ in IMPORTS
              if top and "." in src and "." in dst and _layer(dst) > _layer(src) and src != "senforecast"]
    assert not upward, "\n".join(upward)


def test_function_level_imports_are_commented_lazy_imports():
    hidden = [f"{src}:{line}: {text.strip()}" for src, _, line, top, text in IMPORTS
              if not top and "lazy:" not in text]
    assert not hidden, "function-level imports without a '# lazy: why' comment:\n" + "\n".join(hidden)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_layer_imports_on_its_own(layer):
    import importlib
    import subprocess
    import sys

    name = f"senforecast.{layer}"
    importlib.import_module(name)
    # a fresh interpreter proves no import order hides a cycle
    subprocess.run([sys.executable, "-c", f"import {name}"], check=True)
