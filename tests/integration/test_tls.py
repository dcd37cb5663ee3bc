#!/usr/bin/env python3
"""nsnet-collector, nsnet-agent and nsnetstat --collector over mutual TLS.

Certificates are made here with the openssl CLI: a CA; the collector's for 127.0.0.1;
one per node for the agents (identity = node name); a query client's; one of another
CA; an expired one; the collector's for the wrong host; a "DaemonSet" one that
--tls-agent-any-node lets speak for any node.

1. A TLS collector (with --token-file too) and two real agents with their per-node
   certificates: each node's view through `nsnetstat --collector` over TLS equals the
   local view (test_collector.py's compare_node); the agents log tls=TLSv1.3, the
   collector each agent's identity and the query client's.
2. Refused, each with one clear line on the client's side, a log line on the
   collector's and counted (frames_rejected_total{reason="tls"} unless noted): no client
   certificate, a client certificate of another CA, an expired one (an agent), an agent
   certificate of node X saying Hello for node Y (reason="auth", auth_failures_total,
   event=identity_mismatch; the node never appears), a plaintext client on the TLS port,
   a TLS client on a plaintext collector, the collector's certificate for the wrong
   host (nsnetstat and an agent; --tls-server-name with the right name then works).
   The token is still required over TLS. A certificate of the --tls-agent-any-node
   identity speaks for a node of another name.
3. Startup: a TCP address with neither the TLS files nor --plaintext, an incomplete set,
   a missing file, a file that is not PEM, a key of another certificate, TLS on a unix
   socket: exit 2 and one line naming the flag or file, for all three binaries.
4. The wire, through a raw TCP proxy that keeps every byte: TLS records only, and
   neither the token, nor the node's name, nor a namespace name, in either direction
   (a query's and an agent's); the same proxy in front of the plaintext collector does
   see the token (so the check can see anything at all).
5. No sanitizer report in any log; SIGTERM: the collectors and agents exit 0.

Notes the time of a query (connect, handshake, hello, answer) with TLS and without.

Prints one TAP line per check; exits 1 if any failed, 77 when not root.

usage: test_tls.py NSNET_COLLECTOR NSNET_AGENT NSNETSTAT
"""

import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
sys.path.insert(0, HERE)
import nsntlib as L  # noqa: E402
import standin as W  # noqa: E402  (hand-rolled nsnet.v1 encoding)
import test_collector as C  # noqa: E402  (Tap, Daemon, Cli, /metrics, make_world, compare_node)

NODE_A, NODE_B = C.NODE_A, C.NODE_B
TOKEN = C.TOKEN
ANY = "nsnt-daemonset"  # the collector's --tls-agent-any-node
NEEDS = "needs --tls-cert/--tls-key/--tls-ca, or --plaintext"


# ---- certificates (openssl CLI) -------------------------------------------------

def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


