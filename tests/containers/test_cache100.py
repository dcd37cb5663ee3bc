#!/usr/bin/env python3
"""containers.cache100: the attribution cache against 100 REAL runc containers.

usage: test_cache100.py PATH_TO_NSNETSTAT

The requirement: attribution is cached by (pid, start time) and by container id, so a
rescan of 100 unchanged containers re-reads nothing it already knows; and since the
kernel reuses namespace inodes (and pids), nothing is keyed on an inode alone across
scans.

The world.  Everything runs inside a new PID, mount and network namespace (unshare
--pid --kill-child --mount-proc --net) whose init is this script (--inner): nsnetstat's
/proc then holds exactly the processes the test made, so every figure of
scan.attribution can be predicted exactly, while the containers, runc, the kernel's
namespaces and the cgroups are all real.  100 containers are started with plain runc
(its default root, /run/runc, where nsnetstat finds its state), each in its own network
namespace, each running busybox httpd (a listener on :8080) from a small read-only
busybox rootfs, each with kubepods cgroup paths in four spellings (cgroupfs and
systemd-style, besteffort/burstable/guaranteed) and an OCI config.json carrying
containerd's CRI annotations (so that its pod is known).

The scans.  One `nsnetstat --all-namespaces -tlnp --json --continuous=2.1` process
(the CLI keeps its cache across the rounds of -c) writes one document per scan:

  scan 1  learns everything: one cgroup read per process, two runtime files per
          container (runc's state.json, which names the bundle, and its config.json)
  scan 2  nothing changed: no bundle read; the only cgroup re-read allowed is nsnetstat
          itself, if it was younger than attrib.c's 2 s re-check window at scan 1 (a
          process outside any container that young is looked at again)
  scan 3  nothing changed: no cgroup read, no bundle read at all (the interval, 2.1 s,
          is longer than the window, so nsnetstat is no longer young)
  -- while nsnetstat is blocked writing scan 3's document, the test changes the world:
     container X is stopped with its network namespace pinned, and a new container Y
     (another pod) is started in that very namespace: same inode, other container;
     a process outside any container takes X's pid (ns_last_pid) with X's comm, in
     that namespace: same pid, same comm, other start time; container V is stopped and
     a new container U started in a fresh namespace (the kernel may hand it V's inode);
     `runc exec` starts a second process in container W, which the cache knows
  scan 4  sees exactly that change: X and V gone, Y and U (with their pods) in their
          namespaces, the impostor in no container, W with two processes; exactly 4
          cgroup reads (Y, U, W's new process, the impostor) and 4 runtime file reads
          (Y's and U's: none for W)
  scan 5  nothing changed since: no cgroup read, no bundle read.

No timed assertion: the expected figures follow from attrib.c's rules and from
orderings the test enforces.  Scan 4 cannot start before the change is complete because
nsnetstat's stdout is a one-page pipe the test stops reading while more than a page of
scan 3's document is still unwritten (the next scan only starts after the write); the
test checks afterwards that this held.  The only figure that depends on a clock is
whether nsnetstat was young at scan 1: expected exactly when decidable (scan 1's
document arrived within 2 s of nsnetstat's start), otherwise both answers are allowed
and the test says so.

Root only (exit 77 otherwise, or when runc, a static busybox or unshare is missing).
Cleanup: the inner init deletes its containers (runc delete -f) on any exit; when it
dies, the kernel kills everything in its PID namespace; the outer process then deletes
whatever runc still knows, removes the cgroups the test created and its state dir, also
on SIGTERM (CTest's timeout) and for a previous run that was killed.
"""

import atexit
import concurrent.futures
import ctypes
import errno
import fcntl
import glob
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
import nsntlib as L  # noqa: E402

N = 100
PORT = 8080
INTERVAL = 2.1          # seconds between scans: longer than attrib.c's re-check window
YOUNG_S = 2             # attrib.c YOUNG_TICKS: "no container" is re-checked while younger
FILES_PER_RUNC = 2      # a plain runc container: /run/runc/ID/state.json, then config.json
STATE_PREFIX = "nsnt-c100-"
RUNC_ROOT = "/run/runc"
MARGIN = 8192           # bytes of slack below the document size for the pipe handshake
CLONE_NEWNET = 0x40000000
MNT_DETACH = 2
KEYS = ("processes", "cached", "cgroup_reads", "bundle_reads", "containers", "ms")
STYLES = ("cgroupfs-besteffort", "systemd-burstable", "cgroupfs-guaranteed", "systemd-guaranteed")


class Failure(Exception):
    """The world could not be set up as the test needs it (not a finding about nsnetstat)."""


def log(msg):
    print("# " + msg, flush=True)


def hz():
    return os.sysconf("SC_CLK_TCK")


