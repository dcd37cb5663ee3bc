#!/usr/bin/env python3
"""--backend: which one a scan uses, and the BPF walker kept across -c rounds.
(That the two backends show the same sockets is test_oracle.py's, run once per
backend; this one is about the choice itself.)

  auto      --all-namespaces: bpf; -N: netlink (one namespace costs less through
            sock_diag than loading the program); --info: netlink (only sock_diag
            has tcp_info); none of these says anything on stderr (not a fallback)
  netlink   scan.backend "netlink" and no "bpf" stats
  bpf       with --info: exit 2, one line; an unknown backend: exit 2, one line
  -c        --backend bpf -c: every document walked by BPF, the program loaded
            once (load_ms in the first document only), descriptors flat across
            rounds

Registered only where the BPF backend was built (NSN_BPF_BUILT); skips (77) on
a kernel that cannot load it at all (before 6.2, no BTF).

usage: test_backend.py PATH_TO_NSNETSTAT
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print("usage: test_backend.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.BACKEND = ""  # this test chooses for itself, whatever NSN_TEST_BACKEND says
    L.require_root()
    L.require_backend("bpf")  # skips where BPF cannot work at all
    world = L.World()
    rep = L.Report()
    ns = world.add_netns("be")
    L.listener_as(world, ns, 7059)

    def scan(args, want, label):
        r, doc = L.nsnetstat(binary, args)
        if not rep.check(r.returncode == 0 and doc is not None,
                         "%s: `nsnetstat %s` exit %d: %s" % (label, " ".join(args), r.returncode, r.stderr.strip())):
            return None
        got = (doc.get("scan") or {}).get("backend")
        rep.check(got == want, "%s: scan.backend %r, want %r; warnings %s" % (label, got, want, doc.get("warnings")))
        rep.check(r.stderr.strip() == "", "%s: stderr %r, want nothing (auto's choice is no fallback)"
                  % (label, r.stderr))
        rep.check(("bpf" in doc["scan"]) == (want == "bpf"),
                  "%s: bpf stats %s with backend %s" % (label, "present" if "bpf" in doc["scan"] else "missing",
                                                       want))
        return doc

    # 1. auto (the default).
    doc = scan(["--all-namespaces", "--json", "-tan"], "bpf", "auto --all-namespaces")
    if doc:
        rep.check(any(s["local"].get("port") == 7059 for x in L.ns_by_inode(doc, os.stat("/run/netns/" + ns).st_ino)
                      for s in x.get("sockets") or []),
                  "auto --all-namespaces: the listener on 7059 in %s is missing" % ns)
    scan(["--backend", "auto", "-N", ns, "--json", "-tan"], "netlink", "auto -N")
    scan(["--all-namespaces", "--json", "-tan", "--info"], "netlink", "auto --info")
    # 2. netlink.
    scan(["--backend", "netlink", "--all-namespaces", "--json", "-tan"], "netlink", "--backend netlink")
    scan(["--backend", "bpf", "-N", ns, "--json", "-tan"], "bpf", "--backend bpf -N")

    # 3. What cannot be: one line, exit 2.
    for args, needle in ((["--backend", "bpf", "--all-namespaces", "-t", "--info"], "tcp_info"),
                         (["--backend", "ebpf", "-t"], "auto, bpf or netlink")):
        r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=30)
        lines = r.stderr.strip().splitlines()
        rep.check(r.returncode == 2 and len(lines) == 1 and needle in lines[0] and r.stdout == "",
                  "`nsnetstat %s`: want exit 2 and one line with %r, got %d %r"
                  % (" ".join(args), needle, r.returncode, r.stderr))

    # 4. -c: the walker is loaded once and used for every round.
    p = world.spawn([binary, "--backend", "bpf", "--all-namespaces", "--json", "-tan", "-c", "0.05"],
                    stdout=subprocess.PIPE, text=True)
    docs, counts, window = [], [], []
    end = time.monotonic() + 20
    while len(docs) < 24 and time.monotonic() < end:
        line = p.stdout.readline()
        if not line:
            break
        docs.append(json.loads(line))
        # Each window keeps its minimum: a sample mid-scan sees that scan's own
        # descriptors; a leak of one per round raises the later windows' minimum.
        window.append(len(os.listdir("/proc/%d/fd" % p.pid)))
        if len(window) == 8:
            counts.append(min(window))
            window = []
    p.kill()
    p.wait()
    if rep.check(len(docs) == 24, "-c 0.05: %d documents in 20 s, want 24" % len(docs)):
        backends = [d["scan"].get("backend") for d in docs]
        loads = [(d["scan"].get("bpf") or {}).get("load_ms") for d in docs]
        rep.check(backends == ["bpf"] * len(docs), "-c: backends %s" % backends)
        rep.check(loads[0] and loads[0] > 0 and all(x == 0 for x in loads[1:]),
                  "-c: load_ms %s: want the program loaded by the first round only" % loads)
        rep.check(counts and max(counts) <= counts[0], "-c: open descriptors grew across rounds: %s" % counts)
        print("-c: %d rounds, load_ms %s, descriptors (minimum per 8 rounds) %s" % (len(docs), loads[:3], counts))
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
