"""The trust boundary is one package with a small API and no import cycle (README, "How
it works"): a reader reviews it in one sitting, and the rest of the grader reaches it
only through `grader.boundary`'s names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

import grader.boundary

BOUNDARY = ROOT / "grader" / "boundary"


def _imports(path: Path) -> set[str]:
    """Every grader module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("grader"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_the_boundary_modules_import_each_other_without_a_cycle() -> None:
    modules = {p.stem for p in BOUNDARY.glob("*.py") if p.stem != "__init__"}
    graph = {m: {i.split(".")[2] for i in _imports(BOUNDARY / f"{m}.py")
                 if i.startswith("grader.boundary.") and i.split(".")[2] in modules} - {m}
             for m in modules}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, "import cycle: " + " -> ".join([*path, module])
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(modules):
        visit(module, [])


def test_the_rest_of_the_grader_uses_the_boundary_api_only() -> None:
    """`grader.incell` is the one exception: it runs the child's harness functions inside a
    notebook kernel (nbgrader's test cells), where there is no child."""
    api = set(grader.boundary.__all__)
    for path in sorted((ROOT / "grader").glob("*.py")):
        inner = {i for i in _imports(path) if i.startswith("grader.boundary.")}
        used = {i.split(".")[2] for i in inner}
        allowed = {"child"} if path.stem == "incell" else set()
        assert used <= api | allowed, f"{path.name} reaches into the boundary: {sorted(used - api - allowed)}"


def test_starting_the_sandbox_early_imports_no_torch() -> None:
    """`grade` starts its sandbox before importing anything heavy (grader/launch.py), so that
    the sandbox imports torch while the grader does: the boundary's names load lazily."""
    code = ("import sys; from grader import boundary; boundary.prestart; "
            "print('torch' in sys.modules, 'grader.boundary.runner' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