def boot_ticks():
    """CLOCK_BOOTTIME in clock ticks, as attrib.c computes its uptime_ticks."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) * hz() // 1000000000


def proc_stat(pid):
    """(comm, state, ppid, start ticks) of a pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1]), int(rest[19])


def cgroup_roots():
    """Mount points of every cgroup hierarchy (v1 controllers, name=systemd, unified)."""
    roots = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2"):
                roots.add(left.split()[4])
    return sorted(roots)


def ref_cgroup_root():
    for r in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(r, "cgroup.procs")):
            return r
    return None


def append(path, lines):
    with open(path, "a") as f:
        for x in lines:
            f.write(x + "\n")


def read_lines(path):
    try:
        with open(path) as f:
            return [x.strip() for x in f if x.strip()]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------- cleanup
# Shared by the outer process (its own run, and the leftovers of killed runs).

def backstop(state, quiet=False):
    """Delete what runc still knows of the run's containers (their processes are dead:
    their PID namespace died with its init), the cgroups the run created, its state."""
    ids = read_lines(os.path.join(state, "ids"))
    left = [i for i in ids if os.path.exists(os.path.join(RUNC_ROOT, i))]
    for i in left:
        r = subprocess.run(["runc", "delete", "-f", i], capture_output=True, text=True)
        if r.returncode != 0 and os.path.exists(os.path.join(RUNC_ROOT, i)):
            print("WARNING: runc delete -f %s: %s" % (i, r.stderr.strip()), file=sys.stderr)
    if left and not quiet:
        log("outer cleanup: runc delete -f for %d container(s) the inner run left" % len(left))
    # Deepest first, in every hierarchy; rmdir removes only empty ones. An ancestor
    # this run created may since hold another test's cgroups: it is left to them.
    cgs = sorted(set(read_lines(os.path.join(state, "cgroups"))), key=lambda p: (-p.count("/"), p))
    roots = cgroup_roots()
    stuck = []
    for _ in range(20):
        stuck = []
        for p in cgs:
            for r in roots:
                d = r + p
                if not os.path.isdir(d):
                    continue
                try:
                    os.rmdir(d)
                except OSError as ex:
                    if ex.errno != errno.ENOENT and not any(e.is_dir() for e in os.scandir(d)):
                        stuck.append("%s (%s)" % (d, ex.strerror))
        if not stuck:
            break
        time.sleep(0.1)
    if stuck:
        print("WARNING: cgroups not removed: %s" % stuck[:5], file=sys.stderr)
    shutil.rmtree(state, ignore_errors=True)


def owner_alive(state):
    try:
        pid, start = map(int, open(os.path.join(state, "owner")).read().split())
    except (OSError, ValueError):
        return False
    st = proc_stat(pid)
    return st is not None and st[3] == start


def sweep_leftovers():
    for d in glob.glob("/tmp/%s*" % STATE_PREFIX):
        if os.path.isdir(d) and not owner_alive(d):
            log("removing the leftovers of a killed run: %s" % d)
            backstop(d)


# ---------------------------------------------------------------------------- outer

def set_pdeathsig():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def outer(binary):
    if os.geteuid() != 0:
        L.skip("needs root (starts containers with runc)")
    for t in ("runc", "busybox", "unshare"):
        if shutil.which(t) is None:
            L.skip("%s not installed (scripts/install-deps.sh installs runc and busybox-static)" % t)
    if subprocess.run(["ldd", shutil.which("busybox")], capture_output=True).returncode == 0:
        L.skip("busybox is dynamically linked; install busybox-static")
    if ref_cgroup_root() is None:
        L.skip("no cgroup hierarchy under /sys/fs/cgroup")
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "--net", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        L.skip("cannot create PID, mount and network namespaces: " + r.stderr.strip())
    L.require_backend()
    sweep_leftovers()

    state = tempfile.mkdtemp(prefix=STATE_PREFIX, dir="/tmp")
    with open(os.path.join(state, "owner"), "w") as f:
        f.write("%d %d\n" % (os.getpid(), proc_stat(os.getpid())[3]))
    inner_proc = []

    def cleanup():
        if inner_proc and inner_proc[0].poll() is None:
            u = inner_proc[0]
            # The inner init deletes its containers on SIGTERM; unshare does not forward
            # signals, so it is signalled directly (its pid here: unshare's child).
            try:
                kids = open("/proc/%d/task/%d/children" % (u.pid, u.pid)).read().split()
                for k in kids:
                    os.kill(int(k), signal.SIGTERM)
                u.wait(timeout=30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            if u.poll() is None:
                u.kill()  # --kill-child: the init gets SIGKILL, its PID namespace dies
                u.wait()
        backstop(state)

    atexit.register(cleanup)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))

    t0 = time.monotonic()
    # If this process is killed outright, unshare gets SIGKILL (PDEATHSIG), and its
    # child, the inner init, too (--kill-child): the namespace's processes all die.
    u = subprocess.Popen(["unshare", "--pid", "--kill-child", "--mount-proc", "--net",
                          sys.executable, os.path.abspath(__file__), "--inner", binary, state],
                         preexec_fn=set_pdeathsig)
    inner_proc.append(u)
    try:
        rc = u.wait(timeout=170)
    except subprocess.TimeoutExpired:
        print("FAIL: the inner run did not finish within 170 s", file=sys.stderr)
        rc = 1
    cleanup()
    log("total %.1f s (with cleanup)" % (time.monotonic() - t0))
    if rc < 0:
        print("FAIL: the inner run died of signal %d" % -rc, file=sys.stderr)
        rc = 1
    return rc


