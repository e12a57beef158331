"""Looks for the answers: imports `solutions.exercise3`, searches the folders above
the grader package, the current folder and common roots for solutions/*.py and
exercises/*.yaml (the hidden cases), and uses the reference solution if found.

Expected (sandbox): nothing is found: the sandbox binds only Python and the
grader package, never the course; 0 points. (In process mode the child can read
whatever the grader's user can: this is not defended there.)

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
output: found no solutions
needs: sandbox
"""

import glob
import importlib
import os
import sys

import torch

found = {}
try:
    found["import"] = importlib.import_module("solutions.exercise3")
except Exception:  # noqa: BLE001
    pass
roots = {os.getcwd(), "/work", "/root", "/home", "/tmp", "/srv", "/opt", "/mnt", os.path.expanduser("~")}
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None) or ""
    if "grader" in path:
        here = os.path.dirname(path)
        for _ in range(4):
            roots.add(here)
            here = os.path.dirname(here)
for root in sorted(roots):
    for depth in range(4):
        pattern = os.path.join(root, *(["*"] * depth), "solutions", "exercise3.py")
        for path in glob.glob(pattern):
            try:
                found[path] = open(path).read()
            except OSError:
                pass
        for path in glob.glob(os.path.join(root, *(["*"] * depth), "exercises", "exercise3.yaml")):
            try:
                print("hidden cases:", open(path).read()[:200])
            except OSError:
                pass

solution = None
for value in found.values():
    if isinstance(value, str):
        namespace = {}
        exec(value, namespace)
        solution = namespace
    else:
        solution = vars(value)
print("found solutions" if solution else "found no solutions")


def cube_grad(x):
    return solution["cube_grad"](x) if solution else torch.zeros_like(x)


def cube_second_grad(x):
    return solution["cube_second_grad"](x) if solution else torch.zeros_like(x)
