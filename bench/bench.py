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
"""
import json
import os
import resource
import statistics
import signal
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


def main():
    if os.geteuid() != 0:
        print("bench: needs root (namespaces)", file=sys.stderr)
        return 77
    nsnetstat = os.path.abspath(sys.argv[1])
    agent = next((a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--agent=")), None)
    sys.argv = [a for a in sys.argv if not a.startswith("--agent=")]
    agent_secs = float(os.environ.get("NSN_BENCH_AGENT_SECS", "60"))
    sizes = sys.argv[2:] or os.environ.get("NSN_BENCH_SIZES", "100x100 1000x100").split()
    results = []
    for size in sizes:
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
    print("\n== summary (nproc=%d, kernel %s)" % (os.cpu_count(), os.uname().release))
    for size, lines in results:
        for line in lines:
            print(f"{size:>9}  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
