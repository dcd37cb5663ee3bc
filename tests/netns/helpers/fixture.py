#!/usr/bin/env python3
"""Socket zoo for the real-namespace tests.

One process creates sockets of every kind in several network namespaces by
entering each namespace with setns(2) before socket(2): a socket stays bound to
the namespace it was created in, so a single process can own them all.  That
keeps the -p comparison simple (one pid, one comm) and lets connections cross
the veth pair without any coordination between processes.

Usage: fixture.py CONFIG_JSON
  CONFIG_JSON = {"tag": "nsnt123", "tmpdir": "/tmp/...",
                 "ns": {"a": PATH, "b": PATH, "c": PATH, "u": PATH}}
  where "a" and "b" are joined by veth0 (10.99.0.1, fd99::1) and
  veth1 (10.99.0.2, fd99::2).  Any key may be missing.

Prints one JSON line when every socket is in its final state, then holds the
sockets until stdin reaches EOF.
"""

import ctypes
import json
import os
import socket
import struct
import sys
import time
import fcntl

CLONE_NEWNET = 0x40000000
SIOCINQ = 0x541B
SIOCOUTQ = 0x5411
TCP_DEFER_ACCEPT = 9
PR_SET_NAME = 15
SOL_RAW = 255
ICMP_FILTER = 1
ICMP6_FILTER = 1
COMM = b"nsnt-fixture"

libc = ctypes.CDLL(None, use_errno=True)
held = []  # every socket we made; never garbage-collected


def keep(s):
    held.append(s)
    return s


def enter(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def ioctl_int(s, req):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), req, b"\0\0\0\0"))[0]


def wait_until(pred, what, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise RuntimeError("fixture: timed out waiting for " + what)


def tcp_listen(fam, addr, v6only=None, device=None, rcvbuf=None, defer=None, backlog=128):
    s = keep(socket.socket(fam, socket.SOCK_STREAM))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if device:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if defer:
        s.setsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT, defer)
    s.bind((addr, 0))
    s.listen(backlog)
    return s, s.getsockname()[1]


def tcp_pair(listener, fam, dst, port, v6only=None):
    """Connect to listener (possibly in another namespace) and accept."""
    c = keep(socket.socket(fam, socket.SOCK_STREAM))
    if v6only is not None:
        c.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    c.settimeout(5)
    c.connect((dst, port))
    listener.settimeout(5)
    a, _ = listener.accept()
    keep(a)
    return c, a


def udp(fam, bind_addr, connect_to=None, device=None):
    s = keep(socket.socket(fam, socket.SOCK_DGRAM))
    if device:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    s.bind((bind_addr, 0))
    if connect_to:
        s.connect(connect_to)
    return s, s.getsockname()[1]


def unix_zoo(tmpdir, tag, key):
    """Stream/dgram/seqpacket, path/abstract/unnamed, with some unread data."""
    base = os.path.join(tmpdir, key)
    l = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    l.bind(base + ".sock")
    l.listen(16)
    c = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    c.connect(base + ".sock")
    keep(l.accept()[0])
    abstract = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    abstract.bind(("\0%s-%s-abs" % (tag, key)).encode())
    abstract.listen(4)
    # An abstract name with an embedded NUL: ss shows every NUL as '@'.
    nul = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    nul.bind(("\0%s\0%s" % (tag, key)).encode())
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep(x), keep(y)
    x.sendall(b"u" * 100)  # y: Recv-Q 100
    d = keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    d.bind(base + ".dgram")
    dc = keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    dc.connect(base + ".dgram")
    dc.send(b"d" * 10)
    p, q = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    keep(p), keep(q)
    sl = keep(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET))
    sl.bind(base + ".seq")
    sl.listen(8)
    sc = keep(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET))
    sc.connect(base + ".seq")
    keep(sl.accept()[0])
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    keep(s1), keep(s2)


def settle_sendq(sender, receiver):
    """Write until the peer's tiny window is full and both queues stop moving."""
    sender.setblocking(False)
    last, stable = None, 0
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            while True:
                sender.send(b"s" * 4096)
        except BlockingIOError:
            pass
        time.sleep(0.1)
        now = (ioctl_int(sender, SIOCOUTQ), ioctl_int(receiver, SIOCINQ))
        stable = stable + 1 if now == last else 0
        last = now
        if stable >= 4:
            return now
    raise RuntimeError("fixture: send queue never settled: %r" % (last,))


