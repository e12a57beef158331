"""Looks for another student's submission to copy: searches the places where a batch
keeps submissions (workspace, submissions/, grades/, /tmp, the home folder) for
exercise3.py files and classmates' folders, and uses the first one it finds.

Expected (sandbox): nothing is found (the test puts a classmate's correct file
next to the course); 0 points. (Process mode cannot hide files the grader's
user can read.)

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
output: found no classmate
needs: sandbox
"""

import glob
import os

import torch

copied = None
patterns = ["/tmp/**/exercise3.py", "/tmp/**/submissions/*/*.py", "/work/**/workspace/exercise3.py",
            os.path.expanduser("~/**/exercise3.py"), "/home/**/exercise3.py", "./**/exercise3.py"]
for pattern in patterns:
    for path in glob.glob(pattern, recursive=True)[:50]:
        try:
            text = open(path).read()
        except OSError:
            continue
        if "def cube_grad" in text:
            namespace = {}
            exec(text, namespace)
            copied = namespace
            print("copied", path)
            break
    if copied:
        break
print("found a classmate" if copied else "found no classmate")


def cube_grad(x):
    return copied["cube_grad"](x) if copied else torch.zeros_like(x)


def cube_second_grad(x):
    return copied["cube_second_grad"](x) if copied else torch.zeros_like(x)
