#!/usr/bin/env python3
"""nsnetstat --from: a recorded nsnet.v1 stream renders as local mode does.

Builds namespaces a and b (ip netns add, joined by a veth pair) filled with the
socket zoo of helpers/fixture.py, and c (empty).  tests/tools/nsn-record writes
what an agent would send (Hello, snapshots or deltas from nsn_sync_diff(),
ScanDone); then:

  1. `--from REC --json -tuanxp` equals `--all-namespaces --json -tuanxp` for
     a and b: every namespace field and every socket, field for field
     (processes included), whatever the order; scan timing is not compared
  2. -r --rules, -i, -i -e, -s text for `-N a` and `-N b` equal local output
     byte for byte (re-recorded up to 5 times while a stray packet moves a
     counter between the recording and the local run)
  3. -N by name and by inode select one namespace; an unknown one exits 2;
     filters (-t -l, -4, state words, an expression) equal local output (rows
     in any order: a recording has sockets in the agent's order, by cookie)
  4. two recordings with different --node concatenated: two nodes in the JSON,
     a NODE column in the table (none with one node); stdin (`--from -`) reads
     the same
  5. a two-scan recording whose second scan follows changes (a listener gone,
     a listener added, namespace c deleted, namespace d added) holds deltas, a
     gone and a snapshot, and still equals local output
  6. a truncated recording, a garbage frame, a frame missing from the sequence
     and a missing file each give one line `nsnetstat: --from FILE: ...` (with
     `at byte N` for the stream errors) and exit 1

Every local scan uses NSN_TEST_BACKEND's --backend (nsntlib): nsn-record always
gathers with sock_diag, so with bpf parts 1 and 5 compare the two backends.

usage: test_from.py PATH_TO_NSNETSTAT [PATH_TO_NSN_RECORD]   (or $NSN_RECORD)
"""

import collections
import json
import os
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402

LISTENER = ("import socket,sys,time\n"
            "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(8)\n"
            "print(s.getsockname()[1], flush=True); time.sleep(300)\n")


def frames(data):
    """[(offset, payload)] of a recording."""
    out, off = [], 0
    while off + 4 <= len(data):
        n = struct.unpack(">I", data[off:off + 4])[0]
        out.append((off, data[off + 4:off + 4 + n]))
        off += 4 + n
    return out


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i


def body_field(payload):
    """The Frame's body field number (2 hello ... 9 scan_done)."""
    i = 0
    while i < len(payload):
        key, i = varint(payload, i)
        if key & 7 == 0:
            _, i = varint(payload, i)
            continue
        return key >> 3
    return None


def rows(table):
    """A socket table's lines in any order (a recording has sockets in the order the
    agent sent them, by cookie; a local scan in the kernel's). Widths still count."""
    return sorted(table.split("\n"))


def sans_sockets(ns):
    return {k: v for k, v in ns.items() if k != "sockets"}


