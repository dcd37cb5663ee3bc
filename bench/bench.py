#!/usr/bin/env python3
"""nsnetstat benchmark: figures printed as ratios against ss, measured in one run.

    bench.py NSNETSTAT [NSxSOCKS ...]      (default: 100x100 1000x100; root only)

For each size it builds a host with bench/fixture/mkhost.sh (NS namespaces x ~SOCKS
sockets), then times, as medians of repeated runs:
  A  nsnetstat --all-namespaces -tuanx        vs  ip -all netns exec ss -tuanx
  B  nsnetstat --all-namespaces -tuanxp       vs  nsenter --net=NS ss -tuanp, looped over
     the fixture's namespaces (at >= 500 namespaces every 10th is run and scaled x10)
  C  peak RSS of nsnetstat --all-namespaces -tuanxp (target < 32 MB at 1000 x 100)
  D  nsnetstat --all-namespaces -r       vs  ip -all netns exec ip route show table all (+ -6)
  E  nsnetstat --all-namespaces -i       vs  ip -all netns exec ip -s link
  F  nsnetstat --all-namespaces -s       vs  ip -all netns exec nstat -asz
  J  the socket backends (issue 9): nsnetstat --all-namespaces -tuanx with the default backend
     (auto, i.e. BPF as root) and with --backend netlink vs ip -all netns exec ss -tuanx, as
     ratios ss/default (target >= 50x at 1000 x 100) and netlink/default; the default run's
     scan.bpf (load_ms, walk_ms, passes) from one --json run; whether both backends print the
     same lines (sorted; lines that differ in two pairs of runs are reported as findings);
     and, with --agent, nsnet-agent's CPU (utime+stime) per scan with --backend bpf and
     --backend netlink (NSN_BENCH_J="scans=10 interval=2" sets the scans and their period)
Targets from the issue: A >= 5x, B >= 20x, J >= 50x. The fixture is torn down at the end
(NSN_BENCH_KEEP=1 keeps it). While it is up, bench.py holds /tmp/nsn-netns.lock, the lock
the namespace tests take (an inherited descriptor of that file, e.g. from
`flock /tmp/nsn-netns.lock bench.py ...`, is used instead of a second one).

NSN_BENCH_ONLY selects sections by letter, e.g. NSN_BENCH_ONLY=J or NSN_BENCH_ONLY=AJ
(default: all of them).

With --collector=PATH --loadgen=PATH (the `bench` target passes both), section I runs once
after the sizes: the collector at cluster scale. It builds an NS x SOCKS fixture, keeps
connections opening and closing in it (churn), records the real nsnet-agent (--output) for
a few scans, tears the fixture down, and replays the recording with nsn-loadgen as NODES
nodes against a fresh nsnet-collector:
  I  ingest rate of every node's full snapshot (sockets/s, MB/s), RSS per million sockets
     (target < 200 MB), steady-state CPU with every node's deltas at the recorded interval,
     latency of filtered cluster-wide queries (collector alone, and nsnetstat --collector;
     target < 100 ms)
NSN_BENCH_COLLECTOR="nodes=200 ns=100 socks=100 interval=10 steady=30 churn=1 runs=5" sets
its sizes (those are the defaults; churn = connections replaced per namespace per interval).
NSN_BENCH_ONLY=I runs section I alone.
"""
import contextlib
import ctypes
import fcntl
import json
import math
import os
import resource
import statistics
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MKHOST = os.path.join(HERE, "fixture", "mkhost.sh")
PREFIX = "nsbench"
ENV = dict(os.environ, NSB_PREFIX=PREFIX, NSB_STATE_DIR="/run/nsnetstat-bench")


