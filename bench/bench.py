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
Targets from the issue: A >= 5x, B >= 20x. The fixture is torn down at the end
(NSN_BENCH_KEEP=1 keeps it).

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
    first_ms = float(scan[0].split("ms=")[1]) if scan else 0.0
    return {"cpu_pct": 100.0 * (c1 - c0) / (t1 - t0), "rss_mb": hwm / 1024.0,
            "full_bytes": int(full["bytes"]), "sockets": socks,
            "idle_bytes": max(idle) if idle else 0, "idle_n": len(idle), "first_ms": first_ms}


# ---- I: the collector at cluster scale ---------------------------------------------------

NETNS_LOCK = "/tmp/nsn-netns.lock"
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
    with open(NETNS_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
    only = os.environ.get("NSN_BENCH_ONLY", "")
    for size in ([] if only == "I" else sizes):
        ns, socks = (int(x) for x in size.split("x"))
        print(f"== {ns} namespaces x ~{socks} sockets", flush=True)
        subprocess.run([MKHOST, "up", str(ns), str(socks)], env=ENV, check=True)
        try:
            names = sorted(n for n in os.listdir("/run/netns") if n.startswith(PREFIX + "-"))
            total_ns = len(os.listdir("/run/netns"))
            big = ns >= 500
            runs_fast, runs_slow = (5, 1) if big else (9, 3)

            # warm caches once, and check our view covers the fixture
            run([nsnetstat, "--all-namespaces", "-tuanx"])
            a_ours = median_time([nsnetstat, "--all-namespaces", "-tuanx"], runs_fast)
            a_ss = median_time("ip -all netns exec ss -tuanx", runs_slow, shell=True)

            b_ours = median_time([nsnetstat, "--all-namespaces", "-tuanxp"], runs_fast)
            step = 10 if big else 1
            sample = names[::step]
            loop = " ; ".join(f"nsenter --net=/run/netns/{n} ss -tuanp" for n in sample)
            b_ss = median_time(loop, 1 if big else runs_slow, shell=True) * step

            rss = max(run([nsnetstat, "--all-namespaces", "-tuanxp"])[1] for _ in range(3))

            # the other netstat views: cheap per namespace, so the ratio is about
            # one process and no fork/exec per namespace
            d_ours = median_time([nsnetstat, "--all-namespaces", "-r"], runs_fast)
            d_ip = median_time("ip -all netns exec sh -c 'ip route show table all; ip -6 route show table all'",
                               runs_slow, shell=True)
            e_ours = median_time([nsnetstat, "--all-namespaces", "-i"], runs_fast)
            e_ip = median_time("ip -all netns exec ip -s link", runs_slow, shell=True)
            f_ours = median_time([nsnetstat, "--all-namespaces", "-s"], runs_fast)
            f_ip = median_time("NSTAT_HISTORY=/dev/null ip -all netns exec nstat -asz", runs_slow, shell=True)
            # attribution: the default run (A) against --no-containers, and what a
            # rescan with the cache (-c) costs, as the JSON reports it
            g_off = median_time([nsnetstat, "--all-namespaces", "-tuanx", "--no-containers"], runs_fast)
            first, cached = attribution_scans(nsnetstat)
            lines = [
                f"A  -tuanx   nsnetstat {a_ours*1e3:8.1f} ms | ip -all netns exec ss {a_ss*1e3:9.1f} ms"
                f" ({total_ns} named netns) | ratio {a_ss/a_ours:6.1f}x (target >= 5x)",
                f"B  -tuanxp  nsnetstat {b_ours*1e3:8.1f} ms | nsenter+ss -p loop {b_ss*1e3:12.1f} ms"
                f"{' (every 10th, x10)' if big else ''} | ratio {b_ss/b_ours:6.1f}x (target >= 20x)",
                f"C  peak RSS nsnetstat --all-namespaces -tuanxp: {rss/1024:.1f} MB (target < 32 MB at 1000x100)",
                f"D  -r       nsnetstat {d_ours*1e3:8.1f} ms | ip route (v4+v6) per ns {d_ip*1e3:8.1f} ms"
                f" | ratio {d_ip/d_ours:6.1f}x ({d_ours*1e6/total_ns:.0f} us per namespace)",
                f"E  -i       nsnetstat {e_ours*1e3:8.1f} ms | ip -s link per ns    {e_ip*1e3:8.1f} ms"
                f" | ratio {e_ip/e_ours:6.1f}x ({e_ours*1e6/total_ns:.0f} us per namespace)",
                f"F  -s       nsnetstat {f_ours*1e3:8.1f} ms | nstat -asz per ns    {f_ip*1e3:8.1f} ms"
                f" | ratio {f_ip/f_ours:6.1f}x ({f_ours*1e6/total_ns:.0f} us per namespace)",
                f"G  attribution: -tuanx {a_ours*1e3:.1f} ms vs --no-containers {g_off*1e3:.1f} ms;"
                f" first scan {first['ms']:.1f} ms for {first['processes']} processes"
                f" ({first['cgroup_reads']} cgroup + {first['bundle_reads']} runtime files read),"
                f" cached rescan {cached['ms']:.1f} ms ({cached['cgroup_reads']} cgroup reads)",
            ]
            if agent:
                b = agent_budget(agent, agent_secs)
                lines.append(
                    f"H  nsnet-agent, 10 s interval, {agent_secs:.0f} s idle: CPU {b['cpu_pct']:.2f}% of a core"
                    f" (target < 2%), peak RSS {b['rss_mb']:.1f} MB (target < 32 MB), first scan {b['first_ms']:.0f} ms;"
                    f" full snapshot {b['full_bytes']} bytes for {b['sockets']} sockets"
                    f" ({b['full_bytes']/max(b['sockets'], 1):.0f} bytes/socket); idle interval <= {b['idle_bytes']} bytes"
                    f" = {100.0*b['idle_bytes']/b['full_bytes']:.2f}% of the snapshot (target < 5%, {b['idle_n']} intervals)")
            for line in lines:
                print(line, flush=True)
            results.append((size, lines))
        finally:
            if not os.environ.get("NSN_BENCH_KEEP"):
                subprocess.run([MKHOST, "down"], env=ENV, check=False)
    if agent and opts.get("--collector=") and opts.get("--loadgen=") and only in ("", "I"):
        results.append(("cluster", collector_bench(nsnetstat, agent, opts["--collector="],
                                                   opts["--loadgen="])))
    print("\n== summary (nproc=%d, kernel %s)" % (os.cpu_count(), os.uname().release))
    for size, lines in results:
        for line in lines:
            print(f"{size:>9}  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
