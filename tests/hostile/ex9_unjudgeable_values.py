"""Returns values the verdict code once could not take: a Python int of 400 digits
where a float is expected (float() overflows), infinities and NaN nested in lists,
a list nested far deeper than any result, and text where numbers should be.

Expected: judging is total: every task gets its own verdict naming the rule (no
"problem on the grader's side", no crash of the report); the tasks that return the
right thing in a plain way still pass.

exercise: exercise9
score: 1
status: as_python_number=failed as_nested_lists=failed to_float32=passed copied_then_scaled=failed
feedback: as_python_number ~ [values]
feedback: as_nested_lists ~ [structure] | [values] | [type]
cli: yes
"""

import torch


def as_python_number(t):
    return 10 ** 400


def as_nested_lists(t):
    deep = [float("nan"), float("inf"), -float("inf"), "1e999"]
    for _ in range(200):
        deep = [deep]
    return deep


def to_float32(arr):
    return torch.from_numpy(arr).float()


def copied_then_scaled(arr, factor):
    return [10 ** 300] * 3