class Certs:
    """NAME.crt and NAME.key in one directory."""

    def __init__(self, d):
        self.d = d

    def path(self, name, ext):
        return os.path.join(self.d, "%s.%s" % (name, ext))

    def _key(self, name):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.path(name, "key"))

    def ca(self, name):
        self._key(name)
        openssl("req", "-x509", "-new", "-key", self.path(name, "key"), "-out", self.path(name, "crt"), "-days", "30",
                "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(self, name, ca, cn, san, eku, expired=False):
        self._key(name)
        csr, ext = self.path(name, "csr"), self.path(name, "ext")
        openssl("req", "-new", "-key", self.path(name, "key"), "-subj", "/CN=" + cn, "-out", csr)
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=%s\nsubjectAltName=%s\n" % (eku, san))
        if not expired:
            openssl("x509", "-req", "-in", csr, "-CA", self.path(ca, "crt"), "-CAkey", self.path(ca, "key"),
                    "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30", "-extfile", ext,
                    "-out", self.path(name, "crt"))
            return
        # OpenSSL 3.0's x509 cannot backdate: `openssl ca` can (a throwaway database).
        db = os.path.join(self.d, "ca-db-" + name)
        os.mkdir(db)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("1000\n")
        cnf = os.path.join(db, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\nnew_certs_dir=%s\nserial=%s/serial\n"
                    "default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" % (db, db, db))
        openssl("ca", "-batch", "-config", cnf, "-cert", self.path(ca, "crt"), "-keyfile", self.path(ca, "key"),
                "-in", csr, "-out", self.path(name, "crt"), "-startdate", "20200101000000Z",
                "-enddate", "20200102000000Z", "-extfile", ext, "-notext")

    def flags(self, name, ca="ca"):
        return ["--tls-cert", self.path(name, "crt"), "--tls-key", self.path(name, "key"),
                "--tls-ca", self.path(ca, "crt")]


def make_certs(d):
    c = Certs(d)
    c.ca("ca")
    c.ca("other-ca")
    c.leaf("collector", "ca", "nsnt-collector", "IP:127.0.0.1", "serverAuth")
    c.leaf("wrong-host", "ca", "nsnt-elsewhere", "DNS:elsewhere.example,IP:10.255.255.1", "serverAuth")
    for n in (NODE_A, NODE_B, "nsnt-node-exp"):
        c.leaf(n, "ca", n, "DNS:" + n, "clientAuth", expired=n.endswith("-exp"))
    c.leaf("query", "ca", "nsnt-query", "DNS:nsnt-query", "clientAuth")
    c.leaf("daemonset", "ca", ANY, "DNS:" + ANY, "clientAuth")
    c.leaf("stranger", "other-ca", "nsnt-query", "DNS:nsnt-query", "clientAuth")
    with open(os.path.join(d, "garbage.pem"), "w") as f:
        f.write("not a certificate\n")
    return c


# ---- processes ----------------------------------------------------------------------

def collector(world, x, binary, label, conn_args, extra=()):
    d = C.Daemon(world, [binary, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--token-file", x.token]
                 + list(conn_args) + list(extra), os.path.join(x.tmp, "collector-%s.log" % label))
    d.port = C.port_of(d.wait_log("event=listening", 10))
    d.http = C.port_of(d.wait_log("event=http_listening", 10))
    if not d.port or not d.http:
        raise RuntimeError("collector %s did not log its ports:\n%s" % (label, d.tail()))
    d.addr = "127.0.0.1:%d" % d.port
    x.daemons.append(d)
    return d


def agent(world, x, binary, addr, node, conn_args, label=None):
    d = C.Daemon(world, [binary, "--collector", addr, "--node", node, "--interval", "1", "--token-file", x.token]
                 + list(conn_args), os.path.join(x.tmp, "agent-%s.log" % (label or node)))
    x.daemons.append(d)
    return d


def cli(x, addr, conn_args, args, token=True):
    cmd = [x.nsnetstat, "--collector", addr] + list(conn_args) + (["--token-file", x.token] if token else [])
    r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
    x.cli_stderr.append(r.stderr)
    return r


def metric(d, name, **labels):
    return C.scrape(d.http).get(name, **labels) or 0


def new_line(d, start, needle, timeout=10):
    """The first line of d's log after line START containing NEEDLE."""
    end = time.monotonic() + timeout
    while True:
        for ln in d.lines()[start:]:
            if needle in ln:
                return ln
        if time.monotonic() > end:
            return None
        time.sleep(0.05)


class Proxy:
    """A raw TCP proxy to 127.0.0.1:PORT that keeps every byte, both ways."""

    def __init__(self, port):
        self.up, self.down = bytearray(), bytearray()
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.target = port
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                a, _ = self.srv.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        socks = [a, b]
        try:
            while socks:
                r, _, _ = select.select(socks, [], [], 60)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    other = b if s is a else a
                    if not data:
                        socks = []
                        break
                    with self.lock:
                        (self.up if s is a else self.down).extend(data)
                    other.sendall(data)
        except OSError:
            pass
        a.close()
        b.close()

    def close(self):
        self.srv.close()


# ---- checks ---------------------------------------------------------------------------

def check_startup(t, x, certs):
    """3. What is wrong with the TLS flags: exit 2 and one line, for every binary."""
    cf = certs.flags
    bins = (("nsnet-agent", x.agent_bin, ["--collector", "127.0.0.1:9"]),
            ("nsnet-collector", x.collector_bin, ["--listen", "127.0.0.1:0"]),
            ("nsnetstat", x.nsnetstat, ["--collector", "127.0.0.1:9"]))
    crt, key, ca = certs.path(NODE_A, "crt"), certs.path(NODE_A, "key"), certs.path("ca", "crt")
    for name, binary, addr in bins:
        flag = addr[0]
        cases = [
            ("TCP with neither TLS nor --plaintext", addr, [addr[1], NEEDS]),
            ("--tls-cert alone", addr + ["--tls-cert", crt], ["go together", "--tls-key and --tls-ca are missing"]),
            ("--plaintext with TLS", addr + ["--plaintext"] + cf(NODE_A), ["--plaintext", "exclude each other"]),
            ("a missing key file", addr + ["--tls-cert", crt, "--tls-key", "/nonexistent/k.pem", "--tls-ca", ca],
             ["--tls-key /nonexistent/k.pem: No such file or directory"]),
            ("a certificate that is not PEM", addr + ["--tls-cert", os.path.join(x.tmp, "certs", "garbage.pem"),
                                                      "--tls-key", key, "--tls-ca", ca],
             ["--tls-cert %s: " % os.path.join(x.tmp, "certs", "garbage.pem")]),
            ("the key of another certificate", addr + ["--tls-cert", crt, "--tls-key", certs.path(NODE_B, "key"),
                                                       "--tls-ca", ca],
             ["--tls-key %s: key values mismatch (not the key of --tls-cert %s)" % (certs.path(NODE_B, "key"), crt)]),
            ("a CA file without a certificate", addr + ["--tls-cert", crt, "--tls-key", key, "--tls-ca",
                                                        os.path.join(x.tmp, "certs", "garbage.pem")],
             ["--tls-ca %s: " % os.path.join(x.tmp, "certs", "garbage.pem")]),
            ("TLS on a unix socket", [flag, "unix:" + os.path.join(x.tmp, "u.sock")] + cf(NODE_A),
             ["a unix socket is guarded by its file permissions"]),
        ]
        for label, args, needles in cases:
            r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=20)
            x.cli_stderr.append(r.stderr)
            lines = r.stderr.strip().splitlines()
            t.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith(name + ": ")
                    and all(n in lines[0] for n in needles),
                    "%s, %s: exit 2 and one line naming %s" % (name, label, " and ".join(repr(n) for n in needles)),
                    "exit %d, stderr %r" % (r.returncode, r.stderr))
            if label.startswith("TCP") and lines:
                t.note(lines[0])
    r = subprocess.run([x.collector_bin, "--help"], capture_output=True, text=True, timeout=10)
    t.check(all(f in r.stdout for f in ("--tls-cert", "--tls-key", "--tls-ca", "--tls-agent-any-node",
                                        "--plaintext")), "nsnet-collector --help lists the TLS flags")


