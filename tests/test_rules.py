"""Rule machinery read in the parent (issue 13): quiz answers from the source, the forbidden
op families from torch's registry, tampering flags. The behaviour in a child (forbidden
calls seen in threads and TorchScript, autograd evidence, the harness out of reach) is
tested by the submissions in tests/hostile/, graded in both isolation modes."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import ROOT

from grader.answers import read_answers
from grader.compare import compare_answer, compare_value_answer
from grader.course import CourseDir
from grader.reports import summary_csv
from grader.results import ExerciseReport, TaskResult
from grader.rules import forbidden_ops, unresolved
from grader.scan import scan

ANSWERS = [
    ("q = (2, 3)", (2, 3), ""),
    ("q: tuple = (2, 3)", (2, 3), ""),
    ("import torch\nq = torch.Size([2, 3])", (2, 3), ""),
    ("q = 'Error '", "error", ""),
    ("q = (8)", (8,), "(8) is just 8 in Python; a 1-d shape needs a trailing comma, (8,)"),
    ("q = [2, 3]", (2, 3), "write the shape as a tuple, in round brackets like (2, 3), not as a list"),
    ("import torch\nq = torch.broadcast_shapes((2, 1), (3,))", (2, 3),
     "line 2 computes your answer; write the answer itself, e.g. (2, 3)"),
    ("q = eval('(2, 3)')", (2, 3), "line 1 computes your answer; write the answer itself, e.g. (2, 3)"),
    ("q = (2, 3)\nq = tuple(q)", (2, 3), "line 2 computes your answer; write the answer itself"),
    ("q = (1,)\nglobals()['q'] = (2, 3)", (2, 3), "(1,) is not right"),
    ("a, q = 1, (2, 3)", (2, 3), ""),
    ("for q in [(2, 3)]:\n    pass", (2, 3), "line 1 computes your answer"),
    ("q = ...", (2, 3), "not answered yet"),
]


@pytest.mark.parametrize(("source", "expected", "feedback"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_shape_answers_are_read_from_the_source(source: str, expected: object, feedback: str) -> None:
    result = read_answers(source, ["q"])["q"]
    verdict = compare_answer(expected, result["answer"])
    assert verdict.ok == (not feedback), verdict.message
    assert feedback in verdict.message


def test_value_answers_take_dtypes_and_refuse_computed_ones() -> None:
    answers = read_answers("import torch\na = torch.float64\nb = str(torch.zeros(1).dtype)\nc = 'int64'\n",
                           ["a", "b", "c", "d"])
    assert compare_value_answer("float64", answers["a"]["answer"]).ok
    assert "write the answer itself" in compare_value_answer("float32", answers["b"]["answer"]).message
    assert compare_value_answer("int64", answers["c"]["answer"]).ok
    assert answers["d"] == {"missing": "d is not defined in your file"}


def test_answers_of_a_file_that_does_not_parse() -> None:
    answers = read_answers("q = (2, 3\n", ["q"])
    assert answers["q"]["missing"].startswith("your file has a syntax error at line 1")


def test_answers_inside_a_block_are_told_to_move_to_the_top_level() -> None:
    source = "def f():\n    q = (2, 3)\n"
    assert "at the top level of the file" in read_answers(source, ["q"])["q"]["missing"]


FAMILIES = [
    ("torch.nn.functional.linear", {"aten::linear"}),
    ("torch.ops.aten.linear", {"aten::linear"}),
    ("torch.clamp", {"aten::clamp", "aten::clamp_", "aten::clamp_min_", "aten::clamp_max", "aten::_foreach_clamp_min"}),
    ("torch.Tensor.relu", {"aten::relu", "aten::relu_"}),
    ("torch.stack", {"aten::stack", "aten::_stack"}),
    ("torch.einsum", {"aten::einsum"}),
]


@pytest.mark.parametrize(("entry", "members"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_one_forbid_entry_covers_the_ops_family(entry: str, members: set[str]) -> None:
    ops = forbidden_ops([entry])
    assert members <= set(ops)
    assert set(ops.values()) == {entry}
    assert "aten::max" not in forbidden_ops(["torch.clamp"])  # a family, not a prefix


def test_entries_that_name_no_torch_operator_are_reported() -> None:
    assert unresolved(["numpy.einsum", "torch.nn.functional.linar", "torch.stack"]) == \
        ["numpy.einsum", "torch.nn.functional.linar"]


FLAGS = [
    ("import gc\ngc.get_objects()", [("gc", 1)]),
    ("import sys\nf = sys._getframe(1).f_back", [("frames", 2)]),
    ("import sys\nsys.modules['grader.boundary.child'] = None", [("sys.modules writes", 2)]),
    ("import torch\nwith torch._C.DisableTorchFunction():\n    pass", [("DisableTorchFunction", 2), ("torch._C", 2)]),
    ("import torch\ntorch._C._pop_torch_function_stack()", [("mode stack", 2), ("torch._C", 2)]),
    ("from threading import Thread", [("threads", 1)]),
    ("import torch\nf = torch.jit.script(g)", [("torch.jit", 2)]),
    ("m = __import__('o' + 's')", [("dynamic import", 1)]),
    ("m = __import__('os')", []),
    ("exec(code)", [("exec/eval", 1)]),
    ("open('/proc/self/mem')", [("/proc", 1)]),
    ("import os\nos.write(3, b'x')", [("raw fd writes", 2)]),
    ("import ctypes", [("ctypes", 1)]),
    ("def f(x):\n    return x @ x", []),
    ("def broken(:", []),
]


@pytest.mark.parametrize(("source", "expected"), FLAGS, ids=[f[0] for f in FLAGS])
def test_tampering_flags(source: str, expected: list[tuple[str, int]]) -> None:
    found = scan(source)
    assert sorted((f.rule, f.line) for f in found) == sorted(expected)
    for f in found:
        assert f.snippet == source.splitlines()[f.line - 1].strip()


def test_flags_reach_the_json_report_and_summary_csv() -> None:
    flags = scan("import gc\n\ndef cube_grad(x):\n    gc.get_objects()\n")
    report = ExerciseReport("exercise3", "t", (TaskResult("cube_grad", 3.0, 3.0, "passed"),), flags=flags)
    assert report.to_json()["flags"] == [{"rule": "gc", "line": 1, "snippet": "import gc"}]
    assert "flags" not in ExerciseReport("exercise3", "t", ()).to_json()
    rows = list(csv.DictReader(io.StringIO(summary_csv(CourseDir(ROOT), {"ann": report}))))
    assert rows[0]["flags"] == "exercise3:gc@1"
    assert rows[0]["score"] == "3"


PROFILER_TAKEN = """
import types
import torch
from torch._C import _autograd
from grader.boundary import observe

