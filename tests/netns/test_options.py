#!/usr/bin/env python3
"""Output options against ss, in a namespace of our own:

  table      nsnetstat's text table (NETNS column dropped) == ss -tuwanxH, token by token
  -e         inode and socket cookie == ss -e's ino: and sk:
  --info     congestion algorithm, mss, cwnd, rcvbuf/sndbuf == ss -tinm
  -4 / -6    only that family, and the same rows as ss -4 / ss -6
  -c SECS    one JSON document per interval
  --backend  netlink's JSON says "netlink"; where BPF loads, bpf's rows equal netlink's

usage: test_options.py PATH_TO_NSNETSTAT
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402

FIXTURE = r"""
import socket, sys, time
keep = []
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    l = socket.socket(fam); l.bind((host, 0)); l.listen(8); keep.append(l)
    c = socket.create_connection((host, l.getsockname()[1])); s, _ = l.accept()
    c.sendall(b"x" * 70000); s.recv(100)   # traffic, and data left queued
    keep += [c, s]
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((host, 0)); keep.append(u)
x = socket.socket(socket.AF_UNIX); x.bind("\0nsnt-options"); x.listen(1); keep.append(x)
print("ready", flush=True)
sys.stdin.read()
"""


def ss(ns, args):
    return L.run(["ip", "netns", "exec", ns, "ss"] + args).stdout


def main():
    if len(sys.argv) != 2:
        print("usage: test_options.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root()
    world = L.World()
    rep = L.Report()
    ns = world.add_netns("opt")
    p = world.spawn(["ip", "netns", "exec", ns, sys.executable, "-c", FIXTURE],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise RuntimeError("fixture did not start")
    time.sleep(0.2)  # let the queued data settle in the receive queue

    # 1. The table itself, as ss prints it (whitespace-separated tokens).
    r = subprocess.run([binary, "-N", ns, "-tuwanxH"], capture_output=True, text=True)
    rep.check(r.returncode == 0, "table: exit %d: %s" % (r.returncode, r.stderr))
    # NETNS, then CONTAINER and POD (attribution is on beyond the current namespace;
    # this namespace's processes are in no container), then ss's columns.
    ours = [tuple(line.split()[3:]) for line in r.stdout.splitlines() if line.strip()]
    rep.check(all(line.split()[0] == ns for line in r.stdout.splitlines() if line.strip()),
              "table: NETNS column is not %s" % ns)
    rep.check(all(line.split()[1:3] == ["-", "-"] for line in r.stdout.splitlines() if line.strip()),
              "table: CONTAINER and POD of a namespace with no container are not '-'")
    theirs = [tuple(line.split()) for line in ss(ns, ["-tuwanxH"]).splitlines() if line.strip()]
    rep.same_rows("text table vs ss -tuwanxH", theirs, ours)

    # 2. -e: inode and cookie.
    _, doc = L.nsnetstat(binary, ["-N", ns, "--json", "-tan", "-e"])
    key = lambda s: "%s:%d %s:%d" % (s["local"]["addr"], s["local"]["port"], s["peer"]["addr"], s["peer"]["port"])
    socks = {key(s): s for s in L.namespaces(doc)[0]["sockets"]}
    n_e = 0
    for line in ss(ns, ["-tanHe"]).splitlines():
        f = line.split()
        m = re.search(r"ino:(\d+) sk:([0-9a-f]+)", line)
        if not m:
            continue
        la, lp = f[3].rsplit(":", 1)
        pa, pp = f[4].rsplit(":", 1)
        strip = lambda a: "::" if a == "*" else a.strip("[]")
        k = "%s:%s %s:%s" % (strip(la), lp, strip(pa), "0" if pp == "*" else pp)
        s = socks.get(k)
        if rep.check(s is not None, "-e: ss row %r not in nsnetstat" % line):
            rep.check(s["inode"] == int(m.group(1)) and s["cookie"] == int(m.group(2), 16),
                      "-e: %s: ino/sk %s/%s, nsnetstat %d/%x" % (k, m.group(1), m.group(2), s["inode"], s["cookie"]))
            n_e += 1
    rep.check(n_e >= 6, "-e: compared only %d sockets" % n_e)

    # 3. --info against ss -tinm (values that do not move on an idle connection).
    _, doc = L.nsnetstat(binary, ["-N", ns, "--json", "-tn", "--info", "state", "established"])
    socks = {key(s): s for s in L.namespaces(doc)[0]["sockets"]}
    lines = ss(ns, ["-tinmH", "state", "established"]).splitlines()
    n_i = 0
    for head, info in zip(lines[0::2], lines[1::2]):
        f = head.split()
        la, lp = f[2].rsplit(":", 1)
        pa, pp = f[3].rsplit(":", 1)
        k = "%s:%s %s:%s" % (la.strip("[]"), lp, pa.strip("[]"), pp)
        s = socks.get(k)
        if not rep.check(s is not None and "tcp_info" in s and "skmem" in s, "--info: no tcp_info/skmem for %s" % k):
            continue
        t, m = s["tcp_info"], s["skmem"]
        want = {
            "cong": info.split()[1] if info.split()[0].startswith("skmem") else info.split()[0],
            "cwnd": int(re.search(r"cwnd:(\d+)", info).group(1)),
            "snd_mss": int(re.search(r" mss:(\d+)", info).group(1)),
            "rcvbuf": int(re.search(r"rb(\d+)", info).group(1)),
            "sndbuf": int(re.search(r"tb(\d+)", info).group(1)),
            "bytes_received": int((re.search(r"bytes_received:(\d+)", info) or re.search(r"()", "0")).group(1) or 0),
        }
        got = {"cong": t["cong"], "cwnd": t["cwnd"], "snd_mss": t["snd_mss"], "rcvbuf": m["rcvbuf"],
               "sndbuf": m["sndbuf"], "bytes_received": t["bytes_received"]}
        rep.check(want == got, "--info %s: ss %s, nsnetstat %s" % (k, want, got))
        n_i += 1
    rep.check(n_i == 4, "--info: compared %d established sockets, expected 4" % n_i)

    # 4. -4 / -6.
    for flag, fam in (("-4", "inet"), ("-6", "inet6")):
        _, doc = L.nsnetstat(binary, ["-N", ns, "--json", "-an", flag])
        socks = L.namespaces(doc)[0]["sockets"]
        rep.check(socks and all(s["family"] == fam for s in socks),
                  "%s: families %s" % (flag, sorted({s["family"] for s in socks})))
        r = subprocess.run([binary, "-N", ns, "-tuwanH", flag], capture_output=True, text=True)
        ours = [tuple(line.split()[3:]) for line in r.stdout.splitlines() if line.strip()]
        theirs = [tuple(line.split()) for line in ss(ns, ["-tuwanH", flag]).splitlines() if line.strip()]
        rep.same_rows("%s vs ss -tuwanH %s" % (flag, flag), theirs, ours)

    # 5. -c: a document per interval, each complete.
    c = subprocess.Popen([binary, "-N", ns, "--json", "-tan", "-c", "0.2"], stdout=subprocess.PIPE, text=True)
    docs = []
    end = time.monotonic() + 10
    while len(docs) < 3 and time.monotonic() < end:
        line = c.stdout.readline()
        if not line:
            break
        docs.append(json.loads(line))
    c.kill()
    c.wait()
    rep.check(len(docs) == 3 and all(len(L.namespaces(d)[0]["sockets"]) >= 6 for d in docs),
              "-c 0.2: got %d documents" % len(docs))

    # 6. Repeated scans hold no descriptors: the fd count of a continuous run stays
    #    flat (state listening once leaked the /proc/net/raw descriptors it skipped).
    c = subprocess.Popen([binary, "-N", ns, "-c", "0.05", "state", "listening"], stdout=subprocess.DEVNULL)
    #    A sample can land mid-scan and see that scan's own sockets, so each window
    #    keeps its minimum (the idle count between scans); a leak of even one fd per
    #    scan would raise the second window's minimum by ~15.
    counts = []
    for _ in range(2):
        time.sleep(0.5)
        window = []
        for _ in range(20):
            window.append(len(os.listdir("/proc/%d/fd" % c.pid)))
            time.sleep(0.01)
        counts.append(min(window))
    c.kill()
    c.wait()
    rep.check(counts[1] <= counts[0] and counts[0] < 16, "-c: open fds grew: idle minimum %s" % counts)

    # 7. --backend: the JSON names the one used. Where the BPF walker loads here, its
    #    rows (with inode and cookie) are netlink's; where it does not, one line says why.
    args = ["-N", ns, "--json", "-tuanx", "-e"]
    r, nl = L.nsnetstat(binary, ["--backend", "netlink"] + args)
    rep.check(r.returncode == 0 and nl and nl["scan"].get("backend") == "netlink" and "bpf" not in nl["scan"],
              "--backend netlink: exit %d, scan %r" % (r.returncode, nl and nl.get("scan")))
    r, bp = L.nsnetstat(binary, ["--backend", "bpf"] + args)
    if r.returncode == 0:
        rep.check(bp["scan"].get("backend") == "bpf" and isinstance(bp["scan"].get("bpf"), dict),
                  "--backend bpf: scan %r" % bp["scan"])
        if nl:
            rep.same_rows("--backend bpf vs netlink -tuanx -e",
                          L.json_rows(L.namespaces(nl)[0], with_ext=True),
                          L.json_rows(L.namespaces(bp)[0], with_ext=True))
    else:
        rep.check(r.returncode == 2 and r.stderr.startswith("nsnetstat: BPF backend unavailable: ")
                  and len(r.stderr.splitlines()) == 1,
                  "--backend bpf that cannot load: want exit 2 and one line, got %d %r" % (r.returncode, r.stderr))
        print("note: BPF backend not available here: %s" % r.stderr.strip(), file=sys.stderr)
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
