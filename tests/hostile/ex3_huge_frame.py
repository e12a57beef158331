"""Sends the grader one enormous result frame (about 250 MiB, just under the frame
size limit) of junk, to exhaust the grader's memory.

Expected: the frame is read, found unreadable and discarded; both tasks are errors
about the result channel; the grader's memory peaks at a few hundred MiB and
falls back.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
timeout: 20
"""

import os
import stat
import struct

SIZE = 250 << 20


def cube_grad(x):
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("<4sI", b"GRD1", SIZE))
                block = b"PK" * (1 << 19)
                for _ in range(SIZE // len(block)):
                    os.write(fd, block)
        except OSError:
            pass
    return x
