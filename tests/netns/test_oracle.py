#!/usr/bin/env python3
"""nsnetstat against ss, namespace by namespace.

Builds namespaces a, b, c (ip netns add; a and b joined by a veth pair with
10.99.0.1/24 fd99::1/64 <-> 10.99.0.2/24 fd99::2/64) and u (unshare -n, only
reachable through its process), fills them with a socket zoo
(helpers/fixture.py) and compares nsnetstat's JSON, converted to ss's text
form, with `ss` run inside each namespace: all sockets, -N, -t -l, state
filters, an expression and -p.

usage: test_oracle.py PATH_TO_NSNETSTAT
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


def build(world):
    a, b, c = world.add_netns("a"), world.add_netns("b"), world.add_netns("c")
    world.fixture_veth(a, b)
    u = world.unshare_sleep(120)
    L.run(["nsenter", "--net=/proc/%d/ns/net" % u.pid, "ip", "link", "set", "lo", "up"])
    return a, b, c, u.pid


def main():
    if len(sys.argv) != 2:
        print("usage: test_oracle.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root()
    world = L.World()
    rep = L.Report()

    a, b, c, upid = build(world)
    tmp = world.tmpdir()
    fx = L.start_fixture(world, {
        "tag": world.tag, "tmpdir": tmp,
        "ns": {"a": "/run/netns/" + a, "b": "/run/netns/" + b, "c": "/run/netns/" + c,
               "u": "/proc/%d/ns/net" % upid}})
    print("fixture:", fx)

    # (label, inode, oracle prefix); the host is handled separately.
    mine = [(n, os.stat("/run/netns/" + n).st_ino, L.oracle_prefix(name=n)) for n in (a, b, c)]
    mine.append(("unshare-pid-%d" % upid, os.stat("/proc/%d/ns/net" % upid).st_ino,
                 L.oracle_prefix(pid=upid)))
    host_ino = L.host_netns_stat().st_ino
    hport, habs = fx["host_port"], fx["host_abstract"]

    def host_fixture_rows(rows):
        hp = "127.0.0.1:%d" % hport
        return [r for r in rows if hp in (r[4], r[5]) or r[4].startswith(habs + " ")]

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

    def compare(label, args, scope, host=True):
        """Run nsnetstat ARGS --json (scope: --all-namespaces or -N ...) and
        ss ARGS in each namespace; compare."""
        r, doc = L.nsnetstat(binary, scope + ["--json"] + args)
        if not rep.check(r.returncode == 0 and doc is not None,
                         "`nsnetstat %s` exit %d, stderr: %s"
                         % (" ".join(scope + ["--json"] + args), r.returncode, r.stderr.strip())):
            return None
        with_users = "p" in "".join(x for x in args if x.startswith("-") and not x.startswith("--"))
        for name, ino, prefix in mine:
            found = L.ns_by_inode(doc, ino)
            if scope[0] == "-N" and not (name == scope[1] or
                                         (scope[1] == str(upid) and name.startswith("unshare"))):
                rep.check(not found, "%s: -N %s also reported %s" % (label, scope[1], name))
                continue
            if not rep.check(len(found) == 1, "%s: namespace %s (inode %d) reported %d times"
                             % (label, name, ino, len(found))):
                continue
            rows, hn, hs = L.ss_rows(prefix, args)
            rep.same_rows("%s in %s: `%s`" % (label, name, " ".join(prefix + ["ss"] + args)),
                          rows, L.json_rows(found[0], hn, hs, with_users))
        if host and scope[0] == "--all-namespaces":
            hosts = [ns for ns in L.namespaces(doc) if ns.get("host")]
            if rep.check(len(hosts) == 1 and hosts[0]["inode"] == host_ino,
                         "%s: want exactly one host namespace with inode %d, got %r"
                         % (label, host_ino, [(h["inode"], h.get("names")) for h in hosts])):
                got = L.json_rows(hosts[0], True, True, with_users)
                ss1, hn, hs = L.ss_rows([], args)
                got = L.json_rows(hosts[0], hn, hs, with_users)
                rep.same_rows("%s in host (fixture rows): `ss %s`" % (label, " ".join(args)),
                              host_fixture_rows(ss1), host_fixture_rows(got))
        return doc

    every = ["-t", "-u", "-w", "-a", "-n", "-x"]

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
    compare("-N pid", every, ["-N", str(upid)])

    # 3. Listening TCP only.
    compare("-t -l", ["-t", "-l", "-n"], ["--all-namespaces"])

    # 4. State filters and expressions, same tokens for both tools.
    compare("state established", every + ["state", "established"], ["--all-namespaces"])
    compare("exclude time-wait", every + ["exclude", "time-wait"], ["--all-namespaces"])
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

    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
