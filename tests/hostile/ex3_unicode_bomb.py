"""Raises exceptions and prints bytes no report can hold as they are: lone
surrogates (not Unicode text at all) in an exception's message and in the
name of the type of a returned object, terminal escape sequences (clear the screen, set the
clipboard with OSC 52, a hyperlink, the window title), NUL and C1 bytes, and
invalid UTF-8 written straight to the output; HTML and a Markdown heading for
the gradebook's feedback page.

Expected: every format (JSON here, through the real command) is written, valid,
with the surrogates replaced and the control characters made visible; both
tasks fail naming what went wrong; no points.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=failed
feedback: cube_grad ~ ValueError
feedback: cube_second_grad ~ Bad�
output: printed
cli: yes
"""

import os

import torch

ESCAPES = "\x1b[2J\x1b[H\x1b]52;c;RkFLRQ==\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\x1b]0;title\x07\x00\x85\x9b31m"
os.write(1, b"printed \xed\xb2\x80 \xff\xfe " + ESCAPES.encode("utf-8") + b"\n")


def cube_grad(x):
    raise ValueError("bad \udc80 value" + ESCAPES + "<script>alert(1)</script>\n# Your grade: 6/6")


class Bad:
    pass


Bad.__module__ = "Bad\ud800" + ESCAPES  # a type's module may be any str, surrogates included


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    torch.autograd.grad(first.sum(), leaf)
    return Bad()
