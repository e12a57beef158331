"""Goes after the autograd evidence itself: finds torch's engine stand-in, reaches the
generator that keeps the record through its bound send method, reads its frame, and
tries to add a record by hand (a fake "engine result" equal to the formula).

Expected: 0 points: the frame of the log is refused by the audit hook, and the only
message that adds to the record runs the real engine first.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ use autograd
output: refused
"""

from torch.autograd.variable import Variable


def _forge(x, value):
    engine = Variable._execution_engine
    log = getattr(getattr(engine, "_send", None), "__self__", None)
    try:
        frame = log.gi_frame
        frame.f_locals["records"] = ((None, None),)
        print("read the log")
    except Exception as exc:  # noqa: BLE001
        print("refused:", type(exc).__name__)
    try:
        log.send(("record", x, value))
    except Exception:  # noqa: BLE001
        pass
    return value


def cube_grad(x):
    return _forge(x, 3 * x**2)


def cube_second_grad(x):
    return _forge(x, 6 * x)
