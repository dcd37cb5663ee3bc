"""Shared plumbing for the real-namespace tests: privileges, a world that
cleans up after itself, running nsnetstat and ss, and converting nsnetstat's
JSON into the rows ss prints so the two can be compared as multisets."""

import atexit
import collections
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.path.join(HERE, "helpers")
SKIP = 77


def skip(reason):
    print("SKIP: " + reason, file=sys.stderr)
    sys.exit(SKIP)


def require_root(tools=("ip", "ss", "unshare", "nsenter")):
    if os.geteuid() != 0:
        skip("needs root (creates network namespaces)")
    for t in tools:
        if shutil.which(t) is None:
            skip("needs %s in PATH" % t)
    # A container without CAP_SYS_ADMIN cannot make namespaces at all.
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if r.returncode != 0:
        skip("cannot create network namespaces: " + r.stderr.decode().strip())
    require_backend()


def require_backend(backend=None):
    """NSN_TEST_BACKEND=bpf (or BACKEND bpf) on a machine that cannot have it at all
    (what the BPF backend needs: kernel 6.2, kernel BTF) skips; any other reason the
    walker does not load is the test's failure, not a skip."""
    if (backend or BACKEND) != "bpf":
        return
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    if m and (int(m.group(1)), int(m.group(2))) < (6, 2):
        skip("the BPF backend needs kernel 6.2, this is %s" % os.uname().release)
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the BPF backend needs kernel BTF (/sys/kernel/btf/vmlinux)")


def host_netns_stat():
    """stat of the initial network namespace: pid 1's, or where pid 1 is not
    readable (a sandbox may deny even root) kthreadd's, which always lives in
    the initial namespace."""
    try:
        return os.stat("/proc/1/ns/net")
    except PermissionError:
        return os.stat("/proc/2/ns/net")


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r


