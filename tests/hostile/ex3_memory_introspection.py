"""Searches its own memory for what the grader knows: a loaded reference solution
module, cached reference results, the grader's job description, then uses any
reference function it finds.

Expected, in every mode: 0 points. Object enumeration (gc.get_objects) is refused in
graded code, so the file does not load; and even without that, the warm process that
forks every child (the sandbox's zygote, or process mode's) never loads a solution or
computes a reference (the grader does that in its own process).

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ gc.get_objects is not allowed
"""

import gc
import sys
import types

import torch

reference = None
for name, module in list(sys.modules.items()):
    if "solution" in name and hasattr(module, "cube_grad"):
        reference = module
for obj in gc.get_objects():
    if reference is not None:
        break
    if isinstance(obj, types.ModuleType) and "solution" in obj.__name__ and hasattr(obj, "cube_grad"):
        reference = obj
    elif isinstance(obj, types.FunctionType) and obj.__name__ == "cube_grad" and "solution" in (obj.__module__ or ""):
        reference = sys.modules.get(obj.__module__) or types.SimpleNamespace(**obj.__globals__)
    elif type(obj).__name__ == "CaseRef":
        print("found a cached reference")
print("found a reference solution" if reference is not None else "nothing in memory")


def cube_grad(x):
    return reference.cube_grad(x) if reference is not None else torch.zeros_like(x)


def cube_second_grad(x):
    return reference.cube_second_grad(x) if reference is not None else torch.zeros_like(x)
