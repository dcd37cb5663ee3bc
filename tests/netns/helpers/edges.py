#!/usr/bin/env python3
"""The corners of the kernel's socket tables, for test_oracle.py: where a walk over the
hash tables (the BPF backend) could differ from sock_diag.  Like fixture.py, one process
enters each namespace with setns(2), makes its sockets there and comes back, so none of
these namespaces has a process of its own.

Usage: edges.py CONFIG_JSON
  CONFIG_JSON = {"tag": ..., "tmpdir": ..., "ns": {"pin": PATH, "edge": PATH,
                 "ptcp": PATH, "pudp": PATH}}            (any key may be missing)
             or {"tag": ..., "big": PATH, "unix_pairs": N, "tcp": N, "tw": N}

  pin   TIME-WAIT sockets only a timer holds (client and server side, v4, v6,
        v4-mapped v6), an orphaned FIN-WAIT-2 (a TIME-WAIT socket of substate
        FIN-WAIT-2) and its CLOSE-WAIT peer
  edge  SYN-SENT (v4 and v6, to a neighbour that never answers: the test's veth
        e0 with a permanent neighbour entry, e1 drops the frames), an accept queue
        not drained, SO_REUSEPORT twins, a TCP socket bound but not listening (in
        no table ss dumps), data unread in both directions and partly read, UDP
        v6only and v4-mapped, sockets bound to a device, sockets of uid 65534,
        unix names of 107 and 108 bytes (the full sun_path, no NUL) and an
        abstract one of 107, a unix listener with connections not accepted,
        datagrams queued from two senders (Recv-Q is the first one's length), a unix
        socket in flight (sent with SCM_RIGHTS, closed by its sender); the test adds
        a vxlan device, whose UDP socket the kernel holds (no descriptor)
  ptcp  a namespace with a TCP established table of its own (the test creates
        it with net.ipv4.tcp_child_ehash_entries set): listeners (in the shared
        listening table all the same), ESTAB, TIME-WAIT, SYN-RECV, UDP, unix
  pudp  a namespace with a UDP table of its own (udp_child_hash_entries)
  big   many sockets: unix socketpairs, TCP connections, TIME-WAIT

Prints one JSON line when every socket is in its final state, then holds the
sockets until stdin reaches EOF.
"""

import ctypes
import errno
import json
import os
import resource
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture as F  # noqa: E402

keep, enter, held = F.keep, F.enter, F.held
NOBODY = 65534
SO_REUSEPORT = getattr(socket, "SO_REUSEPORT", 15)
TCP_DEFER_ACCEPT = 9


def release(*socks):
    for s in socks:
        if s in held:
            held.remove(s)
        s.close()


def eof(s):
    s.settimeout(5)
    if s.recv(1) != b"":
        raise RuntimeError("edges: expected EOF")


def time_wait(fam, host, lhost=None, server_closes=False):
    """A connection closed by the client (or the server): the first closer keeps a
    TIME-WAIT socket, which nobody holds; everything else is closed."""
    l, port = F.tcp_listen(fam, lhost or host, v6only=False if fam == socket.AF_INET6 else None)
    c, a = F.tcp_pair(l, fam, host, port)
    first, second = (a, c) if server_closes else (c, a)
    first.close()
    eof(second)
    second.close()
    release(first, second, l)
    return port


def build_pin(info):
    ports = [time_wait(socket.AF_INET, "127.0.0.1"),
             time_wait(socket.AF_INET6, "::1"),
             time_wait(socket.AF_INET6, "::ffff:127.0.0.1", lhost="::"),
             time_wait(socket.AF_INET, "127.0.0.1", server_closes=True)]
    # Orphaned FIN-WAIT-2: the client closes, its FIN is acknowledged, and the kernel
    # turns the orphan into a TIME-WAIT socket of substate FIN-WAIT-2 (tcp_fin_timeout
    # is not above 60 s); the server, held here, stays in CLOSE-WAIT.
    l, port = F.tcp_listen(socket.AF_INET, "127.0.0.1")
    c, a = F.tcp_pair(l, socket.AF_INET, "127.0.0.1", port)
    c.close()
    held.remove(c)
    eof(a)
    release(l)
    info["pin_tw_ports"] = ports
    info["pin_fw2_port"] = port


def as_nobody(make):
    """Sockets of uid 65534: sk_uid is the creator's fsuid."""
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        return make()
    finally:
        os.seteuid(0)
        os.setegid(0)


def unix_name(tmpdir, length, ch):
    base = tmpdir + "/"
    if len(base) >= length:
        raise RuntimeError("edges: tmpdir %r too long for a %d-byte name" % (tmpdir, length))
    return base + ch * (length - len(base))


def bind_raw(s, name):
    """bind(2) with the address length given in full: a 108-byte sun_path has no room
    for a NUL (Linux accepts it; Python's socket module refuses it)."""
    sa = struct.pack("H", socket.AF_UNIX) + name
    if F.libc.bind(s.fileno(), sa, len(sa)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "bind %r: %s" % (name, os.strerror(e)))


