"""Looks for root and plants modules where the grader would import them: reports which of
its real, effective and saved uids is 0 and which capabilities it holds, then writes
`rich.py` and `matplotlib.py` (code that would run inside the grader) into the course,
next to the grader's package, next to the Python executable and into site-packages. Its
answers are right.

Expected, in every mode (and as root in a container without CAP_SYS_ADMIN, see
tests/test_container.py): no uid 0, no capability, nothing written; full marks, since the
answers are right. (Not graded in process mode without namespaces, not as root: there
the child is the grader's own user, README, trust model.)

exercise: exercise3
score: 6
status: cube_grad=passed cube_second_grad=passed
output: root: none; capabilities: none
output: planted: nowhere
cli: yes
needs: own-uid
"""

import os
import sys
import sysconfig

import torch

uids = os.getresuid()
with open("/proc/self/status") as f:
    caps = {line.split(":")[0]: int(line.split()[1], 16) for line in f if line.startswith("Cap")}
held = [name for name, mask in caps.items() if mask and name != "CapBnd"]
print(f"root: {[u for u in uids if u == 0] and uids or 'none'}; capabilities: {held or 'none'}")

grader_package = os.path.dirname(sys.modules["grader"].__file__) if "grader" in sys.modules else ""
places = {os.path.dirname(grader_package), grader_package, os.path.dirname(sys.executable),
          sysconfig.get_path("purelib"), os.getcwd()}
planted = []
for place in sorted(p for p in places if p and os.path.isdir(p) and p != "/" and not p.startswith("/tmp")):
    for name in ("rich.py", "matplotlib.py"):
        target = os.path.join(place, name)
        if os.path.exists(target):
            continue
        try:
            with open(target, "x") as f:
                f.write("import os\nos.system('touch /tmp/PLANTED-RAN')\n")
            planted.append(target)
        except OSError:
            pass
print(f"planted: {planted or 'nowhere'}")


def cube_grad(x):
    leaf = x.detach().requires_grad_()
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), leaf)
    return h