def run(cmd, shell=False):
    """Run a command with output discarded; return (seconds, peak RSS KiB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {cmd!r} failed: {err.strip()[:300]}")
    return dt, ru.ru_maxrss


def median_time(cmd, runs, shell=False):
    return statistics.median(run(cmd, shell)[0] for _ in range(runs))


def attribution_scans(nsnetstat):
    """scan.attribution of the first and the third document of a -c loop."""
    p = subprocess.Popen([nsnetstat, "--all-namespaces", "-tuanx", "--json", "-c", "0.05"],
                         stdout=subprocess.PIPE, text=True)
    docs = []
    try:
        for line in p.stdout:
            docs.append(json.loads(line)["scan"]["attribution"])
            if len(docs) == 3:
                break
    finally:
        p.kill()
        p.wait()
    if len(docs) < 3:
        sys.exit("bench: nsnetstat -c ended early")
    return docs[0], docs[2]


def agent_budget(agent, secs, interval=10.0):
    """Run nsnet-agent for secs against a file (--output): average CPU after the first
    scan, peak RSS, bytes of the full snapshot and of each idle interval."""
    out = "/tmp/nsn-bench-agent.bin"
    log = open("/tmp/nsn-bench-agent.log", "w+")
    p = subprocess.Popen([agent, "--output", out, "--interval", str(interval), "--node", "bench"],
                         stderr=log, stdout=subprocess.DEVNULL)
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        with open("/proc/%d/stat" % p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    # The first scan (and its full snapshot) happens at once; steady state after it.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log.seek(0)
        if "event=sent scan=1 " in log.read():
            break
        time.sleep(0.05)
    c0, t0 = cpu(), time.monotonic()
    time.sleep(secs)
    c1, t1 = cpu(), time.monotonic()
    with open("/proc/%d/status" % p.pid) as f:
        hwm = next(int(x.split()[1]) for x in f if x.startswith("VmHWM"))
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    log.seek(0)
    sent = [dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            for line in log if "event=sent " in line]
    scan = [line for line in open("/tmp/nsn-bench-agent.log") if "event=scan " in line]
    full = next(x for x in sent if x["full"] == "1")
    idle = [int(x["bytes"]) for x in sent if x["full"] == "0"]
    socks = int(full["sockets_added"])
    first_ms = float(dict(kv.split("=", 1) for kv in scan[0].split() if "=" in kv)["ms"]) if scan else 0.0
    return {"cpu_pct": 100.0 * (c1 - c0) / (t1 - t0), "rss_mb": hwm / 1024.0,
            "full_bytes": int(full["bytes"]), "sockets": socks,
            "idle_bytes": max(idle) if idle else 0, "idle_n": len(idle), "first_ms": first_ms}


NETNS_LOCK = "/tmp/nsn-netns.lock"


@contextlib.contextmanager
def netns_lock():
    """Hold NETNS_LOCK (flock) for the block. A descriptor of that file that we inherited
    (`flock /tmp/nsn-netns.lock bench.py ...`) is locked instead of a new one: the same open
    file, so no deadlock against our own parent."""
    if os.environ.get("NSN_BENCH_NO_LOCK"):
        yield
        return
    fd = None
    try:
        st = os.stat(NETNS_LOCK)
        for name in os.listdir("/proc/self/fd"):
            try:
                fst = os.fstat(int(name))
            except OSError:
                continue
            if (fst.st_dev, fst.st_ino) == (st.st_dev, st.st_ino):
                fd = os.dup(int(name))
                break
    except FileNotFoundError:
        pass
    if fd is None:
        fd = os.open(NETNS_LOCK, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        t0 = time.monotonic()
        say = t0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= say:
                    print(f"bench: waiting for {NETNS_LOCK} ({time.monotonic() - t0:.0f} s)", flush=True)
                    say += 60
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)  # the lock goes with the last descriptor of the open file


class Timer:
    """Medians of repeated runs, shared between sections: a command timed by one section
    with fewer runs than another asks for is only run the missing number of times."""

    def __init__(self):
        self.samples = {}

    def median(self, cmd, runs, shell=False):
        key = cmd if shell else tuple(cmd)
        got = self.samples.setdefault(key, [])
        while len(got) < runs:
            got.append(run(cmd, shell)[0])
        return statistics.median(got)


# ---- J: the socket backends (issue 9) ----------------------------------------------------

def capture(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: {cmd!r} failed: {p.stderr.strip()[:300]}")
    return p.stdout


def table_lines(text):
    """nsnetstat's table as a set of lines with their blanks normalised (column widths
    follow the widest cell, which a difference elsewhere changes), header left out."""
    lines = [" ".join(x.split()) for x in text.splitlines()[1:]]
    return {x for x in lines if x}


def backend_diff(nsnetstat, prefix):
    """Both backends twice, interleaved: lines that one backend printed in both of its runs
    and the other in neither are differences; what only one run saw is churn (sockets of
    other processes on the host opening and closing). Returns the stable differences (in
    and outside the fixture's namespaces) and the count of one-off lines."""
    base = [nsnetstat, "--all-namespaces", "-tuanx"]
    bpf1 = table_lines(capture(base))
    nl1 = table_lines(capture(base + ["--backend", "netlink"]))
    bpf2 = table_lines(capture(base))
    nl2 = table_lines(capture(base + ["--backend", "netlink"]))
    only_bpf = sorted((bpf1 & bpf2) - (nl1 | nl2))
    only_nl = sorted((nl1 & nl2) - (bpf1 | bpf2))
    churn = len((bpf1 ^ nl1) | (bpf2 ^ nl2)) - len(only_bpf) - len(only_nl)
    fix = prefix + "-"
    return {"lines": len(bpf1), "only_bpf": only_bpf, "only_netlink": only_nl,
            "in_fixture": sum(x.startswith(fix) for x in only_bpf + only_nl), "churn": churn}


def bpf_stats(nsnetstat):
    doc = json.loads(capture([nsnetstat, "--all-namespaces", "-tuanx", "--json"]))
    scan = doc["scan"]
    return scan.get("backend", "?"), scan.get("bpf") or {}


def agent_cpu_per_scan(agent, backend, scans, interval):
    """nsnet-agent --backend BACKEND --scans 1+SCANS into a file: CPU (utime+stime, all
    threads) of the first scan (start-up, BPF load, full snapshot) and per scan after it."""
    out = "/tmp/nsn-bench-agent-j.bin"
    log_path = "/tmp/nsn-bench-agent-j-%s.log" % backend
    tick = os.sysconf("SC_CLK_TCK")
    with open(log_path, "w+") as log:
        p = subprocess.Popen([agent, "--output", out, "--interval", str(interval), "--node", "bench",
                              "--backend", backend, "--scans", str(scans + 1)],
                             stderr=log, stdout=subprocess.DEVNULL)

        def cpu():
            with open("/proc/%d/stat" % p.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick

        try:
            deadline = time.monotonic() + 120
            while True:
                log.seek(0)
                if "event=sent scan=1 " in log.read():
                    break
                if p.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    sys.exit(f"bench: nsnet-agent --backend {backend} did not scan: {log.read()[-500:]}")
                time.sleep(0.02)
            # at once: the next scan may follow without a pause when a scan outlasts the interval
            c1 = cpu()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if p.returncode is None:
                stop_pid(p.pid, signal.SIGKILL)
                p.returncode = -9
        if p.returncode != 0:
            log.seek(0)
            sys.exit(f"bench: nsnet-agent --backend {backend} exit {p.returncode}: {log.read()[-500:]}")
        log.seek(0)
        text = log.read()
    total = ru.ru_utime + ru.ru_stime
    scan1 = next((x for x in text.splitlines() if "event=scan scan=1 " in x), "")
    kv = dict(x.split("=", 1) for x in scan1.split() if "=" in x)
    return {"first_cpu": c1, "per_scan": (total - c1) / scans, "first_ms": float(kv.get("ms", 0)),
            "sockets": int(kv.get("sockets", 0)), "backend": kv.get("backend", "?")}


def section_j(timer, nsnetstat, agent, big, ns, socks):
    cfg = {"scans": 10, "interval": 2.0}
    for kv in os.environ.get("NSN_BENCH_J", "").split():
        k, v = kv.split("=", 1)
        if k not in cfg:
            sys.exit(f"bench: NSN_BENCH_J: unknown {k} (known: {' '.join(cfg)})")
        cfg[k] = float(v) if k == "interval" else int(v)
    runs_fast, runs_ss = (5, 2) if big else (9, 3)
    base = [nsnetstat, "--all-namespaces", "-tuanx"]
    diff = backend_diff(nsnetstat, PREFIX)  # also warms both backends up
    t_def = timer.median(base, runs_fast)
    t_nl = timer.median(base + ["--backend", "netlink"], runs_fast)
    t_ss = timer.median("ip -all netns exec ss -tuanx", runs_ss, shell=True)
    backend, bpf = bpf_stats(nsnetstat)
    named = len(os.listdir("/run/netns"))
    lines = [
        f"J  -tuanx   default ({backend}) {t_def*1e3:8.1f} ms | --backend netlink {t_nl*1e3:8.1f} ms"
        f" | ip -all netns exec ss {t_ss*1e3:9.1f} ms ({named} named netns)"
        f" | ss/default {t_ss/t_def:6.1f}x (target >= 50x at 1000x100), netlink/default {t_nl/t_def:5.2f}x"
        f" (medians of {runs_fast}, {runs_fast}, {runs_ss})",
        f"J  scan.bpf of the default run: load_ms {bpf.get('load_ms', 0):.1f}, walk_ms {bpf.get('walk_ms', 0):.1f},"
        f" passes {bpf.get('passes', '?')}, records {bpf.get('records', '?')}, restarts {bpf.get('restarts', '?')},"
        f" drops {bpf.get('drops', '?')}, netlink_ns {bpf.get('netlink_ns', '?')}",
    ]
    if not diff["only_bpf"] and not diff["only_netlink"]:
        lines.append(f"J  output bpf vs netlink: equal ({diff['lines']} lines sorted;"
                     f" {diff['churn']} one-off lines of host churn ignored)")
    else:
        lines.append(f"J  output bpf vs netlink: DIFFER: {len(diff['only_bpf'])} lines only with bpf,"
                     f" {len(diff['only_netlink'])} only with netlink ({diff['in_fixture']} in the fixture's"
                     f" namespaces; {diff['churn']} one-off lines ignored), e.g.")
        lines += [f"J    bpf only:     {x}" for x in diff["only_bpf"][:5]]
        lines += [f"J    netlink only: {x}" for x in diff["only_netlink"][:5]]
    if agent:
        a_bpf = agent_cpu_per_scan(agent, "bpf", cfg["scans"], cfg["interval"])
        a_nl = agent_cpu_per_scan(agent, "netlink", cfg["scans"], cfg["interval"])
        lines.append(
            f"J  nsnet-agent CPU per scan ({cfg['scans']} scans, {cfg['interval']:g} s apart, {a_bpf['sockets']} sockets):"
            f" bpf {a_bpf['per_scan']*1e3:.1f} ms | netlink {a_nl['per_scan']*1e3:.1f} ms"
            f" | netlink/bpf {a_nl['per_scan']/max(a_bpf['per_scan'], 1e-9):.1f}x;"
            f" first scan (start-up included) bpf {a_bpf['first_cpu']*1e3:.0f} ms CPU / {a_bpf['first_ms']:.0f} ms,"
            f" netlink {a_nl['first_cpu']*1e3:.0f} ms CPU / {a_nl['first_ms']:.0f} ms")
    return lines


# ---- I: the collector at cluster scale ---------------------------------------------------

CHURN_PORT = 6000


def churn_worker(names, pairs, interval, ready_fd):
    """In a forked child: a listener and a few connections in every fixture namespace, then,
    one namespace at a time spread over each interval, `pairs` connections replaced (closed
    with RST, opened anew) and data left unread on one of them or read back: what the
    agent sees as sockets added, removed and changed."""
    libc = ctypes.CDLL(None, use_errno=True)
    linger0 = struct.pack("ii", 1, 0)
    world = []

    def enter(fd):
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns")

    def pair(lst):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        c.connect(("127.0.0.1", CHURN_PORT))
        s, _ = lst.accept()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
        return c, s

    for name in names:
        fd = os.open("/run/netns/" + name, os.O_RDONLY)
        enter(fd)
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", CHURN_PORT))
        lst.listen(128)
        world.append({"fd": fd, "lst": lst, "pairs": [pair(lst) for _ in range(max(pairs, 1) + 3)],
                      "unread": None})
    os.write(ready_fd, b"1")
    os.close(ready_fd)
    step = interval / len(world)
    t = time.monotonic()
    i = 0
    while True:
        w = world[i % len(world)]
        enter(w["fd"])
        if w["unread"]:
            w["unread"].recv(4096)
            w["unread"] = None
        else:  # the newest pair: it outlives the next round's replacements
            c, s = w["pairs"][-1]
            c.send(b"x" * 100)
            w["unread"] = s
        for _ in range(pairs):
            c, s = w["pairs"].pop(0)
            c.close()
            s.close()
            w["pairs"].append(pair(w["lst"]))
        i += 1
        t += step
        time.sleep(max(0.0, t - time.monotonic()))


def start_churn(pairs, interval):
    names = sorted(n for n in os.listdir("/run/netns") if n.startswith(PREFIX + "-"))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            churn_worker(names, pairs, interval, w)
        except BaseException as e:  # noqa: BLE001 - a child reports and exits
            print(f"bench: churn: {e!r}", file=sys.stderr)
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        if f.read(1) != b"1":
            os.waitpid(pid, 0)
            sys.exit("bench: churn helper failed")
    return pid


def stop_pid(pid, sig=signal.SIGTERM, timeout=10.0):
    """Signal a child of ours and reap it; its exit status (None if it was gone)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def record_cluster_node(agent, ns, socks, interval, scans, churn, out):
    """Fixture up, churn, the agent recording `scans` scans, fixture down: under the
    netns lock, so that no netns test runs meanwhile."""
    with netns_lock():
        t0 = time.monotonic()
        subprocess.run([MKHOST, "up", str(ns), str(socks)], env=ENV, check=True)
        churn_pid = None
        try:
            churn_pid = start_churn(churn, interval) if churn > 0 else None
            t1 = time.monotonic()
            with open(out + ".log", "w") as log:
                subprocess.run([agent, "--output", out, "--interval", str(interval), "--node", "bench",
                                "--scans", str(scans)], stderr=log, stdout=subprocess.DEVNULL, check=True,
                               timeout=interval * scans + 120)
            t2 = time.monotonic()
        finally:
            if churn_pid:
                stop_pid(churn_pid)
            if not os.environ.get("NSN_BENCH_KEEP"):
                subprocess.run([MKHOST, "down"], env=ENV, check=False)
        print(f"I  set-up: fixture {ns}x{socks} + churn {t1 - t0:.1f} s, agent recording of {scans} scans"
              f" {t2 - t1:.1f} s, teardown {time.monotonic() - t2:.1f} s", flush=True)


def start_collector(collector, log_path):
    log = open(log_path, "w+")
    p = subprocess.Popen([collector, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--plaintext"],
                         stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 10
    ports = {}
    while time.monotonic() < deadline and len(ports) < 2:
        if p.poll() is not None:
            break
        log.seek(0)
        for line in log:
            kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
            if kv.get("event") in ("listening", "http_listening") and "port" in kv:
                ports[kv["event"]] = int(kv["port"])
        time.sleep(0.05)
    if len(ports) < 2:
        p.kill()
        p.wait()
        log.seek(0)
        sys.exit(f"bench: nsnet-collector did not start: {log.read()[-500:]}")
    return p, ports["listening"], ports["http_listening"]


def collector_bench(nsnetstat, agent, collector, loadgen):
    cfg = {"nodes": 200, "ns": 100, "socks": 100, "interval": 10, "steady": 30, "churn": 1, "runs": 5}
    for kv in os.environ.get("NSN_BENCH_COLLECTOR", "").split():
        k, v = kv.split("=", 1)
        if k not in cfg:
            sys.exit(f"bench: NSN_BENCH_COLLECTOR: unknown {k} (known: {' '.join(cfg)})")
        cfg[k] = float(v) if k in ("interval", "steady") else int(v)
    interval = cfg["interval"]
    # Enough delta scans for the whole steady phase (and the queries after it); a node
    # that runs out sends heartbeats.
    scans = 1 + math.ceil(cfg["steady"] / interval) + 1
    rec = "/tmp/nsn-bench-cluster.bin"
    print(f"== I: nsnet-collector, {cfg['nodes']} nodes x {cfg['ns']} namespaces x ~{cfg['socks']} sockets",
          flush=True)
    record_cluster_node(agent, cfg["ns"], cfg["socks"], interval, scans, cfg["churn"], rec)

    log_path = "/tmp/nsn-bench-collector.log"
    coll, port, http = start_collector(collector, log_path)
    lines = []
    try:
        cmd = [loadgen, "--connect", f"127.0.0.1:{port}", "--recording", rec, "--nodes", str(cfg["nodes"]),
               "--prefix", "node", "--pid", str(coll.pid), "--steady", str(cfg["steady"]),
               "--metrics", f"127.0.0.1:{http}", "--runs", str(cfg["runs"]), "--query-budget", "10",
               "--timeout", "120", "--cli", nsnetstat,
               "--query", "-tn state established ( sport = :%PORT% )",
               "--query", "-tln",
               "--query", "-N %NS% -tn state established",
               "--query", "--node=%NODE% -tuanx",
               "--query", "-tuanx"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        for line in p.stdout:
            print(line, end="", flush=True)
            if line.startswith("I  "):
                lines.append(line.rstrip("\n"))
        rc = p.wait()
        alive = coll.poll() is None
        if rc != 0 or not alive:
            with open(log_path) as f:
                tail = f.readlines()[-15:]
            state = "running" if alive else f"exited with {coll.returncode}"
            print(f"bench: nsn-loadgen exit {rc}, nsnet-collector {state}; its log ends:\n" + "".join(tail),
                  file=sys.stderr)
            lines.append(f"I  FAILED: nsn-loadgen exit {rc}, nsnet-collector {state} (log {log_path})")
    finally:
        if coll.poll() is None:
            coll.send_signal(signal.SIGTERM)
            try:
                coll.wait(timeout=20)
            except subprocess.TimeoutExpired:
                coll.kill()
                coll.wait()
    return lines


def size_sections(want, nsnetstat, agent, agent_secs, ns, socks):
    """Sections A to H and J on the fixture that is up; their lines, printed as they come."""
    names = sorted(n for n in os.listdir("/run/netns") if n.startswith(PREFIX + "-"))
    total_ns = len(os.listdir("/run/netns"))
    big = ns >= 500
    runs_fast, runs_slow = (5, 1) if big else (9, 3)
    timer = Timer()
    lines = []

    def emit(*new):
        for line in new:
            print(line, flush=True)
        lines.extend(new)

    a_cmd = [nsnetstat, "--all-namespaces", "-tuanx"]
    if want("A") or want("G"):
        # warm caches once, and check our view covers the fixture
        run(a_cmd)
        a_ours = timer.median(a_cmd, runs_fast)
    if want("A"):
        a_ss = timer.median("ip -all netns exec ss -tuanx", runs_slow, shell=True)
        emit(f"A  -tuanx   nsnetstat {a_ours*1e3:8.1f} ms | ip -all netns exec ss {a_ss*1e3:9.1f} ms"
             f" ({total_ns} named netns) | ratio {a_ss/a_ours:6.1f}x (target >= 5x)")
    if want("B"):
        b_ours = timer.median([nsnetstat, "--all-namespaces", "-tuanxp"], runs_fast)
        step = 10 if big else 1
        sample = names[::step]
        loop = " ; ".join(f"nsenter --net=/run/netns/{n} ss -tuanp" for n in sample)
        b_ss = timer.median(loop, 1 if big else runs_slow, shell=True) * step
        emit(f"B  -tuanxp  nsnetstat {b_ours*1e3:8.1f} ms | nsenter+ss -p loop {b_ss*1e3:12.1f} ms"
             f"{' (every 10th, x10)' if big else ''} | ratio {b_ss/b_ours:6.1f}x (target >= 20x)")
    if want("C"):
        rss = max(run([nsnetstat, "--all-namespaces", "-tuanxp"])[1] for _ in range(3))
        emit(f"C  peak RSS nsnetstat --all-namespaces -tuanxp: {rss/1024:.1f} MB (target < 32 MB at 1000x100)")
    # the other netstat views: cheap per namespace, so the ratio is about
    # one process and no fork/exec per namespace
    if want("D"):
        d_ours = timer.median([nsnetstat, "--all-namespaces", "-r"], runs_fast)
        d_ip = timer.median("ip -all netns exec sh -c 'ip route show table all; ip -6 route show table all'",
                            runs_slow, shell=True)
        emit(f"D  -r       nsnetstat {d_ours*1e3:8.1f} ms | ip route (v4+v6) per ns {d_ip*1e3:8.1f} ms"
             f" | ratio {d_ip/d_ours:6.1f}x ({d_ours*1e6/total_ns:.0f} us per namespace)")
    if want("E"):
        e_ours = timer.median([nsnetstat, "--all-namespaces", "-i"], runs_fast)
        e_ip = timer.median("ip -all netns exec ip -s link", runs_slow, shell=True)
        emit(f"E  -i       nsnetstat {e_ours*1e3:8.1f} ms | ip -s link per ns    {e_ip*1e3:8.1f} ms"
             f" | ratio {e_ip/e_ours:6.1f}x ({e_ours*1e6/total_ns:.0f} us per namespace)")
    if want("F"):
        f_ours = timer.median([nsnetstat, "--all-namespaces", "-s"], runs_fast)
        f_ip = timer.median("NSTAT_HISTORY=/dev/null ip -all netns exec nstat -asz", runs_slow, shell=True)
        emit(f"F  -s       nsnetstat {f_ours*1e3:8.1f} ms | nstat -asz per ns    {f_ip*1e3:8.1f} ms"
             f" | ratio {f_ip/f_ours:6.1f}x ({f_ours*1e6/total_ns:.0f} us per namespace)")
    if want("G"):
        # attribution: the default run (A) against --no-containers, and what a
        # rescan with the cache (-c) costs, as the JSON reports it
        g_off = timer.median([nsnetstat, "--all-namespaces", "-tuanx", "--no-containers"], runs_fast)
        first, cached = attribution_scans(nsnetstat)
        emit(f"G  attribution: -tuanx {a_ours*1e3:.1f} ms vs --no-containers {g_off*1e3:.1f} ms;"
             f" first scan {first['ms']:.1f} ms for {first['processes']} processes"
             f" ({first['cgroup_reads']} cgroup + {first['bundle_reads']} runtime files read),"
             f" cached rescan {cached['ms']:.1f} ms ({cached['cgroup_reads']} cgroup reads)")
    if agent and want("H"):
        b = agent_budget(agent, agent_secs)
        emit(f"H  nsnet-agent, 10 s interval, {agent_secs:.0f} s idle: CPU {b['cpu_pct']:.2f}% of a core"
             f" (target < 2%), peak RSS {b['rss_mb']:.1f} MB (target < 32 MB), first scan {b['first_ms']:.0f} ms;"
             f" full snapshot {b['full_bytes']} bytes for {b['sockets']} sockets"
             f" ({b['full_bytes']/max(b['sockets'], 1):.0f} bytes/socket); idle interval <= {b['idle_bytes']} bytes"
             f" = {100.0*b['idle_bytes']/b['full_bytes']:.2f}% of the snapshot (target < 5%, {b['idle_n']} intervals)")
    if want("J"):
        emit(*section_j(timer, nsnetstat, agent, big, ns, socks))
    return lines


def main():
    if os.geteuid() != 0:
        print("bench: needs root (namespaces)", file=sys.stderr)
        return 77
    nsnetstat = os.path.abspath(sys.argv[1])
    opts = {}
    for a in sys.argv[2:]:
        for k in ("--agent=", "--collector=", "--loadgen="):
            if a.startswith(k):
                opts[k] = os.path.abspath(a[len(k):])
    sys.argv = [a for a in sys.argv if not a.startswith(("--agent=", "--collector=", "--loadgen="))]
    agent = opts.get("--agent=")
    agent_secs = float(os.environ.get("NSN_BENCH_AGENT_SECS", "60"))
    sizes = sys.argv[2:] or os.environ.get("NSN_BENCH_SIZES", "100x100 1000x100").split()
    results = []
    only = set(os.environ.get("NSN_BENCH_ONLY", "").upper().replace(",", "").replace(" ", ""))
    if only - set("ABCDEFGHIJ"):
        sys.exit(f"bench: NSN_BENCH_ONLY: unknown sections {''.join(sorted(only - set('ABCDEFGHIJ')))}")

    def want(letter):
        return not only or letter in only

    # SIGTERM as an exception, so that the fixture comes down and the lock is released
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    per_size = any(want(x) for x in "ABCDEFGHJ")
    for size in (sizes if per_size else []):
        ns, socks = (int(x) for x in size.split("x"))
        print(f"== {ns} namespaces x ~{socks} sockets", flush=True)
        with netns_lock():
            try:
                t0 = time.monotonic()
                subprocess.run([MKHOST, "up", str(ns), str(socks)], env=ENV, check=True)
                print(f"   fixture up in {time.monotonic() - t0:.1f} s", flush=True)
                lines = size_sections(want, nsnetstat, agent, agent_secs, ns, socks)
                results.append((size, lines))
            finally:
                if not os.environ.get("NSN_BENCH_KEEP"):
                    subprocess.run([MKHOST, "down"], env=ENV, check=False)
    if agent and opts.get("--collector=") and opts.get("--loadgen=") and want("I"):
        results.append(("cluster", collector_bench(nsnetstat, agent, opts["--collector="],
                                                   opts["--loadgen="])))
    print("\n== summary (nproc=%d, kernel %s)" % (os.cpu_count(), os.uname().release))
    for size, lines in results:
        for line in lines:
            print(f"{size:>9}  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
