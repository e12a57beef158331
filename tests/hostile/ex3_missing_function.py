"""cube_grad is correct; cube_second_grad is not defined at all (and a variable of
that name would not be a function either).

Expected: cube_grad earns 3 points; cube_second_grad is an error saying it is not
defined.

exercise: exercise3
score: 3
status: cube_grad=passed cube_second_grad=error
feedback: cube_second_grad ~ not defined
"""



def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad
