"""Keeps telling the grader that cube_grad has only just started: while it sleeps
well past its time limit, it writes a fresh "start" frame for its task into every
pipe it holds every half second, hoping each one resets the task's deadline.
Then it returns the right gradient.

Expected: the frame lacks the job's seal (only the harness knows it), and a task
starts once anyway (a second "start" would be out of turn), so cube_grad is an error
that says the result channel was written to (and no message ever moves a deadline).
cube_second_grad, run in a fresh child, still earns its points.

exercise: exercise3
score: 3
status: cube_grad=error cube_second_grad=passed
feedback: cube_grad ~ result channel
timeout: 2
"""

import os
import stat
import struct
import time

import torch


def _say(message: bytes) -> None:
    payload = struct.pack("<I", len(message)) + message
    frame = struct.pack("<4sI", b"GRD2", len(payload)) + payload
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, frame)
        except OSError:
            pass


def cube_grad(x):
    for _ in range(8):
        _say(b'{"event":"start","task":0}')
        time.sleep(0.5)
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
