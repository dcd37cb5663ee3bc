#!/usr/bin/env python3
"""The world of test_netcfg.py: a host-like namespace with a bridge, three
pods, a process-only namespace, custom tables, rules and routes of every kind,
and traffic between them.

As a module: NS, build(world), traffic(nss).
As a program: `netcfg_world.py ping ADDR [COUNT]` sends COUNT (3) ICMP or
ICMPv6 echo requests to ADDR from a raw socket and exits 0 when every one was
answered (no dependency on iputils' ping), 1 otherwise.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import nsntlib as L  # noqa: E402


# ---- a namespace made by the test ------------------------------------------------

class NS:
    """One namespace of the world: by name (ip netns) or by process."""

    def __init__(self, label, name=None, pid=None):
        self.label, self.name, self.pid = label, name, pid
        self.path = "/run/netns/" + name if name else "/proc/%d/ns/net" % pid
        self.inode = os.stat(self.path).st_ino
        self.prefix = L.oracle_prefix(name=name, pid=pid)

    def ipcmd(self):
        return ["ip", "-n", self.name] if self.name else self.prefix + ["ip"]

    def ip(self, *args, check=True):
        return L.run(self.ipcmd() + list(args), check=check)

    def ipj(self, *args):
        out = L.run(self.ipcmd() + ["-j"] + list(args)).stdout.strip()
        return json.loads(out) if out else []

    def exec(self, cmd, check=True, **kw):
        return L.run(self.prefix + list(cmd), check=check, **kw)

    def popen(self, cmd):
        return subprocess.Popen(self.prefix + list(cmd), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def __str__(self):
        return "%s (%s, inode %d)" % (self.label, self.name or "pid %d" % self.pid, self.inode)


# ---- the world --------------------------------------------------------------------

def build(world):
    """Make the namespaces and their configuration.  Returns (nss, peers, notes):
    nss the NS objects [H, p1, p2, p3, U, H2, q1]; peers maps (ns label, ifname) ->
    (peer ns label, peer ifname) for every veth end, as built."""
    H = NS("H", name=world.add_netns("H"))
    pods = [NS("p%d" % i, name=world.add_netns("p%d" % i)) for i in (1, 2, 3)]
    p1, p2, p3 = pods
    u = world.unshare_sleep(300)
    U = NS("U", pid=u.pid)
    U.ip("link", "set", "lo", "up")
    nss = [H] + pods + [U]
    notes = []

    # No DAD: link-local addresses must not sit in "tentative" while we look.
    # Devices moved into a namespace take its "default" settings.
    for ns in nss:
        ns.exec(["sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0",
                 "net.ipv6.conf.all.accept_dad=0"])
    # Forwarding makes the kernel add IPv6 anycast routes.
    H.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])

    peers = {}

    def pair(a, an, b, bn):
        peers[(a.label, an)] = (b.label, bn)
        peers[(b.label, bn)] = (a.label, an)

    # The bridge and the pods, CNI style: the pod end is made in H, moved into
    # the pod and renamed eth0 there.
    H.ip("link", "add", "br0", "type", "bridge", "forward_delay", "0")
    H.ip("addr", "add", "10.77.0.1/24", "dev", "br0")
    H.ip("-6", "addr", "add", "fd77::1/64", "dev", "br0", "nodad")
    H.ip("link", "set", "br0", "up")
    for i, p in enumerate(pods, 1):
        host_if, tmp = "vp%d" % i, "vp%dpod" % i
        H.ip("link", "add", host_if, "type", "veth", "peer", "name", tmp)
        H.ip("link", "set", tmp, "netns", p.name)
        p.ip("link", "set", tmp, "name", "eth0")
        if i == 3:
            H.ip("link", "set", host_if, "mtu", "1450")
            p.ip("link", "set", "eth0", "mtu", "1450")
        H.ip("link", "set", host_if, "master", "br0", "up")
        p.ip("addr", "add", "10.77.0.%d/24" % (i + 1), "dev", "eth0")
        p.ip("-6", "addr", "add", "fd77::%d/64" % (i + 1), "dev", "eth0", "nodad")
        p.ip("link", "set", "eth0", "up")
        p.ip("route", "add", "default", "via", "10.77.0.1")
        p.ip("-6", "route", "add", "default", "via", "fd77::1")
        pair(H, host_if, p, "eth0")

    # U: a veth from H into the process-only namespace (netns PID).
    H.ip("link", "add", "vu", "type", "veth", "peer", "name", "vu0", "netns", str(U.pid))
    H.ip("addr", "add", "10.79.0.1/24", "dev", "vu")
    H.ip("-6", "addr", "add", "fd79::1/64", "dev", "vu", "nodad")
    H.ip("link", "set", "vu", "up")
    U.ip("addr", "add", "10.79.0.2/24", "dev", "vu0")
    U.ip("-6", "addr", "add", "fd79::2/64", "dev", "vu0", "nodad")
    U.ip("link", "set", "vu0", "up")
    U.ip("route", "add", "default", "via", "10.79.0.1")
    U.ip("-6", "route", "add", "fd77::/64", "via", "fd79::1", "metric", "10")
    pair(H, "vu", U, "vu0")

    # p1 <-> p2 directly.
    p1.ip("link", "add", "x12", "type", "veth", "peer", "name", "x21", "netns", p2.name)
    p1.ip("addr", "add", "10.78.0.1/30", "dev", "x12")
    p1.ip("-6", "addr", "add", "fd78::1/64", "dev", "x12", "nodad")
    p2.ip("addr", "add", "10.78.0.2/30", "dev", "x21")
    p2.ip("-6", "addr", "add", "fd78::2/64", "dev", "x21", "nodad")
    p1.ip("link", "set", "x12", "up")
    p2.ip("link", "set", "x21", "up")
    pair(p1, "x12", p2, "x21")

    # p3: both ends in the same namespace; sb stays down (sa: NO-CARRIER,
    # LOWERLAYERDOWN, its routes linkdown).
    p3.ip("link", "add", "sa", "type", "veth", "peer", "name", "sb")
    p3.ip("addr", "add", "10.82.0.1/24", "dev", "sa")
    p3.ip("link", "set", "sa", "up")
    p3.ip("route", "add", "10.83.0.0/24", "via", "10.82.0.2", "dev", "sa")
    pair(p3, "sa", p3, "sb")

    # H's routing: custom tables, rules, multipath, every route type.
    for cmd in (
            ["route", "add", "10.88.0.0/16", "via", "10.77.0.3", "table", "100"],
            ["route", "add", "default", "via", "10.77.0.2", "table", "100"],
            ["route", "add", "throw", "10.88.5.0/24", "table", "100"],
            ["rule", "add", "fwmark", "0x1", "table", "100"],
            ["rule", "add", "from", "10.77.0.2", "table", "100", "pref", "1000"],
            ["rule", "add", "to", "10.88.0.0/16", "fwmark", "0x4/0xc", "lookup", "100",
             "pref", "1100"],
            ["route", "add", "10.90.0.0/24", "nexthop", "via", "10.77.0.2", "weight", "1",
             "nexthop", "via", "10.77.0.3", "weight", "2"],
            ["-6", "route", "add", "fd90::/64", "nexthop", "via", "fd77::2", "dev", "br0",
             "weight", "1", "nexthop", "via", "fd77::3", "dev", "br0", "weight", "2"],
            ["-6", "route", "add", "fd91::/64", "via", "fd77::4", "table", "200"],
            ["-6", "route", "add", "default", "via", "fd77::2", "table", "200", "metric", "50"],
            ["-6", "route", "add", "prohibit", "fd94::/64", "table", "200"],
            # Not "from fd77::/64": H's replies to the pods would follow table 200.
            ["-6", "rule", "add", "from", "fd7a::/64", "table", "200", "pref", "2000"],
            ["route", "add", "blackhole", "10.91.0.0/16"],
            ["route", "add", "unreachable", "10.92.0.0/16", "metric", "5"],
            ["route", "add", "prohibit", "10.93.0.0/16"],
            ["-6", "route", "add", "blackhole", "fd92::/64"],
            ["-6", "route", "add", "unreachable", "fd93::/64"],
            ["route", "add", "10.94.0.0/24", "via", "10.77.0.4", "proto", "static",
             "metric", "7", "mtu", "1300", "advmss", "1200"],
            ["route", "add", "10.95.0.0/24", "via", "10.77.0.4", "proto", "77"],
            ["route", "add", "10.95.1.0/24", "via", "10.77.0.4", "proto", "bird"],
            ["route", "add", "10.96.0.0/24", "via", "10.77.0.2", "tos", "0x10"],
            ["route", "add", "10.97.0.0/24", "via", "10.77.0.250", "dev", "br0", "onlink"],
            ["route", "add", "10.98.0.1", "via", "10.77.0.2", "src", "10.77.0.1"],
            ["-6", "route", "add", "fd97::1/128", "via", "fd77::3"],
            ["-6", "route", "add", "fd95::/64", "via", "fd77::2", "pref", "high", "mtu", "1400"],
            ["-6", "route", "add", "throw", "fd9b::/64", "table", "200"],
            ["route", "add", "multicast", "239.0.0.0/8", "dev", "br0"],
            # Nexthop objects (as FRR installs them): a route shows the expanded
            # gateway/dev, a group route the expanded nexthops.
            ["nexthop", "add", "id", "10", "via", "10.77.0.3", "dev", "br0"],
            ["nexthop", "add", "id", "11", "via", "10.77.0.4", "dev", "br0"],
            ["nexthop", "add", "id", "12", "group", "10/11,3"],
            ["route", "add", "10.99.1.0/24", "nhid", "10"],
            ["route", "add", "10.99.2.0/24", "nhid", "12"]):
        H.ip(*cmd)
    # Source-specific IPv6 routes need CONFIG_IPV6_SUBTREES.
    r = H.ip("-6", "route", "add", "fd96::/64", "from", "fd77::/64", "via", "fd77::3", check=False)
    if r.returncode != 0:
        notes.append("no IPv6 source routing here (%s)" % r.stderr.strip())

    # p1: addresses of every shape and rules of every action.
    for cmd in (
            ["addr", "add", "10.80.0.1", "peer", "10.80.0.2/32", "dev", "x12"],
            ["addr", "add", "10.81.0.1/24", "brd", "+", "dev", "eth0", "label", "eth0:a"],
            ["addr", "add", "10.81.0.2/24", "dev", "eth0"],
            ["-6", "addr", "add", "fd81::1/64", "dev", "eth0", "nodad", "noprefixroute"],
            ["-6", "addr", "add", "fd81::2/64", "dev", "eth0", "valid_lft", "3600",
             "preferred_lft", "1800"],
            ["-6", "addr", "add", "fd81::3/64", "dev", "eth0", "valid_lft", "3600",
             "preferred_lft", "0"],
            ["rule", "add", "pref", "1400", "nop"],
            ["rule", "add", "not", "to", "10.0.0.0/8", "iif", "x12", "fwmark", "0x4/0xc",
             "lookup", "main", "pref", "1100"],
            ["rule", "add", "oif", "eth0", "tos", "0x10", "blackhole", "pref", "1200"],
            ["rule", "add", "pref", "1300", "from", "10.77.0.0/24", "goto", "1400"],
            ["rule", "add", "prohibit", "pref", "1500", "to", "10.99.0.1"],
            ["-6", "rule", "add", "fwmark", "0x2", "unreachable", "pref", "600"],
            ["-6", "rule", "add", "to", "fd78::/64", "table", "300", "pref", "700"],
            ["-6", "route", "add", "fd98::/64", "dev", "x12", "table", "300"],
            ["route", "add", "10.84.0.0/24", "nexthop", "via", "10.77.0.1", "dev", "eth0",
             "nexthop", "via", "10.78.0.2", "dev", "x12"]):
        p1.ip(*cmd)
    p2.ip("-6", "route", "add", "fd99::/64", "via", "fd78::1", "dev", "x21")
    p2.ip("link", "set", "x21", "promisc", "on")
    p3.ip("link", "set", "sb", "arp", "off")
    # A stacked device: IFLA_LINK names its lower device, but it has no peer.
    r = p2.ip("link", "add", "link", "eth0", "name", "mv0", "type", "macvlan", "mode", "bridge",
              check=False)
    if r.returncode != 0:
        notes.append("no macvlan here (%s)" % r.stderr.strip())

    # A second node, H2 with one pod q1, made exactly like H and p1 (kind or k3d
    # run one such pair per node): the same ifindexes on both ends (H2's vp1 is
    # 4, q1's eth0 3, as H's vp1 and p1's eth0), so only the namespaces tell the
    # two veth pairs apart.
    H2 = NS("H2", name=world.add_netns("H2"))
    q1 = NS("q1", name=world.add_netns("q1"))
    for ns in (H2, q1):
        ns.exec(["sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0",
                 "net.ipv6.conf.all.accept_dad=0"])
    H2.ip("link", "add", "br0", "type", "bridge", "forward_delay", "0")
    H2.ip("addr", "add", "10.76.0.1/24", "dev", "br0")
    H2.ip("link", "set", "br0", "up")
    H2.ip("link", "add", "vp1", "type", "veth", "peer", "name", "vp1pod")
    H2.ip("link", "set", "vp1pod", "netns", q1.name)
    q1.ip("link", "set", "vp1pod", "name", "eth0")
    H2.ip("link", "set", "vp1", "master", "br0", "up")
    q1.ip("addr", "add", "10.76.0.2/24", "dev", "eth0")
    q1.ip("link", "set", "eth0", "up")
    q1.ip("route", "add", "default", "via", "10.76.0.1")
    pair(H2, "vp1", q1, "eth0")
    nss += [H2, q1]
    return nss, peers, notes


PINGS = [("p1", "10.77.0.1"), ("p1", "10.77.0.3"), ("p1", "10.78.0.2"), ("p1", "fd77::1"),
         ("p1", "fd78::2"), ("p2", "10.77.0.4"), ("p2", "fd77::1"), ("p3", "10.77.0.1"),
         ("p3", "fd77::2"), ("U", "10.79.0.1"), ("U", "fd79::1"), ("H", "10.77.0.2"),
         ("H", "fd77::4"), ("q1", "10.76.0.1")]

TCP = ("import socket\n"
       "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)\n"
       "c = socket.create_connection(l.getsockname()); s, _ = l.accept()\n"
       "c.sendall(b'x' * 1000); assert s.recv(1000)\n"
       "c.close(); s.close(); l.close()\n")


def traffic(nss):
    """Three echo requests for each of PINGS (addresses of the world only, over
    the bridge and the veths) and one TCP connection on p1's loopback.
    Returns a list of failures."""
    by = {ns.label: ns for ns in nss}
    me = os.path.abspath(__file__)
    procs = [(lbl, dst, by[lbl].popen([sys.executable, me, "ping", dst, "3"])) for lbl, dst in PINGS]
    bad = []
    r = by["p1"].exec([sys.executable, "-c", TCP], check=False)
    if r.returncode != 0:
        bad.append("tcp on p1's loopback: " + r.stderr.strip())
    for lbl, dst, p in procs:
        out, err = p.communicate(timeout=20)
        if p.returncode != 0:
            bad.append("ping %s from %s: exit %d %s %s" % (dst, lbl, p.returncode, out.strip(), err.strip()))
    return bad


# ---- ping from a raw socket ------------------------------------------------------

def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def ping(dst, count=3, timeout=2.0):
    v6 = ":" in dst
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req, rep = 128, 129
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req, rep = 8, 0
    ident = os.getpid() & 0xffff
    answered = 0
    for seq in range(1, count + 1):
        payload = b"nsnetstat-netcfg" * 4
        hdr = struct.pack("!BBHHH", req, 0, 0, ident, seq)
        # The kernel fills in the ICMPv6 checksum itself (it covers a pseudo header).
        pkt = hdr if v6 else struct.pack("!BBHHH", req, 0, _csum(hdr + payload), ident, seq)
        s.sendto(pkt + payload, (dst, 0))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                break
            if not v6:
                data = data[(data[0] & 0x0f) * 4:]
            if len(data) >= 8:
                t, _, _, i, q = struct.unpack("!BBHHH", data[:8])
                if t == rep and i == ident and q == seq:
                    answered += 1
                    break
        time.sleep(0.02)
    print("%s: %d/%d answered" % (dst, answered, count))
    return answered == count


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "ping":
        sys.exit(0 if ping(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3) else 1)
    print("usage: netcfg_world.py ping ADDR [COUNT]", file=sys.stderr)
    sys.exit(2)