def build_edge(info, tmpdir, tag):
    # SYN-SENT: the SYN leaves through e0 toward a MAC nobody has.
    for fam, dst in ((socket.AF_INET, "10.98.0.2"), (socket.AF_INET6, "fd98::2")):
        s = keep(socket.socket(fam, socket.SOCK_STREAM))
        s.setblocking(False)
        r = s.connect_ex((dst, 9))
        if r != errno.EINPROGRESS:
            raise RuntimeError("edges: connect to %s: %s" % (dst, os.strerror(r)))

    # An accept queue not drained: Recv-Q 2 of backlog 5 on the listener, the
    # children ESTAB in the established table.
    l, port = F.tcp_listen(socket.AF_INET, "127.0.0.1", backlog=5)
    for _ in range(2):
        c = keep(socket.socket())
        c.connect(("127.0.0.1", port))
    info["acceptq_port"] = port

    # SO_REUSEPORT twins, TCP and UDP.
    for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        twins, p = [], 0
        for _ in range(2):
            s = keep(socket.socket(socket.AF_INET, typ))
            s.setsockopt(socket.SOL_SOCKET, SO_REUSEPORT, 1)
            s.bind(("127.0.0.1", p))
            p = s.getsockname()[1]
            if typ == socket.SOCK_STREAM:
                s.listen(3)
            twins.append(s)
        info["reuseport_tcp" if typ == socket.SOCK_STREAM else "reuseport_udp"] = p

    # Bound, never listening nor connecting: in the bind table only; ss shows nothing.
    b = keep(socket.socket())
    b.bind(("127.0.0.1", 0))
    info["bound_only_port"] = b.getsockname()[1]

    # Data unread both ways; and partly read (TCP: rcv_nxt - copied_seq; unix
    # stream: what is left of a partly consumed skb).
    l, port = F.tcp_listen(socket.AF_INET6, "::1")
    c, a = F.tcp_pair(l, socket.AF_INET6, "::1", port)
    c.sendall(b"c" * 1000)
    a.sendall(b"a" * 2000)
    F.wait_until(lambda: F.ioctl_int(a, F.SIOCINQ) == 1000 and F.ioctl_int(c, F.SIOCINQ) == 2000, "both ways")
    a.recv(300)
    F.wait_until(lambda: F.ioctl_int(a, F.SIOCINQ) == 700, "tcp partly read")
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep(x), keep(y)
    x.sendall(b"p" * 100)
    F.wait_until(lambda: F.ioctl_int(y, F.SIOCINQ) == 100, "unix stream queued")
    y.recv(30)
    x2, y2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    keep(x2), keep(y2)
    x2.send(b"q" * 10)
    x2.send(b"q" * 20)
    info["partial_port"] = port

    # UDP: v6only on ::, dual-stack connected to a v4-mapped address, bound to a device.
    u = keep(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u.bind(("::", 0))
    target, tport = F.udp(socket.AF_INET, "127.0.0.1")
    m = keep(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    m.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    m.connect(("::ffff:127.0.0.1", tport))
    m.send(b"m" * 7)
    F.wait_until(lambda: F.ioctl_int(target, F.SIOCINQ) == 7, "udp v4-mapped datagram")
    F.udp(socket.AF_INET, "0.0.0.0", device="lo")
    F.udp(socket.AF_INET6, "::", device="e0")

    # TCP bound to a device: a v6 listener on lo and a connection through it (the
    # child inherits the device), and a v4 listener on e0 (whose ifindex other test
    # namespaces give to other devices: the name must be this namespace's).
    dl, dport = F.tcp_listen(socket.AF_INET6, "::1", device="lo")
    F.tcp_pair(dl, socket.AF_INET6, "::1", dport)
    F.tcp_listen(socket.AF_INET, "0.0.0.0", device="e0")

    # Sockets of uid 65534: a listener, a UDP socket, a connection.
    nl, nport = as_nobody(lambda: F.tcp_listen(socket.AF_INET, "127.0.0.1"))
    as_nobody(lambda: F.udp(socket.AF_INET6, "::1"))
    as_nobody(lambda: F.tcp_pair(nl, socket.AF_INET, "127.0.0.1", nport))
    info["nobody_port"] = nport

    # Unix names at the limits of sun_path.
    p107 = unix_name(tmpdir, 107, "L")
    s = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    s.bind(p107)
    s.listen(4)
    c = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    c.connect(p107)
    keep(s.accept()[0])
    p108 = unix_name(tmpdir, 108, "M").encode()
    s = keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    bind_raw(s, p108)
    abs107 = ("%s-" % tag).encode()
    abs107 = b"\0" + abs107 + b"A" * (107 - len(abs107))
    s = keep(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET))
    s.bind(abs107)
    s.listen(2)
    info["unix107"], info["unix108"] = p107, p108.decode()
    info["abstract107"] = "@" + abs107[1:].decode()

    # A unix listener with two connections it never accepted: Recv-Q 2, and the two
    # embryo sockets (in the table, peers of the clients).
    lpath = os.path.join(tmpdir, "edge-backlog.sock")
    s = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    s.bind(lpath)
    s.listen(7)
    for _ in range(2):
        keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)).connect(lpath)

    # Datagrams from two senders, unread: Recv-Q is the first one's length (10).
    dpath = os.path.join(tmpdir, "edge-dgram.sock")
    d = keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    d.bind(dpath)
    for n in (10, 20):
        keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)).sendto(b"d" * n, dpath)
    # A bound stream socket that neither listens nor connects (UNCONN with a name),
    # and an unbound, unconnected datagram socket.
    keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)).bind(os.path.join(tmpdir, "edge-unconn.sock"))
    keep(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))

    # A unix socket in flight: passed with SCM_RIGHTS over a socketpair nobody reads,
    # then closed by the sender. It has an inode and no descriptor anywhere, so no
    # process's file table leads to it (only its own exact lookup makes its cookie).
    a, _b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep(a)
    keep(_b)
    fly = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    fly.bind(os.path.join(tmpdir, "edge-inflight.sock"))
    socket.send_fds(a, [b"x"], [fly.fileno()])
    fly.close()
    info["inflight"] = os.path.join(tmpdir, "edge-inflight.sock")


