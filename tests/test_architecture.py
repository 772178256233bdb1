"""The layers stay as drawn in README's architecture section: what each layer may
import, no cycles, small modules and folders, and the GitHub double kept out of reach of
the product's processes.

Read from the code's own imports (every `import`, including ones inside
functions), so a shortcut across layers fails here rather than in review.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What each layer may import (itself included). Anything not listed is forbidden.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "practices": {"core", "practices"},
    "runtime": {"core", "runtime"},
    "present": {"core", "practices", "present"},
    "github": {"core", "runtime", "github"},
    "jobs": {"core", "practices", "runtime", "present", "github", "jobs"},
    "web": {"core", "runtime", "jobs", "web"},
    "worker": {"core", "runtime", "github", "jobs", "worker"},
    "ops": {"core", "practices", "runtime", "present", "github", "jobs", "web", "ops"},
}
# The GitHub double is a test and demo tool: only the dev server may start it.
DOUBLE_USERS = {"bot.ops.devserver"}
MAX_LINES = 400
MAX_MODULES_PER_FOLDER = 15


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("worker/**/*.py")]):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _double_modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.glob("double/*_double/**/*.py")):
        parts = path.relative_to(ROOT / "double").with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()
DOUBLE = _double_modules()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "worker":
        return "worker"
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in MODULES else node.module)
    return names


GRAPH = {name: {i for i in _imports(path)} for name, path in MODULES.items()}


def test_every_module_lives_in_a_layer():
    homeless = [m for m in MODULES if m not in ("bot", "worker") and _layer(m) is None]
    assert homeless == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module):
    layer = _layer(module)
    if layer is None:
        return
    bad = sorted(
        target
        for target in GRAPH[module]
        if (_layer(target) or "") in ALLOWED and _layer(target) not in ALLOWED[layer]
    )
    assert bad == [], f"{module} ({layer}) may import only {sorted(ALLOWED[layer])}"


DOUBLES = ["github_double", "openai_double"]


@pytest.mark.parametrize("double", DOUBLES)
def test_only_the_dev_server_imports_a_double(double: str):
    users = {m for m, targets in GRAPH.items() if any(t.split(".")[0] == double for t in targets)}
    assert users <= (DOUBLE_USERS if double == "github_double" else set())


@pytest.mark.parametrize("double", DOUBLES)
def test_the_web_and_worker_processes_cannot_import_a_double(double: str):
    """The doubles are not installed: a process started as the Procfile starts them
    (the checkout as its working directory, no PYTHONPATH) finds neither."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = (
        f"import importlib.util, sys; sys.exit(importlib.util.find_spec({double!r}) is not None)"
    )
    found = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=False)
    assert found.returncode == 0, f"{double} is importable outside the tests"
    assert (ROOT / "double" / double / "__init__.py").exists()


def test_the_web_process_never_reaches_github_or_the_practices():
    reached, todo = set(), [m for m in MODULES if _layer(m) == "web"]
    while todo:
        module = todo.pop()
        if module in reached:
            continue
        reached.add(module)
        todo.extend(t for t in GRAPH.get(module, ()) if t in MODULES)
    assert {m for m in reached if _layer(m) in ("github", "practices", "present")} == set()


def test_no_import_cycles():
    graph = {m: {t for t in targets if t in MODULES} for m, targets in GRAPH.items()}
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state[nxt] == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif state[nxt] == 0:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if state[module] == 0:
            visit(module, [])
    # A package's __init__ importing its own submodule is not a cycle of design.
    real = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert real == []


@pytest.mark.parametrize("module", sorted({**MODULES, **DOUBLE}))
def test_modules_are_small(module):
    lines = len({**MODULES, **DOUBLE}[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def test_folders_hold_few_modules():
    per_folder: dict[Path, int] = defaultdict(int)
    for path in [*MODULES.values(), *DOUBLE.values()]:
        if path.name != "__init__.py":
            per_folder[path.parent] += 1
    crowded = {
        str(p.relative_to(ROOT)): n for p, n in per_folder.items() if n > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}


@pytest.mark.parametrize("package", sorted(m for m in MODULES if MODULES[m].name == "__init__.py"))
def test_each_layer_says_what_it_may_import(package):
    doc = ast.get_docstring(ast.parse(MODULES[package].read_text())) or ""
    assert len(doc) > 40, f"{package}/__init__.py needs a docstring saying what lives there"
