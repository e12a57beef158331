"""Raises exceptions built to run code when the harness describes them: a message
(`__str__`, an argument whose `__repr__` a KeyError shows, the file name an OSError or a
SyntaxError shows), a `__traceback__`
property, a class name served by its metaclass, and a frame whose globals carry a loader
that the traceback module asks for source lines. The harness describes the exception on
its own thread, where the audit hook allows everything: code run there could rewrite the
evidence of autograd for the cases that follow.

Expected: none of it runs on the harness's thread; both tasks are errors (no points),
and the feedback still names the exception and the student's line.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ Loud
feedback: cube_second_grad ~ KeyError
silent: ON THE HARNESS THREAD
"""

import threading


def _loud(where):
    if threading.current_thread() is threading.main_thread():
        print("ON THE HARNESS THREAD:", where, flush=True)
    return where


class _Named(type):
    @property
    def __name__(cls):
        return _loud("__name__")


class Loud(Exception, metaclass=_Named):
    def __str__(self):
        return _loud("__str__")

    def __repr__(self):
        return _loud("__repr__")

    @property
    def __traceback__(self):
        _loud("__traceback__")
        return None

    @property
    def filename(self):
        return _loud("filename")


class _Key:
    def __repr__(self):
        return _loud("key __repr__")

    __str__ = __repr__


class _Loader:
    def get_source(self, name):
        _loud("get_source")
        return "x = 1\n" * 50


class _Spec:
    @property
    def name(self):
        return _loud("spec name")


class _Globals(dict):
    def get(self, key, default=None):
        _loud("globals.get")
        return dict.get(self, key, default)


_RAISES = compile("def raises(key):\n    raise KeyError(key)\n", "/nowhere/elsewhere.py", "exec")
_SCOPE = _Globals(__name__="elsewhere", __loader__=_Loader(), __spec__=_Spec())
exec(_RAISES, _SCOPE)


_CALLS = []


def cube_grad(x):
    """A different exception on each call: builtin classes whose fields hold loud objects too."""
    _CALLS.append(1)
    n = len(_CALLS)
    if n == 1:
        raise Loud("cube_grad")
    if n == 2:
        raise OSError(2, "no such file", _Key())
    if n == 3:
        raise SyntaxError("invalid", (_Key(), 1, 1, "x", 1, 2))
    if n == 4:
        error = IndentationError("unexpected")
        error.filename = _Key()
        error.text = _Key()
        raise error
    raise Loud(_Key())


def cube_second_grad(x):
    _SCOPE["raises"](_Key())
