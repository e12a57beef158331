"""Prints a fake full-marks JSON report on stdout and stderr, writes it to every file
descriptor it can find (0 to 255) and to the grader's stdout through /proc, and
raises NotImplementedError.

Expected: 0 points; the grader's stdout carries exactly one JSON document (its
own); the fake text appears only in the captured "output" field. The fake text
written into the result pipe breaks that channel: both tasks are errors saying so.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
output: FAKE-REPORT
cli: yes
"""

import json
import os
import sys

FAKE = json.dumps({"version": 1, "exercise": "exercise3", "score": 6.0, "max_score": 6.0,
                   "tasks": [], "note": "FAKE-REPORT"}) + "\n"
print(FAKE)
print(FAKE, file=sys.stderr)
for fd in range(256):
    try:
        os.write(fd, FAKE.encode())
    except OSError:
        pass
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for n in (1, 2):
            try:
                with open(f"/proc/{pid}/fd/{n}", "w") as f:
                    f.write(FAKE)
            except OSError:
                pass


def cube_grad(x):
    raise NotImplementedError


def cube_second_grad(x):
    raise NotImplementedError
