#!/usr/bin/env python3
"""Hold N unix socketpairs (2N sockets) in the current namespace, so that a
listing is far larger than a pipe buffer.  Prints "ready", then waits for EOF
on stdin.  usage: many.py N"""

import resource
import socket
import sys

n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 2 * n + 64
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
held = [socket.socketpair() for _ in range(n)]
print("ready", flush=True)
sys.stdin.read()
