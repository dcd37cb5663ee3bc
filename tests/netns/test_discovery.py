#!/usr/bin/env python3
"""Namespace discovery: every route to a namespace, each namespace once.

  pinned only      ip netns add, no process       -> found, names [NAME], pid null
  process only     unshare -n sleep               -> found, pid set, names []
  host             netns of pid 1                 -> host true, inode/dev of /proc/1/ns/net
  custom mount     mount --bind .../ns/net /tmp/X -> found by the mount path, process gone
  several routes   named and a process inside     -> once (dev+inode), named, pid set
  -N               NAME, PATH and PID each select exactly that namespace

usage: test_discovery.py PATH_TO_NSNETSTAT
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print("usage: test_discovery.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root(tools=("ip", "ss", "unshare", "nsenter", "mount", "umount"))
    world = L.World()
    rep = L.Report()

    pinned = world.add_netns("pin")
    pinned_st = os.stat("/run/netns/" + pinned)

    proc = world.unshare_sleep(120)
    proc_st = os.stat("/proc/%d/ns/net" % proc.pid)

    # A namespace kept alive only by a bind mount at a path of our own.
    mnt = "/tmp/%s-bind" % world.tag
    open(mnt, "w").close()
    world.paths.append(mnt)
    helper = world.unshare_sleep(120)
    L.run(["mount", "--bind", "/proc/%d/ns/net" % helper.pid, mnt])
    world.mounts.append(mnt)
    mnt_st = os.stat(mnt)
    helper.kill()
    helper.wait()

    # The same namespace by two routes: its name and a process inside it.
    dup = world.add_netns("dup")
    dup_st = os.stat("/run/netns/" + dup)
    inside = world.spawn(["ip", "netns", "exec", dup, "sleep", "120"])
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            if os.stat("/proc/%d/ns/net" % inside.pid).st_ino == dup_st.st_ino:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.01)

    host_st = L.host_netns_stat()

    r, doc = L.nsnetstat(binary, ["--all-namespaces", "--json", "-a"])
    if not rep.check(r.returncode == 0 and doc is not None,
                     "nsnetstat --all-namespaces --json -a: exit %d stderr %s" % (r.returncode, r.stderr.strip())):
        rep.finish()
    all_ns = L.namespaces(doc)

    keys = [(ns["dev"], ns["inode"]) for ns in all_ns]
    rep.check(len(keys) == len(set(keys)), "a namespace is reported twice: %r" % sorted(keys))

    def one(label, st):
        found = [ns for ns in all_ns if ns["inode"] == st.st_ino]
        if rep.check(len(found) == 1, "%s: inode %d reported %d times" % (label, st.st_ino, len(found))):
            ns = found[0]
            rep.check(ns["dev"] == st.st_dev, "%s: dev %r, want %d" % (label, ns["dev"], st.st_dev))
            rep.check(ns.get("error") is None, "%s: error %r" % (label, ns.get("error")))
            return ns
        return None

    ns = one("pinned-only", pinned_st)
    if ns:
        rep.check(ns["names"] == [pinned], "pinned-only: names %r, want [%r]" % (ns["names"], pinned))
        rep.check(ns["pid"] is None and ns["nprocs"] == 0,
                  "pinned-only: pid %r nprocs %r, want null and 0" % (ns["pid"], ns["nprocs"]))
        rep.check(ns["host"] is False, "pinned-only: host %r" % ns["host"])

    ns = one("process-only", proc_st)
    if ns:
        rep.check(ns["names"] == [], "process-only: names %r, want []" % ns["names"])
        rep.check(ns["pid"] == proc.pid and ns["nprocs"] == 1,
                  "process-only: pid %r nprocs %r, want %d and 1" % (ns["pid"], ns["nprocs"], proc.pid))

    ns = one("host", host_st)
    if ns:
        rep.check(ns["host"] is True, "host: host %r" % ns["host"])
        rep.check(ns["pid"] is not None and ns["nprocs"] >= 1,
                  "host: pid %r nprocs %r" % (ns["pid"], ns["nprocs"]))
    hosts = [x for x in all_ns if x.get("host")]
    rep.check(len(hosts) == 1, "want exactly one host namespace, got %d" % len(hosts))
    current = [x for x in all_ns if x.get("current")]
    self_ino = os.stat("/proc/self/ns/net").st_ino
    rep.check(len(current) == 1 and current[0]["inode"] == self_ino,
              "want exactly one current namespace (inode %d), got %r"
              % (self_ino, [x["inode"] for x in current]))

    ns = one("bind-mounted", mnt_st)
    if ns:
        rep.check(mnt in ns["names"], "bind-mounted: names %r, want %r among them" % (ns["names"], mnt))
        rep.check(ns["pid"] is None, "bind-mounted: pid %r, want null (process is gone)" % ns["pid"])

    ns = one("named+process", dup_st)
    if ns:
        rep.check(ns["names"] == [dup], "named+process: names %r, want [%r]" % (ns["names"], dup))
        rep.check(ns["pid"] == inside.pid and ns["nprocs"] == 1,
                  "named+process: pid %r nprocs %r, want %d and 1" % (ns["pid"], ns["nprocs"], inside.pid))

    # -N by name, by path and by pid selects exactly that namespace.
    for arg, st in ((pinned, pinned_st), ("/run/netns/" + dup, dup_st), (mnt, mnt_st),
                    (str(proc.pid), proc_st), (str(os.getpid()), os.stat("/proc/self/ns/net"))):
        r, d = L.nsnetstat(binary, ["-N", arg, "--json", "-a"])
        if rep.check(r.returncode == 0 and d is not None,
                     "-N %s: exit %d stderr %s" % (arg, r.returncode, r.stderr.strip())):
            got = [(x["dev"], x["inode"]) for x in L.namespaces(d)]
            rep.check(got == [(st.st_dev, st.st_ino)], "-N %s: namespaces %r, want [%r]"
                      % (arg, got, (st.st_dev, st.st_ino)))

    # -N with something that is not a namespace is a usage error.
    for arg in ("%s-nonexistent" % world.tag, "/etc/hostname", "999999999"):
        r, _ = L.nsnetstat(binary, ["-N", arg, "--json"])
        rep.check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1,
                  "-N %s: exit %d, want 2 with one stderr line; stderr %r" % (arg, r.returncode, r.stderr))

    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
