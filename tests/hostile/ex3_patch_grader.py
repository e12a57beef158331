"""Finds the grader's own modules and rewrites them: every comparison passes, every
judgement is "passed", the encoder claims perfect results. Returns zeros.

Expected: 0 points. These modules are copies in the child; the verdicts are made
by the grader's process, which the child cannot reach.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ [values]
"""

import sys

import torch

try:
    import grader.compare as compare

    compare.compare_value = lambda *a, **k: compare.PASS
    compare.compare_values = lambda *a, **k: compare.PASS
    compare.judge_case = lambda *a, **k: compare.PASS
    compare.judge_task = lambda spec, *a, **k: compare.Judgement("passed", "", {d: "passed" for d in spec.devices})
except Exception:  # noqa: BLE001
    pass
for name, module in list(sys.modules.items()):
    if name.startswith("grader") and module is not None:
        for attr in ("judge_task", "compare_value", "grade_source"):
            if hasattr(module, attr):
                setattr(module, attr, lambda *a, **k: None)


def _autograd_alibi(x):
    """A real backward pass, so that the "use autograd" rule is satisfied and the values decide."""
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()


def cube_grad(x):
    _autograd_alibi(x)
    return torch.zeros_like(x)


def cube_second_grad(x):
    _autograd_alibi(x)
    return torch.zeros_like(x)
