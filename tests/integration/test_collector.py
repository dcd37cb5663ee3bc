#!/usr/bin/env python3
"""nsnet-collector with two real agents, real namespaces, nsnetstat and Prometheus.

One collector (--token-file, --stale-after 3, --forget-after 8) and two nsnet-agents
of this host under different --node names, so both nodes hold the same namespaces:
two made by the test, each with a process holding TCP listeners, an established
loopback connection and a UDP socket.

 1. (setup) Both nodes arrive with the test namespaces.
 5. Hostile connections while the agents stay connected, one per rejection reason:
    garbage and EOF inside a frame (decode), a length prefix of 0xFFFFFFF0
    (oversize), a snapshot before hello (unexpected), protocol_version 2 (version),
    role 0 (hello), a valid agent Hello then a sequence gap (sequence) or a delta for
    an unknown namespace (store): each gets an Error frame, is closed and counted
    exactly once, and logged once; a Query that does not parse gets an Error of code
    QUERY and the connection answers the next one; the agents' sessions are untouched.
    A node named with a quote, a backslash, a newline and bytes that are not UTF-8
    stays connected through 7 and 8.
 4. Agents without or with a wrong token are refused and counted (auth failures,
    frames_rejected{reason="auth"}) and never become nodes; queries without or with a
    wrong token exit 1 with one line.
 7. /metrics passes `promtool check metrics` silently and has the contract's
    families and the fixture's numbers; each agent's backend (as its scan lines name
    it) in nsnet_agent_backend_info, its BPF drop counters present and 0; the odd node, whose
    ScanDone has no backend (an older agent's), has no backend series but its zeros;
    /healthz is 200 JSON.
 8. A real Prometheus scrapes /metrics every second; PromQL over the nsnet_ series
    gives the fixture's numbers (and the odd node's label exactly).
 2. Per node, `nsnetstat --collector ... --json -tuanxp --node NODE` equals the local
    `nsnetstat --all-namespaces --json -tuanxp` (every namespace by identity, the
    test's field by field, around one agent scan).
 3. --node picks one node; the table has a NODE column; -N narrows on each node; ss
    filter expressions and -l -t give exactly the fixture's sockets; --node nosuch
    exits non-zero with one line.
    The hand-made nodes are forgotten after --forget-after; then, without --node,
    both nodes come in name order, each with the test namespaces. A connection that
    never says hello is closed after 10 s (timeout).
 6. Agent b killed: stale within --stale-after (+ sweep slack) in JSON, on stderr and
    in nsnet_agent_up; forgotten after --forget-after (nsnet_collector_nodes_forgotten_total).
 9. SIGTERM: the collector exits 0 within 2 s; its log is one logfmt line per event
    and has no sanitizer report (nor has any nsnetstat run); agent a exits 0 on SIGTERM.

The numbers name topics; the checks run in this order so that the hand-made nodes
are forgotten before the node sets are compared exactly. Runs in about 20 s.

Prints one TAP line per check; exits 1 if any failed, 77 when not root.

usage: test_collector.py NSNET_COLLECTOR NSNET_AGENT NSNETSTAT
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # nothing written into the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
sys.path.insert(0, HERE)
import nsntlib as L  # noqa: E402
import standin as W  # noqa: E402  (hand-rolled nsnet.v1 encoding, not the code under test)

NODE_A, NODE_B = "nsnt-node-a", "nsnt-node-b"
STALE_AFTER, FORGET_AFTER = 3, 8
SWEEP_SLACK = 2.0
TOKEN = "c0llector-s3cret"

# The metric families /metrics promises (the contract).
CONTRACT_FAMILIES = (
    "nsnet_collector_connections", "nsnet_collector_connections_accepted_total",
    "nsnet_collector_frames_received_total", "nsnet_collector_received_bytes_total",
    "nsnet_collector_frames_rejected_total", "nsnet_collector_auth_failures_total",
    "nsnet_collector_queries_total", "nsnet_collector_nodes", "nsnet_collector_nodes_forgotten_total",
    "nsnet_agent_up", "nsnet_agent_last_seen_timestamp_seconds", "nsnet_agent_lag_seconds",
    "nsnet_agent_records_dropped_total", "nsnet_agent_bpf_chains_capped_total", "nsnet_agent_backend_info",
    "nsnet_sockets", "nsnet_listening_sockets",
    "nsnet_tcp_retransmitted_segments_total",
    "nsnet_interface_receive_bytes_total", "nsnet_interface_transmit_bytes_total",
    "nsnet_interface_receive_packets_total", "nsnet_interface_transmit_packets_total",
    "nsnet_interface_receive_errors_total", "nsnet_interface_transmit_errors_total",
    "nsnet_interface_receive_drops_total", "nsnet_interface_transmit_drops_total",
)
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Undefined)")
REASONS = ("oversize", "decode", "sequence", "unexpected", "store", "auth", "version", "hello",
           "timeout", "query", "tls")
# TCP without TLS must be asked for (test_tls.py runs the same views over mutual TLS).
PLAIN = ["--plaintext"]

# Runs inside one test namespace (ip netns exec): N TCP listeners (the last on ::1,
# the others on 127.0.0.1), an established connection to the first one, and one
# unconnected UDP socket. Prints its ports as one JSON line, holds until stdin closes.
HOLDER = r"""
import json, socket, sys
n = int(sys.argv[1])
held, ports = [], []
for i in range(n):
    fam, addr = (socket.AF_INET6, "::1") if i == n - 1 else (socket.AF_INET, "127.0.0.1")
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((addr, 0))
    s.listen(128)
    held.append(s)
    ports.append(s.getsockname()[1])
c = socket.create_connection(("127.0.0.1", ports[0]), timeout=5)
a, _ = held[0].accept()
held += [c, a]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 0))
held.append(u)
print(json.dumps({"listen": ports, "client": c.getsockname()[1], "udp": u.getsockname()[1]}), flush=True)
sys.stdin.read()
"""


# ---- reporting -------------------------------------------------------------

class Tap:
    """One TAP line per check; the details of a failure as '#' lines."""

    def __init__(self):
        self.n = 0
        self.failed = []

    def check(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed.append(name)
            print("not ok %d - %s" % (self.n, name), flush=True)
            for line in str(detail).splitlines()[:60]:
                print("#   " + line, flush=True)
        return bool(cond)

    def note(self, msg):
        print("# " + msg, flush=True)

    def finish(self):
        print("1..%d" % self.n)
        if self.failed:
            print("# %d of %d checks failed: %s" % (len(self.failed), self.n, "; ".join(self.failed)))
            return 1
        print("# all %d checks passed" % self.n)
        return 0


# ---- processes --------------------------------------------------------------

class Daemon:
    """A child whose stderr (logfmt lines) goes to a file."""

    def __init__(self, world, cmd, log):
        self.log = log
        self.f = open(log, "w")
        self.p = world.spawn(cmd, stderr=self.f, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def lines(self):
        with open(self.log, errors="replace") as f:
            return f.read().splitlines()

    def tail(self, n=15):
        return "\n".join(self.lines()[-n:])

    def wait_log(self, needle, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines():
                if needle in line:
                    return line
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(timeout=10)


def port_of(line):
    m = re.search(r"\bport=(\d+)", line or "")
    return int(m.group(1)) if m else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def now_ms():
    return int(time.time() * 1000)


# ---- HTTP, metrics ----------------------------------------------------------

def http_get(port, path, timeout=10, headers=None, want_headers=False):
    """(status, content type, body) of GET http://127.0.0.1:PORT/PATH (and the response
    headers with want_headers)."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            out = r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace"), r.headers
    except urllib.error.HTTPError as e:
        out = e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace"), e.headers
    return out if want_headers else out[:3]


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.families = set()
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                self.families.add(line.split()[2])
            if not line or line.startswith("#"):
                continue
            m = SAMPLE_RE.match(line)
            if not m:
                continue
            labels = frozenset(LABEL_RE.findall(m.group(2) or ""))
            self.samples[(m.group(1), labels)] = float(m.group(3))

    def get(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())))

    def sum(self, name, **labels):
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and want <= set(ls))


