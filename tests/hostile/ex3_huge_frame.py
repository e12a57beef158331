"""Sends the grader one enormous result frame (60 MiB, just under the 64 MiB frame
limit) of junk, then announces one of 4 GiB, to exhaust the grader's memory.

Expected: the first frame is read, found unreadable and discarded; the grader
never waits for the second; both tasks are errors about the result channel; the
grader's memory peaks at about twice the frame limit and falls back.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
timeout: 20
"""

import os
import stat
import struct

SIZE = 60 << 20


def cube_grad(x):
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("<4sI", b"GRD2", SIZE))
                block = b"{[" * (1 << 19)
                for _ in range(SIZE // len(block)):
                    os.write(fd, block)
                os.write(fd, struct.pack("<4sI", b"GRD2", 0xFFFFFFFF))
        except OSError:
            pass
    return x