# ---------------------------------------------------------------------------- inner

class Ctr:
    """One runc container of the test: what it was given, and what was observed."""

    def __init__(self, state, tag, label, style):
        self.id = secrets.token_hex(32)
        self.uid = str(uuid.uuid4())
        self.label = label
        self.style = style
        self.pod = "c100-%s-%s" % (tag, label)
        self.k8s_ns = "c100-%s-ns%d" % (tag, len(label) % 3)
        self.name = "app-" + label
        self.sandbox_id = secrets.token_hex(32)
        self.bundle = os.path.join(state, "bundles", self.id)
        u = self.uid.replace("-", "_")
        self.cgroup = {
            "cgroupfs-besteffort": "/kubepods/besteffort/pod%s/%s" % (self.uid, self.id),
            "systemd-burstable": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
                                 "cri-containerd-%s.scope" % (u, self.id),
            "cgroupfs-guaranteed": "/kubepods/pod%s/%s" % (self.uid, self.id),
            "systemd-guaranteed": "/kubepods.slice/kubepods-pod%s.slice/cri-containerd-%s.scope" % (u, self.id),
        }[style]
        self.pid = None
        self.ino = None
        self.execs = []  # pids of processes runc exec started in it

    def expected(self):
        """The container object nsnetstat must print for it."""
        return {"id": self.id, "runtime": "runc", "name": self.name, "sandbox": False,
                "sandbox_id": self.sandbox_id,
                "pod": {"uid": self.uid, "name": self.pod, "namespace": self.k8s_ns, "container": self.name},
                "pid": min([self.pid] + self.execs), "nprocs": 1 + len(self.execs),
                "bundle": os.path.join(self.bundle, "config.json")}


def write_bundle(c, rootfs, netns_path=None):
    net = {"type": "network"}
    if netns_path:
        net["path"] = netns_path
    caps = ["CAP_NET_BIND_SERVICE"]
    cfg = {
        "ociVersion": "1.0.2-dev",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0},
                    "args": ["/bin/httpd", "-f", "-p", str(PORT), "-h", "/www"],
                    "env": ["PATH=/bin"], "cwd": "/",
                    "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                    "noNewPrivileges": True},
        "root": {"path": rootfs, "readonly": True},
        "hostname": c.id[:12],
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=1024k"]},
        ],
        # What containerd's CRI plugin writes into an application container's config.json.
        "annotations": {
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.container-name": c.name,
            "io.kubernetes.cri.sandbox-id": c.sandbox_id,
            "io.kubernetes.cri.sandbox-name": c.pod,
            "io.kubernetes.cri.sandbox-namespace": c.k8s_ns,
            "io.kubernetes.cri.sandbox-uid": c.uid,
        },
        "linux": {
            "cgroupsPath": c.cgroup,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, net, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    os.makedirs(c.bundle)
    with open(os.path.join(c.bundle, "config.json"), "w") as f:
        json.dump(cfg, f)


def build_rootfs(state):
    root = os.path.join(state, "rootfs")
    for d in ("bin", "proc", "dev", "tmp", "www", "etc"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(shutil.which("busybox"), os.path.join(root, "bin", "busybox"))
    for a in ("sh", "sleep", "httpd"):
        os.symlink("busybox", os.path.join(root, "bin", a))
    with open(os.path.join(root, "www", "index.html"), "w") as f:
        f.write("cache100\n")
    return root


def note_cgroups(state, ctrs):
    """Record the cgroup dirs these containers will create: each leaf, and every
    ancestor that does not exist yet (so that cleanup removes exactly ours)."""
    ref = ref_cgroup_root()
    out = []
    for c in ctrs:
        parts = c.cgroup.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/" + "/".join(parts[:i])
            if i == len(parts) or not os.path.isdir(ref + p):
                out.append(p)
    append(os.path.join(state, "cgroups"), sorted(set(out)))


def start(c):
    # The container's process inherits runc's stdio: a file, not a pipe that would
    # stay open (and keep a reader waiting) as long as httpd runs.
    errf = os.path.join(c.bundle, "runc.err")
    with open(errf, "w") as ef:
        r = subprocess.run(["runc", "run", "-d", "--bundle", c.bundle, "--pid-file", os.path.join(c.bundle, "pid"),
                            c.id], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef, timeout=60)
    if r.returncode != 0:
        raise Failure("runc run %s (%s): %s" % (c.label, c.id[:12], open(errf).read().strip()[-300:]))
    with open(os.path.join(c.bundle, "pid")) as f:
        c.pid = int(f.read())


def start_all(state, rootfs, ctrs, netns_path=None):
    note_cgroups(state, ctrs)
    append(os.path.join(state, "ids"), [c.id for c in ctrs])
    for c in ctrs:
        write_bundle(c, rootfs, netns_path)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for f in [ex.submit(start, c) for c in ctrs]:
            f.result()


def listening(pid, port):
    want = ":%04X" % port
    for fam in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, fam)) as f:
                for line in f.readlines()[1:]:
                    x = line.split()
                    if x[1].endswith(want) and x[3] == "0A":
                        return True
        except FileNotFoundError:
            pass
    return False