def scrape(port):
    code, _, body = http_get(port, "/metrics")
    if code != 200:
        raise AssertionError("/metrics: HTTP %d: %s" % (code, body[:500]))
    return Metrics(body)


def wait_metric(port, pred, timeout):
    """Scrape until pred(metrics) holds; the last scrape either way."""
    end = time.monotonic() + timeout
    while True:
        m = scrape(port)
        if pred(m) or time.monotonic() > end:
            return m
        time.sleep(0.2)


# ---- nsnetstat ----------------------------------------------------------------

class Cli:
    def __init__(self, binary, addr, token, conn_args=PLAIN):
        """CONN_ARGS: how to talk to the collector (--plaintext, or --tls-* files)."""
        self.bin, self.addr, self.token, self.conn_args = binary, addr, token, list(conn_args)
        self.sanitizer = []  # sanitizer reports on any run's stderr

    def run(self, args, nodes=(), token="default", timeout=60):
        """nsnetstat --collector ADDR CONN_ARGS [--token-file F] [--node N]... ARGS:
        (returncode, stdout, stderr lines, JSON document or None)."""
        cmd = [self.bin, "--collector", self.addr] + self.conn_args
        tok = self.token if token == "default" else token
        if tok:
            cmd += ["--token-file", tok]
        for n in nodes:
            cmd += ["--node", n]
        r = subprocess.run(cmd + list(args), capture_output=True, timeout=timeout)
        # Node names come from agents: bytes that are not UTF-8 must not crash the test.
        r.stdout, r.stderr = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        self.sanitizer += [" ".join(args) + ": " + ln for ln in r.stderr.splitlines() if SANITIZER_RE.search(ln)]
        doc = None
        if "--json" in args and r.returncode == 0:
            try:
                doc = json.loads(r.stdout)
            except ValueError as ex:
                raise AssertionError("%s: invalid JSON: %s\n%s" % (" ".join(cmd + list(args)), ex, r.stdout[:2000]))
        return r.returncode, r.stdout, r.stderr.strip().splitlines(), doc

    def doc(self, args, nodes=()):
        rc, out, err, doc = self.run(args, nodes)
        if rc != 0 or doc is None:
            raise AssertionError("nsnetstat --collector %s %s: exit %d: %s"
                                 % (" ".join("--node " + n for n in nodes), " ".join(args), rc, "\n".join(err)))
        return doc


