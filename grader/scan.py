"""Tampering flags: constructs in a submission's source that reach into the interpreter or
the grader, found by reading its syntax tree in the parent (the file is never run here).

Flags never change points: the rules are enforced where the code runs (child.py,
observe.py, shield.py). They tell an instructor whose file to read: a student who
calls `gc.get_objects()` or writes to a raw file descriptor in a course on tensors is
worth a look, whatever their score.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

_MODULE_RULES = {
    "gc": "gc", "ctypes": "ctypes", "_ctypes": "ctypes", "cffi": "ctypes", "_cffi_backend": "ctypes",
    "threading": "threads", "_thread": "threads", "concurrent": "threads", "multiprocessing": "threads",
    "grader": "grader", "inspect": "frames", "marshal": "bytecode", "importlib": "dynamic import",
}
_CALL_RULES = {
    "sys._getframe": "frames", "sys._current_frames": "frames", "inspect.currentframe": "frames",
    "inspect.stack": "frames", "inspect.getouterframes": "frames", "sys.settrace": "tracing",
    "sys.setprofile": "tracing", "threading.settrace": "tracing", "threading.setprofile": "tracing",
    "sys.addaudithook": "audit hooks", "os.write": "raw fd writes", "os.writev": "raw fd writes",
    "os.pwrite": "raw fd writes", "os.dup2": "raw fd writes", "os.fdopen": "raw fd writes",
    "os.sendfile": "raw fd writes", "os.kill": "signals", "signal.signal": "signals",
    "torch.compile": "torch.jit", "exec": "exec/eval", "eval": "exec/eval", "compile": "exec/eval",
}
_ATTRIBUTE_RULES = {
    "f_back": "frames", "f_locals": "frames", "f_globals": "frames", "tb_frame": "frames", "gi_frame": "frames",
    "__closure__": "frames", "__globals__": "frames", "__code__": "bytecode", "__subclasses__": "object enumeration",
    "DisableTorchFunction": "DisableTorchFunction", "_DisableTorchDispatch": "DisableTorchFunction",
    "_execution_engine": "torch._C",
}
_MODE_STACK = ("_pop_torch_function_stack", "_push_on_torch_function_stack", "_pop_torch_dispatch_stack",
               "_push_on_torch_dispatch_stack", "_pop_mode", "_push_mode", "_get_current_dispatch_mode_stack",
               "_len_torch_function_stack", "_get_function_stack_at")
_DYNAMIC_IMPORTS = ("__import__", "importlib.import_module")
MAX_FLAGS = 50


@dataclass(frozen=True)
class Flag:
    """One construct worth an instructor's look."""

    rule: str
    line: int
    snippet: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "line": self.line, "snippet": self.snippet}


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


class _Scanner(ast.NodeVisitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.found: dict[tuple[str, int], Flag] = {}
        self.aliases: dict[str, str] = {}

    def flag(self, rule: str, node: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        if len(self.found) < MAX_FLAGS:
            self.found.setdefault((rule, line), Flag(rule, line, text[:120]))

    def _name(self, node: ast.AST) -> str:
        dotted = _dotted(node)
        head, _, rest = dotted.partition(".")
        full = self.aliases.get(head, head)
        return f"{full}.{rest}" if rest else full

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                alias.name.split(".")[0]
            self._module(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._module(module, node)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            self._module(f"{module}.{alias.name}", node)

    def _module(self, name: str, node: ast.AST) -> None:
        rule = _MODULE_RULES.get(name.split(".")[0])
        if rule:
            self.flag(rule, node)
        if name.startswith("torch._C") or name == "torch.jit" or name.startswith("torch.jit."):
            self.flag("torch.jit" if "jit" in name else "torch._C", node)
        if "profiler" in name:
            self.flag("profiler", node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._name(node)
        if name.startswith("torch._C"):
            self.flag("torch._C", node)
        elif name.startswith("torch.jit"):
            self.flag("torch.jit", node)
        elif "profiler" in name.split("."):
            self.flag("profiler", node)
        if name.startswith("sys.modules"):
            self._sys_modules(node)
        rule = _ATTRIBUTE_RULES.get(node.attr)
        if rule:
            self.flag(rule, node)
        if node.attr in _MODE_STACK:
            self.flag("mode stack", node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        rule = _ATTRIBUTE_RULES.get(node.id)
        if rule:
            self.flag(rule, node)
        if node.id in _MODE_STACK:
            self.flag("mode stack", node)

    def _sys_modules(self, node: ast.Attribute) -> None:
        parent = getattr(node, "parent", None)
        if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, (ast.Store, ast.Del)):
            self.flag("sys.modules writes", node)
        elif isinstance(parent, ast.Attribute) and parent.attr in ("pop", "update", "setdefault", "clear",
                                                                  "__setitem__", "__delitem__", "popitem"):
            self.flag("sys.modules writes", node)

    def visit_Call(self, node: ast.Call) -> None:
        name = self._name(node.func)
        rule = _CALL_RULES.get(name)
        if rule:
            self.flag(rule, node)
        if name in _DYNAMIC_IMPORTS and not (node.args and isinstance(node.args[0], ast.Constant)):
            self.flag("dynamic import", node)
        if name in ("getattr", "setattr") and len(node.args) > 1 and not isinstance(node.args[1], ast.Constant):
            self.flag("computed attribute", node)
        if name in ("open", "io.open", "os.open") and node.args and _mentions_proc(node.args[0]):
            self.flag("/proc", node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "/proc/" in node.value:
            self.flag("/proc", node)


def _mentions_proc(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and "/proc" in n.value for n in ast.walk(node))


def scan(source: str) -> tuple[Flag, ...]:
    """The flags of one submission, in line order (none for a file that does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ()
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent  # type: ignore[attr-defined]
    scanner = _Scanner(source.splitlines())
    try:
        scanner.visit(tree)
    except RecursionError:
        pass
    return tuple(sorted(scanner.found.values(), key=lambda f: (f.line, f.rule)))