def wait_ready(ctrs, timeout=60):
    """Each container's process has exec'd httpd (its comm no longer runc:[2:INIT]) and
    listens; then its pid, namespace inode and parent are taken down."""
    end = time.monotonic() + timeout
    pending = list(ctrs)
    while pending:
        nxt = []
        for c in pending:
            st = proc_stat(c.pid)
            if st is None or st[1] == "Z":
                raise Failure("container %s (pid %d) exited after start" % (c.label, c.pid))
            if st[0] != "httpd" or not listening(c.pid, PORT):
                nxt.append(c)
        pending = nxt
        if pending and time.monotonic() > end:
            raise Failure("%d container(s) not listening after %d s: %s" % (len(pending), timeout,
                                                                          [c.label for c in pending[:5]]))
        if pending:
            time.sleep(0.02)
    for c in ctrs:
        c.ino = os.stat("/proc/%d/ns/net" % c.pid).st_ino
        c.ppid = proc_stat(c.pid)[2]


def stop(c):
    """runc kill, reap (this script is the namespace's init: the container's process is
    its child since runc exited), runc delete."""
    subprocess.run(["runc", "kill", c.id, "KILL"], capture_output=True, timeout=30)
    os.waitpid(c.pid, 0)
    r = subprocess.run(["runc", "delete", c.id], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise Failure("runc delete %s: %s" % (c.id[:12], r.stderr.strip()))


def all_pids():
    return sorted(int(d) for d in os.listdir("/proc") if d.isdigit())


def check_world(expect):
    """The namespace holds exactly the processes the test made (no stray child, no
    zombie): the figures below count them."""
    got = all_pids()
    if got != sorted(expect):
        extra = [(p, proc_stat(p)) for p in sorted(set(got) - set(expect))]
        raise Failure("processes in the PID namespace: missing %s, unexpected %s"
                      % (sorted(set(expect) - set(got)), extra[:10]))
    zombies = [p for p in got if (proc_stat(p) or ("", "Z"))[1] == "Z"]
    if zombies:
        raise Failure("zombies in the PID namespace: %s" % zombies)


def hide_foreign_netns():
    """Our mount namespace is a private copy of the host's: drop its nsfs bind mounts
    (other tests' /run/netns entries), so that the scan sees only our namespaces and our
    copy does not keep theirs alive."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/self/mountinfo") as f:
        mps = [line.split(" - ")[0].split()[4] for line in f if line.partition(" - ")[2].startswith("nsfs ")]
    for m in sorted(mps, reverse=True):
        libc.umount2(m.encode().decode("unicode_escape").encode(), MNT_DETACH)


class Stream:
    """nsnetstat's stdout: one JSON document per line, read with a byte budget."""

    def __init__(self, p, fd, errfile, deadline):
        self.p, self.fd, self.errfile, self.deadline = p, fd, errfile, deadline
        self.buf = b""

    def _read(self, n):
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Failure("no complete nsnetstat document before the deadline")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                break
        data = os.read(self.fd, n)
        if not data:
            self.p.wait()
            raise Failure("nsnetstat exited (%s): %s" % (self.p.returncode, open(self.errfile).read()[-1500:]))
        return data

    def doc(self, pause_at=None, on_pause=None):
        """The next document, its size, and the number of its bytes read when on_pause
        ran (None when the document ended before pause_at bytes)."""
        paused = None
        while b"\n" not in self.buf:
            if pause_at is not None and paused is None and len(self.buf) >= pause_at:
                paused = len(self.buf)
                on_pause()
                continue
            n = 1 << 16
            if pause_at is not None and paused is None:
                n = min(n, pause_at - len(self.buf))
            self.buf += self._read(n)
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line), len(line) + 1, paused
        except ValueError as ex:
            raise Failure("nsnetstat: not one JSON document per line: %s: %r" % (ex, line[:200]))


class Checker(L.Report):
    def ok(self, cond, msg):
        if self.check(cond, msg):
            print("ok: " + msg.split("\n")[0])
        return cond