def refused_query(t, x, col, label, conn_args, want_client, want_log, reason="tls"):
    """nsnetstat --collector COL refused: exit 1, one line; COL logs and counts it."""
    m0 = C.scrape(col.http)
    log0 = len(col.lines())
    r = cli(x, col.addr, conn_args, ["--json", "-tln"])
    lines = r.stderr.strip().splitlines()
    t.check(r.returncode == 1 and len(lines) == 1 and not r.stdout
            and lines[0].startswith("nsnetstat: collector %s: " % col.addr) and want_client in lines[0],
            "%s: nsnetstat exits 1 with one line saying %r" % (label, want_client),
            "exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout[:200], r.stderr))
    if lines:
        t.note("%s: %s" % (label, lines[0]))
    ln = new_line(col, log0, "reason=%s" % reason)
    t.check(ln is not None and want_log in ln, "%s: the collector logs reason=%s with %r" % (label, reason, want_log),
            "log since:\n" + "\n".join(col.lines()[log0:]))
    m1 = C.wait_metric(col.http, lambda m: (m.get("nsnet_collector_frames_rejected_total", reason=reason) or 0)
                       > (m0.get("nsnet_collector_frames_rejected_total", reason=reason) or 0), 5)
    d = (m1.get("nsnet_collector_frames_rejected_total", reason=reason) or 0) - \
        (m0.get("nsnet_collector_frames_rejected_total", reason=reason) or 0)
    t.check(d == 1, "%s: frames_rejected_total{reason=%s} +1" % (label, reason), "got +%s" % d)
    return ln


def refused_agent(t, x, col, label, node, conn_args, want_agent, want_log, reason="tls"):
    """An agent refused: its log and COL's say why, COL counts it; the node never appears."""
    m0 = C.scrape(col.http)
    log0 = len(col.lines())
    ag = agent(x.world, x, x.agent_bin, col.addr, node, conn_args, label=label.replace(" ", "-"))
    got = ag.wait_log(want_agent, 15)
    t.check(got is not None, "%s: the agent logs %r" % (label, want_agent), "agent log:\n" + ag.tail(8))
    if got:
        t.note("%s: %s" % (label, got.split(" ", 2)[-1]))
    ln = new_line(col, log0, want_log)
    t.check(ln is not None, "%s: the collector logs %r" % (label, want_log), "log since:\n" + "\n".join(col.lines()[log0:]))
    ag.kill()
    m1 = C.scrape(col.http)
    d = (m1.get("nsnet_collector_frames_rejected_total", reason=reason) or 0) - \
        (m0.get("nsnet_collector_frames_rejected_total", reason=reason) or 0)
    t.check(d >= 1, "%s: frames_rejected_total{reason=%s} increases" % (label, reason), "got +%s" % d)
    t.check(m1.get("nsnet_agent_up", node=node) is None, "%s: node %s never appears" % (label, node))
    return m0, m1


def check_refusals(t, x, certs, col, plain, wrong):
    """2. Everything mutual TLS must refuse."""
    q = certs.flags("query")

    # No client certificate: Python's ssl, since our binaries always present one.
    m0, log0 = C.scrape(col.http), len(col.lines())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs.path("ca", "crt"))
    err = None
    try:
        with socket.create_connection(("127.0.0.1", col.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(W.frame(2, C.agent_hello(node=b"nsnt-nocert")))
                s.recv(100)
    except (ssl.SSLError, OSError) as ex:
        err = str(ex)
    t.check(err is not None and "certificate required" in err,
            "no client certificate: the client is told (alert certificate required)", "got %r" % err)
    ln = new_line(col, log0, "reason=tls")
    t.check(ln is not None and "peer did not return a certificate" in ln,
            "no client certificate: the collector logs reason=tls, 'peer did not return a certificate'",
            "log since:\n" + "\n".join(col.lines()[log0:]))
    m1 = C.wait_metric(col.http, lambda m: (m.get("nsnet_collector_frames_rejected_total", reason="tls") or 0)
                       > (m0.get("nsnet_collector_frames_rejected_total", reason="tls") or 0), 5)
    t.check((m1.get("nsnet_collector_frames_rejected_total", reason="tls") or 0)
            - (m0.get("nsnet_collector_frames_rejected_total", reason="tls") or 0) == 1,
            "no client certificate: frames_rejected_total{reason=tls} +1")

    refused_query(t, x, col, "a client certificate of another CA", certs.flags("stranger"),
                  "TLS: refused by the peer: tlsv1 alert unknown ca", "certificate verify failed")
    refused_agent(t, x, col, "an expired agent certificate", "nsnt-node-exp", certs.flags("nsnt-node-exp"),
                  "sslv3 alert certificate expired", "certificate has expired")

    # Node X's certificate saying Hello for node Y: refused at the Hello, counted as auth.
    a0 = metric(col, "nsnet_collector_auth_failures_total")
    m0, m1 = refused_agent(t, x, col, "node a's certificate for another node", "nsnt-node-evil",
                           certs.flags(NODE_A), "the client certificate is for %s, not for node nsnt-node-evil"
                           % NODE_A, "event=identity_mismatch", reason="auth")
    ln = [ln for ln in col.lines() if "event=identity_mismatch" in ln]
    t.check(ln and "identity=%s" % NODE_A in ln[-1] and "node=nsnt-node-evil" in ln[-1],
            "identity mismatch: the collector's line names both", "%s" % ln[-1:])
    t.check((m1.get("nsnet_collector_auth_failures_total") or 0) > a0, "identity mismatch: auth_failures_total grows")
    doc = x.cli.doc(["--json", "-tln"])
    t.check("nsnt-node-evil" not in C.node_names(doc) and {NODE_A, NODE_B} <= set(C.node_names(doc)),
            "identity mismatch: the node never appears; a and b stay", "nodes %s" % C.node_names(doc))

    refused_query(t, x, col, "a plaintext client on the TLS port", ["--plaintext"],
                  "this collector requires TLS", "a plaintext client on a TLS listener")
    refused_query(t, x, plain, "a TLS client on a plaintext collector", q,
                  "connection closed during the TLS handshake", "a TLS handshake on a plaintext listener")
    refused_query(t, x, wrong, "the collector's certificate for the wrong host", q,
                  "TLS: certificate verify failed: IP address mismatch (the collector's certificate does not name "
                  "127.0.0.1)", "refused by the peer: sslv3 alert bad certificate")
    refused_agent(t, x, wrong, "an agent, the collector's certificate for the wrong host", NODE_A,
                  certs.flags(NODE_A), "IP address mismatch", "alert bad certificate")
    r = cli(x, wrong.addr, q + ["--tls-server-name", "elsewhere.example"], ["--json", "-tln"])
    t.check(r.returncode == 0 and json.loads(r.stdout or "{}").get("nodes") == [],
            "--tls-server-name with the name the collector's certificate carries: answered",
            "exit %d %s" % (r.returncode, r.stderr))

    # The token still counts over TLS.
    r = cli(x, col.addr, q, ["-tln"], token=False)
    t.check(r.returncode == 1 and "no token" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
            "over TLS, a query without the token is still refused", "exit %d %r" % (r.returncode, r.stderr))


def check_any_node(t, x, certs, col):
    """--tls-agent-any-node: the DaemonSet's certificate speaks for a node of another name."""
    node = "nsnt-node-c"
    ag = agent(x.world, x, x.agent_bin, col.addr, node, certs.flags("daemonset"))
    ln = col.wait_log("event=agent_hello node=%s " % node, 15)
    t.check(ln is not None and "identity=%s" % ANY in ln,
            "--tls-agent-any-node %s: its certificate says Hello for %s, logged with its identity" % (ANY, node),
            "collector:\n%s\nagent:\n%s" % (col.tail(5), ag.tail(5)))
    ag.p.send_signal(signal.SIGTERM)
    ag.p.wait(timeout=10)


def check_wire(t, x, certs, col, plain):
    """4. What a raw TCP proxy sees: TLS records, nothing of what they carry."""
    secrets = {"the token": TOKEN.encode(), "node a's name": NODE_A.encode(),
               "the namespaces' tag": x.world.tag.encode()}
    p = Proxy(col.port)
    r = cli(x, "127.0.0.1:%d" % p.port, certs.flags("query"), ["--json", "-tuan", "--node", NODE_A])
    ok = r.returncode == 0 and x.ns["one"]["name"] in r.stdout
    t.check(ok, "a query through the proxy is answered (with the test namespaces)",
            "exit %d %s" % (r.returncode, r.stderr))
    time.sleep(0.2)
    with p.lock:
        up, down = bytes(p.up), bytes(p.down)
    t.check(up[:2] == b"\x16\x03" and down[:2] == b"\x16\x03" and len(down) > 1000,
            "query: both directions start with a TLS handshake record (%d bytes up, %d down)" % (len(up), len(down)),
            "up %r down %r" % (up[:16], down[:16]))
    for what, s in secrets.items():
        t.check(s not in up and s not in down, "query: %s is not on the wire" % what)
    p.close()

    # An agent through the proxy: its Hello (token, node) and scans.
    p = Proxy(col.port)
    node = "nsnt-node-wire"
    ag = agent(x.world, x, x.agent_bin, "127.0.0.1:%d" % p.port, node, certs.flags("daemonset"))
    hello = col.wait_log("event=agent_hello node=%s " % node, 15)
    sent = ag.wait_log("event=sent scan=2 ", 15)
    t.check(hello is not None and sent is not None, "an agent through the proxy connects and sends scans",
            "agent:\n" + ag.tail(5))
    ag.p.send_signal(signal.SIGTERM)
    ag.p.wait(timeout=10)
    with p.lock:
        up, down = bytes(p.up), bytes(p.down)
    t.check(up[:2] == b"\x16\x03" and len(up) > 5000, "agent: TLS records only (%d bytes up)" % len(up))
    for what, s in dict(secrets, **{"its node name": node.encode()}).items():
        t.check(s not in up and s not in down, "agent: %s is not on the wire" % what)
    p.close()

    # The control: the same proxy in front of the plaintext collector shows the token.
    p = Proxy(plain.port)
    r = cli(x, "127.0.0.1:%d" % p.port, ["--plaintext"], ["--json", "-tln"])
    time.sleep(0.2)
    with p.lock:
        up = bytes(p.up)
    t.check(r.returncode == 0 and TOKEN.encode() in up,
            "control: through the same proxy, --plaintext puts the token on the wire (the check can see it)",
            "exit %d %s" % (r.returncode, r.stderr))
    p.close()


def time_queries(t, x, certs, col, plain):
    """Notes: the wall time of one query, TLS and plaintext (median of 15)."""
    out = {}
    for label, d, conn in (("TLS", col, certs.flags("query")), ("plaintext", plain, ["--plaintext"])):
        times = []
        for _ in range(15):
            t0 = time.monotonic()
            cli(x, d.addr, conn, ["-tln", "--node", "nsnt-none"])
            times.append(time.monotonic() - t0)
        out[label] = sorted(times)[len(times) // 2] * 1000
    t.note("query wall time (process start, connect, handshake, hello, answer), median of 15: TLS %.1f ms, "
           "plaintext %.1f ms" % (out["TLS"], out["plaintext"]))


def main():
    if len(sys.argv) != 4:
        print("usage: test_tls.py NSNET_COLLECTOR NSNET_AGENT NSNETSTAT", file=sys.stderr)
        return 2
    L.require_root(tools=("ip", "openssl"))
    t = C.Tap()
    world = L.World()
    t0 = time.monotonic()
    x = C.Ctx()
    x.world, x.daemons, x.cli_stderr = world, [], []
    x.collector_bin, x.agent_bin, x.nsnetstat = sys.argv[1:4]
    try:
        x.tmp = world.tmpdir()
        x.token = os.path.join(x.tmp, "token")
        with open(x.token, "w") as f:
            f.write(TOKEN + "\n")
        os.mkdir(os.path.join(x.tmp, "certs"))
        certs = make_certs(os.path.join(x.tmp, "certs"))
        check_startup(t, x, certs)

        C.make_world(world, x)
        col = x.col = collector(world, x, x.collector_bin, "tls", certs.flags("collector"),
                                ["--tls-agent-any-node", ANY])
        x.port, x.http, x.addr = col.port, col.http, col.addr
        x.cli = C.Cli(x.nsnetstat, col.addr, x.token, conn_args=certs.flags("query"))
        x.agents = {n: agent(world, x, x.agent_bin, col.addr, n, certs.flags(n)) for n in (NODE_A, NODE_B)}

        # 1. The cluster view over mutual TLS.
        if not C.wait_synced(t, x):
            return t.finish()
        for n, ag in x.agents.items():
            ln = ag.wait_log("event=connected", 5)
            t.check(ln is not None and "tls=TLSv1.3/" in ln, "agent %s: connected with tls=TLSv1.3" % n, "%s" % ln)
            ln = col.wait_log("event=agent_hello node=%s " % n, 5)
            t.check(ln is not None and "identity=%s " % n in ln, "collector: %s's hello with identity=%s" % (n, n),
                    "%s" % ln)
        t.check(col.wait_log("event=query_client", 5) is not None
                and "identity=nsnt-query" in col.wait_log("event=query_client", 1),
                "collector: the query client is logged with its identity")
        for n in (NODE_A, NODE_B):
            C.compare_node(t, x, x.nsnetstat, n)

        plain = collector(world, x, x.collector_bin, "plain", ["--plaintext"])
        wrong = collector(world, x, x.collector_bin, "wrong-host", certs.flags("wrong-host"))
        check_refusals(t, x, certs, col, plain, wrong)
        check_any_node(t, x, certs, col)
        check_wire(t, x, certs, col, plain)
        time_queries(t, x, certs, col, plain)

        # 5. Clean logs, clean exits.
        for n, ag in x.agents.items():
            ag.p.send_signal(signal.SIGTERM)
            rc = ag.p.wait(timeout=10)
            t.check(rc == 0, "agent %s: SIGTERM, exit 0" % n, "exit %r" % rc)
        for d in (col, plain, wrong):
            d.p.send_signal(signal.SIGTERM)
            rc = d.p.wait(timeout=10)
            t.check(rc == 0, "collector %s: SIGTERM, exit 0" % os.path.basename(d.log), "exit %r" % rc)
        bad = [ln for d in x.daemons for ln in d.lines() if C.SANITIZER_RE.search(ln)]
        bad += [ln for e in x.cli_stderr + x.cli.sanitizer for ln in e.splitlines() if C.SANITIZER_RE.search(ln)]
        t.check(not bad, "no sanitizer report in any log or nsnetstat run", "\n".join(bad[:20]))
    except Exception:  # noqa: BLE001  (any failure is a failed check, after cleanup)
        t.check(False, "the test ran to its end", traceback.format_exc())
        if getattr(x, "col", None) is not None:
            t.note("collector log:\n" + x.col.tail(30).replace("\n", "\n# "))
    t.note("runtime %.1f s" % (time.monotonic() - t0))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
