"""Stub examples show what a REPL shows: pasting an example's call, with the reference
solution in place of the student's function, prints exactly the result the stub shows
(tensors as tensor(...) reprs, tuples as tuples, inputs that require grad marked so)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from conftest import ROOT

from grader.course import CourseDir
from grader.grading import load_solution
from grader.render import stub_for

COURSE = CourseDir.open(ROOT)


def examples(stub: str) -> list[tuple[str, str]]:
    """(call, shown result) of every example in a stub's docstrings."""
    found: list[tuple[str, list[str]]] = []
    inside = False
    for line in stub.splitlines():
        text = line.removeprefix("    ")
        if text.startswith(">>> "):
            found.append((text[4:], []))
            inside = True
        elif inside and text.strip() == '"""':
            inside = False
        elif inside:
            found[-1][1].append(text)
    return [(call, "\n".join(shown).strip("\n")) for call, shown in found]


def shown_by_repl(value: Any) -> str:
    """What the REPL prints, without autograd's bookkeeping (grad_fn, requires_grad)."""
    if isinstance(value, torch.Tensor):
        return repr(value.detach())
    if isinstance(value, tuple):
        items = [shown_by_repl(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return repr(value)


@pytest.mark.parametrize("ex_id", COURSE.exercise_ids)
def test_pasting_an_example_prints_what_the_stub_shows(ex_id: str) -> None:
    stub = stub_for(COURSE, ex_id)
    solution = load_solution(COURSE, ex_id)
    scope = {"torch": torch, "np": np, **{k: v for k, v in vars(solution).items() if callable(v)}}
    for call, shown in examples(stub):
        torch.manual_seed(0)
        result = eval(call, dict(scope))  # noqa: S307 - the course's own stub
        assert shown_by_repl(result) == shown, call


def test_examples_write_tuples_as_tuples_and_mark_inputs_that_require_grad() -> None:
    assert ">>> counting_block(n=10, shape=(2, 5), device='cpu')\n" in stub_for(COURSE, "exercise1")
    capstone = stub_for(COURSE, "exercise16")
    assert "b2=torch.tensor([0.281519562, 0.056163542], requires_grad=True), lr=0.01)\n    tensor(12.0195)\n" in capstone
    autograd = stub_for(COURSE, "exercise14")
    assert (">>> line_grads(x=torch.tensor(3.0), w=torch.tensor(4.0), b=torch.tensor(5.0))\n"
            "    (tensor(17.), tensor(3.), tensor(1.))\n") in autograd