def attribution(doc):
    return (doc.get("scan") or {}).get("attribution") or {}


def view(doc):
    """{netns inode: {container id: container object}} of every namespace."""
    return {ns["inode"]: {c["id"]: c for c in ns.get("containers") or []} for ns in L.namespaces(doc)}


def listeners(doc):
    """{netns inode: [(port, ((pid, comm, container_id), ...)), ...]} of LISTEN sockets."""
    out = {}
    for ns in L.namespaces(doc):
        out[ns["inode"]] = sorted((s["local"].get("port"), tuple(sorted((p.get("pid"), p.get("comm"), p.get("container_id"))
                                                                         for p in s.get("processes") or [])))
                                  for s in ns.get("sockets") or [] if s["state"].upper().startswith("LISTEN"))
    return out


def truth(ctrs, host_ino):
    """What a scan must show now: {netns inode: {id: container object}} and
    {netns inode: listeners} (see view() and listeners())."""
    want, lw = {host_ino: {}}, {host_ino: []}
    for c in ctrs:
        want.setdefault(c.ino, {})[c.id] = c.expected()
        lw[c.ino] = [(PORT, ((c.pid, "httpd", c.id),))]
    return want, lw


def check_scan(rep, label, doc, expect, gone):
    """Namespaces, containers and listeners of one document against the ground truth
    (truth()): exactly our namespaces; in each, exactly its container, as configured;
    no socket elsewhere; the stopped containers nowhere."""
    v = view(doc)
    want, lw = expect
    rep.ok(set(v) == set(want), "%s: exactly the %d namespaces of the world (host + one per container); "
           "missing %s, extra %s" % (label, len(want), sorted(set(want) - set(v))[:5], sorted(set(v) - set(want))[:5]))
    diff = []
    for ino in sorted(want):
        if v.get(ino, {}) != want[ino]:
            diff.append("netns %d: want %s\n      got  %s" % (ino, [(x["id"][:12], x["pod"]["name"]) for x in want[ino].values()],
                                                         list(v.get(ino, {}).values())))
    rep.ok(not diff, "%s: every namespace lists exactly its container (exact id, runtime runc, pod name/namespace/uid, "
           "container name, sandbox id, pid, bundle)%s" % (label, "" if not diff else ": %d differ:\n    %s"
                                                          % (len(diff), "\n    ".join(diff[:4]))))
    seen = {cid for cs in v.values() for cid in cs}
    ghosts = sorted(g.id[:12] for g in gone if g.id in seen)
    if gone:
        rep.ok(not ghosts, "%s: the stopped containers %s are in no namespace%s"
               % (label, [g.label for g in gone], "" if not ghosts else ": still there: %s" % ghosts))
    lg = listeners(doc)
    bad = ["netns %d: want %s got %s" % (i, lw[i], lg.get(i)) for i in sorted(lw) if lg.get(i) != lw[i]]
    rep.ok(not bad, "%s: each container namespace has one listener :%d, held by its httpd with its container id; "
           "none in the host namespace%s" % (label, PORT, "" if not bad else ":\n    " + "\n    ".join(bad[:4])))


def check_figures(rep, label, a, want):
    """want: {key: value or (set of allowed values, why)}."""
    bad = []
    for k, w in want.items():
        ok = a.get(k) in w[0] if isinstance(w, tuple) else a.get(k) == w
        if not ok:
            bad.append("%s=%r (want %s)" % (k, a.get(k), sorted(w[0]) if isinstance(w, tuple) else w))
    rep.ok(not bad, "%s: scan.attribution %s%s" % (label, ", ".join(
        "%s=%s" % (k, ("one of %s" % sorted(w[0])) if isinstance(w, tuple) else w) for k, w in want.items()),
        "" if not bad else ": got " + ", ".join(bad)))


def sanitizer_errors(path):
    try:
        text = open(path).read()
    except OSError:
        return []
    return [x for x in text.splitlines() if "runtime error:" in x or "AddressSanitizer" in x
            or "LeakSanitizer" in x or "UndefinedBehaviorSanitizer" in x]


