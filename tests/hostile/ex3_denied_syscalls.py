"""Makes the system calls that no exercise needs, through ctypes: ptrace (to trace or be
traced), unshare and setns (new namespaces: a way around the walls), mount, and, by
number where the architecture is known, process_vm_readv, keyctl, bpf, perf_event_open
and userfaultfd. Prints which ones the kernel allowed. Its answers are right.

Expected, in every mode: graded code may not load ctypes (the audit hook refuses it at
import): 0 points, with that said. Underneath, the system call filter refuses every one of
these calls (EPERM, or ENOSYS): tests/test_sandbox.py makes them with the filter loaded.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ ctypes.dlopen is not allowed
"""

import ctypes
import errno
import os
import platform

import torch

libc = ctypes.CDLL(None, use_errno=True)
NUMBERS = {"x86_64": {"process_vm_readv": 310, "keyctl": 250, "bpf": 321, "perf_event_open": 298,
                      "userfaultfd": 323},
           "aarch64": {"process_vm_readv": 270, "keyctl": 219, "bpf": 280, "perf_event_open": 241,
                       "userfaultfd": 282}}.get(platform.machine(), {})
calls = {
    "ptrace": lambda: libc.ptrace(0, 0, None, None),  # PTRACE_TRACEME
    "unshare": lambda: libc.unshare(0x10000000 | 0x08000000),  # CLONE_NEWUSER | CLONE_NEWIPC
    "setns": lambda: libc.setns(os.open("/proc/self/ns/ipc", os.O_RDONLY), 0),
    "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
}
for name, number in NUMBERS.items():
    calls[name] = lambda number=number: libc.syscall(ctypes.c_long(number), 0, 0, 0, 0, 0)
allowed = []
for name, call in calls.items():
    ctypes.set_errno(0)
    try:
        result = call()
    except OSError:
        continue
    if result >= 0 or ctypes.get_errno() not in (errno.EPERM, errno.ENOSYS):
        allowed.append(f"{name} ({errno.errorcode.get(ctypes.get_errno(), 'ok')})")
print("denied: all" if not allowed else f"allowed: {allowed}")


def cube_grad(x):
    leaf = x.detach().requires_grad_()
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), leaf)
    return h