control = observe.take_profiler()  # what the zygote does once warm, before it forks
late = types.ModuleType("torch._loaded_later")  # a torch module imported afterwards
exec("from torch._C._autograd import _disable_profiler as stop", late.__dict__)
control.start()
torch.ones(2) + 1
print(late.stop is observe._refuse, torch.autograd.profiler._disable_profiler is observe._refuse,
      _autograd._enable_record_function is observe._refuse, "aten::add" in (control.stop() or set()))
"""


def test_the_profiler_controls_are_the_harness_alone() -> None:
    """The zygote takes the recording's controls out of every torch namespace before it forks
    (each child inherits that, and the zygote's bound copy): torch's modules, its C module, and
    so every module imported later hold the refusal, while the harness's copy still records
    (tests/hostile/ex4_stop_recording.py tries them from graded code)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PROFILER_TAKEN], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["True", "True", "True", "True"]


class _Node:
    """An autograd node whose Python object is made anew on every access and dropped after, as
    torch 2.11 does: a freed node's id comes back for the next one."""

    def __init__(self, children: list[tuple[str, object]]) -> None:
        self._children = children
        self.variable = None

    @property
    def next_functions(self) -> tuple[tuple[object, int], ...]:
        return tuple((_Node.make(kind, payload), 0) for kind, payload in self._children)

    @staticmethod
    def make(kind: str, payload: object) -> object:
        if kind == "leaf":
            leaf = _Node([])
            leaf.variable = payload
            return leaf
        return _Node(payload)  # type: ignore[arg-type]


def test_backward_evidence_finds_the_leaves_when_node_objects_are_made_anew() -> None:
    """With torch 2.11 every `.backward()` answer was marked "use autograd": the walk to the
    leaves remembered node ids, not nodes, and the id of a node object freed on the way came
    back for the leaf's (found on an H200 with torch 2.11, reproduced here with 2.11 on CPU)."""
    import torch

    from grader.boundary import observe

    leaf = torch.ones(2)

    class Root(torch.Tensor):
        @property
        def grad_fn(self) -> object:  # type: ignore[override]
            return _Node([("chain", [("leaf", leaf)])])

    root = torch.zeros(1).as_subclass(Root)
    assert [id(t) for t in observe._leaves((root,))] == [id(leaf)]