def inner(binary, state):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    if os.getpid() != 1:
        raise Failure("--inner must be the init of a new PID namespace")
    rep = Checker()
    ctrs, gone, extra = [], [], []
    try:
        run_inner(binary, state, rep, ctrs, gone, extra)
    except Failure as ex:
        rep.ok(False, "setup: %s" % ex)
    finally:
        t0 = time.monotonic()
        for p in extra:
            if p.poll() is None:
                p.kill()
            p.wait()
        alive = [c for c in ctrs if os.path.exists(os.path.join(RUNC_ROOT, c.id))]
        # The containers' processes are this init's children (runc exited): reap them as
        # runc kills them, or a container's init waits for its exec'd process's zombie
        # (its PID namespace is torn down) and runc delete waits for the init.
        ours = {pid for c in alive for pid in [c.pid] + c.execs if pid}
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            futs = [ex.submit(subprocess.run, ["runc", "delete", "-f", c.id], capture_output=True) for c in alive]
            while ours and not all(f.done() for f in futs):
                for pid in list(ours):
                    try:
                        if os.waitpid(pid, os.WNOHANG)[0] == pid:
                            ours.discard(pid)
                    except ChildProcessError:
                        ours.discard(pid)
                time.sleep(0.02)
        while True:
            try:
                if os.waitpid(-1, 0)[0] <= 0:
                    break
            except ChildProcessError:
                break
        log("inner cleanup: %d containers deleted in %.1f s" % (len(alive), time.monotonic() - t0))
    rep.finish()


