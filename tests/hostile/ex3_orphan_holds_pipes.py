"""While loading, double-forks a daemon (new session, parent exits) that keeps the
child's stdout and result pipe open and prints for ever. Both functions are correct.

Expected: full marks, in bounded time: the grader does not wait for the pipes to
close, and kills the orphan with the rest of the job (it never leaves the job's
PID namespace). Its output is captured, truncated with a marker.

exercise: exercise3
score: 6
status: cube_grad=passed cube_second_grad=passed
output: output truncated
needs: containment
"""

import os
import time

import torch

ready_r, ready_w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(ready_r)
        os.write(1, b"the orphan is still here\n" * 400)  # past output_limit before grading goes on
        os.close(ready_w)
        while True:
            os.write(1, b"the orphan is still here\n" * 100)
            time.sleep(0.001)
    os._exit(0)
os.close(ready_w)
os.read(ready_r, 1)  # returns (empty) once the orphan has written its first burst: no race with the grading
os.close(ready_r)


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
