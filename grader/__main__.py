"""`python -m grader`: the `grade` console script.

`-m` puts the current folder first on the import path; unless the grader itself is imported
from there (a checkout), it is taken off again before anything else is imported, so that a
`<student>.py` called `matplotlib.py` or `rich.py` in a folder graded with
`python -m grader batch .` is not imported by the grader (the console script never had it).
A file there called `grader.py` would still be run by `python -m grader`: use `grade`.
(`grader.launch` imports only what the interpreter has already loaded.)"""

import sys

from grader import launch

if sys.path and launch.untrusted_entry(sys.path[0]):
    del sys.path[0]

if __name__ == "__main__":
    launch.run()