def run_inner(binary, state, rep, ctrs, gone, extra):
    t0 = time.monotonic()
    hide_foreign_netns()
    rootfs = build_rootfs(state)
    tag = secrets.token_hex(2)
    initial = [Ctr(state, tag, "p%02d" % i, STYLES[i % len(STYLES)]) for i in range(N)]
    ctrs.extend(initial)  # before the start: cleanup deletes whatever did start
    start_all(state, rootfs, initial)
    wait_ready(initial)
    t_start = time.monotonic() - t0
    host_ino = os.stat("/proc/self/ns/net").st_ino
    inos = {c.ino for c in initial}
    if len(inos) != N or host_ino in inos:
        raise Failure("the containers do not have %d namespaces of their own" % N)
    if any(c.ppid != 1 for c in initial):
        raise Failure("a container's process is not a child of this init: %s"
                      % [(c.label, c.ppid) for c in initial if c.ppid != 1][:5])
    check_world([1] + [c.pid for c in initial])
    log("%d runc containers started and listening in %.1f s (%s)"
        % (N, t_start, ", ".join("%d %s" % (sum(c.style == s for c in initial), s) for s in STYLES)))

    # This init must be older than the re-check window at scan 1: then it is never
    # looked at again, and the only young non-container process is nsnetstat itself.
    me = proc_stat(1)[3]
    while boot_ticks() <= me + YOUNG_S * hz():
        time.sleep(0.05)

    before = truth(initial, host_ino)
    errfile = os.path.join(state, "nsnetstat.err")
    args = ["--all-namespaces", "-tlnp", "--json", "--continuous=%g" % INTERVAL]
    argv = L.nsnetstat_argv(binary, args)
    # A one-page pipe (sized while empty): nsnetstat's write of a document blocks while
    # more than a page of it is unread, and its next scan starts only after that write.
    rfd, wfd = os.pipe()
    fcntl.fcntl(rfd, fcntl.F_SETPIPE_SZ, 4096)
    pipe = fcntl.fcntl(rfd, fcntl.F_GETPIPE_SZ)
    try:
        with open(errfile, "w") as ef:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=wfd, stderr=ef)
    finally:
        os.close(wfd)
    extra.append(p)
    nsn_start = proc_stat(p.pid)[3]
    log("%s (pid %d), stdout pipe %d bytes" % (" ".join(argv[1:]), p.pid, pipe))
    stream = Stream(p, rfd, errfile, time.monotonic() + 90)

    docs, sizes = [], []
    d1, s1, _ = stream.doc()
    recv1 = boot_ticks()
    docs.append(d1)
    sizes.append(s1)
    d2, s2, _ = stream.doc()
    docs.append(d2)
    sizes.append(s2)
    pause_at = min(sizes) - pipe - MARGIN
    if pause_at <= 0:
        raise Failure("documents of %d bytes are too small for the pipe handshake" % min(sizes))

    change = {}

    def on_pause():
        change.update(make_change(state, rootfs, tag, initial, ctrs, gone, extra, p.pid, host_ino))
        change["truth"] = truth(ctrs, host_ino)

    d3, s3, paused = stream.doc(pause_at, on_pause)
    docs.append(d3)
    sizes.append(s3)
    if not change:
        raise Failure("scan 3's document (%d bytes) ended before the pause point (%d)" % (s3, pause_at))
    held = s3 - paused > pipe
    rep.ok(held, "handshake: the change was made while %d of scan 3's %d bytes were unread (more than the "
           "%d-byte pipe holds), so nsnetstat was still writing scan 3 and scan 4 started after the change"
           % (s3 - paused, s3, pipe))
    d4, s4, _ = stream.doc()
    d5, s5, _ = stream.doc()
    docs += [d4, d5]
    sizes += [s4, s5]
    p.terminate()
    p.wait()
    os.close(rfd)
    for i, d in enumerate(docs):
        try:
            L.check_backend(args, d)
        except AssertionError as ex:
            rep.ok(False, "scan %d: %s" % (i + 1, ex))

    # ---- figures
    A = [attribution(d) for d in docs]
    print("# scan  processes  cached  cgroup_reads  bundle_reads  containers  attribution_ms  doc_bytes")
    for i, (a, s) in enumerate(zip(A, sizes)):
        print("# %4d  %9s  %6s  %12s  %12s  %10s  %14s  %9d%s" % (
            i + 1, a.get("processes"), a.get("cached"), a.get("cgroup_reads"), a.get("bundle_reads"),
            a.get("containers"), a.get("ms"), s, "   <- after the change" if i == 3 else ""))
    rep.ok(all(set(KEYS) <= set(a) for a in A), "every scan reports scan.attribution %s" % (KEYS,))

    base = N + 2  # the containers' httpd, this init, nsnetstat
    check_figures(rep, "scan 1 (cold cache)", A[0], {
        "processes": base, "cgroup_reads": base, "cached": 0,
        "bundle_reads": FILES_PER_RUNC * N, "containers": N})

    # nsnetstat itself is the one process outside any container that can be young at
    # scan 1: re-read at scan 2 exactly when its age at scan 1 was under 2 s. Scan 1
    # began between nsnetstat's start and the arrival of its document.
    window = YOUNG_S * hz()
    if recv1 < nsn_start + window:
        young, why = {1}, "nsnetstat was younger than %d s at scan 1 (its document came %.2f s after its start)" % (
            YOUNG_S, (recv1 - nsn_start) / hz())
    else:
        young, why = {0, 1}, "undecidable: scan 1's document came %.2f s after nsnetstat's start" % (
            (recv1 - nsn_start) / hz())
    log("scan 2's allowed re-reads: %s (%s)" % (sorted(young), why))
    r2 = A[1].get("cgroup_reads")
    check_figures(rep, "scan 2 (unchanged; only a young non-container process re-read)", A[1], {
        "processes": base, "cgroup_reads": (young, why), "bundle_reads": 0, "containers": N})
    rep.ok(isinstance(r2, int) and A[1].get("cached") == base - r2,
           "scan 2: cached = processes - cgroup_reads (%r = %d - %r)" % (A[1].get("cached"), base, r2))
    check_figures(rep, "scan 3 (unchanged)", A[2], {
        "processes": base, "cgroup_reads": 0, "bundle_reads": 0, "cached": base, "containers": N})

    imp = change.get("impostor")
    after = base + 1 + (1 if imp else 0)
    new = 3 + (1 if imp else 0)  # Y, U, W's exec'd sleep (and the impostor): new (pid, start time)s
    check_figures(rep, "scan 4 (X, V stopped; Y, U started; a process exec'd in W%s)"
                  % (", impostor on X's pid" if imp else ""), A[3], {
        "processes": after, "cgroup_reads": new, "bundle_reads": FILES_PER_RUNC * 2,
        "cached": after - new, "containers": N})
    check_figures(rep, "scan 5 (unchanged since)", A[4], {
        "processes": after, "cgroup_reads": 0, "bundle_reads": 0, "cached": after, "containers": N})

    # ---- what the scans say
    X, V, Y, U = change["X"], change["V"], change["Y"], change["U"]
    for i in range(3):
        check_scan(rep, "scan %d" % (i + 1), docs[i], before, [])
    rep.ok(view(docs[0]) == view(docs[1]) == view(docs[2]) and listeners(docs[0]) == listeners(docs[2]),
           "scans 1-3: the same containers and listeners in the same namespaces")
    for i in (3, 4):
        check_scan(rep, "scan %d" % (i + 1), docs[i], change["truth"], gone)
    rep.ok(Y.ino == X.ino, "Y runs in X's old namespace (inode %d): same inode, another container" % X.ino)
    yx = view(docs[3]).get(X.ino, {})
    rep.ok(list(yx) == [Y.id], "scan 4: namespace %d (X's, now Y's) lists Y %s (pod %s) only: %s"
           % (X.ino, Y.id[:12], Y.pod, [(k[:12], (c.get("pod") or {}).get("name")) for k, c in yx.items()]))
    if imp:
        rep.ok(imp["pid"] == X.pid and imp["comm"] == "httpd" and imp["ino"] == X.ino and imp["start"] != X.start,
               "impostor: X's pid %d, X's comm httpd, X's namespace, another start time (%d, not %d)"
               % (X.pid, imp["start"], X.start))
    # The namespace counts Y's process and the impostor; only Y is a container.
    for i in (3, 4):
        ns = L.ns_by_inode(docs[i], X.ino)
        n = ns[0].get("nprocs") if len(ns) == 1 else None
        rep.ok(n == (2 if imp else 1), "scan %d: namespace %d has %d processes (Y%s), of which only Y is in a "
               "container (above): %r" % (i + 1, X.ino, 2 if imp else 1, " and the impostor" if imp else "", n))
    log("U's fresh namespace: inode %d; V's was %d (%s)" % (
        U.ino, V.ino, "the kernel reused it" if U.ino == V.ino else "not reused this time"))
    errs = sanitizer_errors(errfile)
    rep.ok(not errs, "nsnetstat's stderr has no sanitizer report%s" % ("" if not errs else ": %s" % errs[:5]))
    warn = [d.get("warnings") for d in docs if d.get("warnings")]
    if warn:
        log("warnings: %s" % warn[:2])
    log("inner run: %.1f s" % (time.monotonic() - t0))


