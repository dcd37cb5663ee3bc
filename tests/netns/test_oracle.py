#!/usr/bin/env python3
"""nsnetstat against ss, namespace by namespace.

Builds namespaces a, b, c (ip netns add; a and b joined by a veth pair with
10.99.0.1/24 fd99::1/64 <-> 10.99.0.2/24 fd99::2/64) and u (unshare -n, only
reachable through its process), fills them with a socket zoo
(helpers/fixture.py) and compares nsnetstat's JSON, converted to ss's text
form, with `ss` run inside each namespace: all sockets, -e (uid, inode and
cookie of every TCP and UDP socket), -N, -t -l, state filters, an expression
and -p.

The corners where a walk over the kernel's hash tables (the BPF backend) could
differ from sock_diag have namespaces of their own, filled by helpers/edges.py
from outside (none has a process):

  pin   pinned (ip netns add), only TIME-WAIT sockets (client and server side,
        v4, v6, v4-mapped), an orphaned FIN-WAIT-2 and its CLOSE-WAIT peer
  edge  SYN-SENT, an accept queue not drained, SO_REUSEPORT, data unread both
        ways and partly read, UDP v6only/v4-mapped, sockets bound to devices
        (whose ifindex other namespaces reuse), uid 65534, unix names of 107
        and 108 bytes and an abstract one of 107, unaccepted unix connections,
        queued datagrams from two senders
  ptcp  created with net.ipv4.tcp_child_ehash_entries=1024: its own TCP table
  pudp  created with net.ipv4.udp_child_hash_entries=256: its own UDP table

The -e comparison is the first look at these sockets, before any ss: a socket
cookie the kernel makes on demand must be the one ss later sees.

With NSN_TEST_BACKEND=bpf (ctest netns.oracle.bpf) also: every namespace's
sockets field by field as --backend netlink reports them, and a namespace of
3,000 unix sockets and 1,500 TCP sockets walked with a 64 KiB ring
(NSN_BPF_RING_KB=64: the walk resumes over several passes) still equals ss,
with no record dropped.

usage: test_oracle.py PATH_TO_NSNETSTAT
"""

import json
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


def build(world):
    a, b, c = world.add_netns("a"), world.add_netns("b"), world.add_netns("c")
    world.fixture_veth(a, b)
    u = world.unshare_sleep(120)
    L.run(["nsenter", "--net=/proc/%d/ns/net" % u.pid, "ip", "link", "set", "lo", "up"])
    return a, b, c, u.pid


def private_netns(world, suffix, sysctl, value):
    """A namespace with hash tables of its own: the kernel sizes a new namespace's
    tables by its creator's net.ipv4.tcp_child_ehash_entries and
    udp_child_hash_entries. Set only for this one `ip netns add`, and put back."""
    path = "/proc/sys/net/ipv4/" + sysctl
    if not os.path.exists(path):
        return None
    with open(path) as f:
        before = f.read().strip()
    try:
        with open(path, "w") as f:
            f.write(str(value))
        return world.add_netns(suffix)
    finally:
        with open(path, "w") as f:
            f.write(before)


def build_edge(world):
    """Namespace edge, with a veth pair of its own: e0 10.98.0.1/24 fd98::1/64, and
    permanent neighbours 10.98.0.2 and fd98::2 at a MAC nobody has, so a SYN to them
    leaves through e0 and e1 drops it (SYN-SENT for two minutes)."""
    edge = world.add_netns("edge")
    L.run(["ip", "-n", edge, "link", "add", "e0", "type", "veth", "peer", "name", "e1"])
    L.run(["ip", "-n", edge, "addr", "add", "10.98.0.1/24", "dev", "e0"])
    L.run(["ip", "-n", edge, "addr", "add", "fd98::1/64", "dev", "e0", "nodad"])
    for dev in ("e0", "e1"):
        L.run(["ip", "-n", edge, "link", "set", dev, "up"])
    for dst in ("10.98.0.2", "fd98::2"):
        L.run(["ip", "-n", edge, "neigh", "replace", dst, "lladdr", "02:00:5e:98:00:02", "dev", "e0",
               "nud", "permanent"])
    # A UDP socket the kernel holds, with no descriptor: vxlan's, on port 4789.
    L.run(["ip", "-n", edge, "link", "add", "vx0", "type", "vxlan", "id", "98", "dstport", "4789",
           "local", "10.98.0.1", "dev", "e0"])
    L.run(["ip", "-n", edge, "link", "set", "vx0", "up"])
    return edge


