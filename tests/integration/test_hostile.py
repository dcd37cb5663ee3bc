#!/usr/bin/env python3
"""Hostile peers against nsnet-collector, and hostile collectors against nsnet-agent,
while real agents stream (issue 8).

A. One collector (--token-file) and two real nsnet-agents of this host (--interval 1,
   nodes a and b), with two test namespaces of known sockets. All at once, while the
   agents keep streaming:
   1. RANDOM connections of random bytes (seeded; when a length prefix happens to fit,
      the first payload byte is made an invalid protobuf tag), each half-closed:
      `oversize` or `decode`;
   2. absurd length prefixes, 0xFFFFFFFF, --max-frame + 1 and 64 KiB + 1 (the most a peer
      may announce before its Hello is accepted), ABSURD of each: `oversize`;
   3. TRUNC frames cut short then silence, and BIG that send 60 KiB of a 64 KiB frame:
      `timeout` after the 10 s hello timeout;
   4. IDLE (3,000) connections that send nothing, and LORIS slow-loris connections
      dribbling a valid Hello one byte per second: `timeout`;
   5. a failed-auth flood: AUTH Hellos with a wrong or no token (agents and queries):
      `auth`; and HTTP_AUTH /query requests with a wrong or no bearer token: 401;
   6. HTTP_LORIS slow HTTP clients holding partial request heads on --http, more than
      the 64 connections it holds: /healthz and /metrics must still answer.
   Checks: every hostile connection gets an Error frame of the right code and is
   closed; the idle ones 10 to 12 s after they opened (measured one by one); both
   agents stay up (nsnet_agent_up 1 in every scrape during the attack) in their first
   session; a query during the attack answers both nodes fresh with the test
   namespaces whole, and afterwards each node equals the local view field for field
   (test_collector.compare_node); frames_rejected_total{reason} (every reason),
   auth_failures_total,
   connections_accepted_total and _refused_total move by exactly what was sent; the
   log has one conn_rejected line per rejected connection with its reason, and the
   auth failures are rate-limited: at most one line per 10 s whose suppressed= counts
   add up to the failures.
   Memory, first, in two quiet windows of about a second (agents stopped, so that no
   frame moves the heap or the store): IDLE idle connections and BIG partial frames on
   the same collector, then closed: RSS per idle connection below IDLE_BOUND (derived
   below), a partial frame at most twice its bytes, nothing kept beyond what they took,
   and the second round peaking and ending where the first did (freed memory reused).
B. nsnet-agent against a fake collector (a listener in this test) that answers its
   Hello with an Ack (a valid frame of the wrong type, before any Welcome), random
   bytes, a 4 GiB length, --max-frame + 1, and a QueryResponse: each time one warning
   line (event=protocol_error) and a reconnect after the documented back-off (0.5 s
   doubling, equal jitter: the k-th wait is within [0.25, 0.5] * 2^k s); no crash,
   RSS flat, protocol_errors counted in /healthz; then a real collector on the same
   port gets its stream, equal to the local view. A second agent against a listener
   that accepts and never answers must give up and reconnect as the README says: no
   Welcome 15 s after its Hello.

Prints one TAP line per check; exits 1 if any failed, 77 when not root. About 30 s.

usage: test_hostile.py NSNET_COLLECTOR NSNET_AGENT NSNETSTAT
"""

import calendar
import json
import os
import random
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

sys.dont_write_bytecode = True  # nothing written into the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
sys.path.insert(0, HERE)
import nsntlib as L  # noqa: E402
import standin as W  # noqa: E402  (hand-rolled nsnet.v1 encoding, not the code under test)
import test_collector as C  # noqa: E402  (Tap, Daemon, the world, /metrics, Cli, compare_node, frames)

NODE_A, NODE_B = C.NODE_A, C.NODE_B   # compare_node() and the fixture's numbers use them
NODE_C, NODE_D = "nsnt-node-c", "nsnt-node-d"  # the agents of part B
TOKEN = C.TOKEN
MAX_FRAME = 16 << 20                  # the collector's and the agent's default --max-frame
PRE_HELLO_MAX = 64 << 10              # the collector's largest frame before a Hello is accepted
HELLO_TIMEOUT = 10.0                  # server.c HELLO_TIMEOUT_MS; the sweep runs every second

IDLE, LORIS, RANDOM, ABSURD, TRUNC, BIG, HTTP_LORIS = 3000, 20, 40, 10, 40, 4, 100
HTTP_MAX = 64                         # http.c MAX_CONNS; its head timeout is 10 s too
AUTH_AGENT, AUTH_NONE, AUTH_QUERY, HTTP_AUTH = 200, 50, 50, 100
AUTH = AUTH_AGENT + AUTH_NONE + AUTH_QUERY
BIG_BYTES = PRE_HELLO_MAX - 4096      # most of the largest frame a stranger may announce

# What an idle connection (accepted, nothing received) costs the collector: its struct
# conn (collector.h: the libuv handle, the frame reader, peer and identity strings;
# 672 bytes on x86-64, calloc'd), a slot in libuv's watcher table (8 bytes per fd, grown
# by doubling) and no frame-reader buffer (that is allocated with the first byte).
# Socket buffers are the kernel's, not in the RSS. 4 KiB is that with room for page
# granularity and the allocator's bookkeeping; ASan pads each allocation with redzones
# and 1/8 shadow: 16 KiB.
IDLE_BOUND = 4096
IDLE_BOUND_ASAN = 16384
# ASan holds freed memory in its quarantine (made small for the daemons here, below),
# so "back near the baseline" allows that much more.
ASAN_QUARANTINE_MB = 16

CODE_PROTOCOL, CODE_AUTH = 1, 2
LOG_TS_RE = re.compile(r"^ts=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d+)Z")

