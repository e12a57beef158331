"""Gets code to run on the harness's own thread: results and inputs carry objects whose
__del__ walks the stack (sys._getframe) looking for the harness's locals, and a reference
cycle with a finaliser is left for the garbage collector (gc.enable() first). The first
call of cube_grad is honest; later calls return the analytic formula, unless a finaliser
reached the harness, in which case they stay honest (so any point here means the harness
thread ran the submission's code).

Expected: 0 points: what the submission returned or was given is kept alive for the
child's life, and garbage collection runs only on a submission thread, so no finaliser
runs on the harness's thread.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ use autograd
output: never on the harness
"""

import gc
import sys

REACHED = []


class Spy:
    def __del__(self):
        frame = sys._getframe(1)
        while frame is not None:
            if "guards" in frame.f_locals or "channel" in frame.f_locals:
                REACHED.append(frame.f_code.co_name)
            frame = frame.f_back


def _cycle():
    a, b = Spy(), Spy()
    a.other, b.other = b, a


gc.enable()


CALLS = []


def cube_grad(x):
    CALLS.append(1)
    x.spy = Spy()
    _cycle()
    if len(CALLS) == 1 or REACHED:
        leaf = x.detach().clone().requires_grad_()
        (leaf**3).sum().backward()
        out = leaf.grad
    else:
        print("never on the harness")
        out = 3 * x**2
    out.spy = Spy()
    return out


def cube_second_grad(x):
    _cycle()
    return 6 * x
