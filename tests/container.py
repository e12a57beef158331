"""Run a command as Docker's default seccomp profile would let it run: no new namespaces.

Usage: capsh --drop=cap_sys_admin -- -c 'python tests/container.py COMMAND...'

Together with capsh (root without CAP_SYS_ADMIN) this is the container most autograders
start in (Gradescope, CI runners): bubblewrap cannot start, and neither a mount, PID, IPC
nor user namespace can be made. unshare and setns fail with EPERM, clone with a namespace
flag too, and clone3 with ENOSYS (the C library then uses clone), as in Docker's profile.
"""

from __future__ import annotations

import errno
import os
import sys

import pyseccomp as sc

NAMESPACE_FLAGS = (0x00020000, 0x40000000, 0x10000000, 0x20000000, 0x08000000, 0x04000000, 0x02000000)
"""CLONE_NEWNS, NEWNET, NEWUSER, NEWPID, NEWIPC, NEWUTS, NEWCGROUP."""
PR_SET_NO_NEW_PRIVS = 38


def main(argv: list[str]) -> None:
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in ("unshare", "setns"):
        flt.add_rule(sc.ERRNO(errno.EPERM), name)
    for flag in NAMESPACE_FLAGS:
        flt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    flt.load()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
