"""Tries the network: a TCP connection to a public address (no DNS needed), a DNS
lookup, and a listening socket. Returns zeros.

Expected: no connection is possible (the child has a network namespace of its own
with no interface up); 0 points; the output says so.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
output: network: unreachable
needs: containment
"""

import socket

import torch

reached = []
for address in (("1.1.1.1", 53), ("8.8.8.8", 443)):
    try:
        socket.create_connection(address, timeout=1).close()
        reached.append(address)
    except OSError:
        pass
try:
    socket.getaddrinfo("pypi.org", 443)
    reached.append("dns")
except OSError:
    pass
print(f"network: reached {reached}" if reached else "network: unreachable")


def cube_grad(x):
    return torch.zeros_like(x)


def cube_second_grad(x):
    return torch.zeros_like(x)