class World:
    """Namespaces, processes, mounts and files made by one test.  Torn down at
    exit, on SIGTERM/SIGINT (CTest's timeout) and on exceptions."""

    def __init__(self):
        self.tag = "nsnt%d" % os.getpid()
        self.netns = []
        self.procs = []
        self.mounts = []
        self.paths = []
        self.done = False
        atexit.register(self.cleanup)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda s, f: sys.exit(128 + s))

    def add_netns(self, suffix):
        name = "%s-%s" % (self.tag, suffix)
        run(["ip", "netns", "add", name])
        self.netns.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name

    def fixture_veth(self, a, b):
        """The veth helpers/fixture.py expects between namespaces a and b:
        veth0 10.99.0.1/24 fd99::1/64 <-> veth1 10.99.0.2/24 fd99::2/64."""
        run(["ip", "-n", a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", b])
        for ns, dev, v4, v6 in ((a, "veth0", "10.99.0.1/24", "fd99::1/64"),
                                (b, "veth1", "10.99.0.2/24", "fd99::2/64")):
            run(["ip", "-n", ns, "addr", "add", v4, "dev", dev])
            run(["ip", "-n", ns, "addr", "add", v6, "dev", dev, "nodad"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, **kw)
        self.procs.append(p)
        return p

    def unshare_sleep(self, secs=120):
        """A namespace reachable only through a process: unshare -n sleep."""
        p = self.spawn(["unshare", "-n", "sleep", str(secs)])
        mine = os.stat("/proc/self/ns/net").st_ino
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                if os.stat("/proc/%d/ns/net" % p.pid).st_ino != mine:
                    # unshare has switched; wait for the exec of sleep too.
                    with open("/proc/%d/comm" % p.pid) as f:
                        if f.read().strip() == "sleep":
                            return p
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        raise RuntimeError("unshare -n sleep did not start")

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix=self.tag + "-")
        self.paths.append(d)
        return d

    def cleanup(self):
        if self.done:
            return
        self.done = True
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    if p.stdin:
                        p.stdin.close()
                except OSError:
                    pass
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        for n in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        for p in self.paths:
            if os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                os.unlink(p)


def proc_status(pid):
    """/proc/PID/status as a dict (CapEff, NoNewPrivs, VmRSS, ...)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def listener_as(world, netns, port, uid=65534, timeout=5):
    """A TCP listener on 127.0.0.1:port in netns held by a process of another user
    (nobody): its /proc/PID/fd is that user's, mode 0500. Debian's python3, since a
    per-user interpreter under /root is not reachable for that user."""
    code = ("import socket,sys,time;s=socket.socket();s.bind(('127.0.0.1',%d));s.listen();"
            "print('up',flush=True);time.sleep(600)" % port)
    p = world.spawn(["ip", "netns", "exec", netns, "setpriv", "--reuid", str(uid), "--regid", str(uid),
                     "--clear-groups", "/usr/bin/python3", "-c", code], stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    if not ready or p.stdout.readline().strip() != "up":
        raise RuntimeError("listener as uid %d in %s did not start (exit %r)" % (uid, netns, p.poll()))
    return p


def start_fixture(world, cfg, timeout=30):
    """Run helpers/fixture.py and return its JSON report."""
    p = world.spawn([sys.executable, os.path.join(HELPERS, "fixture.py"), json.dumps(cfg)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    line = p.stdout.readline() if ready else ""
    if not line:
        raise RuntimeError("fixture did not report (exit %r)" % p.poll())
    return json.loads(line)




# NSN_TEST_BACKEND (bpf|netlink|auto): where the sockets of every local scan the tests
# make come from (CMake registers the socket tests once per backend). Empty: nsnetstat's
# default. A bpf run must not pass by falling back: check_backend().
BACKEND = os.environ.get("NSN_TEST_BACKEND", "")
if BACKEND not in ("", "bpf", "netlink", "auto"):
    raise SystemExit("NSN_TEST_BACKEND=%r: want bpf, netlink or auto" % BACKEND)
REMOTE_FLAGS = ("--from", "--collector")


def backend_args(args):
    """--backend BACKEND for a local scan: not when ARGS choose one, nor for --from and
    --collector (no local scan), nor bpf with --info (tcp_info only sock_diag reports:
    nsnetstat refuses the pair; the default, auto, is netlink there)."""
    args = list(args)
    if not BACKEND or any(a == "--backend" or a.startswith("--backend=") for a in args) \
            or any(a in REMOTE_FLAGS or a.startswith(f + "=") for a in args for f in REMOTE_FLAGS):
        return []
    if BACKEND == "bpf" and "--info" in args:
        return []
    return ["--backend", BACKEND]


def nsnetstat_argv(binary, args):
    """The command line of a local nsnetstat run, with the test's backend."""
    return [binary] + backend_args(args) + list(args)


def wanted_backend(args):
    """The backend ARGS (with the test's) ask for explicitly, or None."""
    args = backend_args(args) + list(args)
    for i, a in enumerate(args):
        if a == "--backend" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--backend="):
            return a.split("=", 1)[1]
    return None


def check_backend(args, doc):
    """A local --json scan of sockets asked for bpf reports scan.backend "bpf" (not a
    silent fallback to netlink: "BPF walk failed" in the warnings), with no record
    dropped and no chain cut; one asked for netlink reports "netlink". Raises
    AssertionError. A scan of RAW sockets only, or of no sockets at all (-r/-i/-s
    alone: no namespace has "sockets"), has nothing to walk."""
    want = wanted_backend(args)
    if want not in ("bpf", "netlink") or doc is None or "--from" in args or "--collector" in args:
        return
    socks = [ns for ns in namespaces(doc) if "sockets" in ns]
    shorts = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    raw_only = "w" in shorts and not any(c in shorts for c in "tux")
    if not socks or raw_only:
        return
    scan = doc.get("scan") or {}
    got = scan.get("backend")
    if got != want:
        raise AssertionError("nsnetstat %s: scan.backend %r, want %r (a fallback?); warnings: %s"
                             % (" ".join(backend_args(args) + list(args)), got, want,
                                doc.get("warnings")))
    if want == "bpf":
        b = scan.get("bpf")
        if not isinstance(b, dict) or b.get("passes", 0) < 1:
            raise AssertionError("nsnetstat %s: backend bpf without bpf stats (passes >= 1): %r"
                                 % (" ".join(args), b))
        if b.get("drops") or b.get("capped"):
            raise AssertionError("nsnetstat %s: the BPF walk lost sockets: %r; warnings %s"
                                 % (" ".join(args), b, doc.get("warnings")))


def nsnetstat(binary, args, env=None, timeout=30):
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run(nsnetstat_argv(binary, args), capture_output=True, text=True, env=e, timeout=timeout)
    doc = None
    if "--json" in args and r.returncode == 0:
        try:
            doc = json.loads(r.stdout)
        except ValueError as ex:
            raise AssertionError("nsnetstat %s: invalid JSON: %s\n%s" % (" ".join(args), ex, r.stdout[:2000]))
        check_backend(args, doc)
    return r, doc


def namespaces(doc):
    return [ns for node in doc["nodes"] for ns in node["namespaces"]]


def ns_by_inode(doc, inode):
    found = [ns for ns in namespaces(doc) if ns["inode"] == inode]
    return found


# ---- ss side -------------------------------------------------------------

def oracle_prefix(name=None, pid=None):
    if name:
        return ["ip", "netns", "exec", name]
    if pid:
        return ["nsenter", "--net=/proc/%d/ns/net" % pid]
    return []


USERS_RE = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)')


def parse_users(text):
    return tuple(sorted((c, int(p), int(f)) for c, p, f in USERS_RE.findall(text)))


EXT_RE = {k: re.compile(r"(?:^| )%s:([0-9a-f]+)(?= |$)" % k) for k in ("uid", "ino", "sk")}


def parse_ext(text):
    """What ss -e adds to a TCP or UDP row: (uid, ino, sk) as ints; uid 0 when ss
    leaves it out (it prints uid:N only when N is not 0), sk (the socket cookie) hex."""
    got = {k: rx.search(text) for k, rx in EXT_RE.items()}
    if not got["ino"] or not got["sk"]:
        return ("no ino:/sk: in " + text.strip(),)
    return (int(got["uid"].group(1)) if got["uid"] else 0, int(got["ino"].group(1)), int(got["sk"].group(1), 16))


def short_flags(args):
    return "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


def ss_rows(prefix, args):
    """Rows of `ss ARGS` as tuples (netid, state, rq, sq, local, peer, users, ext);
    columns ss leaves out (Netid with one socket table, State with one state)
    are None.  The header tells which columns are there.  With -p users are the
    processes, with -e ext is (uid, ino, sk) for TCP and UDP rows (for unix rows
    ss -e shows the inode of the bound file, not the socket's; RAW rows come from
    /proc/net/raw without them): None otherwise."""
    r = run(prefix + ["ss"] + list(args))
    lines = r.stdout.splitlines()
    if not lines:
        raise RuntimeError("ss printed nothing, not even a header")
    head = lines[0].split()
    has_netid, has_state = head[0] == "Netid", "State" in head[:2]
    with_users = "p" in short_flags(args)
    with_ext = "e" in short_flags(args)
    rows = []
    for line in lines[1:]:
        tok = line.split()
        if not tok:
            continue
        i = 0
        netid = state = None
        if has_netid:
            netid, i = tok[0], 1
        if has_state:
            state, i = tok[i], i + 1
        rq, sq = tok[i], tok[i + 1]
        i += 2
        if netid and netid.startswith("u_"):
            local, peer, i = tok[i] + " " + tok[i + 1], tok[i + 2] + " " + tok[i + 3], i + 4
        else:
            local, peer, i = tok[i], tok[i + 1], i + 2
        users = parse_users(" ".join(tok[i:])) if with_users else None
        ext = None
        if with_ext and (netid in ("tcp", "udp") or (not has_netid and any(c in short_flags(args) for c in "tu"))):
            ext = parse_ext(" ".join(tok[i:]))
        rows.append((netid, state, rq, sq, local, peer, users, ext))
    return rows, has_netid, has_state


# ---- nsnetstat JSON side -------------------------------------------------

UNIX_NETID = {"stream": "u_str", "dgram": "u_dgr", "seqpacket": "u_seq"}


def ss_inet(ep, family, v6only, dev=None):
    """One endpoint the way ss -n prints it: IPv6 bracketed, the all-zero IPv6
    address as '*' unless the socket is v6only ('[::]'), port 0 as '*',
    a bound device as addr%dev."""
    addr = ep["addr"]
    if family == "inet6":
        if not v6only and ipaddress.ip_address(addr) == ipaddress.IPv6Address("::"):
            addr = "*"
        else:
            addr = "[%s]" % addr
    if dev:
        addr += "%" + dev
    port = ep.get("port") or 0
    return "%s:%s" % (addr, port if port else "*")


def json_row(s, has_netid=True, has_state=True, with_users=False, with_ext=False):
    if s["proto"] == "unix":
        netid = UNIX_NETID[s["type"]]
        path = (s.get("local") or {}).get("path")
        local = "%s %d" % (path if path is not None else "*", s["inode"])
        peer = "* %d" % ((s.get("peer") or {}).get("inode") or 0)
    else:
        netid = s["proto"]
        v6only = bool(s.get("v6only"))
        local = ss_inet(s["local"], s["family"], v6only, s.get("dev"))
        peer = ss_inet(s["peer"], s["family"], v6only)
    users = None
    if with_users:
        users = tuple(sorted((p["comm"], p["pid"], p["fd"]) for p in s.get("processes") or []))
    ext = None
    if with_ext and s["proto"] in ("tcp", "udp"):
        # uid null (TIME-WAIT, request sockets: nobody's): ss shows none, i.e. 0.
        ext = (s.get("uid") or 0, s["inode"], s["cookie"])
    return (netid if has_netid else None, s["state"] if has_state else None,
            str(s["recv_q"]), str(s["send_q"]), local, peer, users, ext)


def json_rows(ns, has_netid=True, has_state=True, with_users=False, with_ext=False):
    return [json_row(s, has_netid, has_state, with_users, with_ext) for s in ns.get("sockets") or []]


# ---- comparison ----------------------------------------------------------

def fmt_row(r):
    cols = [c for c in r[:6] if c is not None]
    if r[6]:
        cols.append("users:(" + ",".join('("%s",pid=%d,fd=%d)' % u for u in r[6]) + ")")
    if len(r) > 7 and r[7]:
        cols.append("uid:%d ino:%d sk:%x" % r[7] if len(r[7]) == 3 else r[7][0])
    return "  ".join(cols)


class Report:
    def __init__(self):
        self.failures = []
        self.checks = 0

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            self.failures.append(msg)
            print("FAIL: " + msg, file=sys.stderr)
        return cond

    def same_rows(self, label, expected, got):
        """expected comes from ss, got from nsnetstat; multisets."""
        e, g = collections.Counter(expected), collections.Counter(got)
        missing, extra = e - g, g - e
        self.checks += 1
        if missing or extra:
            lines = ["%s: nsnetstat differs from ss (%d rows from ss, %d from nsnetstat)"
                     % (label, sum(e.values()), sum(g.values()))]
            for r in sorted(missing.elements(), key=str):
                lines.append("  missing (ss has it):        " + fmt_row(r))
            for r in sorted(extra.elements(), key=str):
                lines.append("  extra   (only in nsnetstat): " + fmt_row(r))
            msg = "\n".join(lines)
            self.failures.append(msg)
            print("FAIL: " + msg, file=sys.stderr)
            return False
        print("ok: %s (%d rows)" % (label, sum(e.values())))
        return True

    def finish(self):
        if self.checks == 0:
            print("FAIL: no assertions ran", file=sys.stderr)
            sys.exit(1)
        if self.failures:
            print("%d of %d checks failed" % (len(self.failures), self.checks), file=sys.stderr)
            sys.exit(1)
        print("all %d checks passed" % self.checks)
        sys.exit(0)
