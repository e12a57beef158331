"""Objects whose __del__ loops for ever: one dropped inside cube_grad (so the loop
runs during the call), one kept at module level (it would run at interpreter
exit). cube_second_grad is correct.

Expected: cube_grad times out; cube_second_grad earns its 3 points; the child
never runs interpreter shutdown, so the module-level object never hangs it.

exercise: exercise3
score: 3
status: cube_grad=timeout cube_second_grad=passed
timeout: 1
"""

import torch


class Sticky:
    def __del__(self):
        while True:
            pass


KEEP = Sticky()


def cube_grad(x):
    s = Sticky()
    del s
    return x


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
