"""F.linear called from a worker thread (concurrent.futures), where a thread-local torch
function mode never looks.

Expected: 0 points: forbidden ops are recorded at torch's dispatcher for every thread.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
"""

from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn.functional as F

POOL = ThreadPoolExecutor(1)


def dense_forward(x, w1, b1, w2, b2):
    hidden = POOL.submit(F.linear, x, w1.t(), b1).result()
    return POOL.submit(F.linear, torch.relu(hidden), w2.t(), b2).result()