# ---- shared with test_faults.py ------------------------------------------------

class PlainCli(C.Cli):
    """test_collector's Cli over plaintext TCP that counts its runs (each is one
    connection the collector accepts)."""

    def __init__(self, binary, addr, token):
        super().__init__(binary, addr, token)
        self.runs = 0

    def run(self, args, nodes=(), token="default", timeout=60):
        self.runs += 1
        return super().run(args, nodes, token, timeout)


def is_asan(binary):
    return "libasan" in subprocess.run(["ldd", binary], capture_output=True, text=True).stdout


def daemon_env():
    """The daemons' environment: in ASan builds a small quarantine (256 MB by default)
    and freed memory given back to the kernel, or the RSS checks would see ASan's caches
    rather than the program."""
    env = dict(os.environ)
    mine = "quarantine_size_mb=%d:allocator_release_to_os_interval_ms=500" % ASAN_QUARANTINE_MB
    env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"), mine) if o)
    return env


class Proc(C.Daemon):
    """test_collector's Daemon, with daemon_env()."""

    def __init__(self, world, cmd, log):
        self.log = log
        self.f = open(log, "w")
        self.p = world.spawn(cmd, stderr=self.f, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             env=daemon_env())


def status_kib(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def start_collector(world, binary, tmp, token, label, listen="127.0.0.1:0"):
    """A collector with --token-file and --http on port 0; (Proc, port, http port)."""
    d = Proc(world, [binary, "--listen", listen, "--http", "127.0.0.1:0", "--token-file", token]
             + ["--plaintext"], os.path.join(tmp, "collector-%s.log" % label))
    port = C.port_of(d.wait_log("event=listening", 10))
    http = C.port_of(d.wait_log("event=http_listening", 10))
    if not port or not http:
        raise RuntimeError("collector %s did not log its ports; its log:\n%s" % (label, d.tail()))
    return d, port, http


def start_agent(world, binary, tmp, addr, node, token, interval=1, extra=()):
    return Proc(world, [binary, "--collector", addr, "--node", node, "--interval", str(interval),
                        "--token-file", token] + ["--plaintext"] + list(extra),
                os.path.join(tmp, "agent-%s.log" % node))


def wait_nodes(x, nodes, timeout, want_inodes=None, step=0.2):
    """Until each of NODES answers with the test namespaces whole (and, given
    WANT_INODES, exactly those namespaces): (seconds taken or None, why not)."""
    t0 = time.monotonic()
    while True:
        rc, _, err, doc = x.cli.run(["--json", "-tuanxp"])
        if doc is None:
            why = "exit %d: %s" % (rc, " / ".join(err))
        else:
            missing = []
            for node in nodes:
                nd = C.node_of(doc, node)
                have = C.by_inode(nd["namespaces"]) if nd else {}
                for v in x.ns.values():
                    if len((have.get(v["inode"]) or {}).get("sockets") or []) != v["total"]:
                        missing.append("%s/%s" % (node, v["name"]))
                if want_inodes is not None and set(have) != set(want_inodes):
                    missing.append("%s: namespaces %d of %d (only there %s, missing %s)"
                                   % (node, len(set(have) & set(want_inodes)), len(want_inodes),
                                      sorted(set(have) - set(want_inodes))[:5], sorted(set(want_inodes) - set(have))[:5]))
            if not missing:
                return time.monotonic() - t0, ""
            why = "not yet: %s (nodes %s)" % (missing, C.node_names(doc))
        if time.monotonic() - t0 > timeout:
            return None, why
        time.sleep(step)


def stop(t, d, label):
    """SIGTERM: exit 0; no sanitizer report in its log."""
    if d.p.poll() is None:
        d.p.send_signal(signal.SIGTERM)
    try:
        rc = d.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        d.p.kill()
        rc = None
    bad = [ln for ln in d.lines() if C.SANITIZER_RE.search(ln)]
    t.check(rc == 0 and not bad, "%s: exits 0 on SIGTERM, no sanitizer report in its log" % label,
            "exit %r\n%s" % (rc, "\n".join(bad[:10] or d.lines()[-10:])))


def rss_median(pid, n=3):
    v = []
    for _ in range(n):
        v.append(status_kib(pid))
        time.sleep(0.05)
    return sorted(v)[n // 2]


def rst_close(s):
    """Close with a reset: neither end lingers in TIME-WAIT, so the host namespace the
    agents scan is back to what it was (no socket of ours left for them to report)."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def wait_held(x, n, timeout=5):
    """Until /healthz counts N connections; the last count."""
    end = time.monotonic() + timeout
    while True:
        code, _, body = C.http_get(x.http, "/healthz")
        held = json.loads(body).get("connections") if code == 200 else None
        if held == n or time.monotonic() > end:
            return held
        time.sleep(0.05)


def deltas(m0, m1, name):
    """{labels: m1 - m0} of every series of NAME (one label at most, as a string)."""
    out = {}
    for (n, ls), v in m1.samples.items():
        if n == name:
            key = ",".join("%s=%s" % kv for kv in sorted(ls))
            out[key] = v - (m0.samples.get((n, ls)) or 0)
    return out


# ---- A: the collector under attack ---------------------------------------------------

class Closures:
    """Sockets the collector is to close: when each was opened, what it was sent back,
    when its end came. Read by one epoll thread."""

    def __init__(self):
        self.ep = select.epoll()
        self.recs = {}
        self.lock = threading.Lock()
        self.open = 0

    def add(self, s, kind, opened):
        s.setblocking(False)
        with self.lock:
            self.recs[s.fileno()] = {"sock": s, "kind": kind, "opened": opened, "closed": None,
                                     "data": bytearray(), "sent": 0}
            self.open += 1
        self.ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)

    def _end(self, fd, rec):
        rec["closed"] = time.monotonic()
        self.ep.unregister(fd)
        rst_close(rec["sock"])
        with self.lock:
            self.open -= 1

    def run(self, deadline):
        while time.monotonic() < deadline:
            with self.lock:
                if self.recs and self.open == 0:
                    return
            for fd, _ in self.ep.poll(0.1):
                rec = self.recs.get(fd)
                if not rec or rec["closed"]:
                    continue
                try:
                    while True:
                        d = rec["sock"].recv(65536)
                        if not d:
                            self._end(fd, rec)
                            break
                        rec["data"] += d
                except BlockingIOError:
                    pass
                except OSError:  # a reset ends it too
                    self._end(fd, rec)

    def of(self, kind):
        return [r for r in self.recs.values() if r["kind"] == kind]


def first_error(data):
    """(code, message) of the Error frame at the start of DATA, or None."""
    if len(data) < 4:
        return None
    n = struct.unpack(">I", bytes(data[:4]))[0]
    if len(data) < 4 + n:
        return None
    try:
        return C.error_of([W.fields(bytes(data[4:4 + n]))])
    except (ValueError, IndexError, struct.error):
        return None


def hello_frame(node, token, role=1):
    return C.frame_bytes(1, 2, C.agent_hello(node=node, role=role, token=token))


def random_payloads():
    """RANDOM byte strings and the reason each must be rejected for."""
    rng = random.Random(8)
    out = []
    for i in range(RANDOM):
        data = bytearray(rng.randbytes(rng.randint(16, 4096)))
        if i % 4 == 0:  # a length prefix that fits, complete or not
            data[:4] = struct.pack(">I", rng.randint(1, 2 * len(data)))
        prefix = struct.unpack(">I", bytes(data[:4]))[0]
        if prefix == 0:
            data[:4] = struct.pack(">I", 1)
            prefix = 1
        if prefix <= PRE_HELLO_MAX:
            data[4] |= 7  # wire type 7 does not exist: undecodable at its first byte
        out.append((bytes(data), "oversize" if prefix > PRE_HELLO_MAX else "decode"))
    return out


def one_shot(port, data, half_close=False):
    """Send DATA on a fresh connection; (closed by the collector, its Error or None)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        frames, closed = C.read_frames_until_eof(s, timeout=10)
    finally:
        rst_close(s)
    return closed, C.error_of(frames)


def http_query_flood(port, results):
    path = "/query?" + urllib.parse.urlencode([("arg", "-tn"), ("node", NODE_A)])

    def worker(k):
        for i in range(k, HTTP_AUTH, 4):
            hdr = {"Authorization": "Bearer wrong-%d" % i} if i % 2 else {}
            try:
                code, _, body = C.http_get(port, path, headers=hdr)
            except OSError as ex:
                code, body = 0, repr(ex)
            results.append((code, "nodes" in body))
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()


def log_epoch(line):
    m = LOG_TS_RE.match(line)
    if not m:
        return None
    y, mo, d, h, mi, s, frac = m.groups()
    return calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s))) + float("0." + frac)


