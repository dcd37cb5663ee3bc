#!/usr/bin/env python3
"""The -r/-i/-s views beyond what the ip/nstat oracles cover:

  -N peers     with one namespace in scope, its veth's peer is still named: the
               interface on the other side, in the other namespace (both directions)
  -s -c        the JSON's counters_delta and the table's increments are exactly the
               traffic made between two scans (ICMP echo requests counted by the
               kernel), and gauges are never in the deltas
  view flags   -r/-i/-s alone print no sockets; with -t they do; -4 narrows routes
               and addresses to IPv4; --zeros shows zero counters; table headings

usage: test_netviews.py PATH_TO_NSNETSTAT
"""

import json
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


class Lines:
    """Lines of a child's stdout with a timeout: select() on the raw descriptor and
    our own buffer (a file object's buffer would hide lines from select)."""

    def __init__(self, p):
        self.fd, self.buf = p.stdout.fileno(), b""

    def __call__(self, timeout=10):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return ""
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return ""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode() + "\n"


def main():
    if len(sys.argv) != 2:
        print("usage: test_netviews.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root(tools=("ip", "ping"))
    world = L.World()
    rep = L.Report()
    a = world.add_netns("va")
    b = world.add_netns("vb")
    L.run(["ip", "-n", a, "link", "add", "nsntA", "type", "veth", "peer", "name", "nsntB", "netns", b])
    L.run(["ip", "-n", a, "addr", "add", "10.91.0.1/24", "dev", "nsntA"])
    L.run(["ip", "-n", b, "addr", "add", "10.91.0.2/24", "dev", "nsntB"])
    L.run(["ip", "-n", a, "link", "set", "nsntA", "up"])
    L.run(["ip", "-n", b, "link", "set", "nsntB", "up"])
    ino = {n: os.stat("/run/netns/" + n).st_ino for n in (a, b)}
    idx = {n: json.loads(L.run(["ip", "-n", n, "-j", "link", "show", dev]).stdout)[0]["ifindex"]
           for n, dev in ((a, "nsntA"), (b, "nsntB"))}

    # 1. -N: the peer lives in a namespace that is not in scope.
    for me, other, dev, odev in ((a, b, "nsntA", "nsntB"), (b, a, "nsntB", "nsntA")):
        r, doc = L.nsnetstat(binary, ["-N", me, "-i", "--json"])
        rep.check(r.returncode == 0, "-N %s -i: exit %d: %s" % (me, r.returncode, r.stderr))
        if doc:
            nss = L.namespaces(doc)
            rep.check(len(nss) == 1 and nss[0]["inode"] == ino[me],
                      "-N %s -i: exactly that namespace" % me)
            link = [l for ns in nss for l in ns["links"] if l["name"] == dev]
            want = {"ifindex": idx[other], "name": odev, "netns_inode": ino[other], "netns": other}
            rep.check(len(link) == 1 and link[0]["peer"] == want,
                      "-N %s: peer of %s is %s, got %s" % (me, dev, want, link and link[0]["peer"]))
        t = subprocess.run([binary, "-N", me, "-i"], capture_output=True, text=True)
        rep.check(any(line.split()[1] == dev and line.split()[-1] == "%s@%s" % (odev, other)
                      for line in t.stdout.splitlines()[1:]),
                  "-N %s -i table: Peer column names %s@%s\n%s" % (me, odev, other, t.stdout))

    # 2. -s -c: deltas are the traffic between two scans.
    p = world.spawn([binary, "-N", a, "-s", "-c", "1.5", "--json"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    readline = Lines(p)
    first = readline()
    rep.check(bool(first), "-s -c --json: first document")
    first = json.loads(first) if first else None
    ping = L.run(["ip", "netns", "exec", b, "ping", "-c", "5", "-i", "0.05", "-W", "1", "10.91.0.1"],
                 check=False)
    rep.check(ping.returncode == 0, "ping over the veth: %s" % ping.stderr.strip())
    second = readline()
    p.kill()
    if first and second:
        ns1 = L.namespaces(first)[0]
        ns2 = L.namespaces(json.loads(second))[0]
        rep.check("counters_delta" not in ns1, "first document has no counters_delta")
        d = ns2.get("counters_delta")
        rep.check(isinstance(d, dict), "second document has counters_delta")
        d = d or {}
        rep.check(d.get("IcmpInEchos") == 5, "IcmpInEchos delta == 5 pings, got %r" % d.get("IcmpInEchos"))
        rep.check(d.get("IcmpOutEchoReps") == 5, "IcmpOutEchoReps delta == 5, got %r" % d.get("IcmpOutEchoReps"))
        for name, v in d.items():
            rep.check(v == ns2["counters"][name] - ns1["counters"].get(name, 0),
                      "delta of %s is the difference of the absolute values" % name)
        gauges = {"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax",
                  "TcpMaxConn", "TcpCurrEstab"}
        rep.check(gauges <= set(ns1["counters"]) and not gauges & set(d),
                  "gauges are in counters, never in counters_delta")
    else:
        rep.check(False, "-s -c --json printed two documents")

    # The table: the first scan absolute, the next ones the increments. The first
    # table arrives in one write; the pings go into the 2 s sleep after it.
    p = world.spawn([binary, "-N", a, "-s", "-c", "2"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    readline = Lines(p)
    heading = "netns %s (inode %d)" % (a, ino[a])
    first, second = [readline()], []
    while first[-1]:
        first.append(readline(0.3))
    L.run(["ip", "netns", "exec", b, "ping", "-c", "3", "-i", "0.05", "-W", "1", "10.91.0.1"], check=False)
    line = readline(5)
    while line and not (second and line.startswith("# ")):
        second.append(line)
        line = readline(0.3)
    p.kill()
    rep.check(first[0].startswith("# ") and heading in [x.strip() for x in first],
              "-s -c table: '# time' then the heading (%r)" % first[:2])
    rep.check(second and second[0].startswith("# ") and heading in [x.strip() for x in second],
              "-s -c table: second scan with its heading")
    echos = [x.split() for x in second if x.startswith("IcmpInEchos")]
    rep.check(echos == [["IcmpInEchos", "3"]], "-s -c table: IcmpInEchos increment 3 (%s)" % echos)

    # 3. View flags.
    r, doc = L.nsnetstat(binary, ["-N", a, "-r", "--json"])
    ns = L.namespaces(doc)[0] if doc else {}
    rep.check("sockets" not in ns and "routes" in ns and "links" not in ns and "counters" not in ns,
              "-r alone: routes and rules, no sockets/links/counters (keys %s)" % sorted(ns))
    r, doc = L.nsnetstat(binary, ["-N", a, "-r", "-t", "--json"])
    ns = L.namespaces(doc)[0] if doc else {}
    rep.check("sockets" in ns and "routes" in ns, "-r -t: sockets and routes")
    r, doc = L.nsnetstat(binary, ["-N", a, "-4", "-r", "-i", "--json"])
    ns = L.namespaces(doc)[0] if doc else {}
    fams = {x["family"] for x in ns.get("routes", [])} | {x["family"] for x in ns.get("rules", [])} | \
        {ad["family"] for l in ns.get("links", []) for ad in l["addrs"]}
    rep.check(fams == {"inet"}, "-4 -r -i: only inet routes, rules and addresses (%s)" % fams)
    t = subprocess.run([binary, "-N", a, "-s"], capture_output=True, text=True).stdout
    z = subprocess.run([binary, "-N", a, "-s", "--zeros"], capture_output=True, text=True).stdout
    nz = [x.split() for x in t.splitlines()[1:] if x.strip()]
    rep.check(all(len(x) == 2 and x[1] != "0" for x in nz), "-s: only non-zero counters")
    rep.check(any(x.split()[1:] == ["0"] for x in z.splitlines()[1:] if x.strip()),
              "-s --zeros: zero counters too")
    rep.check(not any(x.split()[0] == "TcpMaxConn" for x in z.splitlines()[1:] if x.strip()),
              "-s --zeros: no gauges in the table (nstat's rule)")
    rep.check(t.splitlines()[0] == heading, "-s table starts with the heading %r" % heading)
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