class T:
    def __init__(self, binary, record, world, rep):
        self.bin, self.record, self.world, self.rep = binary, record, world, rep
        self.tmp = world.tmpdir()
        self.n = 0

    def rec(self, *args, node=None, scans=1, stdin=None):
        self.n += 1
        path = os.path.join(self.tmp, "rec%d.bin" % self.n)
        cmd = [self.record] + (["--node", node] if node else []) + ["--scans", str(scans), path]
        if scans == 1:
            L.run(cmd)
            return path
        return path, self.world.spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def nsn(self, args, **kw):
        """nsnetstat ARGS; a local scan with the test's backend (NSN_TEST_BACKEND)."""
        return subprocess.run(L.nsnetstat_argv(self.bin, args), capture_output=True, text=True, timeout=60, **kw)

    def json_pair(self, rec, args):
        """--from REC and the local view. nsn-record gathers with sock_diag: under
        NSN_TEST_BACKEND=bpf the local view is the BPF walk's, so this compares the
        two backends field by field (cookies, inodes, uids included)."""
        a = self.nsn(["--from", rec, "--json"] + args)
        b = self.nsn(["--all-namespaces", "--json"] + args)
        ok = self.rep.check(a.returncode == 0 and b.returncode == 0,
                            "--from %s / local %s: exit %d / %d: %s %s"
                            % (rec, args, a.returncode, b.returncode, a.stderr.strip(), b.stderr.strip()))
        if not ok:
            return None, None
        got, want = json.loads(a.stdout), json.loads(b.stdout)
        try:
            L.check_backend(["--all-namespaces", "--json"] + args, want)
        except AssertionError as ex:
            self.rep.check(False, str(ex))
        return got, want

    def same_namespaces(self, label, got, want, inodes):
        """The namespaces with these inodes, compared field for field, sockets in any
        order. Returns the list of differences."""
        diffs = []
        g = {ns["inode"]: ns for ns in L.namespaces(got)}
        w = {ns["inode"]: ns for ns in L.namespaces(want)}
        for ino in inodes:
            if ino not in g or ino not in w:
                diffs.append("%s: inode %d in --from: %s, local: %s" % (label, ino, ino in g, ino in w))
                continue
            if sans_sockets(g[ino]) != sans_sockets(w[ino]):
                diffs.append("%s: inode %d: --from %s != local %s"
                             % (label, ino, sans_sockets(g[ino]), sans_sockets(w[ino])))
            # A multiset: raw sockets read from /proc/net/raw have no cookie.
            gs = collections.Counter(json.dumps(s, sort_keys=True) for s in g[ino].get("sockets", []))
            ws = collections.Counter(json.dumps(s, sort_keys=True) for s in w[ino].get("sockets", []))
            for s in sorted((gs - ws).elements()):
                diffs.append("%s: inode %d: only in --from: %s" % (label, ino, s))
            for s in sorted((ws - gs).elements()):
                diffs.append("%s: inode %d: only local:    %s" % (label, ino, s))
        return diffs

    def settle(self, label, attempt_fn, tries=5):
        """Run attempt_fn() -> [differences] until it has none: the world may move
        between a recording and the local run (a counter, a timer)."""
        diffs = []
        for i in range(tries):
            diffs = attempt_fn()
            if not diffs:
                break
            time.sleep(0.5 * (i + 1))
        self.rep.check(not diffs, "%s:\n  %s" % (label, "\n  ".join(diffs[:20])))
        if not diffs:
            print("ok: " + label)


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: test_from.py NSNETSTAT [NSN_RECORD]", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    record = sys.argv[2] if len(sys.argv) == 3 else os.environ.get("NSN_RECORD")
    if not record:
        print("test_from.py: no nsn-record (argument or $NSN_RECORD)", file=sys.stderr)
        return 2
    L.require_root(tools=("ip",))
    world = L.World()
    rep = L.Report()
    t = T(binary, record, world, rep)

    a, b, c = world.add_netns("a"), world.add_netns("b"), world.add_netns("c")
    world.fixture_veth(a, b)
    fx = L.start_fixture(world, {"tag": world.tag, "tmpdir": world.tmpdir(),
                                 "ns": {"a": "/run/netns/" + a, "b": "/run/netns/" + b}})
    print("fixture:", fx)
    ino = {n: os.stat("/run/netns/" + n).st_ino for n in (a, b, c)}
    # A listener in b that goes away before the second scan of part 5.
    gone_l = world.spawn(["ip", "netns", "exec", b, sys.executable, "-c", LISTENER],
                         stdout=subprocess.PIPE, text=True)
    gone_port = int(gone_l.stdout.readline())

    every = ["-t", "-u", "-w", "-x", "-a", "-n", "-p"]

    # 1. JSON, every socket of a and b.
    def json_attempt():
        rec = t.rec()
        got, want = t.json_pair(rec, every)
        if got is None:
            return ["nsnetstat failed"]
        d = t.same_namespaces("-tuwxanp", got, want, [ino[a], ino[b], ino[c]])
        for ns in L.namespaces(want):
            if ns["inode"] in (ino[a], ino[b]) and len(ns.get("sockets", [])) < 10:
                d.append("%s has %d sockets: the fixture did not run" % (ns["names"], len(ns.get("sockets", []))))
        if not d:
            n = sum(len(ns.get("sockets", [])) for ns in L.namespaces(got) if ns["inode"] in (ino[a], ino[b]))
            print("   %d sockets in a and b" % n)
        return d
    t.settle("--from --json -tuwxanp equals --all-namespaces", json_attempt)

    # 2. -r, -i, -s text for one namespace, byte for byte.
    for view in (["-r", "--rules"], ["-i"], ["-i", "-e"], ["-s"], ["-s", "--zeros"], ["--summary"]):
        def text_attempt(view=view):
            rec = t.rec()
            diffs = []
            for ns in (a, b):
                got = t.nsn(["--from", rec, "-N", ns] + view)
                want = t.nsn(["-N", ns] + view)
                if got.returncode != 0 or got.stdout != want.stdout or not want.stdout:
                    diffs.append("-N %s %s: exit %d; --from:\n%s\nlocal:\n%s%s"
                                 % (ns, " ".join(view), got.returncode, got.stdout, want.stdout,
                                    got.stderr))
            return diffs
        t.settle("--from -N a|b %s equals local" % " ".join(view), text_attempt)

    # 3. -N, and the socket selection made after decoding.
    rec = t.rec()
    for sel in (a, str(ino[a])):
        r = t.nsn(["--from", rec, "--json", "-N", sel] + every)
        doc = json.loads(r.stdout) if r.returncode == 0 else None
        rep.check(doc is not None and [ns["inode"] for ns in L.namespaces(doc)] == [ino[a]],
                  "--from -N %s: want only inode %d, got exit %d %s"
                  % (sel, ino[a], r.returncode, doc and [ns["inode"] for ns in L.namespaces(doc)]))
    r = t.nsn(["--from", rec, "-N", "no-such-%s" % world.tag])
    rep.check(r.returncode == 2 and "no such network namespace" in r.stderr,
              "--from -N unknown: want exit 2, got %d: %s" % (r.returncode, r.stderr.strip()))
    port = fx["a_ports"][0]
    for args in (["-t", "-l", "-n"], ["-4", "-a", "-n"], ["-6", "-t", "-a", "-n"], ["-x", "-l"],
                 ["-u", "-w", "-a", "-n"], ["-t", "-n", "state", "established"],
                 ["-t", "-a", "-n", "exclude", "time-wait"],
                 ["-t", "-a", "-n", "(", "sport", "=", ":%d" % port, "or", "dport", "=", ":%d" % port, ")"],
                 ["-t", "-a", "-n", "-e"], ["-t", "-a", "-n", "-p", "-H"]):
        def filter_attempt(args=args):
            rec = t.rec()
            diffs = []
            for ns in (a, b):
                got = t.nsn(["--from", rec, "-N", ns] + args)
                want = t.nsn(["-N", ns] + args)
                if got.returncode != 0 or rows(got.stdout) != rows(want.stdout):
                    diffs.append("-N %s %s: --from:\n%s\nlocal:\n%s%s"
                                 % (ns, " ".join(args), got.stdout, want.stdout, got.stderr))
            return diffs
        t.settle("--from -N a|b %s equals local" % " ".join(args), filter_attempt)

    # 4. Several nodes; stdin.
    r1, r2 = t.rec(node="node-two"), t.rec(node="node-one")
    both = os.path.join(t.tmp, "both.bin")
    with open(both, "wb") as out:
        for p in (r1, r2):
            with open(p, "rb") as f:
                out.write(f.read())
    r = t.nsn(["--from", both, "--json", "-tln"])
    doc = json.loads(r.stdout) if r.returncode == 0 else None
    rep.check(doc is not None and [n["node"] for n in doc["nodes"]] == ["node-one", "node-two"]
              and all(any(ns["inode"] == ino[a] for ns in n["namespaces"]) for n in doc["nodes"]),
              "two nodes: want node-one and node-two, each with a; got exit %d %s"
              % (r.returncode, doc and [(n["node"], len(n["namespaces"])) for n in doc["nodes"]]))
    r = t.nsn(["--from", both, "-tln"])
    rep.check(r.returncode == 0 and r.stdout.split("\n")[0].split()[:2] == ["NODE", "NETNS"]
              and re.search(r"^node-one +%s " % re.escape(a), r.stdout, re.M)
              and re.search(r"^node-two +%s " % re.escape(a), r.stdout, re.M),
              "two nodes: want a NODE column:\n" + r.stdout)
    r = t.nsn(["--from", both, "-N", a, "-r"])
    rep.check(r.returncode == 0 and "node node-one netns %s (inode %d)" % (a, ino[a]) in r.stdout
              and "node node-two netns %s" % a in r.stdout,
              "two nodes -r: want headings naming the node:\n" + r.stdout)
    r = t.nsn(["--from", r1, "-tln"])
    rep.check(r.returncode == 0 and r.stdout.split()[0] == "NETNS", "one node: no NODE column:\n" + r.stdout)
    with open(both, "rb") as f:
        r_in = subprocess.run([binary, "--from", "-", "--json", "-tln"], input=f.read(), capture_output=True,
                              timeout=60)
    rep.check(r_in.returncode == 0 and json.loads(r_in.stdout)["nodes"] == (doc or {}).get("nodes"),
              "--from - (stdin) differs from --from FILE: %s" % r_in.stderr.decode().strip())

    # 5. Deltas, a gone and a new snapshot in a second scan.
    def delta_attempt():
        path, p = t.rec(scans=2)
        line = p.stdout.readline()
        if not line.startswith("scanned 1"):
            return ["nsn-record did not report its first scan: %r" % line]
        gone_l.kill()
        gone_l.wait()
        new_l = world.spawn(["ip", "netns", "exec", b, sys.executable, "-c", LISTENER],
                            stdout=subprocess.PIPE, text=True)
        new_port = int(new_l.stdout.readline())
        L.run(["ip", "netns", "del", c])
        world.netns.remove(c)
        d = world.add_netns("d")
        ino["d"] = os.stat("/run/netns/" + d).st_ino
        p.stdin.write("\n")
        p.stdin.close()
        if p.wait(timeout=60) != 0:
            return ["nsn-record --scans 2 failed"]
        with open(path, "rb") as f:
            data = f.read()
        bodies = [body_field(pl) for _, pl in frames(data)]
        scan2 = bodies[bodies.index(9) + 1:]
        diffs = []
        for want, name in ((7, "delta"), (8, "gone"), (6, "snapshot"), (9, "scan_done")):
            if want not in scan2:
                diffs.append("second scan has no %s frame: %s" % (name, scan2))
        got, want = t.json_pair(path, every)
        if got is None:
            return diffs + ["nsnetstat failed"]
        diffs += t.same_namespaces("after deltas", got, want, [ino[a], ino[b], ino["d"]])
        if any(ns["inode"] == ino[c] for ns in L.namespaces(got)):
            diffs.append("deleted namespace c is still in the --from output")
        ports = [s["local"].get("port") for ns in L.namespaces(got) if ns["inode"] == ino[b]
                 for s in ns["sockets"] if s["state"] == "LISTEN" and s["proto"] == "tcp"]
        if new_port not in ports or gone_port in ports:
            diffs.append("b's listeners %s: want %d, not %d" % (ports, new_port, gone_port))
        return diffs
    diffs = delta_attempt()
    rep.check(not diffs, "two scans:\n  " + "\n  ".join(diffs[:20]))
    if not diffs:
        print("ok: a second scan's deltas, gone and snapshot render as local output")

    # 6. Broken recordings: one line, exit 1.
    rec = t.rec()
    with open(rec, "rb") as f:
        data = f.read()
    fr = frames(data)

    def broken(label, blob, pattern):
        p = os.path.join(t.tmp, "broken.bin")
        with open(p, "wb") as f:
            f.write(blob)
        r = t.nsn(["--from", p, "-tln"])
        lines = r.stderr.splitlines()
        ok = rep.check(r.returncode == 1 and len(lines) == 1 and re.fullmatch(
            r"nsnetstat: --from %s: %s" % (re.escape(p), pattern), lines[0]) and r.stdout == "",
            "%s: want exit 1 and one line /%s/, got %d: %r stdout %r"
            % (label, pattern, r.returncode, r.stderr, r.stdout[:200]))
        if ok:
            print("ok: %s: %s" % (label, lines[0]))

    last_off = fr[-1][0]
    broken("truncated final frame", data[:-3],
           r"truncated frame \(%d of %d bytes\) at byte %d" % (len(data) - 3 - last_off, len(data) - last_off,
                                                             last_off))
    broken("truncated length prefix", data + b"\x00\x00",
           r"truncated frame \(2 of 4 length bytes\) at byte %d" % len(data))
    broken("garbage frame", data[:fr[1][0]] + b"\x00\x00\x00\x03\xff\xff\xff" + data[fr[1][0]:],
           r"bad frame \(3 bytes\): not an nsnet\.v1 Frame at byte %d" % fr[1][0])
    broken("frame missing from the sequence", data[:fr[1][0]] + data[fr[2][0]:],
           r"\w+ frame has seq 3, expected 2 at byte %d" % fr[1][0])
    broken("no hello", data[fr[1][0]:], r"\w+ frame before any hello at byte 0")
    broken("absurd length", b"\xff\xff\xff\xff", r"frame length 4294967295 over the \d+ byte maximum at byte 0")
    r = t.nsn(["--from", os.path.join(t.tmp, "nonexistent"), "-tln"])
    rep.check(r.returncode == 1 and r.stderr.count("\n") == 1 and "No such file or directory" in r.stderr,
              "missing file: want exit 1 and one line, got %d: %r" % (r.returncode, r.stderr))
    r = t.nsn(["--from", rec, "-c", "1"])
    rep.check(r.returncode == 2, "--from with -c: want usage error 2, got %d" % r.returncode)

    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