def local(nsnetstat, args):
    r, doc = L.nsnetstat(nsnetstat, ["--all-namespaces", "--json"] + list(args), timeout=60)
    if r.returncode != 0 or doc is None:
        raise AssertionError("nsnetstat --all-namespaces %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return doc


def node_of(doc, name):
    found = [n for n in doc["nodes"] if n.get("node") == name]
    return found[0] if len(found) == 1 else None


def node_names(doc):
    return [n.get("node") for n in doc["nodes"]]


def by_inode(namespaces):
    return {ns["inode"]: ns for ns in namespaces}


def canon_socks(ns):
    return sorted(json.dumps(s, sort_keys=True) for s in ns.get("sockets") or [])


def sock_brief(s):
    return "%s %s %s:%s" % (s["proto"], s["state"], s["local"].get("addr"), s["local"].get("port"))


NS_KEYS = ("names", "cookie", "dev", "host", "pid", "nprocs", "containers", "error")


def ns_structure(namespaces, mine):
    """What must not move while the comparison runs: the set of namespaces, and the
    test namespaces' headers and sockets."""
    ns = by_inode(namespaces)
    return json.dumps({"all": sorted(ns),
                       "mine": {str(ino): [{k: ns[ino].get(k) for k in NS_KEYS}, canon_socks(ns[ino])]
                                for ino in mine if ino in ns}}, sort_keys=True)


# ---- raw nsnet.v1 connections (hostile input) --------------------------------

def frame_bytes(seq, body_num, body):
    payload = W.enc_field(1, seq) + W.enc_field(body_num, body)
    return struct.pack(">I", len(payload)) + payload


PENDING = {}  # socket -> bytes read past the last frame returned


def read_one_frame(s, timeout=5.0):
    """The next frame from s as a field list, or None at EOF."""
    s.settimeout(timeout)
    buf = PENDING.pop(s, b"")
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
        data = s.recv(65536)
        if not data:
            return None
        buf += data
    n = struct.unpack(">I", buf[:4])[0]
    PENDING[s] = buf[4 + n:]
    return W.fields(buf[4:4 + n])


def read_frames_until_eof(s, timeout=5.0):
    """Every frame the peer sends until it closes; (frames as field lists, closed?)."""
    frames = []
    closed = False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            fr = read_one_frame(s, max(0.1, end - time.monotonic()))
        except socket.timeout:
            continue
        except (ConnectionResetError, struct.error):
            closed = True
            break
        if fr is None:
            closed = True
            break
        frames.append(fr)
    PENDING.pop(s, None)
    return frames, closed


def error_of(frames):
    """(code, message) of the first Error frame, or None."""
    for fs in frames:
        e = W.first(fs, 5)
        if e is not None:
            ef = W.fields(e)
            return W.first(ef, 1, 0), W.first(ef, 2, b"").decode(errors="replace")
    return None


# ---- the test -----------------------------------------------------------------

class Ctx:
    pass


def make_world(world, x):
    """The world: two namespaces with known sockets, each held by one process in it
    (x.ns by key, x.mine their inodes)."""
    x.ns = {}
    for key, nlisten in (("one", 3), ("two", 2)):
        name = world.add_netns(key)
        p = world.spawn(["ip", "netns", "exec", name, sys.executable, "-c", HOLDER, str(nlisten)],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([p.stdout], [], [], 15)
        line = p.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError("holder in %s did not start (exit %r)" % (name, p.poll()))
        info = json.loads(line)
        info.update(name=name, pid=p.pid, inode=os.stat("/run/netns/" + name).st_ino,
                    nlisten=nlisten, total=nlisten + 3)
        x.ns[key] = info
    x.mine = [v["inode"] for v in x.ns.values()]


def setup(t, world, collector_bin, agent_bin, nsnetstat):
    x = Ctx()
    x.tmp = world.tmpdir()
    x.token = os.path.join(x.tmp, "token")
    with open(x.token, "w") as f:
        f.write(TOKEN + "\n")
    x.wrong = os.path.join(x.tmp, "wrong-token")
    with open(x.wrong, "w") as f:
        f.write("not-the-token\n")

    make_world(world, x)

    # The collector, then Prometheus (it takes seconds to start), then the agents.
    x.col = Daemon(world, [collector_bin, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"] + PLAIN +
                   ["--token-file", x.token, "--stale-after", str(STALE_AFTER),
                    "--forget-after", str(FORGET_AFTER)], os.path.join(x.tmp, "collector.log"))
    x.port = port_of(x.col.wait_log("event=listening", 10))
    x.http = port_of(x.col.wait_log("event=http_listening", 10))
    if not x.port or not x.http:
        raise RuntimeError("the collector did not log its ports; its log:\n" + x.col.tail())
    t.note("collector on 127.0.0.1:%d, http on 127.0.0.1:%d" % (x.port, x.http))
    x.addr = "127.0.0.1:%d" % x.port
    x.cli = Cli(nsnetstat, x.addr, x.token)

    x.prom = None
    promdir = os.path.join(x.tmp, "prom")
    os.mkdir(promdir)
    # Prometheus logs the address it was given, not the port it got: pick a free one
    # (the small race with other listeners is the price).
    x.prom_port = free_port()
    with open(os.path.join(promdir, "prom.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: nsnet\n    scrape_interval: 1s\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % x.http)
    if shutil.which("prometheus"):
        x.prom = Daemon(world, ["prometheus", "--config.file=" + os.path.join(promdir, "prom.yml"),
                                "--storage.tsdb.path=" + os.path.join(promdir, "data"),
                                "--web.listen-address=127.0.0.1:%d" % x.prom_port,
                                "--log.level=warn"], os.path.join(x.tmp, "prometheus.log"))

    x.agents = {}
    for node in (NODE_A, NODE_B):
        x.agents[node] = Daemon(world, [agent_bin, "--collector", x.addr] + PLAIN +
                                ["--node", node, "--interval", "1", "--token-file", x.token],
                                os.path.join(x.tmp, "agent-%s.log" % node))
    return x


def wait_synced(t, x):
    """1. Both nodes hold the test namespaces with all their sockets."""
    end = time.monotonic() + 30
    doc, why = None, "no answer"
    while time.monotonic() < end:
        rc, _, err, doc = x.cli.run(["--json", "-tuanxp"])
        if doc is None:
            why = "exit %d: %s" % (rc, " / ".join(err))
        else:
            missing = []
            for node in (NODE_A, NODE_B):
                nd = node_of(doc, node)
                have = by_inode(nd["namespaces"]) if nd else {}
                for v in x.ns.values():
                    if len((have.get(v["inode"]) or {}).get("sockets") or []) != v["total"]:
                        missing.append("%s/%s" % (node, v["name"]))
            if not missing:
                break
            why = "not yet there: %s (nodes %s)" % (missing, node_names(doc))
        time.sleep(0.3)
    else:
        t.check(False, "both agents' nodes arrive with the test namespaces within 30 s",
                why + "\ncollector log:\n" + x.col.tail() + "\nagent a:\n" + x.agents[NODE_A].tail(5)
                + "\nagent b:\n" + x.agents[NODE_B].tail(5))
        return False
    return t.check(True, "both agents' nodes arrive with the test namespaces")


def check_world(t, x, nsnetstat):
    """The fixture is what the test thinks it is (so expected numbers are right)."""
    doc = local(nsnetstat, ["-tuanxp"])
    ns = by_inode(L.namespaces(doc))
    for v in x.ns.values():
        socks = (ns.get(v["inode"]) or {}).get("sockets") or []
        states = sorted((s["proto"], s["state"]) for s in socks)
        want = sorted([("tcp", "LISTEN")] * v["nlisten"] + [("tcp", "ESTAB")] * 2 + [("udp", "UNCONN")])
        t.check(states == want, "local view of %s is the fixture (%d sockets)" % (v["name"], v["total"]),
                "got %s, want %s" % (states, want))


def compare_node(t, x, nsnetstat, node):
    """2. The collector's answer for one node equals the local view, around a scan:
    local view (before), a collector answer whose node was last seen > 1.5 s later
    (so a whole 1 s scan happened after `before`), local view (after); if before and
    after agree, the answer must equal them."""
    flags = ["-tuanxp"]
    remote = after = None
    for attempt in range(5):
        before = local(nsnetstat, flags)
        tb = now_ms()
        remote = None
        end = time.monotonic() + 10
        while time.monotonic() < end:
            d = x.cli.doc(["--json"] + flags, [node])
            nd = node_of(d, node)
            if nd and (nd.get("last_seen_ms") or 0) > tb + 1500:
                remote = d
                break
            time.sleep(0.25)
        after = local(nsnetstat, flags)
        if remote is None:
            break
        if ns_structure(L.namespaces(before), x.mine) == ns_structure(L.namespaces(after), x.mine):
            break
        t.note("%s: the namespaces changed around the agent's scan; again" % node)
    if not t.check(remote is not None, "%s: answer with last_seen_ms advancing (agent scanning every 1 s)" % node,
                   "last answer: %s" % (json.dumps(node_of(d, node))[:800] if d else None)):
        return
    t.check(node_names(remote) == [node], "--node %s: the answer has exactly that node" % node,
            "nodes: %s" % node_names(remote))
    nd = node_of(remote, node)
    if nd is None:
        return
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    meta = {k: nd.get(k) for k in ("stale", "connected", "boot_id", "agent_version", "last_seen_ms")}
    t.check(nd.get("stale") is False and nd.get("connected") is True and nd.get("boot_id") == boot
            and isinstance(nd.get("agent_version"), str) and nd.get("agent_version")
            and abs(now_ms() - (nd.get("last_seen_ms") or 0)) < 10000,
            "%s: node keys stale/connected/boot_id/agent_version/last_seen_ms" % node,
            "got %s, boot_id %s" % (meta, boot))
    rn, ln = by_inode(nd["namespaces"]), by_inode(L.namespaces(after))
    t.check(set(rn) == set(ln), "%s: the same namespaces as the local view (%d)" % (node, len(ln)),
            "only remote %s, only local %s" % (sorted(set(rn) - set(ln)), sorted(set(ln) - set(rn))))
    for v in x.ns.values():
        r, lo = rn.get(v["inode"]), ln.get(v["inode"])
        if not t.check(r is not None and lo is not None, "%s: %s present remote and local" % (node, v["name"]),
                       "remote %s local %s" % (r is not None, lo is not None)):
            continue
        diff = {k: (r.get(k), lo.get(k)) for k in NS_KEYS if r.get(k) != lo.get(k)}
        t.check(not diff, "%s: %s: namespace header equals local (%s)" % (node, v["name"], ",".join(NS_KEYS)),
                "remote vs local: %s" % json.dumps(diff)[:1500])
        rs, ls = canon_socks(r), canon_socks(lo)
        t.check(rs == ls and len(ls) == v["total"],
                "%s: %s: %d sockets equal local (processes, state, addresses, queues)" % (node, v["name"], len(ls)),
                "only remote:\n %s\nonly local:\n %s" % ("\n ".join(sorted(set(rs) - set(ls))[:5]),
                                                         "\n ".join(sorted(set(ls) - set(rs))[:5])))


def check_all_nodes(t, x, nsnetstat):
    """2b. Without --node: both nodes, in name order, each with the test namespaces."""
    lo = by_inode(L.namespaces(local(nsnetstat, ["-tuanxp"])))
    doc = x.cli.doc(["--json", "-tuanxp"])
    t.check(node_names(doc) == [NODE_A, NODE_B], "without --node: nodes are exactly [a, b] in name order",
            "nodes: %s" % node_names(doc))
    for node in (NODE_A, NODE_B):
        nd = node_of(doc, node)
        ns = by_inode(nd["namespaces"]) if nd else {}
        for v in x.ns.values():
            t.check(v["inode"] in ns and canon_socks(ns[v["inode"]]) == canon_socks(lo.get(v["inode"], {})),
                    "without --node: %s has %s with the local sockets" % (node, v["name"]),
                    "remote %s\nlocal %s" % ([sock_brief(s) for s in (ns.get(v["inode"]) or {}).get("sockets", [])],
                                            [sock_brief(s) for s in lo.get(v["inode"], {}).get("sockets", [])]))


def check_selection(t, x, nsnetstat):
    """3. --node, the NODE column, -N, an ss filter, -l -t, --node nosuch."""
    one, two = x.ns["one"], x.ns["two"]

    doc = x.cli.doc(["--json", "-tuan"], [NODE_A])
    t.check(node_names(doc) == [NODE_A], "--node %s returns only that node" % NODE_A, "nodes %s" % node_names(doc))

    # The table: a NODE column holding the node names, one row per socket per node.
    rc, out, err, _ = x.cli.run(["-tuan", "-N", one["name"]])
    lines = out.splitlines()
    head = lines[0].split() if lines else []
    rows = [ln.split() for ln in lines[1:] if ln.strip()]
    counts = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    t.check(rc == 0 and head[:1] == ["NODE"] and counts == {NODE_A: one["total"], NODE_B: one["total"]},
            "table -N %s: NODE column first, %d rows per node" % (one["name"], one["total"]),
            "exit %d, stderr %s\n%s" % (rc, err, out[:2000]))
    if "NETNS" in head:
        col = head.index("NETNS")
        t.check(all(len(r) > col and r[col] == one["name"] for r in rows),
                "table -N: the NETNS column is %s on every row" % one["name"], out[:2000])

    # -N narrows to that namespace on each node.
    doc = x.cli.doc(["--json", "-tuanxp", "-N", two["name"]])
    # (A node without it would be there with no namespaces: none of a and b.)
    got = {n["node"]: [ns["inode"] for ns in n["namespaces"]] for n in doc["nodes"] if n["namespaces"]}
    t.check(got == {NODE_A: [two["inode"]], NODE_B: [two["inode"]]},
            "-N %s: exactly that namespace on each node" % two["name"], "got %s" % got)
    t.check(all(len(ns.get("sockets") or []) == two["total"] for n in doc["nodes"] for ns in n["namespaces"]),
            "-N %s: %d sockets on each node" % (two["name"], two["total"]),
            json.dumps(doc)[:1500])

    # An ss filter expression: sport = :P is the listener on P and the accepted socket.
    p = one["listen"][0]
    doc = x.cli.doc(["--json", "-tan", "-N", one["name"], "sport", "=", ":%d" % p])
    want = sorted([("LISTEN", p, 0), ("ESTAB", p, one["client"])])
    for node in (NODE_A, NODE_B):
        nd = node_of(doc, node)
        got = sorted((s["state"], s["local"]["port"], s["peer"]["port"])
                     for ns in (nd["namespaces"] if nd else []) for s in ns.get("sockets") or [])
        t.check(got == want, "%s: -N %s sport = :%d gives exactly the listener and the accepted socket"
                % (node, one["name"], p), "got %s, want %s" % (got, want))
    # An expression with parentheses and or, over every namespace of both nodes.
    doc = x.cli.doc(["--json", "-tan", "(", "sport", "=", ":%d" % p, "or", "dport", "=", ":%d" % p, ")"])
    for node in (NODE_A, NODE_B):
        nd = node_of(doc, node)
        mine = [s for ns in (nd["namespaces"] if nd else []) if ns["inode"] == one["inode"]
                for s in ns.get("sockets") or []]
        t.check(len(mine) == 3 and all(s["local"]["port"] == p or s["peer"]["port"] == p for s in mine),
                "%s: '( sport = :%d or dport = :%d )' gives the 3 sockets of that connection in %s"
                % (node, p, p, one["name"]), [sock_brief(s) for s in mine])

    # -l -t: exactly the listeners, and nothing else anywhere.
    doc = x.cli.doc(["--json", "-l", "-t", "-n"])
    lo = by_inode(L.namespaces(local(nsnetstat, ["-l", "-t", "-n"])))
    for node in (NODE_A, NODE_B):
        nd = node_of(doc, node)
        allsocks = [s for ns in (nd["namespaces"] if nd else []) for s in ns.get("sockets") or []]
        t.check(allsocks and all(s["proto"] == "tcp" and s["state"] == "LISTEN" for s in allsocks),
                "%s: -l -t answers TCP LISTEN sockets only (%d)" % (node, len(allsocks)),
                sorted({sock_brief(s) for s in allsocks if s["state"] != "LISTEN" or s["proto"] != "tcp"})[:10])
        ns = by_inode(nd["namespaces"]) if nd else {}
        for v in x.ns.values():
            got = sorted(s["local"]["port"] for s in (ns.get(v["inode"]) or {}).get("sockets") or [])
            t.check(got == sorted(v["listen"]) and canon_socks(ns.get(v["inode"], {})) == canon_socks(lo.get(v["inode"], {})),
                    "%s: -l -t in %s: exactly the %d listeners, equal to local" % (node, v["name"], v["nlisten"]),
                    "got ports %s, want %s" % (got, sorted(v["listen"])))

    # An unknown node: non-zero, one line.
    rc, out, err, _ = x.cli.run(["--json", "-tuan"], ["nosuch"])
    t.check(rc != 0 and len(err) == 1 and "nosuch" in err[0],
            "--node nosuch: non-zero exit and one stderr line naming it", "exit %d, stderr %r" % (rc, err))


def check_auth(t, x, world, agent_bin):
    """4. Agents and queries without or with a wrong token."""
    for label, extra in (("without a token", []), ("with a wrong token", ["--token-file", x.wrong])):
        m0 = scrape(x.http)
        node = "nsnt-node-bad%d" % len(extra)
        ag = Daemon(world, [agent_bin, "--collector", x.addr, "--node", node, "--interval", "1"] + PLAIN + extra,
                    os.path.join(x.tmp, "agent-%s.log" % node))
        a0 = m0.get("nsnet_collector_auth_failures_total") or 0
        r0 = m0.get("nsnet_collector_frames_rejected_total", reason="auth") or 0
        m1 = wait_metric(x.http, lambda m: (m.get("nsnet_collector_auth_failures_total") or 0) > a0
                         and (m.get("nsnet_collector_frames_rejected_total", reason="auth") or 0) > r0, 10)
        a1 = m1.get("nsnet_collector_auth_failures_total") or 0
        r1 = m1.get("nsnet_collector_frames_rejected_total", reason="auth") or 0
        t.check(a1 > a0 and r1 > r0, "agent %s: refused, auth_failures_total and rejected{auth} increase" % label,
                "auth_failures %s -> %s, rejected{auth} %s -> %s; agent log:\n%s\ncollector log:\n%s"
                % (a0, a1, r0, r1, ag.tail(5), x.col.tail(5)))
        ag.kill()
        rc, _, err, doc = x.cli.run(["--json", "-tuan"])
        t.check(doc is not None and node not in node_names(doc) and {NODE_A, NODE_B} <= set(node_names(doc)),
                "agent %s: its node never appears" % label, "exit %d nodes %s %s"
                % (rc, node_names(doc) if doc else None, err))
        t.check(m1.get("nsnet_agent_up", node=node) is None, "agent %s: no nsnet_agent_up series for it" % label)

    for label, tok in (("without a token", None), ("with a wrong token", x.wrong)):
        m0 = scrape(x.http)
        rc, out, err, _ = x.cli.run(["--json", "-tuan"], token=tok)
        m1 = scrape(x.http)
        t.check(rc == 1 and len(err) == 1 and not out.strip(), "query %s: exit 1, one stderr line, no output" % label,
                "exit %d, stderr %r, stdout %r" % (rc, err, out[:300]))
        if err:
            t.note("query %s: %s" % (label, err[0]))
        d = (m1.get("nsnet_collector_auth_failures_total") or 0) - (m0.get("nsnet_collector_auth_failures_total") or 0)
        t.check(d == 1, "query %s: auth_failures_total +1" % label, "got +%s" % d)


def agent_hello(node=b"nsnt-hostile", version=1, role=1, token=TOKEN.encode()):
    return (W.enc_field(1, version) + W.enc_field(2, role) + W.enc_field(3, node) + W.enc_field(4, b"test")
            + W.enc_field(6, token) + W.enc_field(7, 12345) + W.enc_field(8, 1000))


def hostile_conn(t, x, label, first, then=None, half_close=False):
    """Connect, send FIRST; if THEN is given, expect a Welcome and send THEN; with
    HALF_CLOSE shut the writing side (EOF inside a frame). Returns (closed by the
    collector?, the Error frame's (code, message) or None)."""
    s = socket.create_connection(("127.0.0.1", x.port), timeout=5)
    try:
        s.sendall(first)
        if then is not None:
            welcome = read_one_frame(s)
            t.check(welcome is not None and W.first(welcome, 3) is not None,
                    "hostile %s: the hand-made agent Hello is answered with Welcome" % label, "got %s" % welcome)
            s.sendall(then)
        elif half_close:
            s.shutdown(socket.SHUT_WR)
        frames, closed = read_frames_until_eof(s)
    finally:
        s.close()
    return closed, error_of(frames)


def check_hostile(t, x):
    """5. Every kind of bad input the collector refuses, each on its own connection,
    while the real agents stay connected; a bad Query is answered with an Error and
    the connection goes on. An idle connection is left open for the hello timeout."""
    m0 = scrape(x.http)
    log0 = len(x.col.lines())
    sess0 = {n: m0.get("nsnet_agent_sessions_total", node=n) for n in (NODE_A, NODE_B)}
    x.idle = socket.create_connection(("127.0.0.1", x.port), timeout=5)
    x.idle_t = time.monotonic()
    x.idle_m = m0
    bogus_id = W.enc_field(1, W.enc_field(1, 987654321) + W.enc_field(2, 4) + W.enc_field(3, 4026531111))
    cases = (
        # label, reason, Error code (1 PROTOCOL, 3 VERSION), bytes, bytes after a Welcome
        ("garbage", "decode", 1, struct.pack(">I", 16) + b"\xff" * 16, None),
        ("truncated", "decode", 1, struct.pack(">I", 100) + b"\x08" * 10, None),
        ("0xFFFFFFF0 length", "oversize", 1, struct.pack(">I", 0xFFFFFFF0) + b"\0" * 64, None),
        ("snapshot before hello", "unexpected", 1, frame_bytes(1, 6, bogus_id), None),
        ("protocol_version 2", "version", 3, frame_bytes(1, 2, agent_hello(version=2)), None),
        ("hello with role 0", "hello", 1, frame_bytes(1, 2, agent_hello(role=0)), None),
        # A zero-length frame is legal and ignored; then a sequence gap (3 after 1).
        ("sequence gap", "sequence", 1, b"\0\0\0\0" + frame_bytes(1, 2, agent_hello()),
         frame_bytes(3, 9, W.enc_field(1, 1) + W.enc_field(3, 1))),
        ("delta for an unknown namespace", "store", 1, frame_bytes(1, 2, agent_hello()),
         frame_bytes(2, 7, bogus_id)),
    )
    want = {}
    for label, reason, code, first, then in cases:
        want[reason] = want.get(reason, 0) + 1
        closed, err = hostile_conn(t, x, label, first, then, half_close=label == "truncated")
        t.check(closed and err is not None and err[0] == code,
                "hostile %s: Error code %d, then the collector closes (reason %s)" % (label, code, reason),
                "closed %s, error %r" % (closed, err))
        if err:
            t.note("%s: %s" % (label, err[1]))
    x.hostile_t = time.monotonic()

    # A Query whose arguments do not parse: an Error of code QUERY in a last
    # QueryResponse; the connection stays and answers the next query.
    s = socket.create_connection(("127.0.0.1", x.port), timeout=5)
    s.sendall(frame_bytes(1, 2, W.enc_field(1, 1) + W.enc_field(2, 2) + W.enc_field(6, TOKEN.encode())))
    welcome = read_one_frame(s)
    s.sendall(frame_bytes(2, 10, W.enc_field(1, 7) + W.enc_field(2, b"--no-such-option")))
    r1 = read_one_frame(s)
    resp = W.fields(W.first(r1, 11, b"")) if r1 else []
    qerr = W.fields(W.first(resp, 5, b"")) if resp else []
    t.check(welcome is not None and W.first(welcome, 3) is not None and W.first(resp, 1) == 7
            and W.first(resp, 4) == 1 and W.first(qerr, 1) == 4,
            "raw Query with args [--no-such-option]: a last QueryResponse with Error code QUERY",
            "welcome %s, response %s, error %s" % (welcome, resp, qerr))
    if qerr:
        t.note("bad query: %s" % W.first(qerr, 2, b"").decode(errors="replace"))
    s.sendall(frame_bytes(3, 10, W.enc_field(1, 8) + W.enc_field(2, b"-tn") + W.enc_field(3, NODE_A.encode())))
    got_last, nodes = False, set()
    s.settimeout(10)
    while not got_last:
        fr = read_one_frame(s, 10)
        if fr is None:
            break
        resp = W.fields(W.first(fr, 11, b""))
        ni = W.fields(W.first(resp, 2, b""))
        if W.first(ni, 1):
            nodes.add(W.first(ni, 1).decode())
        got_last = W.first(resp, 4) == 1 and W.first(resp, 1) == 8
    s.close()
    t.check(got_last and nodes == {NODE_A}, "the same connection then answers a good query (node a only)",
            "last %s, nodes %s" % (got_last, nodes))

    m1 = scrape(x.http)
    # The bad query's frame is rejected too (with an answer; the connection stays).
    want_frames = dict(want, query=want.get("query", 0) + 1)
    for reason in REASONS:
        d = (m1.get("nsnet_collector_frames_rejected_total", reason=reason) or 0) - \
            (m0.get("nsnet_collector_frames_rejected_total", reason=reason) or 0)
        t.check(d == want_frames.get(reason, 0),
                "hostile: frames_rejected_total{reason=%s} +%d" % (reason, want_frames.get(reason, 0)),
                "got +%s" % d)
    delta = lambda name, **lab: (m1.get(name, **lab) or 0) - (m0.get(name, **lab) or 0)  # noqa: E731
    t.check(delta("nsnet_collector_query_errors_total") == 1 and delta("nsnet_collector_queries_total") == 2,
            "bad query: query_errors_total +1, queries_total +2",
            "query_errors +%s, queries +%s" % (delta("nsnet_collector_query_errors_total"),
                                               delta("nsnet_collector_queries_total")))
    t.check(delta("nsnet_collector_auth_failures_total") == 0, "hostile: auth_failures_total unchanged")
    n_conns = len(cases) + 2  # and the query connection and the idle one
    t.check(delta("nsnet_collector_connections_accepted_total") == n_conns,
            "hostile: connections_accepted_total +%d" % n_conns,
            "got +%s" % delta("nsnet_collector_connections_accepted_total"))
    t.check(m1.get("nsnet_collector_connections", role="agent") == 2,
            "hostile: nsnet_collector_connections{role=agent} is 2 again (the real agents)",
            "got %s" % m1.get("nsnet_collector_connections", role="agent"))
    rejected = [ln for ln in x.col.lines()[log0:] if "event=conn_rejected" in ln]
    by_reason = {}
    for ln in rejected:
        m = re.search(r"\breason=(\w+)", ln)
        by_reason[m.group(1) if m else "?"] = by_reason.get(m.group(1) if m else "?", 0) + 1
    t.check(by_reason == want, "hostile: one event=conn_rejected log line per connection, with its reason",
            "log %s, want %s" % (by_reason, want))
    for n in (NODE_A, NODE_B):
        t.check(m1.get("nsnet_agent_up", node=n) == 1 and m1.get("nsnet_agent_sessions_total", node=n) == sess0[n],
                "hostile: %s stays up in its first session" % n,
                "up %s, sessions %s -> %s" % (m1.get("nsnet_agent_up", node=n), sess0[n],
                                               m1.get("nsnet_agent_sessions_total", node=n)))
    doc = x.cli.doc(["--json", "-tuan"])
    for node in (NODE_A, NODE_B):
        nd = node_of(doc, node)
        ns = by_inode(nd["namespaces"]) if nd else {}
        t.check(all(len((ns.get(v["inode"]) or {}).get("sockets") or []) == v["total"] for v in x.ns.values()),
                "after the hostile connections: queries still answer %s with the test namespaces" % node,
                "nodes %s" % node_names(doc))


ODD_NAME = b'nsnt-"odd\\\nname\xff\xfe'           # a quote, a backslash, a newline, not UTF-8
ODD_TEXT = 'nsnt-"odd\\\nname\ufffd\ufffd'        # as JSON and label values must carry it


def prom_escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def check_odd_node(t, x):
    """A node named with a quote, a backslash, a newline and bytes that are not UTF-8
    (an agent with the token may say anything): it stays connected through the
    /metrics and Prometheus checks, so those see its escaped label."""
    x.odd = socket.create_connection(("127.0.0.1", x.port), timeout=5)
    x.odd.sendall(frame_bytes(1, 2, agent_hello(node=ODD_NAME)))
    welcome = read_one_frame(x.odd)
    x.odd.sendall(frame_bytes(2, 9, W.enc_field(1, 1) + W.enc_field(2, now_ms()) + W.enc_field(3, 1)))
    acks = []  # the Hello may be acknowledged on its own first
    while 2 not in acks:
        fr = read_one_frame(x.odd)
        if fr is None or W.first(fr, 4) is None:
            break
        acks.append(W.first(W.fields(W.first(fr, 4)), 1, 0))
    t.check(welcome is not None and W.first(welcome, 3) is not None and acks and acks[-1] == 2,
            "odd node name: Welcome, and Ack 2 for an empty full scan", "welcome %s acks %s" % (welcome, acks))
    rc, out, err, doc = x.cli.run(["--json", "-tn"])
    nd = node_of(doc, ODD_TEXT) if doc else None
    t.check(nd is not None and nd.get("namespaces") == [] and nd.get("connected") is True,
            "odd node name: JSON carries it (invalid bytes as U+FFFD), connected, no namespaces",
            "exit %d, nodes %r, %s" % (rc, node_names(doc) if doc else None, err))


def check_hello_timeout(t, x):
    """A connection that never says hello is closed after 10 s (reason timeout)."""
    x.idle.settimeout(max(0.5, x.idle_t + 14 - time.monotonic()))
    try:
        data = x.idle.recv(65536)
        frames = []
        while data:
            frames.append(data)
            data = x.idle.recv(65536)
        closed = True
    except socket.timeout:
        closed = False
    except ConnectionResetError:
        closed = True
    took = time.monotonic() - x.idle_t
    x.idle.close()
    m = scrape(x.http)
    d = (m.get("nsnet_collector_frames_rejected_total", reason="timeout") or 0) - \
        (x.idle_m.get("nsnet_collector_frames_rejected_total", reason="timeout") or 0)
    t.check(closed and 9.5 <= took <= 13.5 and d == 1,
            "a connection without hello is closed after ~10 s, frames_rejected{reason=timeout} +1",
            "closed %s after %.1f s, timeout +%s" % (closed, took, d))


def scan_backend(daemon):
    """The backend the agent's first scan line names ("bpf" or "netlink"), or None."""
    m = re.search(r"\bbackend=(\S+)", daemon.wait_log("event=scan ", 5) or "")
    return m.group(1) if m else None


def backend_series(m, node):
    """{backend label: value} of the node's nsnet_agent_backend_info series."""
    return {dict(ls).get("backend"): v for (n, ls), v in m.samples.items()
            if n == "nsnet_agent_backend_info" and ("node", node) in ls}


def check_metrics(t, x):
    """7. /metrics is lint-clean for the real promtool; /healthz is 200 JSON; the
    contract's families and the fixture's numbers are there."""
    q0 = scrape(x.http).get("nsnet_collector_queries_total") or 0
    x.cli.doc(["--json", "-tn"])
    code, ctype, body = http_get(x.http, "/metrics")
    t.check(code == 200 and ctype.startswith("text/plain") and "version=0.0.4" in ctype,
            "/metrics: 200, text/plain; version=0.0.4", "HTTP %d, Content-Type %r" % (code, ctype))
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
        t.check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
                "promtool check metrics: exit 0, no output (%d lines checked)" % len(body.splitlines()),
                "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    else:
        t.check(False, "promtool check metrics",
                "promtool not found: apt-get install prometheus (scripts/install-deps.sh installs it)")
    m = Metrics(body)
    missing = [f for f in CONTRACT_FAMILIES if f not in m.families]
    t.check(not missing, "/metrics has every contract family (%d)" % len(CONTRACT_FAMILIES), "missing %s" % missing)
    for node in (NODE_A, NODE_B):
        for v in x.ns.values():
            lab = dict(node=node, netns=v["name"], pod="")
            got = (m.get("nsnet_listening_sockets", proto="tcp", **lab), m.get("nsnet_listening_sockets", proto="udp", **lab),
                   m.get("nsnet_sockets", proto="tcp", state="established", **lab), m.sum("nsnet_sockets", **lab))
            want = (v["nlisten"], 1, 2, v["total"])
            t.check(got == want, "/metrics %s %s: listening tcp, udp, established, all sockets = %s"
                    % (node, v["name"], want), "got %s" % (got,))
            t.check(m.get("nsnet_interface_receive_bytes_total", interface="lo", **lab) is not None,
                    "/metrics %s %s: lo's interface counters" % (node, v["name"]))
        t.check(m.get("nsnet_agent_up", node=node) == 1 and (m.get("nsnet_agent_lag_seconds", node=node) or 99) < 10
                and m.get("nsnet_agent_last_seen_timestamp_seconds", node=node) is not None,
                "/metrics: %s up, lag below 10 s, last seen" % node,
                "up %s lag %s" % (m.get("nsnet_agent_up", node=node), m.get("nsnet_agent_lag_seconds", node=node)))
        want = scan_backend(x.agents[node])
        got = backend_series(m, node)
        t.check(want in ("bpf", "netlink") and got == {want: 1},
                "/metrics: nsnet_agent_backend_info{node=%s,backend=%s} 1, its agent's scans' backend" % (node, want),
                "agent's scan line says %r, series %s" % (want, got))
        got = (m.get("nsnet_agent_records_dropped_total", node=node, reason="bpf_ring_full"),
               m.get("nsnet_agent_bpf_chains_capped_total", node=node))
        t.check(got == (0, 0), "/metrics %s: records_dropped_total{reason=bpf_ring_full} and "
                "bpf_chains_capped_total present, 0" % node, "got %s" % (got,))
    odd = prom_escape(ODD_TEXT)
    got = (backend_series(m, odd), m.get("nsnet_agent_records_dropped_total", node=odd, reason="bpf_ring_full"),
           m.get("nsnet_agent_bpf_chains_capped_total", node=odd))
    t.check(got == ({}, 0, 0), "/metrics: the odd node's ScanDone without a backend (an older agent's): "
            "no nsnet_agent_backend_info series, BPF drop counters 0", "got %s" % (got,))
    t.check((m.get("nsnet_collector_queries_total") or 0) == q0 + 1 and (m.get("nsnet_collector_frames_received_total") or 0) > 0
            and (m.get("nsnet_collector_received_bytes_total") or 0) > 0,
            "/metrics: one query counts 1 in queries_total; frames and bytes received are counted",
            "queries %s -> %s, frames %s, bytes %s" % (q0, m.get("nsnet_collector_queries_total"),
                                               m.get("nsnet_collector_frames_received_total"),
                                               m.get("nsnet_collector_received_bytes_total")))
    t.check(m.get("nsnet_agent_up", node=prom_escape(ODD_TEXT)) is not None,
            "/metrics: the odd node's label is escaped (\\\\, \\\", \\n) and made UTF-8",
            [ln for ln in body.splitlines() if "odd" in ln][:3])
    code, ctype, body = http_get(x.http, "/healthz")
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    t.check(code == 200 and isinstance(doc, dict), "/healthz: 200 with a JSON object", "HTTP %d: %r" % (code, body[:300]))
    code, _, _ = http_get(x.http, "/nope")
    t.check(code == 404, "/nope: 404", "got %d" % code)


def check_http_query(t, x):
    """7b. GET /query: the token guards it as it guards --listen (401 without it or with
    a wrong one, counted); with it, the document nsnetstat --collector --json prints;
    400 for bad arguments, 404 for an unknown node."""
    path = "/query?" + urllib.parse.urlencode([("arg", "-tn"), ("arg", "-a"), ("node", NODE_A)])
    for label, hdr in (("no Authorization", {}), ("a wrong token", {"Authorization": "Bearer not-the-token"}),
                       ("Basic instead of Bearer", {"Authorization": "Basic " + TOKEN})):
        a0 = scrape(x.http).get("nsnet_collector_auth_failures_total") or 0
        code, _, body, hs = http_get(x.http, path, headers=hdr, want_headers=True)
        a1 = scrape(x.http).get("nsnet_collector_auth_failures_total") or 0
        t.check(code == 401 and "Bearer" in (hs.get("WWW-Authenticate") or "") and "nodes" not in body
                and a1 == a0 + 1, "/query with %s: 401, WWW-Authenticate: Bearer, no data, auth failure counted" % label,
                "HTTP %d %r, failures %s -> %s" % (code, body[:200], a0, a1))
    auth = {"Authorization": "Bearer " + TOKEN}
    for _ in range(5):
        cli = x.cli.doc(["--json", "-tn", "-a"], nodes=[NODE_A])
        code, ctype, body = http_get(x.http, path, headers=auth)
        try:
            doc = json.loads(body) if code == 200 else None
        except ValueError:
            doc = None
        if doc is None:
            break
        got = {ino: canon_socks(ns) for ino, ns in by_inode(node_of(doc, NODE_A)["namespaces"]).items() if ino in x.mine}
        want = {ino: canon_socks(ns) for ino, ns in by_inode(node_of(cli, NODE_A)["namespaces"]).items() if ino in x.mine}
        if got == want:
            break
    t.check(doc is not None and ctype.startswith("application/json") and node_names(doc) == [NODE_A] and got == want
            and len(got) == len(x.mine),
            "/query with the token: the test namespaces' sockets equal nsnetstat --collector --json -tn -a --node",
            "HTTP %d %r" % (code, body[:300]))
    code, _, body = http_get(x.http, "/query?arg=--bogus", headers=auth)
    t.check(code == 400 and "--bogus" in body, "/query?arg=--bogus: 400 naming it", "HTTP %d %r" % (code, body[:200]))
    code, _, body = http_get(x.http, "/query?node=no-such-node", headers=auth)
    t.check(code == 404, "/query?node=no-such-node: 404", "HTTP %d %r" % (code, body[:200]))


def promql(port, query):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": query}))
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.loads(r.read())
    if doc.get("status") != "success":
        raise AssertionError("PromQL %s: %s" % (query, doc))
    return [(res["metric"], float(res["value"][1])) for res in doc["data"]["result"]]


def check_prometheus(t, x):
    """8. A real Prometheus scrapes the collector; PromQL gives the fixture's numbers."""
    if x.prom is None:
        return  # "prometheus is installed" has failed already
    t_ready = time.time()
    end = time.monotonic() + 25
    last = "no answer"
    scraped = False
    while time.monotonic() < end:
        if x.prom.p.poll() is not None:
            last = "prometheus exited %d" % x.prom.p.returncode
            break
        try:
            res = promql(x.prom_port, 'timestamp(up{job="nsnet"} == 1)')
            if res and res[0][1] > t_ready + 0.05:
                scraped = True
                break
            last = "result %s" % res
        except (OSError, ValueError, AssertionError) as ex:
            last = str(ex)
        time.sleep(0.3)
    if not t.check(scraped, "Prometheus scraped the collector's /metrics (up == 1) after the nodes were synced",
                   "%s\nprometheus log:\n%s" % (last, x.prom.tail())):
        return
    for v in x.ns.values():
        q = 'nsnet_listening_sockets{node="%s",netns="%s",proto="tcp"}' % (NODE_A, v["name"])
        res = promql(x.prom_port, q)
        t.check([val for _, val in res] == [v["nlisten"]], "PromQL %s == %d" % (q, v["nlisten"]), "got %s" % res)
        q = 'sum by (node) (nsnet_sockets{netns="%s"})' % v["name"]
        res = {m.get("node"): val for m, val in promql(x.prom_port, q)}
        t.check(res == {NODE_A: v["total"], NODE_B: v["total"]}, "PromQL %s == %d per node" % (q, v["total"]),
                "got %s" % res)
    one = x.ns["one"]
    q = 'nsnet_sockets{netns="%s",proto="tcp",state="established"}' % one["name"]
    res = sorted((m.get("node"), val) for m, val in promql(x.prom_port, q))
    t.check(res == [(NODE_A, 2), (NODE_B, 2)], "PromQL %s == 2 on each node" % q, "got %s" % res)
    q = 'sum by (proto) (nsnet_listening_sockets{node="%s",netns=~"%s|%s"})' % (NODE_B, one["name"], x.ns["two"]["name"])
    res = {m.get("proto"): val for m, val in promql(x.prom_port, q)}
    want = {"tcp": sum(v["nlisten"] for v in x.ns.values()), "udp": len(x.ns)}
    t.check(res == want, "PromQL %s == %s" % (q, want), "got %s" % res)
    q = 'nsnet_agent_up'
    res = {m.get("node"): val for m, val in promql(x.prom_port, q)}
    t.check(res.get(NODE_A) == 1 and res.get(NODE_B) == 1, "PromQL nsnet_agent_up is 1 for both nodes", "got %s" % res)
    t.check(ODD_TEXT in res, "Prometheus ingested the odd node's label value exactly", "nodes %r" % sorted(res))
    q = 'nsnet_agent_backend_info'
    res = sorted((m.get("node"), m.get("backend"), val) for m, val in promql(x.prom_port, q))
    want = sorted((n, scan_backend(x.agents[n]), 1) for n in (NODE_A, NODE_B))
    t.check(res == want, "PromQL %s: one series per agent, its scans' backend" % q, "got %s, want %s" % (res, want))


def wait_hostile_forgotten(t, x):
    """The hand-made agents' nodes (one whose frames were rejected, the odd one, closed
    now) are forgotten after --forget-after like any other."""
    # By now the odd node has been silent for longer than --stale-after.
    rc, out, err, doc = x.cli.run(["--json", "-tn"])
    nd = node_of(doc, ODD_TEXT) if doc else None
    t.check(nd is not None and nd.get("stale") is True and len(err) == 1 and err[0].startswith("nsnetstat: node ")
            and "is stale" in err[0],
            "odd node stale: its stderr warning is one 'nsnetstat: node ... is stale' line",
            "exit %d, stale %s, stderr %r" % (rc, nd.get("stale") if nd else None, err))
    x.odd.close()
    end = max(x.hostile_t + FORGET_AFTER + SWEEP_SLACK + 2, time.monotonic() + SWEEP_SLACK + 1)
    names = None
    while True:
        doc = x.cli.doc(["--json", "-tn"])
        names = node_names(doc)
        if ("nsnt-hostile" not in names and ODD_TEXT not in names) or time.monotonic() > end:
            break
        time.sleep(0.3)
    t.check("nsnt-hostile" not in names and ODD_TEXT not in names,
            "the hand-made agents' nodes are forgotten after --forget-after",
            "nodes %r %.1f s after" % (names, time.monotonic() - x.hostile_t))


def check_stale_forget(t, x):
    """6. Agent b killed: stale, then forgotten."""
    m0 = scrape(x.http)
    f0 = m0.get("nsnet_collector_nodes_forgotten_total") or 0
    ag = x.agents[NODE_B]
    ag.p.send_signal(signal.SIGKILL)
    ag.p.wait(timeout=10)
    t_kill = time.monotonic()

    # Right after: still there, not stale yet.
    rc, _, err, doc = x.cli.run(["--json", "-tn"], [NODE_B])
    nd = node_of(doc, NODE_B) if doc else None
    early = time.monotonic() - t_kill
    if early < STALE_AFTER - 1.0:
        t.check(nd is not None and nd.get("stale") is False,
                "agent b killed: %.1f s later node b is still there and not stale" % early,
                "exit %d, %s, %s" % (rc, json.dumps(nd)[:300] if nd else None, err))

    stale_doc = stale_err = None
    stale_at = None
    while time.monotonic() - t_kill < STALE_AFTER + SWEEP_SLACK + 1.5:
        rc, _, err, doc = x.cli.run(["--json", "-tuan"])
        nd = node_of(doc, NODE_B) if doc else None
        if nd and nd.get("stale") is True:
            stale_doc, stale_err, stale_at = doc, err, time.monotonic() - t_kill
            break
        time.sleep(0.25)
    if not t.check(stale_doc is not None and stale_at <= STALE_AFTER + SWEEP_SLACK,
                   "node b is \"stale\": true within --stale-after %d s + %.0f s" % (STALE_AFTER, SWEEP_SLACK),
                   "stale after %s s; last: exit %d %s %s" % (stale_at, rc, json.dumps(nd)[:400] if nd else None, err)):
        if stale_doc is None:
            return
    t.note("node b stale %.1f s after SIGKILL" % stale_at)
    nb, na = node_of(stale_doc, NODE_B), node_of(stale_doc, NODE_A)
    t.check(nb.get("connected") is False and na is not None and na.get("stale") is False and na.get("connected") is True,
            "stale answer: b connected=false, a stale=false connected=true",
            "b %s a %s" % ({k: nb.get(k) for k in ("stale", "connected")},
                           {k: na.get(k) for k in ("stale", "connected")} if na else None))
    lines = [ln for ln in stale_err if ln.startswith("nsnetstat: node %s is stale: " % NODE_B)]
    t.check(len(lines) == 1 and len(stale_err) == 1,
            "stderr has one line 'nsnetstat: node %s is stale: ...'" % NODE_B, "stderr %r" % stale_err)
    # The stale node's last known namespaces are still answered.
    ns = by_inode(nb.get("namespaces") or [])
    t.check(all(v["inode"] in ns for v in x.ns.values()), "the stale node still answers its last known namespaces",
            "namespaces %s" % sorted(ns))
    m = scrape(x.http)
    t.check(m.get("nsnet_agent_up", node=NODE_B) == 0 and m.get("nsnet_agent_up", node=NODE_A) == 1
            and m.get("nsnet_collector_nodes", state="stale") == 1 and m.get("nsnet_collector_nodes", state="up") == 1,
            "metrics: nsnet_agent_up{b} 0, {a} 1; nsnet_collector_nodes stale 1, up 1",
            "up b %s a %s, nodes stale %s up %s" % (m.get("nsnet_agent_up", node=NODE_B), m.get("nsnet_agent_up", node=NODE_A),
                                                    m.get("nsnet_collector_nodes", state="stale"),
                                                    m.get("nsnet_collector_nodes", state="up")))

    # Forgotten after --forget-after, not (much) before.
    last_present = None
    names = None
    while time.monotonic() - t_kill < FORGET_AFTER + SWEEP_SLACK + 3:
        doc = x.cli.doc(["--json", "-tn"])
        names = node_names(doc)
        if NODE_B not in names:
            break
        last_present = time.monotonic() - t_kill
        time.sleep(0.25)
    gone_at = time.monotonic() - t_kill
    t.check(NODE_B not in names and gone_at <= FORGET_AFTER + SWEEP_SLACK + 1,
            "node b forgotten within --forget-after %d s + %.0f s" % (FORGET_AFTER, SWEEP_SLACK),
            "nodes %s after %.1f s" % (names, gone_at))
    t.check(last_present is not None and last_present >= FORGET_AFTER - 2,
            "node b was held (stale) until shortly before --forget-after", "last seen in an answer at %s s" % last_present)
    t.note("node b forgotten %.1f s after SIGKILL" % gone_at)
    t.check(names == [NODE_A], "after forgetting: nodes is [a] only", "nodes %s" % names)
    m = scrape(x.http)
    t.check(m.get("nsnet_collector_nodes_forgotten_total") == f0 + 1 and m.get("nsnet_agent_up", node=NODE_B) is None
            and m.sum("nsnet_sockets", node=NODE_B) == 0,
            "metrics: nodes_forgotten_total +1 (to %d), no series of node b left" % (f0 + 1),
            "forgotten %s -> %s, agent_up{b} %s" % (f0, m.get("nsnet_collector_nodes_forgotten_total"),
                                                     m.get("nsnet_agent_up", node=NODE_B)))
    rc, _, err, _ = x.cli.run(["--json", "-tn"], [NODE_B])
    t.check(rc != 0 and len(err) == 1 and NODE_B in err[0],
            "--node %s after it was forgotten: non-zero, one line naming it" % NODE_B,
            "exit %d, %r" % (rc, err))


def check_sigterm(t, x):
    """9. SIGTERM: exit 0, quickly, with agent a still connected."""
    t0 = time.monotonic()
    x.col.p.send_signal(signal.SIGTERM)
    try:
        rc = x.col.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - t0
    t.check(rc == 0 and took < 2.0, "SIGTERM: the collector exits 0 within 2 s",
            "exit %r after %.2f s; log:\n%s" % (rc, took, x.col.tail()))
    split = [ln for ln in x.col.lines() if not ln.startswith("ts=")]
    t.check(not split, "the collector's log is one ts=... line per event (node names quoted)",
            "lines not starting with ts=:\n" + "\n".join(repr(ln) for ln in split[:6]))
    bad = [ln for ln in x.col.lines() if SANITIZER_RE.search(ln)]
    t.check(not bad, "the collector's log has no sanitizer report", "\n".join(bad[:10]))
    t.check(not x.cli.sanitizer, "no sanitizer report from any nsnetstat --collector run",
            "\n".join(x.cli.sanitizer[:10]))
    # Agent a, whose collector just went away: SIGTERM, exit 0 (its own contract).
    ag = x.agents[NODE_A]
    ag.p.send_signal(signal.SIGTERM)
    try:
        rc = ag.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = None
    bad = [ln for a in x.agents.values() for ln in a.lines() if SANITIZER_RE.search(ln)]
    t.check(rc == 0 and not bad, "agent a exits 0 on SIGTERM; no sanitizer report in the agents' logs",
            "exit %r\n%s" % (rc, "\n".join(bad[:10])))


def main():
    if len(sys.argv) != 4:
        print("usage: test_collector.py NSNET_COLLECTOR NSNET_AGENT NSNETSTAT", file=sys.stderr)
        return 2
    collector_bin, agent_bin, nsnetstat = sys.argv[1:4]
    L.require_root(tools=("ip",))
    t = Tap()
    world = L.World()
    t0 = time.monotonic()
    x = None
    try:
        for tool in ("promtool", "prometheus"):
            t.check(shutil.which(tool) is not None, "%s is installed" % tool,
                    "%s not found: apt-get install prometheus (scripts/install-deps.sh installs it)" % tool)
        x = setup(t, world, collector_bin, agent_bin, nsnetstat)
        check_world(t, x, nsnetstat)
        if not wait_synced(t, x):
            return t.finish()
        check_hostile(t, x)
        check_odd_node(t, x)
        check_auth(t, x, world, agent_bin)
        check_metrics(t, x)
        check_http_query(t, x)
        check_prometheus(t, x)
        for node in (NODE_A, NODE_B):
            compare_node(t, x, nsnetstat, node)
        check_selection(t, x, nsnetstat)
        wait_hostile_forgotten(t, x)
        check_all_nodes(t, x, nsnetstat)
        check_hello_timeout(t, x)
        check_stale_forget(t, x)
        check_sigterm(t, x)
    except Exception:  # noqa: BLE001  (any failure is a failed check, after cleanup)
        t.check(False, "the test ran to its end", traceback.format_exc())
        if x is not None and hasattr(x, "col"):
            t.note("collector log:\n" + x.col.tail(30).replace("\n", "\n# "))
    finally:
        if x is not None and x.prom is not None and x.prom.p.poll() is None:
            x.prom.p.send_signal(signal.SIGTERM)
            try:
                x.prom.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    t.note("runtime %.1f s" % (time.monotonic() - t0))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
