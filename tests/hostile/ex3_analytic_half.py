"""One task honest (autograd), the other the analytic formula 6x.

Expected: exactly the honest task's 3 points.

exercise: exercise3
score: 3
status: cube_grad=passed cube_second_grad=failed
feedback: cube_second_grad ~ [use autograd]
"""



def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    return 6 * x
