"""Walks up from its own frame to the bottom of its thread (the harness's trampoline) and
plants objects there that run code when the harness touches them: an iterable in place of
the (ok, result) pair, and a lock-alike in place of the lock that says the thread is gone.
Either, run on the harness's own thread (where the audit hook allows everything), could
rewrite the evidence of autograd; here it announces itself and hands over the formula.
cube_second_grad returns an object whose class names its module with an object of its own
(compared with "torch.return_types" while the harness describes the result).

Expected: the harness reads only exact tuples and real locks from its trampoline, so none
of the planted code runs on its thread; the formula scores 0 (use autograd).

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ use autograd
silent: ON THE HARNESS THREAD
"""

import sys
import threading


def _loud(where):
    if threading.current_thread() is threading.main_thread():
        print("ON THE HARNESS THREAD:", where, flush=True)


class _Pair:
    def __init__(self, value):
        self.value = value

    def __iter__(self):
        _loud("__iter__")
        return iter((True, self.value))

    def __getitem__(self, index):
        _loud("__getitem__")
        return (True, self.value)[index]

    def __len__(self):
        _loud("__len__")
        return 2


class _Lock:
    def acquire(self, *args, **kwargs):
        _loud("acquire")
        return True

    def release(self):
        _loud("release")


def _plant(value):
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_name != "trampoline":
        frame = frame.f_back
    if frame is not None:
        bottom = frame.f_locals
        if isinstance(bottom.get("out"), list):
            bottom["out"].insert(0, _Pair(value))
        if isinstance(bottom.get("ends"), list):
            bottom["ends"][:] = [_Lock()]
    return value


def cube_grad(x):
    return _plant(3 * x**2)


class _LoudText:
    def __eq__(self, other):
        _loud("__module__ compared")
        return False

    __hash__ = object.__hash__

    def __str__(self):
        return _loud("__module__ shown")


class _Odd:
    __module__ = _LoudText()


def cube_second_grad(x):
    _plant(6 * x)
    return _Odd()
