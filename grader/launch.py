"""The `grade` console script's first steps, before anything heavy is imported.

A command that grades starts the sandbox here, so that its zygote imports torch
while this process imports click, pydantic, the course and torch itself; then
`cli.main` runs, and the process ends without tearing the interpreter down.
"""

from __future__ import annotations

import atexit
import os
import sys

COMMANDS = ("exercise", "all", "list", "hint", "watch", "render", "check", "schema", "new", "batch", "report")
"""Every command of `grade` (tests check this against cli.py)."""
GRADING = ("exercise", "all", "watch", "check", "batch")
"""The commands that run student code through the sandbox (`batch`'s workers share it)."""


_BOOT = ("import json, runpy, sys; sys.path[:] = json.loads(sys.argv[1]); module = sys.argv[2]; "
         "sys.argv[:] = [module, *sys.argv[3:]]; runpy.run_module(module, run_name='__main__', alter_sys=True)")


_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""Where the grader is imported from (site-packages, or a checkout)."""


def untrusted_entry(entry: str) -> bool:
    """Whether an import path entry is the folder `grade` runs in, unless the grader itself lives
    there (a checkout): `python -m` puts that folder first, and in a flat `grade batch .` of
    `<student>.py` files a student's `matplotlib.py` would be imported instead of the library,
    outside any sandbox."""
    here = os.path.realpath(os.getcwd())
    return os.path.realpath(entry or ".") == here and os.path.realpath(_PACKAGE_PARENT) != here


def python_command(module: str, *args: str) -> list[str]:
    """`python -m module args...` for a helper process of the grader, but with this process's
    import path, the grader's own folder first and no `untrusted_entry` (`-I`)."""
    import json

    path = [_PACKAGE_PARENT] + [p for p in sys.path if p and not untrusted_entry(p) and p != _PACKAGE_PARENT]
    return [sys.executable, "-I", "-c", _BOOT, json.dumps(path), module, *args]


def _command(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def grades(argv: list[str]) -> bool:
    """Whether these arguments run student code: a grading command, or an exercise name
    (`grade exercise3`); not --help or --version."""
    if any(a in ("-h", "--help", "--version") for a in argv):
        return False
    pairs = zip(argv, argv[1:], strict=False)
    if "--executor=dask" in argv or any(a == "--executor" and b == "dask" for a, b in pairs):
        return False  # a dask cluster's workers have sandboxes of their own
    first = _command(argv)
    return first is not None and (first in GRADING or first not in COMMANDS)


def run() -> None:
    """`grade`: start the sandbox early when grading, run `cli.main`, then leave without
    tearing the interpreter down. Once the report is out and the exit handlers have run
    (the sandbox is told to stop, files are closed), finalizing torch's thousands of objects
    takes most of a second and changes nothing a user sees."""
    code = 0
    try:
        if grades(sys.argv[1:]):
            from grader import boundary

            boundary.prestart(many_jobs=_command(sys.argv[1:]) == "batch")
        from grader.cli import main

        main()
    except KeyboardInterrupt:  # Ctrl-C before click took over (while importing)
        code = 130
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`grade list | head`): nothing more to say
            pass
    atexit._run_exitfuncs()
    os._exit(code)
