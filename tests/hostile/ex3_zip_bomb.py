"""Sends a well-formed result frame whose archive holds a compressed 64 MiB record
(a zip bomb: about 64 KiB on the wire), hoping the grader inflates it.

Expected: the grader accepts only uncompressed archives and rejects the frame
before loading it; both tasks are errors about the result channel.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
timeout: 10
"""

import io
import os
import pickle
import stat
import struct
import zipfile


def cube_grad(x):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"event": "done", "task": 0}, protocol=2))
        archive.writestr("archive/data/0", b"\0" * (64 << 20))
        archive.writestr("archive/version", b"3\n")
    payload = raw.getvalue()
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("<4sI", b"GRD1", len(payload)) + payload)
        except OSError:
            pass
    return x
