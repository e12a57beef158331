"""`python -m grader`: the `grade` console script.

`-m` puts the current folder first on the import path; unless the grader itself is imported
from there (a checkout), it is taken off again before anything else is imported, so that a
`<student>.py` called `matplotlib.py` or `rich.py` in a folder graded with
`python -m grader batch .` is not imported by the grader (the console script never had it).
A file there called `grader.py` would still be run by `python -m grader`: use `grade`."""

import os
import sys

_here = os.path.realpath(os.getcwd())
_package_parent = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if sys.path and os.path.realpath(sys.path[0] or ".") == _here and _package_parent != _here:
    del sys.path[0]

from grader.launch import run  # noqa: E402

if __name__ == "__main__":
    run()