def make_change(state, rootfs, tag, initial, ctrs, gone, extra, nsn_pid, host_ino):
    """Run while nsnetstat is blocked writing scan 3: stop X (its namespace pinned) and
    V; start Y in X's namespace and U in a fresh one; put a process outside any container
    on X's pid with X's comm in X's namespace."""
    t0 = time.monotonic()
    X, V, W = initial[10], initial[41], initial[77]
    X.start = proc_stat(X.pid)[3]
    pin = os.open("/proc/%d/ns/net" % X.pid, os.O_RDONLY)
    try:
        stop(X)
        stop(V)
        gone += [X, V]
        ctrs.remove(X)
        ctrs.remove(V)
        Y = Ctr(state, tag, "y", "systemd-burstable")
        U = Ctr(state, tag, "u", "cgroupfs-besteffort")
        ctrs += [Y, U]
        note_cgroups(state, [Y, U])
        append(os.path.join(state, "ids"), [Y.id, U.id])
        write_bundle(Y, rootfs, "/proc/1/fd/%d" % pin)
        write_bundle(U, rootfs)
        start(Y)
        start(U)
        wait_ready([Y, U])
        # A new process in a container the cache knows: its cgroup is read, its
        # container's files are not.
        errf = os.path.join(W.bundle, "exec.err")
        with open(errf, "w") as ef:
            r = subprocess.run(["runc", "exec", "-d", "--pid-file", os.path.join(W.bundle, "exec.pid"), W.id,
                                "/bin/sleep", "3600"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=ef, timeout=60)
        if r.returncode != 0:
            raise Failure("runc exec %s: %s" % (W.id[:12], open(errf).read().strip()[-300:]))
        with open(os.path.join(W.bundle, "exec.pid")) as f:
            epid = int(f.read())
        W.execs.append(epid)
        end = time.monotonic() + 10
        while (proc_stat(epid) or ("",))[0] != "sleep":
            if time.monotonic() > end:
                raise Failure("runc exec'd sleep (pid %d) in %s did not start: %s" % (epid, W.label, proc_stat(epid)))
            time.sleep(0.01)
        imp = None
        if os.path.exists("/proc/sys/kernel/ns_last_pid"):
            # Nothing else forks here now (nsnetstat is blocked in write, httpd idle):
            # the next pid is X's.
            link = os.path.join(state, "httpd")
            os.symlink(shutil.which("busybox"), link)
            libc = ctypes.CDLL(None, use_errno=True)
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(X.pid - 1))
            q = subprocess.Popen(["sleep", "3600"], executable=link, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 preexec_fn=lambda: libc.setns(pin, CLONE_NEWNET))
            extra.append(q)
            end = time.monotonic() + 10
            while (proc_stat(q.pid) or ("",))[0] != "httpd" and time.monotonic() < end:
                time.sleep(0.01)
            st = proc_stat(q.pid)
            imp = {"pid": q.pid, "comm": st[0], "start": st[3], "ino": os.stat("/proc/%d/ns/net" % q.pid).st_ino}
        else:
            log("no /proc/sys/kernel/ns_last_pid (CONFIG_CHECKPOINT_RESTORE): no pid-reuse impostor")
    finally:
        os.close(pin)
    check_world([1, nsn_pid] + [c.pid for c in ctrs] + W.execs + ([imp["pid"]] if imp else []))
    log("change made in %.2f s while nsnetstat was blocked: stopped X=%s (%s, pid %d, netns %d) and V=%s (%s, "
        "netns %d); started Y=%s in X's netns (%d), U=%s in a fresh netns (%d); runc exec'd sleep (pid %d) in W=%s%s"
        % (time.monotonic() - t0, X.id[:12], X.style, X.pid, X.ino, V.id[:12], V.style, V.ino,
           Y.id[:12], Y.ino, U.id[:12], U.ino, W.execs[0], W.id[:12],
           "; impostor pid %d comm %s in netns %d" % (imp["pid"], imp["comm"], imp["ino"]) if imp else ""))
    return {"X": X, "V": V, "Y": Y, "U": U, "W": W, "impostor": imp}


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--inner":
        return inner(os.path.abspath(sys.argv[2]), sys.argv[3])
    if len(sys.argv) != 2:
        print("usage: test_cache100.py NSNETSTAT", file=sys.stderr)
        return 2
    return outer(os.path.abspath(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