def build_private(info, key, tmpdir):
    """The sockets of a namespace with tables of its own."""
    l4, p4 = F.tcp_listen(socket.AF_INET, "127.0.0.1")
    F.tcp_pair(l4, socket.AF_INET, "127.0.0.1", p4)
    dual, pd = F.tcp_listen(socket.AF_INET6, "::", v6only=False)
    F.tcp_pair(dual, socket.AF_INET6, "::ffff:127.0.0.1", pd, v6only=False)
    F.tcp_pair(dual, socket.AF_INET6, "::1", pd)
    tw = time_wait(socket.AF_INET, "127.0.0.1")
    dl, dlp = F.tcp_listen(socket.AF_INET, "127.0.0.1", defer=120)
    sc = keep(socket.socket())
    sc.settimeout(5)
    sc.connect(("127.0.0.1", dlp))
    u4, u4p = F.udp(socket.AF_INET, "0.0.0.0")
    F.udp(socket.AF_INET, "127.0.0.1", ("127.0.0.1", u4p))[0].send(b"x" * 21)
    F.wait_until(lambda: F.ioctl_int(u4, F.SIOCINQ) == 21, "udp datagram")
    u6 = keep(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u6.bind(("::", 0))
    F.udp(socket.AF_INET6, "::1", ("::1", u6.getsockname()[1]))
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep(x), keep(y)
    x.sendall(b"z" * 50)
    s = keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    s.bind(os.path.join(tmpdir, key + ".sock"))
    s.listen(3)
    info[key] = {"tcp": [p4, pd], "tw": tw, "synrecv": dlp, "udp": u4p}


def build_big(info, n_pairs, n_tcp, n_tw):
    need = 2 * n_pairs + 2 * n_tcp + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    for _ in range(n_pairs):
        x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        keep(x), keep(y)
    l, port = F.tcp_listen(socket.AF_INET, "127.0.0.1", backlog=4096)
    for _ in range(n_tcp):
        c = keep(socket.socket())
        c.connect(("127.0.0.1", port))
        keep(l.accept()[0])
    tl, tport = F.tcp_listen(socket.AF_INET, "127.0.0.1", backlog=4096)
    for _ in range(n_tw):
        c = socket.socket()
        c.connect(("127.0.0.1", tport))
        a, _ = tl.accept()
        c.close()
        eof(a)
        a.close()
    info["big"] = {"pairs": n_pairs, "tcp": n_tcp, "tw": n_tw, "port": port, "tw_port": tport}


def main():
    cfg = json.loads(sys.argv[1])
    tag = cfg["tag"]
    tmpdir = cfg.get("tmpdir")
    ns = cfg.get("ns", {})
    F.libc.prctl(F.PR_SET_NAME, ctypes.c_char_p(b"nsnt-edges"), 0, 0, 0)
    info = {"pid": os.getpid()}
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    if "pin" in ns:
        enter(ns["pin"])
        build_pin(info)
    if "edge" in ns:
        enter(ns["edge"])
        build_edge(info, tmpdir, tag)
    for key in ("ptcp", "pudp"):
        if key in ns:
            enter(ns[key])
            build_private(info, key, tmpdir)
    if "big" in cfg:
        enter(cfg["big"])
        build_big(info, cfg.get("unix_pairs", 0), cfg.get("tcp", 0), cfg.get("tw", 0))
    F.report_and_hold(home, info)


if __name__ == "__main__":
    main()