def start_edges(world, cfg, timeout=60):
    p = world.spawn([sys.executable, os.path.join(L.HELPERS, "edges.py"), json.dumps(cfg)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    line = p.stdout.readline() if ready else ""
    if not line:
        raise RuntimeError("edges.py did not report (exit %r)" % p.poll())
    return p, json.loads(line)


def canon(ns):
    """A namespace's sockets as comparable strings, every field."""
    return sorted(json.dumps(x, sort_keys=True) for x in ns.get("sockets") or [])


def field_diffs(only_n, only_b):
    """The sockets only netlink and only bpf reported, paired by what names a socket
    (protocol, addresses, inode), as the fields that differ."""
    def ident(x):
        return (x["proto"], x.get("type"), json.dumps(x.get("local"), sort_keys=True),
                json.dumps(x.get("peer"), sort_keys=True), x.get("inode") or x.get("state"))

    def label(x):
        if x["proto"] == "unix":
            return "%s %s %s inode %s" % (x["proto"], x.get("type"), x["state"], x.get("inode"))
        fam = x.get("family")
        ep = lambda e: L.ss_inet(e, fam, True)  # noqa: E731
        return "%s %s %s -> %s inode %s" % (x["proto"], x["state"], ep(x["local"]), ep(x["peer"]), x.get("inode"))

    ns_ = {}
    for t in only_n.elements():
        ns_.setdefault(ident(json.loads(t)), []).append(json.loads(t))
    out = []
    for t in sorted(only_b.elements()):
        b = json.loads(t)
        cands = ns_.get(ident(b))
        if not cands:
            out.append("only bpf:     " + t)
            continue
        n = cands.pop(0)
        keys = sorted(set(n) | set(b))
        out.append("%s: %s" % (label(n), "; ".join("%s: netlink %s, bpf %s" % (
            k, json.dumps(n[k]) if k in n else "absent", json.dumps(b[k]) if k in b else "absent")
            for k in keys if n.get(k, KeyError) != b.get(k, KeyError))))
    for rest in ns_.values():
        out += ["only netlink: " + json.dumps(x, sort_keys=True) for x in rest]
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: test_oracle.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root()
    world = L.World()
    rep = L.Report()
    bpf = L.BACKEND == "bpf"
    t_start = time.monotonic()

    a, b, c, upid = build(world)
    pin = world.add_netns("pin")
    edge = build_edge(world)
    ptcp = private_netns(world, "ptcp", "tcp_child_ehash_entries", 1024)
    pudp = private_netns(world, "pudp", "udp_child_hash_entries", 256)
    tmp = world.tmpdir()
    fx = L.start_fixture(world, {
        "tag": world.tag, "tmpdir": tmp,
        "ns": {"a": "/run/netns/" + a, "b": "/run/netns/" + b, "c": "/run/netns/" + c,
               "u": "/proc/%d/ns/net" % upid}})
    print("fixture:", fx)
    eds = {"pin": pin, "edge": edge}
    for key, name in (("ptcp", ptcp), ("pudp", pudp)):
        if name:
            eds[key] = name
        else:
            print("note: no net.ipv4.%s_child_*hash_entries: no namespace %s" % (key[1:], key))
    _, ex = start_edges(world, {"tag": world.tag, "tmpdir": tmp,
                                "ns": {k: "/run/netns/" + n for k, n in eds.items()}})
    print("edges:", ex)

    # (label, inode, oracle prefix); the host is handled separately.
    named = [a, b, c] + list(eds.values())
    mine = [(n, os.stat("/run/netns/" + n).st_ino, L.oracle_prefix(name=n)) for n in named]
    mine.append(("unshare-pid-%d" % upid, os.stat("/proc/%d/ns/net" % upid).st_ino,
                 L.oracle_prefix(pid=upid)))
    host_ino = L.host_netns_stat().st_ino
    hport, habs = fx["host_port"], fx["host_abstract"]

    def host_fixture_rows(rows):
        hp = "127.0.0.1:%d" % hport
        return [r for r in rows if hp in (r[4], r[5]) or r[4].startswith(habs + " ")]

    def compare(label, args, scope, host=True, env=None, extra=()):
        """Run nsnetstat ARGS --json (scope: --all-namespaces or -N ...) and
        ss ARGS in each namespace; compare."""
        r, doc = L.nsnetstat(binary, scope + ["--json"] + args, env=env, timeout=120)
        if not rep.check(r.returncode == 0 and doc is not None,
                         "`nsnetstat %s` exit %d, stderr: %s"
                         % (" ".join(scope + ["--json"] + args), r.returncode, r.stderr.strip())):
            return None
        flags = L.short_flags(args)
        with_users, with_ext = "p" in flags, "e" in flags
        for name, ino, prefix in list(mine) + list(extra):
            found = L.ns_by_inode(doc, ino)
            if scope[0] == "-N" and not (name == scope[1] or
                                         (scope[1] == str(upid) and name.startswith("unshare"))):
                rep.check(not found, "%s: -N %s also reported %s" % (label, scope[1], name))
                continue
            if not rep.check(len(found) == 1, "%s: namespace %s (inode %d) reported %d times"
                             % (label, name, ino, len(found))):
                continue
            rows, hn, hs = L.ss_rows(prefix, args)
            got = L.json_rows(found[0], hn, hs, with_users, with_ext)
            rep.same_rows("%s in %s: `%s`" % (label, name, " ".join(prefix + ["ss"] + args)), rows, got)
        if host and scope[0] == "--all-namespaces":
            hosts = [ns for ns in L.namespaces(doc) if ns.get("host")]
            if rep.check(len(hosts) == 1 and hosts[0]["inode"] == host_ino,
                         "%s: want exactly one host namespace with inode %d, got %r"
                         % (label, host_ino, [(h["inode"], h.get("names")) for h in hosts])):
                ss1, hn, hs = L.ss_rows([], args)
                got = L.json_rows(hosts[0], hn, hs, with_users, with_ext)
                ss1, got = host_fixture_rows(ss1), host_fixture_rows(got)
                rep.same_rows("%s in host (fixture rows): `ss %s`" % (label, " ".join(args)), ss1, got)
        return doc

    every = ["-t", "-u", "-w", "-a", "-n", "-x"]

    # 0. -e first: nothing has looked at these sockets yet, so a socket cookie is made
    # when a tool first asks (sock_diag does; a walk that reports 0, or one of its
    # own, differs from what ss prints afterwards as sk:).
    doc = compare("-e (uid, inode, cookie)", every + ["-e"], ["--all-namespaces"])
    if doc and bpf:
        st = doc["scan"].get("bpf") or {}
        want = sum(1 for k in ("ptcp", "pudp") if k in eds)
        rep.check(st.get("netlink_ns", 0) >= want,
                  "bpf: netlink_ns %r, want >= %d (namespaces %s have tables of their own)"
                  % (st.get("netlink_ns"), want, [eds[k] for k in ("ptcp", "pudp") if k in eds]))
        # The fixture's TIME-WAIT, SYN-RECV and never-accepted sockets have no cookie
        # until something asks: the lookups after the walk must have made theirs (the
        # -e comparison above checks each against ss's sk:).
        rep.check(st.get("cookie_lookups", 0) > 0,
                  "bpf: cookie_lookups %r: the fixture's sockets no process holds were not looked up"
                  % st.get("cookie_lookups"))
        print("bpf stats:", st)

    # The fixture itself must have produced every kind of socket, or the
    # comparison below proves less than it claims.
    zoo, _, _ = L.ss_rows(L.oracle_prefix(name=a), ["-tuwanx"])
    kinds = {(r[0], r[1]) for r in zoo}
    for want in [("tcp", "LISTEN"), ("tcp", "ESTAB"), ("tcp", "TIME-WAIT"), ("tcp", "CLOSE-WAIT"),
                 ("tcp", "FIN-WAIT-2"), ("tcp", "SYN-RECV"), ("udp", "UNCONN"), ("udp", "ESTAB"),
                 ("raw", "UNCONN"), ("u_str", "LISTEN"), ("u_str", "ESTAB"), ("u_str", "UNCONN"),
                 ("u_dgr", "ESTAB"), ("u_seq", "LISTEN"), ("u_seq", "ESTAB")]:
        rep.check(want in kinds, "fixture made no %s %s socket in %s (ss: %s)" % (want + (a, sorted(kinds))))
    text = "\n".join(L.fmt_row(r) for r in zoo)
    for needle in ("[::ffff:127.0.0.1]:", "%veth0:", "[::]:", "*:", "@%s@a " % world.tag,
                   "0.0.0.0:1 ", "*:58 ", "10.99.0.1:", "[fd99::1]:"):
        rep.check(needle in text + " ", "fixture: no row containing %r in %s" % (needle, a))
    rep.check(any(r[2] != "0" and r[0] == "tcp" for r in zoo), "fixture: no tcp Recv-Q > 0")
    rep.check(any(r[3] != "0" and r[0] == "tcp" and r[1] == "ESTAB" for r in zoo),
              "fixture: no tcp Send-Q > 0")

    # The same for the edge cases: what ss sees there is what they are meant to be.
    def made(name, wants, needles):
        rows, _, _ = L.ss_rows(L.oracle_prefix(name=name), ["-tuwanxe"])
        kinds = {}
        for r in rows:
            kinds[(r[0], r[1])] = kinds.get((r[0], r[1]), 0) + 1
        for want, n in wants:
            rep.check(kinds.get(want, 0) >= n, "edges: %s: want %d %s %s, ss shows %d (%s)"
                      % (name, n, want[0], want[1], kinds.get(want, 0), sorted(kinds.items())))
        raw = L.run(L.oracle_prefix(name=name) + ["ss", "-tuwanxeH"]).stdout
        for needle in needles:
            rep.check(needle in raw, "edges: %s: no ss row containing %r" % (name, needle))

    tw = ("tcp", "TIME-WAIT")
    made(pin, [(tw, 4), (("tcp", "FIN-WAIT-2"), 1), (("tcp", "CLOSE-WAIT"), 1)],
         ["[::ffff:127.0.0.1]:", "[::1]:", "127.0.0.1:%d " % ex["pin_tw_ports"][3]])
    made(edge, [(("tcp", "SYN-SENT"), 2), (("tcp", "LISTEN"), 6), (("udp", "UNCONN"), 6),
                (("u_str", "ESTAB"), 6), (("u_seq", "LISTEN"), 1), (("u_dgr", "UNCONN"), 5)],
         ["10.98.0.2:9 ", "[fd98::2]:9 ", "%lo:", "%e0:", "uid:65534", ex["unix107"] + " ",
          ex["unix108"] + " ", ex["abstract107"] + " ", "[::ffff:127.0.0.1]:",
          "127.0.0.1:%d " % ex["reuseport_tcp"], ":4789 ", ex["inflight"] + " "])
    acceptq = [r for r in L.ss_rows(L.oracle_prefix(name=edge), ["-tln"])[0]
               if r[4] == "127.0.0.1:%d" % ex["acceptq_port"]]
    rep.check([r[2:4] for r in acceptq] == [("2", "5")],
              "edges: the listener with 2 connections not accepted: ss %s, want Recv-Q 2 Send-Q 5" % acceptq)
    for key, sysctl in (("ptcp", "tcp_ehash_entries"), ("pudp", "udp_hash_entries")):
        if key in eds:
            v = L.run(["ip", "netns", "exec", eds[key], "sysctl", "-n", "net.ipv4." + sysctl]).stdout.strip()
            rep.check(int(v) > 0, "edges: %s: net.ipv4.%s %s, want a table of its own (> 0)"
                      % (eds[key], sysctl, v))
            made(eds[key], [(("tcp", "LISTEN"), 3), (("tcp", "ESTAB"), 6), (tw, 1), (("tcp", "SYN-RECV"), 1),
                            (("udp", "UNCONN"), 2), (("udp", "ESTAB"), 2), (("u_str", "ESTAB"), 2)], [])

    # 1. Everything, all namespaces.  For the host also require every row that
    # ss shows identically before and after nsnetstat ran.
    before, hn, hs = L.ss_rows([], every)
    doc = compare("all sockets", every, ["--all-namespaces"])
    after, _, _ = L.ss_rows([], every)
    if doc:
        hosts = [ns for ns in L.namespaces(doc) if ns.get("host")]
        if hosts:
            stable = L.collections.Counter(before) & L.collections.Counter(after)
            got = L.collections.Counter(L.json_rows(hosts[0], hn, hs))
            missing = stable - got
            rep.check(not missing, "host: rows ss showed both before and after nsnetstat, missing "
                      "from nsnetstat:\n  " + "\n  ".join(L.fmt_row(r) for r in missing.elements()))
        for name, ino, _ in mine:
            found = L.ns_by_inode(doc, ino)
            if found:
                ns = found[0]
                rep.check(ns.get("host") is False and ns.get("error") is None,
                          "%s: host=%r error=%r" % (name, ns.get("host"), ns.get("error")))
                if name.startswith("unshare"):
                    rep.check(ns.get("names") == [] and ns.get("pid") == upid,
                              "%s: want names [] pid %d, got names %r pid %r"
                              % (name, upid, ns.get("names"), ns.get("pid")))
                else:
                    rep.check(ns.get("names") == [name], "%s: names %r" % (name, ns.get("names")))
                if name in eds.values():
                    rep.check(ns.get("pid") is None and ns.get("nprocs") == 0,
                              "%s: a namespace without a process: pid %r nprocs %r"
                              % (name, ns.get("pid"), ns.get("nprocs")))
                # The kernel reports IPV6_V6ONLY only for LISTEN and CLOSE
                # sockets (inet_diag_msg_attrs_fill), and raw sockets may come
                # from /proc/net/raw6 without it: require it where it is known
                # and where it changes what is printed.
                bad = [s for s in ns.get("sockets") or []
                       if s.get("family") == "inet6" and s["proto"] in ("tcp", "udp")
                       and s["state"] in ("LISTEN", "UNCONN") and not isinstance(s.get("v6only"), bool)]
                rep.check(not bad, "%s: %d inet6 LISTEN/UNCONN sockets without a boolean v6only, e.g. %s"
                          % (name, len(bad), "; ".join(
                              "%s %s %s" % (s["proto"], s["state"], L.ss_inet(s["local"], "inet6", False))
                              for s in bad[:6])))

    # 2. One namespace, by name and by pid.
    compare("-N name", every, ["-N", a])
    compare("-N name (edge cases)", every + ["-e"], ["-N", edge])
    compare("-N pid", every, ["-N", str(upid)])

    # 3. Listening TCP only.
    compare("-t -l", ["-t", "-l", "-n"], ["--all-namespaces"])

    # 4. State filters and expressions, same tokens for both tools.
    compare("state established", every + ["state", "established"], ["--all-namespaces"])
    compare("exclude time-wait", every + ["exclude", "time-wait"], ["--all-namespaces"])
    compare("state syn-sent, syn-recv, fin-wait-2",
            ["-t", "-n", "state", "syn-sent", "state", "syn-recv", "state", "fin-wait-2"], ["--all-namespaces"])
    # Without -x: ss 6.1 prints nothing at all when a port expression meets
    # the unix tables, which would make it a useless oracle.
    inet = ["-t", "-u", "-w", "-a", "-n"]
    for port in (fx["a_ports"][0], fx["veth_ports"][0], hport):
        compare("expression port %d" % port,
                inet + ["dport", "=", ":%d" % port, "or", "sport", "=", ":%d" % port],
                ["--all-namespaces"])
    compare("expression with parentheses",
            inet + ["(", "sport", "=", ":%d" % fx["a_ports"][1], "or", "dport", "=",
                    ":%d" % fx["veth_ports"][1], ")"],
            ["--all-namespaces"])

    # 5. Processes: pid, comm and fd exactly as ss -p finds them.
    compare("-p", every + ["-p"], ["--all-namespaces"])

    # 6. -4 and -6 (ss prints v4-mapped sockets under -6 only).
    compare("-4", every + ["-4"], ["--all-namespaces"])
    compare("-6", every + ["-6"], ["--all-namespaces"])

    if bpf:
        # 7. The BPF walk against sock_diag itself, every field of every socket
        # (what ss does not print too: v6only, ifindex, uid, cookie), and the
        # namespaces' own fields. A second netlink run tells a difference from a
        # socket that changed in between.
        args = ["--all-namespaces", "--json", "-tuwanxp", "-e"]
        _, dn = L.nsnetstat(binary, ["--backend", "netlink"] + args)
        _, db = L.nsnetstat(binary, ["--backend", "bpf"] + args)
        _, dn2 = L.nsnetstat(binary, ["--backend", "netlink"] + args)
        if rep.check(dn and db and dn2, "--backend netlink / bpf: a run failed"):
            for name, ino, _ in mine:
                n1, bb, n2 = (L.ns_by_inode(d, ino) for d in (dn, db, dn2))
                if not rep.check(len(n1) == len(bb) == len(n2) == 1,
                                 "netlink vs bpf: %s reported %d/%d/%d times" % (name, len(n1), len(bb), len(n2))):
                    continue
                n1, bb, n2 = n1[0], bb[0], n2[0]
                for key in ("cookie", "names", "pid", "nprocs", "host", "current", "error", "dev"):
                    if n1.get(key) == n2.get(key):
                        rep.check(bb.get(key) == n1.get(key), "netlink vs bpf: %s: %s: netlink %r, bpf %r"
                                  % (name, key, n1.get(key), bb.get(key)))
                stable = L.collections.Counter(canon(n1)) & L.collections.Counter(canon(n2))
                got = L.collections.Counter(canon(bb))
                either = L.collections.Counter(canon(n1)) | L.collections.Counter(canon(n2))
                only_n, only_b = stable - got, got - either
                if rep.check(not only_n and not only_b, "netlink vs bpf: %s: sockets differ:\n  %s"
                             % (name, "\n  ".join(field_diffs(only_n, only_b)[:24]))):
                    print("ok: netlink vs bpf: %s: %d sockets, every field" % (name, sum(got.values())))

    # 8. Many sockets in one namespace: 3,000 unix and 1,500 TCP (500 of them
    # TIME-WAIT). Under bpf with a 64 KiB ring, which holds a few hundred
    # records: the walk stops and resumes many times, and still drops nothing.
    big = world.add_netns("big")
    big_ino = os.stat("/run/netns/" + big).st_ino
    t0 = time.monotonic()
    _, bx = start_edges(world, {"tag": world.tag, "big": "/run/netns/" + big,
                                "unix_pairs": 1500, "tcp": 500, "tw": 500}, timeout=120)
    print("big: %s in %.1f s" % (bx["big"], time.monotonic() - t0))
    extra = [(big, big_ino, L.oracle_prefix(name=big))]
    env = {"NSN_BPF_RING_KB": "64"} if bpf else None
    t0 = time.monotonic()
    doc = compare("many sockets%s" % (", 64 KiB ring" if bpf else ""), ["-t", "-u", "-a", "-n", "-x"],
                  ["--all-namespaces"], env=env, extra=extra)
    print("many sockets: compared in %.1f s" % (time.monotonic() - t0))
    if doc:
        found = L.ns_by_inode(doc, big_ino)
        n = len(found[0].get("sockets") or []) if found else 0
        rep.check(n >= 4500, "many sockets: %s has %d sockets, want >= 4500" % (big, n))
        if bpf:
            st = doc["scan"].get("bpf") or {}
            print("bpf stats, 64 KiB ring:", st)
            rep.check(st.get("passes", 0) > 1 and st.get("drops") == 0 and st.get("capped") == 0
                      and st.get("records", 0) >= n,
                      "bpf with a 64 KiB ring: want passes > 1, drops 0, capped 0, records >= %d: %r" % (n, st))

    took = time.monotonic() - t_start
    print("oracle: %.1f s" % took)
    # The TIME-WAIT sockets live 60 s: a slower run compared fewer of them.
    rep.check(took < 55, "the oracle took %.1f s: TIME-WAIT sockets may have expired mid-run" % took)
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
