"""Tries to take the grader down: SIGKILL to its parent process, to its own process
group, to process 1, and to every process it can see whose command line mentions
python, grader or pytest. cube_grad then returns the right gradient (computed with
autograd); cube_second_grad returns zeros.

Expected: the grader survives and reports normally: cube_grad earns its 3 points,
cube_second_grad fails. The child is process 1 of its own PID namespace (it
cannot name the grader) and runs under another uid without capabilities.

exercise: exercise3
score: 3
status: cube_grad=passed cube_second_grad=failed
feedback: cube_second_grad ~ [values] | [use autograd]
needs: containment
cli: yes
"""

import os
import signal

import torch


def _kill_everything():
    targets = {os.getppid(), 1}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if any(word in cmd for word in (b"python", b"grader", b"pytest", b"bwrap")):
            targets.add(int(pid))
    for pid in targets:
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    try:
        os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
    except OSError:
        pass


def cube_grad(x):
    _kill_everything()
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    _kill_everything()
    return torch.zeros_like(x)
