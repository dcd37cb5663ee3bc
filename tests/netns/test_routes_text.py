#!/usr/bin/env python3
"""nsnetstat -r --rules against ip, line for line and byte for byte.

Builds four namespaces of its own:

  r1  the zoo: a veth to r2, a bridge with a veth port, a veth whose peer is
      down (linkdown routes), IPv4 and IPv6 addresses; routes in main and in
      tables 100 and 200: a default with a metric, mtu/advmss, an IPv4 multipath
      route with weights, an IPv6 multipath route, blackhole, unreachable,
      prohibit and throw, onlink, linkdown, proto static/bird/openr, scope link
      with src and tos, a source-specific IPv6 route (from), IPv6 pref high,
      mtu/hoplimit, an IPv4 route via an IPv6 gateway; rules with fwmark(/mask),
      iif, oif, to, not, tos, priority, goto, blackhole, unreachable, prohibit,
      nop, proto, for both families
  r2  the other end of the veth, with default routes back and one rule
  r3  nothing but lo (the kernel's own routes and rules)
  u   unshare -n, reachable only through its process (heading label = inode)

For each, the block `nsnetstat -r --rules --all-namespaces` prints under the
namespace's heading must equal

  ip -4 route show table all; ip -6 route show table all; "rules:"; ip rule; ip -6 rule

run inside it (`ip route show table all` without -4 prints both families, the
same lines). Nothing is normalised: trailing spaces count. Only documentation and
private prefixes that exist nowhere but in these namespaces are used, and no
packet is sent.

usage: test_routes_text.py PATH_TO_NSNETSTAT
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402

HEADING = re.compile(r"^netns (.+) \(inode (\d+)\)$")


def ipn(ns, *args, check=True):
    return L.run(["ip", "-n", ns] + list(args), check=check)


def optional(what, ns, *args):
    """A route or rule an older kernel or ip may refuse: note it, go on."""
    r = ipn(ns, *args, check=False)
    if r.returncode != 0:
        print("note: skipped %s (%s)" % (what, r.stderr.strip()))
    return r.returncode == 0


def build(world):
    r1, r2, r3 = world.add_netns("r1"), world.add_netns("r2"), world.add_netns("r3")
    # No DAD: link-local addresses and their local routes appear at once instead of
    # a second later, between the two commands being compared.
    for ns in (r1, r2, r3):
        L.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
               "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"])

    ipn(r1, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", r2)
    ipn(r1, "link", "add", "br0", "type", "bridge")
    ipn(r1, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
    ipn(r1, "link", "set", "p1", "master", "br0")
    ipn(r1, "link", "add", "vx", "type", "veth", "peer", "name", "vy")  # vy stays down
    for dev in ("va", "br0", "p0", "p1", "vx"):
        ipn(r1, "link", "set", dev, "up")
    ipn(r2, "link", "set", "vb", "up")
    for ns, dev, v4, v6 in ((r1, "va", "10.77.0.1/24", "fd77::1/64"),
                            (r2, "vb", "10.77.0.2/24", "fd77::2/64"),
                            (r1, "br0", "10.78.0.1/24", "fd78::1/64"),
                            (r1, "vx", "10.80.0.1/24", "fd80::1/64")):
        ipn(ns, "addr", "add", v4, "dev", dev)
        ipn(ns, "addr", "add", v6, "dev", dev, "nodad")
    ipn(r1, "addr", "add", "10.79.0.1/24", "dev", "p0")

    # Routes of r1.
    R = lambda *a: ipn(r1, "route", "add", *a)  # noqa: E731
    R6 = lambda *a: ipn(r1, "-6", "route", "add", *a)  # noqa: E731
    R("default", "via", "10.77.0.2", "dev", "va", "metric", "50")
    R("192.0.2.0/24", "via", "10.77.0.2", "dev", "va", "metric", "10", "mtu", "1400",
      "advmss", "1360")
    R("198.51.100.0/24", "table", "100", "nexthop", "via", "10.77.0.2", "dev", "va", "weight",
      "3", "nexthop", "via", "10.78.0.2", "dev", "br0", "weight", "1")
    R("prohibit", "203.0.113.0/24", "table", "100")
    R("throw", "203.0.113.128/25", "table", "100")
    R("blackhole", "203.0.113.64/26", "table", "200")
    R("10.77.0.9", "dev", "va", "scope", "link", "src", "10.77.0.1", "table", "200")
    R("unreachable", "203.0.113.0/28")
    R("192.0.2.128/25", "via", "10.99.99.1", "dev", "va", "onlink")
    R("198.18.0.0/16", "via", "10.80.0.2", "dev", "vx")  # linkdown
    R("198.19.0.0/16", "via", "10.77.0.2", "dev", "va", "proto", "static")
    R("198.19.1.0/24", "via", "10.77.0.2", "dev", "va", "proto", "bird")
    R("198.19.2.0/24", "via", "10.77.0.2", "dev", "va", "proto", "99")
    R("192.0.2.64/26", "dev", "va", "scope", "link", "src", "10.77.0.1", "tos", "0x10")
    optional("tos AF11 route", r1, "route", "add", "192.0.2.32/27", "dev", "va",
             "tos", "0x28", "table", "100")
    optional("IPv4 route via inet6", r1, "route", "add", "192.0.2.250/32", "via", "inet6",
             "fd77::2", "dev", "va")
    R6("default", "via", "fd77::2", "dev", "va", "metric", "2048")
    R6("2001:db8:1::/64", "nexthop", "via", "fd77::2", "dev", "va", "weight", "1",
       "nexthop", "via", "fd78::2", "dev", "br0", "weight", "2")
    R6("2001:db8:2::/64", "from", "fd77::/64", "via", "fd77::3", "dev", "va")
    R6("2001:db8:3::/64", "via", "fd77::4", "dev", "va", "table", "100", "mtu", "1300",
       "hoplimit", "10")
    R6("2001:db8:4::/64", "via", "fd77::5", "dev", "va", "pref", "high")
    R6("2001:db8:5::/64", "via", "fd80::2", "dev", "vx", "proto", "static")  # linkdown
    R6("blackhole", "2001:db8:6::/64")
    R6("unreachable", "2001:db8:7::/64", "table", "200")
    R6("prohibit", "2001:db8:8::/64")
    R6("2001:db8:9::1", "dev", "va", "metric", "7")

    # Rules of r1.
    U = lambda *a: ipn(r1, "rule", "add", *a)  # noqa: E731
    U6 = lambda *a: ipn(r1, "-6", "rule", "add", *a)  # noqa: E731
    U("fwmark", "0x1/0xff", "lookup", "100", "pref", "100")
    U("fwmark", "0x10", "lookup", "100", "pref", "101")
    U("iif", "va", "to", "10.5.0.0/16", "lookup", "200", "pref", "110")
    U("not", "from", "10.6.0.0/16", "lookup", "main", "pref", "120")
    U("from", "10.7.0.0/16", "goto", "32766", "pref", "130")
    U("from", "10.8.0.0/16", "blackhole", "pref", "140")
    U("from", "10.8.1.0/24", "unreachable", "pref", "141")
    U("from", "10.8.2.0/24", "prohibit", "pref", "142")
    U("from", "10.8.3.0/24", "nop", "pref", "143")
    U("tos", "0x10", "oif", "va", "lookup", "100", "pref", "150")
    U("from", "10.9.0.1", "lookup", "200")  # priority chosen by the kernel
    optional("rule with a protocol", r1, "rule", "add", "from", "10.11.0.0/16",
             "lookup", "100", "protocol", "bird", "pref", "170")
    U6("from", "fd77::/64", "lookup", "100", "pref", "100")
    U6("not", "to", "2001:db8::/32", "iif", "va", "lookup", "200", "pref", "110")
    U6("fwmark", "0x2", "goto", "32766", "pref", "120")
    U("iif", "nsnt-nonexist", "lookup", "100", "pref", "180")  # [detached]
    U("goto", "40000", "pref", "190")  # [unresolved]: no rule 40000
    R("198.51.100.0/24", "dev", "va", "mtu", "lock", "1300")

    # r2: the way back, and one rule.
    ipn(r2, "route", "add", "default", "via", "10.77.0.1", "dev", "vb")
    ipn(r2, "-6", "route", "add", "default", "via", "fd77::1", "dev", "vb")
    ipn(r2, "rule", "add", "from", "10.77.0.0/24", "lookup", "main", "pref", "1000")

    u = world.unshare_sleep(120)
    L.run(["nsenter", "--net=/proc/%d/ns/net" % u.pid, "ip", "link", "set", "lo", "up"])
    return r1, r2, r3, u.pid


def ip_text(prefix, rules=True):
    """What ip prints in one namespace, as a list of lines."""
    out = []
    for args in (["-4", "route", "show", "table", "all"], ["-6", "route", "show", "table", "all"]):
        out += L.run(prefix + ["ip"] + args).stdout.splitlines()
    if rules:
        out.append("rules:")
        for args in (["rule"], ["-6", "rule"]):
            out += L.run(prefix + ["ip"] + args).stdout.splitlines()
    return out


def blocks(text):
    """{inode: (label, lines)} from nsnetstat -r; raises on a malformed layout."""
    found = {}
    if not text.endswith("\n"):
        raise AssertionError("output does not end with a newline")
    for chunk in text[:-1].split("\n\n"):
        lines = chunk.split("\n")
        m = HEADING.match(lines[0])
        if not m:
            raise AssertionError("block does not start with a heading: %r" % lines[0])
        ino = int(m.group(2))
        if ino in found:
            raise AssertionError("namespace inode %d printed twice" % ino)
        found[ino] = (m.group(1), lines[1:])
    return found


def diff(want, got):
    lines = []
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        if w != g:
            lines.append("  line %d: ip %r\n          nsnetstat %r" % (i + 1, w, g))
    return "\n".join(lines[:20])


def main():
    if len(sys.argv) != 2:
        print("usage: test_routes_text.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root(tools=("ip", "unshare", "nsenter", "sysctl"))
    world = L.World()
    rep = L.Report()
    r1, r2, r3, upid = build(world)

    mine = [(n, os.stat("/run/netns/" + n).st_ino, n, L.oracle_prefix(name=n))
            for n in (r1, r2, r3)]
    uino = os.stat("/proc/%d/ns/net" % upid).st_ino
    mine.append(("unshare-pid-%d" % upid, uino, str(uino), L.oracle_prefix(pid=upid)))

    # The zoo must really contain what the docstring promises, or equality below
    # proves less than it claims.
    zoo = "\n".join(ip_text(L.oracle_prefix(name=r1)))
    for needle in ("\tnexthop via 10.77.0.2 dev va weight 3 ",
                   "\tnexthop via fd78::2 dev br0 weight 2 ",
                   "prohibit 203.0.113.0/24 table 100 ", "throw ", "blackhole ", "unreachable ",
                   " onlink ", " linkdown ", "proto bird", "proto static", " from fd77::/64 ",
                   "pref high", "mtu 1300 hoplimit 10", "mtu 1400 advmss 1360", "tos 0x10",
                   "table 200", "fwmark 0x1/0xff", "fwmark 0x10 ", "iif va", "oif va",
                   "not from 10.6.0.0/16", "not from all to 2001:db8::/32", "goto 32766", " nop",
                   " prohibit\n", "metric 50", "scope link src", "iif nsnt-nonexist [detached]",
                   "goto 40000 [unresolved]", "mtu lock 1300"):
        rep.check(needle in zoo + "\n", "zoo: ip shows no %r in %s" % (needle, r1))

    def compare(label, args, rules):
        """Run nsnetstat ARGS; every namespace of ours must match ip. Namespaces
        can change under us (the kernel adds routes as links settle): a mismatch
        counts only when ip printed the same before and after nsnetstat."""
        for attempt in range(5):
            before = {ino: ip_text(prefix, rules) for _, ino, _, prefix in mine}
            r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=60)
            after = {ino: ip_text(prefix, rules) for _, ino, _, prefix in mine}
            if before == after:
                break
            time.sleep(0.5)
        else:
            rep.check(False, "%s: namespaces kept changing under the test" % label)
            return None
        if not rep.check(r.returncode == 0, "%s: `nsnetstat %s` exit %d, stderr: %s"
                         % (label, " ".join(args), r.returncode, r.stderr.strip())):
            return None
        try:
            got = blocks(r.stdout)
        except AssertionError as ex:
            rep.check(False, "%s: %s\n%s" % (label, ex, r.stdout[:3000]))
            return None
        for name, ino, want_label, _ in mine:
            if "-N" in args and name != args[args.index("-N") + 1]:
                rep.check(ino not in got, "%s: -N also printed %s" % (label, name))
                continue
            if not rep.check(ino in got, "%s: no block for %s (inode %d)" % (label, name, ino)):
                continue
            lbl, lines = got[ino]
            rep.check(lbl == want_label, "%s: %s headed %r, want %r" % (label, name, lbl, want_label))
            want = before[ino]
            if rep.check(lines == want, "%s: %s differs from ip (%d lines from ip, %d from "
                         "nsnetstat):\n%s" % (label, name, len(want), len(lines), diff(want, lines))):
                print("ok: %s: %s, %d lines identical" % (label, name, len(want)))
        return got

    # 1. Every namespace, routes and rules.
    got = compare("-r --rules --all-namespaces", ["-r", "--rules", "--all-namespaces"], True)
    if got:
        # The host is there too, and its block is well formed (not compared: other
        # processes may change it at any moment).
        host_ino = L.host_netns_stat().st_ino
        rep.check(host_ino in got and got[host_ino][0] == "host",
                  "host namespace %d missing or not labelled host: %r"
                  % (host_ino, {k: v[0] for k, v in got.items()}))

    # 2. Without --rules: routes only.
    compare("-r --all-namespaces", ["-r", "--all-namespaces"], False)

    # 3. One namespace by name.
    compare("-r --rules -N", ["-r", "--rules", "-N", r1], True)

    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