def attack(t, x):
    """All the hostile connections at once; then every count."""
    m0 = C.scrape(x.http)
    log0 = len(x.col.lines())
    runs0 = x.cli.runs
    sess0 = {n: m0.get("nsnet_agent_sessions_total", node=n) for n in (NODE_A, NODE_B)}
    t.check(all(sess0[n] == 1 for n in sess0) and (m0.get("nsnet_collector_auth_failures_total") or 0) == 0,
            "before: both agents in their first session, no auth failure yet", "sessions %s" % sess0)

    watch = Closures()
    t_idle = time.monotonic()
    for _ in range(IDLE):
        s = socket.create_connection(("127.0.0.1", x.port), timeout=10)
        watch.add(s, "idle", time.monotonic())
    opened_in = time.monotonic() - t_idle
    held = wait_held(x, IDLE + 2)
    t.check(held == IDLE + 2, "%d idle connections held at once (/healthz connections %d = %d + 2 agents; opened in %.2f s)"
            % (IDLE, IDLE + 2, IDLE, opened_in), "connections %s" % held)
    rss0 = status_kib(x.col.p.pid)

    # Everything else, at once, while the idle ones are held.
    sent = {"bytes": 0}
    http_head = b"GET /metrics HTTP/1.1\r\nHost: nsnt\r\n"  # no blank line: never complete
    for i in range(HTTP_LORIS):
        s = socket.create_connection(("127.0.0.1", x.http), timeout=10)
        s.sendall(http_head)
        sent["bytes"] += len(http_head)
        watch.add(s, "http-loris", time.monotonic())
    try:
        code, _, body = C.http_get(x.http, "/healthz")
    except OSError as ex:
        code, body = 0, repr(ex)
    t.check(code == 200, "%d slow HTTP clients hold partial request heads (--http holds %d): /healthz still "
            "answers 200" % (HTTP_LORIS, HTTP_MAX), "HTTP %d %r" % (code, body[:200]))
    loris_hello = hello_frame(b"nsnt-loris", TOKEN.encode())
    for i in range(LORIS):
        s = socket.create_connection(("127.0.0.1", x.port), timeout=10)
        watch.add(s, "loris", time.monotonic())
    trunc_frame = struct.pack(">I", 1000) + b"\x0a" * 500
    for i in range(TRUNC):
        s = socket.create_connection(("127.0.0.1", x.port), timeout=10)
        s.sendall(trunc_frame)
        sent["bytes"] += len(trunc_frame)
        watch.add(s, "trunc", time.monotonic())
    for i in range(BIG):
        s = socket.create_connection(("127.0.0.1", x.port), timeout=10)
        s.sendall(struct.pack(">I", PRE_HELLO_MAX) + b"\x0a" * BIG_BYTES)
        sent["bytes"] += 4 + BIG_BYTES
        watch.add(s, "big", time.monotonic())
    watcher = threading.Thread(target=watch.run, args=(time.monotonic() + HELLO_TIMEOUT + 8,), daemon=True)
    watcher.start()

    def loris():
        for i in range(len(loris_hello)):
            live = [r for r in watch.of("loris") if not r["closed"]]
            if not live:
                return
            for r in live:
                try:
                    r["sock"].send(loris_hello[i:i + 1])
                    r["sent"] += 1
                    sent["bytes"] += 1
                except OSError:
                    pass
            time.sleep(1.0)

    shots = []  # (kind, expected reason, expected code, closed, error)

    def one_shots():
        for data, reason in random_payloads():
            sent["bytes"] += len(data)
            shots.append(("random", reason, CODE_PROTOCOL) + one_shot(x.port, data, half_close=True))
        for prefix in (0xFFFFFFFF, MAX_FRAME + 1, PRE_HELLO_MAX + 1):
            for _ in range(ABSURD):
                data = struct.pack(">I", prefix) + b"\0" * 64
                sent["bytes"] += len(data)
                shots.append(("length %#x" % prefix, "oversize", CODE_PROTOCOL) + one_shot(x.port, data))
        for i in range(AUTH):
            if i < AUTH_AGENT:
                data = hello_frame(b"nsnt-flood-%d" % i, b"wrong-token-%d" % i)
            elif i < AUTH_AGENT + AUTH_NONE:
                data = hello_frame(b"nsnt-flood-%d" % i, b"")
            else:
                data = hello_frame(b"", b"wrong-token-%d" % i, role=2)
            sent["bytes"] += len(data)
            shots.append(("auth", "auth", CODE_AUTH) + one_shot(x.port, data))

    http_results = []
    threads = [threading.Thread(target=f, daemon=True) for f in (loris, one_shots)]
    threads.append(threading.Thread(target=http_query_flood, args=(x.http, http_results), daemon=True))
    t_attack = time.monotonic()
    for th in threads:
        th.start()

    # Meanwhile: the agents must stay up, and queries answer.
    up_samples, scrape_errors, peak, during = [], [], rss0, None
    last_scrape = 0
    while watcher.is_alive() or any(th.is_alive() for th in threads):
        peak = max(peak, status_kib(x.col.p.pid))
        if time.monotonic() - last_scrape > 0.5:
            last_scrape = time.monotonic()
            try:
                m = C.scrape(x.http)
                up_samples.append((m.get("nsnet_agent_up", node=NODE_A), m.get("nsnet_agent_up", node=NODE_B)))
            except (OSError, AssertionError) as ex:
                scrape_errors.append(repr(ex))
        if during is None and time.monotonic() - t_attack > 2:
            during = x.cli.run(["--json", "-tuan"])
        time.sleep(0.1)
    attack_s = time.monotonic() - t_attack

    rc, _, err, doc = during
    bad = []
    for node in (NODE_A, NODE_B):
        nd = C.node_of(doc, node) if doc else None
        ns = C.by_inode(nd["namespaces"]) if nd else {}
        if not nd or nd.get("stale") is not False or nd.get("connected") is not True:
            bad.append("%s: %s" % (node, {k: nd.get(k) for k in ("stale", "connected")} if nd else "missing"))
        for v in x.ns.values():
            if len((ns.get(v["inode"]) or {}).get("sockets") or []) != v["total"]:
                bad.append("%s/%s incomplete" % (node, v["name"]))
    t.check(doc is not None and not bad, "during the attack: a query answers both nodes fresh and connected, "
            "with the test namespaces whole", "exit %d %s %s" % (rc, err, bad))
    t.check(up_samples and not scrape_errors and all(s == (1, 1) for s in up_samples),
            "during the attack: every /metrics scrape answers (%d), nsnet_agent_up 1 for both nodes in each"
            % len(up_samples), "samples %s, errors %s" % (up_samples, scrape_errors[:5]))

    # The one-shot connections: each its Error, then closed.
    for kind in sorted({s[0] for s in shots}):
        mine = [s for s in shots if s[0] == kind]
        wrong = [s for s in mine if not (s[3] and s[4] is not None and s[4][0] == s[2])]
        t.check(not wrong, "%d %s connections: each an Error of code %d, then closed"
                % (len(mine), kind, mine[0][2]), "%d not: %s" % (len(wrong), [(s[3], s[4]) for s in wrong[:5]]))

    # The held ones: closed by the hello timeout, each after its Error.
    for kind in ("idle", "loris", "trunc", "big"):
        recs = watch.of(kind)
        took = sorted(r["closed"] - r["opened"] for r in recs if r["closed"])
        errs = [first_error(r["data"]) for r in recs]
        no_err = sum(1 for e in errs if not e or e[0] != CODE_PROTOCOL)
        lo, hi = HELLO_TIMEOUT, HELLO_TIMEOUT + 2.0
        if took:
            t.note("%s: %d closed after %.2f / %.2f / %.2f s (min / median / max)"
                   % (kind, len(took), took[0], took[len(took) // 2], took[-1]))
        t.check(len(took) == len(recs) and took[0] >= lo and took[-1] <= hi and no_err == 0,
                "%d %s connections: an Error of code 1 and closed %.0f to %.0f s after they opened (hello timeout)"
                % (len(recs), kind, lo, hi),
                "closed %d of %d, %s..%s s, %d without the Error" % (len(took), len(recs), took[:1], took[-1:], no_err))
    # The slow HTTP clients: the ones over the limit made room for newer connections, the
    # rest went at the head timeout; none got an answer.
    recs = watch.of("http-loris")
    took = sorted(r["closed"] - r["opened"] for r in recs if r["closed"])
    early = sum(1 for d in took if d < HELLO_TIMEOUT - 1)
    t.note("slow HTTP clients: %d closed early to make room, the last after %.2f s" % (early, took[-1] if took else -1))
    t.check(len(took) == len(recs) and took[-1] <= HELLO_TIMEOUT + 2 and early >= HTTP_LORIS - HTTP_MAX
            and not any(r["data"] for r in recs),
            "%d slow HTTP clients: all closed unanswered, at least %d early to make room, the rest at the 10 s head "
            "timeout" % (HTTP_LORIS, HTTP_LORIS - HTTP_MAX), "closed %d, early %d, latest %s, answered %d"
            % (len(took), early, took[-1:], sum(1 for r in recs if r["data"])))
    loris_sent = [r["sent"] for r in watch.of("loris")]
    t.note("slow loris: %s bytes of a %d-byte Hello sent before the close" % (sorted(set(loris_sent)), len(loris_hello)))

    codes = [c for c, _ in http_results]
    t.check(len(codes) == HTTP_AUTH and all(c == 401 for c in codes) and not any(leak for _, leak in http_results),
            "%d /query requests with a wrong or no bearer token: all 401, no data" % HTTP_AUTH,
            "codes %s" % sorted(set(codes)))

    t.note("collector RSS during the attack: %d kB with the idle connections, peak %d kB, %d kB after "
           "(attack %.1f s, %d bytes sent by the hostile peers; the agents report these sockets too)"
           % (rss0, peak, status_kib(x.col.p.pid), attack_s, sent["bytes"]))

    # The final auth probe, once the rate limit lets a line out: the suppressed counts add up.
    lines = x.col.lines()[log0:]
    auth_lines = [ln for ln in lines if "event=auth_failed" in ln]
    if auth_lines:
        wait = log_epoch(auth_lines[-1]) + 10.3 - time.time()
        if wait > 0:
            time.sleep(wait)
    one_shot(x.port, hello_frame(b"nsnt-probe", b"wrong-probe"))
    end = time.monotonic() + 5
    while time.monotonic() < end:
        lines = x.col.lines()[log0:]
        if len([ln for ln in lines if "event=auth_failed" in ln]) > len(auth_lines):
            break
        time.sleep(0.05)
    m1 = C.scrape(x.http)
    runs = x.cli.runs - runs0

    auth_lines = [ln for ln in lines if "event=auth_failed" in ln]
    suppressed = [int(re.search(r"\bsuppressed=(\d+)", ln).group(1)) for ln in auth_lines]
    failures = AUTH + HTTP_AUTH + 1
    window = time.monotonic() - t_attack
    t.check(len(auth_lines) <= 1 + window / 10.0 and sum(1 + s for s in suppressed) == failures,
            "auth failures rate-limited: %d log lines in %.0f s for %d failures, suppressed= adding up"
            % (len(auth_lines), window, failures), "lines %d, suppressed %s" % (len(auth_lines), suppressed))

    # Exact counts.
    want = {"oversize": 3 * ABSURD, "decode": 0, "timeout": IDLE + LORIS + TRUNC + BIG, "auth": AUTH + 1}
    for _, reason in random_payloads():
        want[reason] += 1
    got = deltas(m0, m1, "nsnet_collector_frames_rejected_total")
    want_all = {k: float(want.get(k.split("=", 1)[1], 0)) for k in got}
    t.check(got == want_all and len(got) >= 10, "frames_rejected_total by reason: exactly %s, every other reason +0"
            % {r: n for r, n in want.items() if n}, "got %s" % {k: v for k, v in got.items() if v})
    d_auth = deltas(m0, m1, "nsnet_collector_auth_failures_total").get("")
    t.check(d_auth == failures, "auth_failures_total +%d (%d Hellos, %d /query, the probe)"
            % (failures, AUTH, HTTP_AUTH), "got +%s" % d_auth)
    hostile = IDLE + LORIS + TRUNC + BIG + RANDOM + 3 * ABSURD + AUTH + 1
    d_acc = deltas(m0, m1, "nsnet_collector_connections_accepted_total").get("")
    d_ref = deltas(m0, m1, "nsnet_collector_connections_refused_total").get("")
    t.check(d_acc == hostile + runs and d_ref == 0,
            "connections_accepted_total +%d (%d hostile, %d nsnetstat runs), refused +0" % (hostile + runs, hostile, runs),
            "accepted +%s, refused +%s" % (d_acc, d_ref))
    t.check(m1.get("nsnet_collector_connections", role="agent") == 2 and m1.get("nsnet_collector_connections", role="query") == 0,
            "afterwards: connections{role=agent} 2, {role=query} 0",
            "agent %s query %s" % (m1.get("nsnet_collector_connections", role="agent"),
                                   m1.get("nsnet_collector_connections", role="query")))
    for n in (NODE_A, NODE_B):
        t.check(m1.get("nsnet_agent_up", node=n) == 1 and m1.get("nsnet_agent_sessions_total", node=n) == sess0[n],
                "afterwards: %s up, still in its first session" % n,
                "up %s, sessions %s -> %s" % (m1.get("nsnet_agent_up", node=n), sess0[n],
                                               m1.get("nsnet_agent_sessions_total", node=n)))
    t.check(all(n in (NODE_A, NODE_B) for n in C.node_names(x.cli.doc(["--json", "-tn"]))),
            "no hostile Hello became a node")

    # The log: one conn_rejected line per rejected connection with its reason; the
    # rest are the auth lines and the nsnetstat runs' closes.
    lines = x.col.lines()[log0:]
    by_reason, other = {}, []
    for ln in lines:
        if "event=conn_rejected" in ln:
            r = re.search(r"\breason=(\w+)", ln)
            by_reason[r.group(1) if r else "?"] = by_reason.get(r.group(1) if r else "?", 0) + 1
        elif "event=auth_failed" in ln or ("event=conn_closed" in ln and "role=query" in ln):
            continue
        else:
            other.append(ln)
    want_log = {r: n for r, n in want.items() if n and r != "auth"}
    t.check(by_reason == want_log and not other,
            "log: one conn_rejected line per rejected connection (%d), auth failures only as auth_failed lines, "
            "nothing else" % sum(want_log.values()),
            "conn_rejected %s (want %s); other lines:\n%s" % (by_reason, want_log, "\n".join(other[:10])))
    t.note("collector log: %d lines during the attack (%d conn_rejected, %d auth_failed)"
           % (len(lines), sum(by_reason.values()), len(auth_lines)))


def memory(t, x):
    """What connections cost the collector, measured in quiet windows: the agents are
    stopped (SIGSTOP, about a second, inside --stale-after) so that no frame moves
    the store or the heap meanwhile, and the test's connections are reset on close so
    that the agents never see them. Two rounds of IDLE idle connections, then BIG
    partial frames of 60 KiB (the most a stranger can make the collector hold is 64 KiB),
    then all of them closed: per idle connection below
    IDLE_BOUND; a partial frame's buffer at most twice its bytes (the reader doubles,
    capped at --max-frame); after the close nothing is kept beyond what they took (glibc
    keeps freed chunks for reuse rather than giving them back, and the collector trims
    only after 32 MiB of reads), and round two peaks and ends where round one did: what
    was freed is reused, nothing accumulates per connection."""
    asan = is_asan(x.collector_bin)
    pid = x.col.p.pid
    agents = [a.p for a in x.agents.values()]
    rounds = []
    for r in range(2):
        time.sleep(1.2)  # the agents' last scan is in: nothing pending
        for p in agents:
            p.send_signal(signal.SIGSTOP)
        paused = time.monotonic()
        try:
            bytes0 = C.scrape(x.http).get("nsnet_collector_received_bytes_total") or 0
            h0 = rss_median(pid)
            socks = [socket.create_connection(("127.0.0.1", x.port), timeout=10) for _ in range(IDLE)]
            held1 = wait_held(x, IDLE + 2)
            h1 = rss_median(pid)
            for _ in range(BIG):
                s = socket.create_connection(("127.0.0.1", x.port), timeout=10)
                s.sendall(struct.pack(">I", PRE_HELLO_MAX) + b"\x0a" * BIG_BYTES)
                socks.append(s)
            C.wait_metric(x.http, lambda m: (m.get("nsnet_collector_received_bytes_total") or 0)
                          >= bytes0 + BIG * (4 + BIG_BYTES), 5)
            h2 = rss_median(pid)
            for s in socks:
                rst_close(s)
            held2 = wait_held(x, 2)
            h3 = rss_median(pid)
        finally:
            for p in agents:
                p.send_signal(signal.SIGCONT)
            paused = time.monotonic() - paused
        rounds.append((h0, h1, h2, h3))
        t.check(held1 == IDLE + 2 and held2 == 2, "memory round %d: %d idle connections held, then all closed"
                % (r + 1, IDLE), "held %s, then %s" % (held1, held2))
        t.note("memory round %d: collector RSS %d kB, %d kB with %d idle connections, %d kB with %d x 60 KiB "
               "partial frames too, %d kB after the close (agents stopped for %.2f s)"
               % (r + 1, h0, h1, IDLE, h2, BIG, h3, paused))
    (a0, a1, a2, a3), (b0, b1, b2, b3) = rounds
    per_idle = max(a1 - a0, b1 - b0) * 1024.0 / IDLE
    per_big = max(a2 - a1, b2 - b1) * 1024.0 / BIG
    bound = IDLE_BOUND_ASAN if asan else IDLE_BOUND
    t.check(per_idle < bound, "collector RSS per idle connection %.0f bytes: below %d%s"
            % (per_idle, bound, " (ASan)" if asan else ""), "rounds %s" % rounds)
    # ASan's realloc copies and quarantines the smaller buffers it grew from: as much again.
    big_bound = (4 if asan else 2) * BIG_BYTES + 65536
    t.check(per_big <= big_bound, "collector RSS per 60 KiB partial frame %.0f kB: at most %d kB (twice its bytes + a "
            "read%s)" % (per_big / 1024, big_bound // 1024, ", twice that with ASan" if asan else ""), "rounds %s" % rounds)
    # 1 MiB: a third of a struct conn per connection of round two, were it kept; the
    # same slack after the close (ASan's allocator may take a little on free).
    slack = 1024 + (ASAN_QUARANTINE_MB * 1024 if asan else 0)
    t.check(a3 <= a2 + slack and b3 <= a3 + slack and b2 <= a2 + slack,
            "after the close: RSS %+d kB from the baseline (of %+d kB at the peak); round two peaks and ends within "
            "%d kB of round one (%d, %d kB): freed memory is reused" % (a3 - a0, a2 - a0, slack, b2, b3),
            "rounds %s" % rounds)
    x.memory = rounds


# ---- B: hostile collectors against the agent ------------------------------------------

def answer_frame(body_num, body):
    return C.frame_bytes(0, body_num, body)


def agent_answers():
    """(label, what the fake collector answers Hello with, the agent's protocol_error
    text) in the order the agent meets them."""
    rng = random.Random(9)
    junk = bytearray(rng.randbytes(60))
    junk[4] |= 7                                   # an invalid tag at once
    junk[:4] = struct.pack(">I", len(junk) - 4)    # a complete frame of random bytes
    return (
        ("an Ack before any Welcome", answer_frame(4, W.enc_field(1, 1)), None),
        ("random bytes", bytes(junk), "undecodable frame"),
        ("a 4 GiB length prefix", struct.pack(">I", 0xFFFFFFFF) + b"\0" * 16, "frame larger than max_frame"),
        ("--max-frame + 1", struct.pack(">I", MAX_FRAME + 1) + b"\0" * 16, "frame larger than max_frame"),
        ("a QueryResponse", answer_frame(11, W.enc_field(1, 1) + W.enc_field(4, 1)), "unexpected response frame"),
    )


def read_hello(s, timeout=10):
    """The agent's Hello (fields of its body), or None."""
    s.settimeout(timeout)
    buf = b""
    try:
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
            d = s.recv(65536)
            if not d:
                return None
            buf += d
    except OSError:
        return None
    fs = W.fields(buf[4:4 + struct.unpack(">I", buf[:4])[0]])
    return W.fields(W.first(fs, 2, b""))


def wait_eof(s, timeout):
    """Seconds until the peer closed S, or None."""
    t0 = time.monotonic()
    s.settimeout(0.1)
    while time.monotonic() - t0 < timeout:
        try:
            if not s.recv(65536):
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


class FakeCollector(threading.Thread):
    """Accepts the agent, reads its Hello and answers it with each of agent_answers()
    in turn; then closes its port and starts a real collector on it."""

    def __init__(self, x, world):
        super().__init__(daemon=True)
        self.x, self.world = x, world
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.events = []  # per answer: dict(label, accepted, hello, closed_after, ours, rss)
        self.error = None
        self.real = None
        self.done = threading.Event()  # the bad answers are over (part A waits for it)

    def run(self):
        try:
            for label, data, _ in agent_answers():
                self.srv.settimeout(40)
                s, _ = self.srv.accept()
                ev = {"label": label, "accepted": time.time(), "hello": read_hello(s),
                      "log_at": len(self.x.agent_c.lines())}
                ev["rss"] = status_kib(self.x.agent_c.p.pid)
                s.sendall(data)
                ev["closed_after"] = wait_eof(s, 3.0)
                ev["end"] = time.time()  # the agent's close, or ours when it did not
                s.close()
                self.events.append(ev)
            self.srv.close()
            x = self.x
            self.log_end = len(x.agent_c.lines())
            self.done.set()
            self.real = start_collector(self.world, x.collector_bin, x.tmp, x.token, "real-after-fake",
                                        listen="127.0.0.1:%d" % self.port)
        except Exception:  # noqa: BLE001  (reported by the main thread)
            self.error = traceback.format_exc()
        self.done.set()


class SilentCollector(threading.Thread):
    """Accepts, reads, never answers: when does the agent give up?"""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.accepts = []
        self.closed = None

    def run(self):
        self.srv.settimeout(120)
        held = []
        try:
            s, _ = self.srv.accept()
            self.accepts.append(time.monotonic())
            held.append(s)
            after = wait_eof(s, 60)
            if after is not None:
                self.closed = self.accepts[0] + after
            s2, _ = self.srv.accept()
            self.accepts.append(time.monotonic())
            held.append(s2)
        except OSError:
            pass


def check_fake(t, x, fake, nsnetstat):
    """B. What the agent did with each bad answer; then the real collector."""
    fake.join(timeout=60)
    if not t.check(fake.error is None and not fake.is_alive() and fake.real is not None,
                   "the fake collector ran through its answers and started the real collector",
                   fake.error or "still running; agent log:\n" + x.agent_c.tail()):
        return
    lines = x.agent_c.lines()
    answers = agent_answers()
    delays = []
    for i, (ev, (label, _, text)) in enumerate(zip(fake.events, answers)):
        hello = ev["hello"] or []
        t.check(W.first(hello, 2) == 1 and W.first(hello, 3, b"").decode() == NODE_C,
                "fake collector: connection %d brings the agent's Hello" % (i + 1), "hello %s" % hello)
        # What the agent logged between this answer and the next connection.
        end = fake.events[i + 1]["log_at"] if i + 1 < len(fake.events) else fake.log_end
        warn = [ln for ln in lines[ev["log_at"]:end] if re.search(r"level=(warn|error)", ln)]
        t.check(ev["closed_after"] is not None and ev["closed_after"] < 1.0 and len(warn) == 1
                and "event=protocol_error" in warn[0] and (i == 0 or text in warn[0]),
                "agent answered with %s: one warning line (event=protocol_error%s) and it closes the connection"
                % (label, "" if i == 0 else " " + repr(text)),
                "closed after %s s; warning lines %s" % (ev["closed_after"], warn))
        if i + 1 < len(fake.events):
            delays.append(fake.events[i + 1]["accepted"] - ev["end"])
    # The last wait: until the real collector logs the agent's Hello (wall clock).
    y = C.Ctx()
    y.col, y.port, y.http = fake.real
    hello = y.col.wait_log("event=agent_hello node=%s" % NODE_C, 10)
    if hello and fake.events:
        delays.append(log_epoch(hello) - fake.events[-1]["end"])
    t.note("agent reconnect delays after each bad answer: %s s" % ", ".join("%.2f" % d for d in delays))
    for k, d in enumerate(delays):
        lo, hi = 0.25 * 2 ** k, 0.5 * 2 ** k
        t.check(lo - 0.05 <= d <= hi + 0.4, "agent back-off %d: %.2f s within [%.2f, %.2f] s" % (k + 1, d, lo, hi))
    rss = [ev["rss"] for ev in fake.events]
    asan = is_asan(x.agent_bin)
    grow = rss[-1] - rss[1]
    bound = (ASAN_QUARANTINE_MB + 16) * 1024 if asan else 4096
    t.note("agent RSS at each bad answer: %s kB" % rss)
    t.check(x.agent_c.p.poll() is None and grow <= bound,
            "agent alive through the bad answers, RSS from the 2nd to the last grew %d kB (bound %d kB)" % (grow, bound))

    t.check(len(delays) == len(fake.events), "the agent's Hello reaches the real collector on the fake's port",
            "agent log:\n" + x.agent_c.tail())
    # The real collector on the same port: the agent's stream arrives, equal to local.
    y.ns, y.mine = x.ns, x.mine
    y.cli = PlainCli(nsnetstat, "127.0.0.1:%d" % y.port, x.token)
    took, why = wait_nodes(y, [NODE_C], 20)
    t.check(took is not None, "the real collector gets the agent's full view", why + "\nagent log:\n" + x.agent_c.tail())
    if took is not None:
        C.compare_node(t, y, nsnetstat, NODE_C)
    hp = C.port_of(x.agent_c.wait_log("event=health_listening", 1))
    code, _, body = C.http_get(hp, "/healthz") if hp else (0, "", "{}")
    h = json.loads(body or "{}")
    handled = sum(1 for ev in fake.events if ev["closed_after"] is not None)
    t.check(code == 200 and h.get("protocol_errors") == handled and h.get("connected") is True,
            "agent /healthz: protocol_errors %d (one per bad answer it noticed), connected again" % handled,
            "HTTP %d %s" % (code, body.strip()))
    x.fake_col, x.fake_cli = y.col, y.cli
    x.delays = delays
    x.agent_rss = rss


def check_silent(t, x, silent):
    """An agent whose collector accepts and never answers its Hello."""
    limit = 15 + 5 + 1.5  # README: no Welcome 15 s after the Hello; a 5 s check timer
    if silent.accepts:
        left = silent.accepts[0] + limit - time.monotonic()
        if left > 0:
            t.note("waiting %.0f s more for the agent facing a silent collector" % left)
            silent.join(timeout=left)
    first = silent.accepts[0] if silent.accepts else None
    gave_up = silent.closed - first if silent.closed and first else None
    t.check(first is not None and gave_up is not None and gave_up <= limit and len(silent.accepts) == 2,
            "an agent whose collector never answers its Hello reconnects within %.0f s" % limit,
            "accepted %s, closed by the agent after %s s, reconnects %d; agent log:\n%s"
            % (first is not None, gave_up, len(silent.accepts) - 1, x.agent_d.tail(5)))


def main():
    if len(sys.argv) != 4:
        print("usage: test_hostile.py NSNET_COLLECTOR NSNET_AGENT NSNETSTAT", file=sys.stderr)
        return 2
    collector_bin, agent_bin, nsnetstat = sys.argv[1:4]
    L.require_root(tools=("ip",))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE + LORIS + TRUNC + BIG + HTTP_LORIS + 512
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    t = C.Tap()
    world = L.World()
    t0 = time.monotonic()
    x = C.Ctx()
    x.collector_bin, x.agent_bin = collector_bin, agent_bin
    try:
        x.tmp = world.tmpdir()
        x.token = os.path.join(x.tmp, "token")
        with open(x.token, "w") as f:
            f.write(TOKEN + "\n")
        C.make_world(world, x)
        x.col, x.port, x.http = start_collector(world, collector_bin, x.tmp, x.token, "main")
        x.addr = "127.0.0.1:%d" % x.port
        x.cli = PlainCli(nsnetstat, x.addr, x.token)
        x.agents = {n: start_agent(world, agent_bin, x.tmp, x.addr, n, x.token) for n in (NODE_A, NODE_B)}
        # Part B's agents start now: their waits overlap part A.
        fake = FakeCollector(x, world)
        x.agent_c = start_agent(world, agent_bin, x.tmp, "127.0.0.1:%d" % fake.port, NODE_C, x.token,
                                extra=["--health-listen", "127.0.0.1:0"])
        fake.start()
        silent = SilentCollector()
        x.agent_d = start_agent(world, agent_bin, x.tmp, "127.0.0.1:%d" % silent.port, NODE_D, x.token, interval=10)
        silent.start()

        took, why = wait_nodes(x, (NODE_A, NODE_B), 30)
        if not t.check(took is not None, "both agents' nodes arrive with the test namespaces",
                       why + "\ncollector log:\n" + x.col.tail()):
            return t.finish()
        # Part B's bad answers first: the agents scan the host namespace, where part A's
        # thousands of connections would make their RSS move.
        fake.done.wait(40)
        memory(t, x)
        attack(t, x)
        for node in (NODE_A, NODE_B):
            C.compare_node(t, x, nsnetstat, node)
        check_fake(t, x, fake, nsnetstat)
        check_silent(t, x, silent)
        stop(t, x.col, "collector")
        for n, ag in x.agents.items():
            stop(t, ag, "agent " + n)
        if getattr(x, "fake_col", None):
            stop(t, x.fake_col, "the real collector of part B")
        stop(t, x.agent_c, "agent " + NODE_C)
        stop(t, x.agent_d, "agent " + NODE_D)
        reports = x.cli.sanitizer + (x.fake_cli.sanitizer if getattr(x, "fake_cli", None) else [])
        t.check(not reports, "no sanitizer report from any nsnetstat --collector run", "\n".join(reports[:10]))
    except Exception:  # noqa: BLE001  (any failure is a failed check, after cleanup)
        t.check(False, "the test ran to its end", traceback.format_exc())
        if getattr(x, "col", None):
            t.note("collector log:\n" + x.col.tail(30).replace("\n", "\n# "))
    t.note("runtime %.1f s" % (time.monotonic() - t0))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