def build_a(info, tmpdir, tag, b_path):
    lo4, lo4_port = tcp_listen(socket.AF_INET, "127.0.0.1")
    any4, any4_port = tcp_listen(socket.AF_INET, "0.0.0.0")
    lo6, lo6_port = tcp_listen(socket.AF_INET6, "::1")
    only6, only6_port = tcp_listen(socket.AF_INET6, "::", v6only=True)
    dual, dual_port = tcp_listen(socket.AF_INET6, "::", v6only=False)
    tcp_pair(lo4, socket.AF_INET, "127.0.0.1", lo4_port)
    tcp_pair(lo6, socket.AF_INET6, "::1", lo6_port)
    tcp_pair(only6, socket.AF_INET6, "::1", only6_port)
    # IPv4-mapped IPv6 on both ends: a dual-stack listener and a v6 client.
    tcp_pair(dual, socket.AF_INET6, "::ffff:127.0.0.1", dual_port, v6only=False)
    info["a_ports"] = [lo4_port, any4_port, lo6_port, only6_port, dual_port]

    # Recv-Q: data the acceptor never reads.
    c, a = tcp_pair(any4, socket.AF_INET, "127.0.0.1", any4_port)
    c.sendall(b"r" * 1234)
    wait_until(lambda: ioctl_int(a, SIOCINQ) == 1234, "recv-q 1234")

    # Send-Q: the acceptor has a tiny receive buffer and never reads.
    small, small_port = tcp_listen(socket.AF_INET, "127.0.0.1", rcvbuf=4096)
    c, a = tcp_pair(small, socket.AF_INET, "127.0.0.1", small_port)
    info["sendq"] = settle_sendq(c, a)

    # TIME-WAIT on the active closer (60 s), the passive side is gone.
    tw, tw_port = tcp_listen(socket.AF_INET, "127.0.0.1")
    c, a = tcp_pair(tw, socket.AF_INET, "127.0.0.1", tw_port)
    c.close()
    a.settimeout(5)
    assert a.recv(1) == b""
    a.close()
    held.remove(c), held.remove(a)
    info["tw_port"] = tw_port

    # FIN-WAIT-2 / CLOSE-WAIT: half-close, the peer never closes.
    fw, fw_port = tcp_listen(socket.AF_INET6, "::1")
    c, a = tcp_pair(fw, socket.AF_INET6, "::1", fw_port)
    c.shutdown(socket.SHUT_WR)
    a.settimeout(5)
    assert a.recv(1) == b""

    # SYN-RECV: with TCP_DEFER_ACCEPT the bare ACK of the handshake is dropped,
    # the request socket stays in SYN-RECV while the client is ESTAB.
    dl, dl_port = tcp_listen(socket.AF_INET, "127.0.0.1", defer=120)
    sc = keep(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    sc.settimeout(5)
    sc.connect(("127.0.0.1", dl_port))
    info["synrecv_port"] = dl_port

    # UDP, bound and connected, v4 and v6, one with an unread datagram.
    u4, u4_port = udp(socket.AF_INET, "0.0.0.0")
    udp(socket.AF_INET, "127.0.0.1", ("127.0.0.1", u4_port))[0].send(b"x" * 33)
    wait_until(lambda: ioctl_int(u4, SIOCINQ) == 33, "udp datagram")
    u6, u6_port = udp(socket.AF_INET6, "::")
    udp(socket.AF_INET6, "::1", ("::1", u6_port))
    udp(socket.AF_INET, "0.0.0.0", device="veth0")

    # RAW ICMP and ICMPv6.
    # Both filter out every ICMP type: neighbour discovery and MLD on the veth
    # would otherwise queue packets and make Recv-Q change between two looks.
    r4 = keep(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
    r4.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", 0xFFFFFFFF))
    r6 = keep(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
    r6.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, b"\xff" * 32)

    unix_zoo(tmpdir, tag, "a")

    if b_path:
        # Listeners on the veth addresses, clients in namespace b.
        v4, v4_port = tcp_listen(socket.AF_INET, "10.99.0.1")
        v6, v6_port = tcp_listen(socket.AF_INET6, "fd99::1")
        bd, bd_port = tcp_listen(socket.AF_INET, "0.0.0.0", device="veth0")
        vu4, vu4_port = udp(socket.AF_INET, "10.99.0.1")
        vu6, vu6_port = udp(socket.AF_INET6, "fd99::1")
        enter(b_path)
        tcp_pair(v4, socket.AF_INET, "10.99.0.1", v4_port)
        tcp_pair(v6, socket.AF_INET6, "fd99::1", v6_port)
        tcp_pair(bd, socket.AF_INET, "10.99.0.1", bd_port)
        udp(socket.AF_INET, "0.0.0.0", ("10.99.0.1", vu4_port))
        udp(socket.AF_INET6, "::", ("fd99::1", vu6_port))
        udp(socket.AF_INET6, "::", device="veth1")
        unix_zoo(tmpdir, tag, "b")
        info["veth_ports"] = [v4_port, v6_port, bd_port]


def build_small(tmpdir, tag, key):
    l4, p4 = tcp_listen(socket.AF_INET, "127.0.0.1")
    tcp_pair(l4, socket.AF_INET, "127.0.0.1", p4)
    tcp_listen(socket.AF_INET6, "::")
    udp(socket.AF_INET, "127.0.0.1")
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    keep(x), keep(y)
    s = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    s.bind(os.path.join(tmpdir, key + ".sock"))
    s.listen(3)
    return p4


def main():
    cfg = json.loads(sys.argv[1])
    tag, tmpdir, ns = cfg["tag"], cfg["tmpdir"], cfg.get("ns", {})
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(COMM), 0, 0, 0)
    info = {"pid": os.getpid(), "comm": COMM.decode()}
    home = os.open("/proc/self/ns/net", os.O_RDONLY)

    # Host namespace: loopback only, so the test can pick these rows out of
    # whatever else the machine is doing.
    hl, hport = tcp_listen(socket.AF_INET, "127.0.0.1")
    tcp_pair(hl, socket.AF_INET, "127.0.0.1", hport)
    h = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    h.bind(("\0%s-host" % tag).encode())
    h.listen(2)
    info["host_port"] = hport
    info["host_abstract"] = "@%s-host" % tag

    if "a" in ns:
        enter(ns["a"])
        build_a(info, tmpdir, tag, ns.get("b"))
    for key in ("c", "u"):
        if key in ns:
            enter(ns[key])
            info[key + "_port"] = build_small(tmpdir, tag, key)

    report_and_hold(home, info)


def report_and_hold(home, info):
    """Back to the namespace HOME (an fd, closed here), print INFO as one JSON line once
    the sockets have settled, and hold them until stdin reaches EOF."""
    if libc.setns(home, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back home")
    os.close(home)
    time.sleep(0.3)  # let FIN/ACK exchanges finish before anyone looks
    print(json.dumps(info), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
