#!/usr/bin/env python3
"""CLI edges: usage errors, --collector's errors (bad addresses, a collector that
refuses or speaks something else), --backend's errors, a closed stdout, missing
CAP_SYS_ADMIN and the --summary counts.

usage: test_cli_errors.py PATH_TO_NSNETSTAT
"""

import collections
import os
import select
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nsntlib as L  # noqa: E402


def one_line(err):
    return len([x for x in err.splitlines() if x.strip()]) == 1


def is_fallback(line):
    """The one line --backend auto prints when the BPF backend cannot be used."""
    return line.startswith("nsnetstat: BPF backend unavailable (") and line.endswith(
        "): using netlink (setns + sock_diag per namespace)")


def main():
    if len(sys.argv) != 2:
        print("usage: test_cli_errors.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    L.require_root()
    world = L.World()
    rep = L.Report()

    # Usage errors: exit 2, one stderr line that names the culprit.
    cases = [
        (["--no-such-flag"], ["--no-such-flag"]),
        (["-t", "--all-namespaces", "--bogus=1"], ["--bogus"]),
        (["-t", "dport", "=", ":foo"], ["foo"]),
        (["-t", "(", "dport", "=", ":80"], ["(", ")"]),
        (["-t", "state", "no-such-state"], ["no-such-state"]),
        (["-t", "sport", "~", ":80"], ["~"]),
        (["--backend", "nonsense", "-t"], ["'nonsense'"]),
        (["--backend=", "-t"], ["''"]),
        (["--backend"], ["--backend"]),
    ]
    for args, needles in cases:
        r, _ = L.nsnetstat(binary, args)
        rep.check(r.returncode == 2, "`nsnetstat %s`: exit %d, want 2" % (" ".join(args), r.returncode))
        rep.check(one_line(r.stderr) and any(n in r.stderr for n in needles),
                  "`nsnetstat %s`: want one stderr line naming %s, got %r"
                  % (" ".join(args), " or ".join(repr(n) for n in needles), r.stderr))
        rep.check(r.stdout == "", "`nsnetstat %s`: printed to stdout on a usage error: %r"
                  % (" ".join(args), r.stdout[:200]))

    # --collector: its usage errors are exit 2 and one line, like every usage error.
    tmp0 = world.tmpdir()
    cases = [
        (["--collector"], ["--collector"]),
        (["--collector", "foo"], ["foo"]),
        (["--collector", "[::1:80"], ["[::1:80"]),
        (["--collector", "h:99999"], ["99999"]),
        (["--node", "x"], ["--node"]),
        (["--token-file", "/etc/hostname"], ["--token-file"]),
        (["--collector", "127.0.0.1:7700", "--node", "a,,b"], ["a,,b"]),
        (["--collector", "127.0.0.1:7700", "--from", os.path.join(tmp0, "rec")], ["--from"]),
        (["--from", os.path.join(tmp0, "rec"), "--collector", "127.0.0.1:7700"], ["--from"]),
        (["--collector", "127.0.0.1:7700", "--host-root", "/"], ["--host-root"]),
        # TCP is mutual TLS or, explicitly, --plaintext (integration.tls has the rest).
        (["--collector", "127.0.0.1:7700", "-t"], ["or --plaintext to send it unencrypted"]),
        (["--collector", "127.0.0.1:7700", "--tls-ca", "/etc/hostname"], ["--tls-cert and --tls-key are missing"]),
        (["--collector", "127.0.0.1:7700", "--plaintext", "--tls-cert", "c", "--tls-key", "k", "--tls-ca", "a"],
         ["exclude each other"]),
        (["--tls-cert", "c", "-t"], ["--tls-cert"]),
        (["--plaintext", "-t"], ["--plaintext"]),
    ]
    for args, needles in cases:
        r, _ = L.nsnetstat(binary, args)
        rep.check(r.returncode == 2, "`nsnetstat %s`: exit %d, want 2" % (" ".join(args), r.returncode))
        rep.check(one_line(r.stderr) and any(n in r.stderr for n in needles),
                  "`nsnetstat %s`: want one stderr line naming %s, got %r"
                  % (" ".join(args), " or ".join(repr(n) for n in needles), r.stderr))
        rep.check(r.stdout == "", "`nsnetstat %s`: printed to stdout on a usage error: %r"
                  % (" ".join(args), r.stdout[:200]))
    r, _ = L.nsnetstat(binary, ["--help"])
    rep.check(r.returncode == 0 and all(w in r.stdout for w in ("--collector", "--node", "--token-file",
                                                                "--tls-cert", "--plaintext", "--backend")),
              "--help does not describe --collector, --node, --token-file, --tls-cert, --plaintext and --backend")

    # --backend: an unknown one names the choices; bpf cannot report tcp_info (--info),
    # which nsnetstat says before it scans anything: exit 2, one line, nothing on stdout.
    r, _ = L.nsnetstat(binary, ["--backend", "nonsense", "-t"])
    rep.check(all(w in r.stderr for w in ("--backend", "auto", "bpf", "netlink")),
              "--backend nonsense: want the flag and the choices auto, bpf, netlink named: %r" % r.stderr)
    for args in (["--backend", "bpf", "--info", "-t"], ["--backend=bpf", "--all-namespaces", "--info", "--json"]):
        r, _ = L.nsnetstat(binary, args)
        rep.check(r.returncode == 2 and one_line(r.stderr) and r.stderr.startswith("nsnetstat: ")
                  and "tcp_info" in r.stderr and r.stdout == "",
                  "`nsnetstat %s`: want exit 2 and one stderr line about tcp_info, got %d %r %r"
                  % (" ".join(args), r.returncode, r.stderr, r.stdout[:200]))
    # With netlink asked for, the JSON says so, and nothing is said about BPF.
    r, doc = L.nsnetstat(binary, ["--backend", "netlink", "--all-namespaces", "-tan", "--json"])
    rep.check(r.returncode == 0 and doc and doc["scan"].get("backend") == "netlink" and "bpf" not in doc["scan"]
              and "BPF" not in r.stderr,
              "--backend netlink --json: exit %d, scan %r, stderr %r"
              % (r.returncode, doc and doc.get("scan"), r.stderr))
    # auto: bpf or netlink; a netlink scan of every namespace says why in one line
    # (unless the BPF walk failed mid-scan, which is a warning).
    r, doc = L.nsnetstat(binary, ["--backend", "auto", "--all-namespaces", "-tan", "--json"])
    if rep.check(r.returncode == 0 and doc and doc["scan"].get("backend") in ("bpf", "netlink"),
                 "--backend auto --json: exit %d, scan %r, stderr %r"
                 % (r.returncode, doc and doc.get("scan"), r.stderr)):
        fallback = [x for x in r.stderr.splitlines() if is_fallback(x)]
        if doc["scan"]["backend"] == "bpf":
            rep.check(not fallback and isinstance(doc["scan"].get("bpf"), dict),
                      "--backend auto chose bpf: stderr %r, scan %r" % (r.stderr, doc["scan"]))
        else:
            # Why: the line before the scan, or a warning when the walk failed in it.
            rep.check(len(fallback) == 1 or any("BPF" in w for w in doc["warnings"]),
                      "--backend auto fell back to netlink: want one line saying why, got %r, warnings %r"
                      % (r.stderr, doc["warnings"]))

    # A collector that cannot be reached or speaks something else: exit 1, one line that
    # names the address, nothing on stdout. A bound socket that does not listen refuses
    # for sure (a fixed port like 1 might be taken).
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = "127.0.0.1:%d" % closed.getsockname()[1]
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(4)

    def speak_http():
        c, _ = garbage.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        c.close()

    threading.Thread(target=speak_http, daemon=True).start()
    cases = [
        (["--collector", refused, "--plaintext", "-t"], [refused, "refused"]),
        # --backend is about this host: accepted, and no part of the query.
        (["--collector", refused, "--plaintext", "--backend", "bpf", "-t"], [refused, "refused"]),
        (["--collector", "127.0.0.1:1", "--plaintext", "-t"], ["127.0.0.1:1"]),
        (["--collector", "unix:" + os.path.join(tmp0, "nonexistent"), "--json"],
         ["unix:" + os.path.join(tmp0, "nonexistent")]),
        (["--collector", "127.0.0.1:%d" % garbage.getsockname()[1], "--plaintext"], ["maximum"]),
    ]
    for args, needles in cases:
        r, _ = L.nsnetstat(binary, args, timeout=20)
        rep.check(r.returncode == 1, "`nsnetstat %s`: exit %d, want 1" % (" ".join(args), r.returncode))
        rep.check(one_line(r.stderr) and all(n in r.stderr for n in needles)
                  and r.stderr.startswith("nsnetstat: collector %s: " % args[1]),
                  "`nsnetstat %s`: want one stderr line naming the collector and %s, got %r"
                  % (" ".join(args), " and ".join(repr(n) for n in needles), r.stderr))
        rep.check(r.stdout == "", "`nsnetstat %s`: printed to stdout: %r" % (" ".join(args), r.stdout[:200]))
    closed.close()
    garbage.close()

    # A namespace with 3000 sockets, so the listing is much larger than a pipe.
    big = world.add_netns("big")
    many = world.spawn(["ip", "netns", "exec", big, sys.executable,
                        os.path.join(L.HELPERS, "many.py"), "1500"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([many.stdout], [], [], 20)
    rep.check(ready and many.stdout.readline().strip() == "ready", "many.py did not start")

    # Closed stdout: `nsnetstat ... | head -1` must be quiet.  Death by SIGPIPE
    # (141) or a clean exit are both fine; a message or another status is not.
    errfile = os.path.join(world.tmpdir(), "stderr")
    sh = ('set -o pipefail; "$0" --all-namespaces -a 2>"$1" | head -1 >/dev/null; '
          'echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}"')
    r = L.run(["bash", "-c", sh, binary, errfile], check=False)
    st = r.stdout.split()
    with open(errfile) as f:
        err = f.read()
    rep.check(len(st) == 2 and st[0] in ("0", "141") and st[1] == "0",
              "nsnetstat --all-namespaces -a | head -1: statuses %r, want nsnetstat 0 or 141, head 0"
              % r.stdout.strip())
    # (But the one line that says why --backend auto could not use BPF, if it could not.)
    rep.check(all(is_fallback(x) for x in err.splitlines()),
              "nsnetstat --all-namespaces -a | head -1: stderr %r, want nothing" % err)

    # Without CAP_SYS_ADMIN --all-namespaces cannot work: exit 2, say why.
    if shutil.which("capsh"):
        r = L.run(["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$0" "$@"', binary,
                   "--all-namespaces", "--json"], check=False)
        rep.check(r.returncode == 2, "capsh --drop=cap_sys_admin: exit %d, want 2" % r.returncode)
        rep.check(one_line(r.stderr) and "CAP_SYS_ADMIN" in r.stderr,
                  "capsh --drop=cap_sys_admin: want one stderr line naming CAP_SYS_ADMIN, got %r"
                  % r.stderr)
    else:
        print("note: capsh missing (apt-get install libcap2-bin); capability check not run",
              file=sys.stderr)

    # --summary: per namespace, counts by (proto, state) equal the full listing.
    tmp = world.tmpdir()
    c = world.add_netns("c")
    L.start_fixture(world, {"tag": world.tag, "tmpdir": tmp, "ns": {"c": "/run/netns/" + c}})
    mine = {os.stat("/run/netns/" + n).st_ino: n for n in (c, big)}
    args = ["-t", "-u", "-w", "-x", "-a", "-n", "--all-namespaces", "--json"]
    r1, full = L.nsnetstat(binary, args)
    r2, summ = L.nsnetstat(binary, args + ["--summary"])
    if rep.check(r1.returncode == 0 and r2.returncode == 0 and full and summ,
                 "--summary run: exit %d/%d stderr %r %r" % (r1.returncode, r2.returncode,
                                                             r1.stderr, r2.stderr)):
        for ino, name in mine.items():
            f, s = L.ns_by_inode(full, ino), L.ns_by_inode(summ, ino)
            if not rep.check(len(f) == 1 and len(s) == 1, "%s missing from a --summary comparison run" % name):
                continue
            want = collections.Counter((x["proto"], x["state"]) for x in f[0]["sockets"])
            sm = s[0].get("summary")
            if not rep.check(isinstance(sm, dict) and "sockets" not in s[0],
                             "%s: --summary namespace has no summary object (or still has sockets): %r"
                             % (name, sorted(s[0])[:20])):
                continue
            by = sm.get("by") or []
            got = collections.Counter({(b["proto"], b["state"]): b["count"] for b in by})
            rep.check(len(by) == len(got), "%s: duplicate (proto,state) in summary: %r" % (name, by))
            rep.check(got == want, "%s: summary %r, want %r" % (name, dict(got), dict(want)))
            rep.check(sm.get("total") == sum(want.values()),
                      "%s: total %r, want %d" % (name, sm.get("total"), sum(want.values())))
            counts = [b["count"] for b in by]
            rep.check(counts == sorted(counts, reverse=True), "%s: not largest first: %r" % (name, by))
        rep.check(any(b["proto"] == "unix" and b["count"] >= 3000
                      for ns in L.ns_by_inode(summ, os.stat("/run/netns/" + big).st_ino)
                      for b in (ns.get("summary") or {}).get("by") or []),
                  "%s: summary does not count its 3000 unix sockets" % big)

    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
