#!/usr/bin/env python3
"""Container and pod attribution against REAL containers: containerd (CRI-annotated pods
in both kubepods cgroup spellings, a pod with two app containers, a Docker-style one, a
host-network one), plain runc (pods, an annotation-less container, a hostNetwork pod),
podman.  fixture.sh starts them and records what nsnetstat must report; this test
compares, also under a --host-root view where the runtimes' bundles sit at their standard
places (/run/containerd, /var/lib/containers/storage, /run/containers/storage).

usage: test_containers.py PATH_TO_NSNETSTAT

Root only (exit 77 otherwise, or when a runtime is not installed).  Other containers
on the host (e.g. another test's) are tolerated: every assertion is about the fixture's
own containers, pod names and Kubernetes namespaces, which carry a random tag.
"""

import atexit
import collections
import json
import os
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
import nsntlib as L  # noqa: E402

FIXTURE = os.path.join(HERE, "fixture.sh")
RUNTIMES = ("containerd", "cri-o", "docker", "podman", "runc")
CONTAINER_KEYS = {"id", "runtime", "name", "sandbox", "sandbox_id", "pod", "pid", "nprocs", "bundle"}
POD_KEYS = {"uid", "name", "namespace", "container"}
ATTR_KEYS = {"processes", "cgroup_reads", "cached", "bundle_reads"}


def none(v):
    return None if v == "-" else v


class Fixture:
    """fixture.sh under a private state dir; torn down at exit, on SIGTERM and on
    exceptions (registered after nsntlib.World, so it runs before World's cleanup)."""

    def __init__(self, state):
        self.state = state
        self.started = False
        self.torn = False
        atexit.register(self.teardown)

    def _cmd(self, *args):
        return ["bash", FIXTURE, "--state", self.state] + list(args)

    def up(self, timeout=120):
        self.started = True
        # Own process group: if we are interrupted mid-start, the group is killed before
        # the teardown, so that nothing keeps starting containers behind it.
        p = subprocess.Popen(self._cmd("up"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            raise
        sys.stderr.write(err)
        if p.returncode == L.SKIP:
            self.started = False
            L.skip((err.strip().splitlines() or ["fixture.sh skipped"])[-1])
        if p.returncode != 0:
            raise RuntimeError("fixture.sh up failed (%d)" % p.returncode)
        return parse_tsv(out)

    def info(self):
        """fixture.sh info: {NSNT_...: value} (state dirs of the runtimes)."""
        r = subprocess.run(self._cmd("info"), capture_output=True, text=True, check=True)
        out = {}
        for line in r.stdout.splitlines():
            k, sep, v = line.partition("=")
            if sep:
                out[k] = v.strip('"')
        return out

    def teardown(self):
        if not self.started or self.torn:
            return
        self.torn = True
        r = subprocess.run(self._cmd("teardown"), capture_output=True, text=True)
        sys.stderr.write(r.stderr)
        if r.returncode != 0:
            print("WARNING: fixture teardown failed (%d); state kept in %s"
                  % (r.returncode, self.state), file=sys.stderr)


def parse_tsv(text):
    lines = [x for x in text.splitlines() if x]
    head = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        rows.append(dict(zip(head, line.split("\t"))))
    for r in rows:
        r["pid"] = int(r["pid"])
        r["netns"] = int(r["netns"])
        r["port"] = None if r["port"] == "-" else int(r["port"])
    return rows


class Checker(L.Report):
    def ok(self, cond, msg):
        if self.check(cond, msg):
            print("ok: " + msg.split("\n")[0])
        return cond


def run_ns(rep, binary, args, timeout=60):
    """The JSON document of one run, or None (a failed check) when it did not succeed:
    the checks that need it are then left out, the others still run."""
    try:
        r, doc = L.nsnetstat(binary, args, timeout=timeout)
    except (AssertionError, subprocess.TimeoutExpired) as ex:
        rep.ok(False, "nsnetstat %s: %s" % (" ".join(args), ex))
        return None
    if r.returncode != 0 or doc is None:
        rep.ok(False, "nsnetstat %s: exit %d, stderr: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return None
    return doc


def sockets(doc):
    """(namespace, socket) pairs of a document."""
    return [(ns, s) for ns in L.namespaces(doc) for s in ns.get("sockets") or []]


def listeners(doc, port, addr=None):
    return [(ns, s) for ns, s in sockets(doc)
            if s["proto"].startswith("tcp") and s["local"].get("port") == port
            and (addr is None or s["local"].get("addr") == addr)
            and s["state"].lower().startswith("listen")]


def containers_by_id(ns):
    return {c["id"]: c for c in ns.get("containers") or []}


def view(doc, inodes):
    """{netns inode: {container id: container}} for the given namespaces."""
    out = {}
    for ns in L.namespaces(doc):
        if ns["inode"] in inodes:
            out[ns["inode"]] = containers_by_id(ns)
    return out


def owners(s):
    return {p.get("container_id") for p in s.get("processes") or []}


def describe(pairs):
    return ["netns %s %s %s:%s owners %s" % (ns["inode"], s["state"], s["local"].get("addr"),
                                             s["local"].get("port"),
                                             [(p.get("comm"), p.get("pid"), p.get("container_id"))
                                              for p in s.get("processes") or []])
            for ns, s in pairs]


def http_get(port, netns_pid=None):
    """One HTTP/1.0 request to 127.0.0.1:port (inside netns_pid's namespace if given).
    busybox httpd closes first, so the server's side is left in TIME-WAIT, owned by
    no process."""
    code = ("import socket,sys\n"
            "s=socket.create_connection(('127.0.0.1',%d),5)\n"
            "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            "d=b''\n"
            "while True:\n"
            "    b=s.recv(4096)\n"
            "    if not b: break\n"
            "    d+=b\n"
            "s.close()\n"
            "sys.exit(0 if b'fixture' in d else 3)\n" % port)
    cmd = [sys.executable, "-c", code]
    if netns_pid:
        cmd = ["nsenter", "--net=/proc/%d/ns/net" % netns_pid] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


class Ctx:
    """What every section needs: the binary, the report, the fixture's record."""

    def __init__(self, binary, rep, tmp, rows, info):
        self.binary, self.rep, self.tmp, self.rows, self.info = binary, rep, tmp, rows, info
        self.by_key = collections.defaultdict(dict)
        for r in rows:
            if r["role"] == "sandbox":
                self.by_key[r["key"]]["sandbox"] = r
            else:
                # "app" is the first app; a pod of several (cdm) lists them all in "apps"
                self.by_key[r["key"]].setdefault("app", r)
                self.by_key[r["key"]].setdefault("apps", []).append(r)
        self.apps = [r for r in rows if r["role"] != "sandbox"]
        self.hostino = L.host_netns_stat().st_ino
        self.inodes = {r["netns"] for r in rows}
        self.tag = self.app("cd1")["pod_name"].split("-")[1]  # pod names are nsnt-<tag>-<key>

    def app(self, key):
        return self.by_key[key]["app"]

    def sock(self, key):
        return (self.app(key)["netns"], self.app(key)["port"])

    def json(self, args, timeout=60):
        return run_ns(self.rep, self.binary, args, timeout)

    def private_bundle(self, r):
        """Where the fixture's runtime keeps the bundle of row r (nothing at a standard
        place): what "bundle" reports when it is found through the shim's working
        directory (containerd), conmon's -b (podman) or runc's state (runc)."""
        if r["driver"] == "containerd":
            return "%s/io.containerd.runtime.v2.task/%s/%s/config.json" % (
                self.info["NSNT_CONTAINERD_STATE"], r["ctr_ns"], r["id"])
        if r["driver"] == "podman":
            return "%s/overlay-containers/%s/userdata/config.json" % (self.info["NSNT_PODMAN_ROOT"], r["id"])
        return "%s/%s/config.json" % (self.info["NSNT_RUNC_BUNDLES"], r["id"])


def all_there(t, v):
    """Every fixture container is in its namespace's entry of view v."""
    return all(r["id"] in v.get(r["netns"], {}) for r in t.rows)


def check_containers(t, plain):
    """a. Every fixture container in the containers of its namespace, exactly as recorded."""
    rep = t.rep
    attr = plain.get("scan", {}).get("attribution")
    rep.ok(isinstance(attr, dict) and ATTR_KEYS <= set(attr) and attr["processes"] > 0
           and attr["cgroup_reads"] > 0,
           "scan.attribution has %s, processes and cgroup_reads > 0: %r" % (sorted(ATTR_KEYS), attr))
    allc = [c for ns in L.namespaces(plain) for c in ns.get("containers") or []]
    shapes = [(sorted(c), sorted(c.get("pod") or {})) for c in allc
              if not CONTAINER_KEYS <= set(c) or (c.get("pod") is not None and set(c["pod"]) != POD_KEYS)]
    rep.ok(len(allc) >= len(t.rows) and not shapes, "%d container objects (at least the fixture's %d), each "
           "with %s, a pod null or exactly %s%s" % (len(allc), len(t.rows), sorted(CONTAINER_KEYS),
                                                    sorted(POD_KEYS), "" if not shapes else ": %s" % shapes[:3]))
    extra = sorted({k for c in allc for k in c} - CONTAINER_KEYS)
    if extra:
        print("# note: container objects also carry %s" % extra)

    for r in t.rows:
        what = "%s %s %s (%s, %s)" % (r["key"], r["role"], r["id"][:12], r["driver"], r["style"])
        found = L.ns_by_inode(plain, r["netns"])
        if not rep.ok(len(found) == 1, "%s: netns %d listed once (%d)" % (what, r["netns"], len(found))):
            continue
        cs = containers_by_id(found[0])
        c = cs.get(r["id"])
        if not rep.ok(c is not None, "%s: in the containers of netns %d; there: %s"
                      % (what, r["netns"], sorted((x["id"][:12], x["runtime"]) for x in cs.values()))):
            continue
        # Each fixture container runs exactly one process (httpd -f, or sleep).
        exp = {"runtime": r["runtime"], "sandbox": r["role"] == "sandbox", "pid": r["pid"], "nprocs": 1,
               "bundle": t.private_bundle(r)}
        if r["role"] != "sandbox":
            exp["name"] = none(r["container_name"])
            exp["sandbox_id"] = none(r["sandbox_id"])
        else:
            # A sandbox has no container name; its sandbox_id, if any, is its own id.
            exp["name"] = None
            rep.ok(c.get("sandbox_id") in (None, r["id"]),
                   "%s: sandbox_id is null or its own id (%r)" % (what, c.get("sandbox_id")))
        if r["pod_name"] != "-":
            pod = {"uid": r["pod_uid"], "name": r["pod_name"], "namespace": r["pod_namespace"],
                   "container": none(r["container_name"])}
            got_pod = {k: (c.get("pod") or {}).get(k) for k in pod}
            rep.ok(got_pod == pod, "%s: pod %s" % (what, pod) + ("" if got_pod == pod else "\n  got %r" % c.get("pod")))
        elif r["pod_uid"] != "-":
            # A kubepods cgroup path without annotations: the uid alone (no kubelet logs here).
            exp["pod"] = {"uid": r["pod_uid"], "name": None, "namespace": None, "container": None}
        else:
            exp["pod"] = None
        got = {k: c.get(k) for k in exp}
        rep.ok(got == exp, "%s: %s" % (what, ", ".join("%s=%r" % kv for kv in sorted(exp.items())))
               + ("" if got == exp else "\n  got %r" % got))


def check_sockets(t, plain):
    """b, c. Each listener in its container's namespace, owned by it; the host-network
    ones in the host namespace and nowhere else."""
    rep = t.rep
    for r in t.apps:
        what = "%s %s listener :%d" % (r["key"], r["role"], r["port"])
        addr = "127.0.0.1" if r["role"] == "hostnet" else None
        hits = listeners(plain, r["port"], addr)
        mine = [(ns, s) for ns, s in hits if ns["inode"] == r["netns"]]
        rep.ok(len(mine) == 1, "%s: in netns %d exactly once (%d)" % (what, r["netns"], len(mine)))
        for ns, s in mine:
            procs = s.get("processes") or []
            rep.ok(procs and all(p.get("container_id") == r["id"] for p in procs)
                   and any(p.get("pid") == r["pid"] for p in procs),
                   "%s: its processes carry container_id %s: %r" % (what, r["id"][:12], procs))
        if r["role"] == "hostnet":
            rep.ok(r["netns"] == t.hostino and mine and all(ns.get("host") is True for ns, _ in mine),
                   "%s: in the host namespace (host: true)" % what)
            rep.ok(len(hits) == 1, "%s: exactly once in the whole document (%d): %s"
                   % (what, len(hits), describe(hits)))
    hostns = L.ns_by_inode(plain, t.hostino)
    rep.ok(len(hostns) == 1 and hostns[0].get("host") is True,
           "the host namespace %d is listed once, with host: true" % t.hostino)


def filtered_exactly(t, args, want, label, holders):
    """want: the (netns inode, port) pairs the filtered -tl document must hold, exactly;
    holders: the fixture rows whose containers match. The namespaces listed must be
    exactly those with a socket left or a matching container."""
    rep = t.rep
    doc = t.json(["--all-namespaces", "-tlnp", "--json"] + args)
    if doc is None:
        return
    got = sorted((ns["inode"], s["local"].get("port")) for ns, s in sockets(doc))
    rep.ok(got == sorted(want), "%s: sockets %s" % (label, sorted(want))
           + ("" if got == sorted(want) else "\n  got %s" % describe(sockets(doc))))
    listed = sorted(ns["inode"] for ns in L.namespaces(doc))
    expect = sorted({ino for ino, _ in want} | {r["netns"] for r in holders})
    rep.ok(listed == expect, "%s: namespaces %s (those with a socket or a matching container)%s"
           % (label, expect, "" if listed == expect else ", got %s" % listed))


def check_filters(t):
    """d. --pod, --container, --k8s-namespace, --runtime; unowned sockets; the table."""
    rep = t.rep

    def exactly(args, want, label, holders):
        filtered_exactly(t, args, want, label, holders)

    def pod_rows(*keys):
        return [r for r in t.rows if r["key"] in keys]

    for key in ("cd1", "cd2", "rc1", "rc2", "rch"):
        name = t.app(key)["pod_name"]
        exactly(["--pod", name], [t.sock(key)], "--pod %s" % name, pod_rows(key))
    a = t.app("rc1")
    exactly(["--pod", "%s/%s" % (a["pod_namespace"], a["pod_name"])], [t.sock("rc1")],
            "--pod %s/%s" % (a["pod_namespace"], a["pod_name"]), pod_rows("rc1"))
    exactly(["--pod", "nsnt-%s-b/%s" % (t.tag, a["pod_name"])], [],
            "--pod nsnt-%s-b/%s (wrong namespace)" % (t.tag, a["pod_name"]), [])
    for key in ("cd1", "rc2", "rcb", "pm1", "dk1", "rch", "cdh"):
        a = t.app(key)
        exactly(["--container", a["id"][:12]], [t.sock(key)], "--container %s (%s)" % (a["id"][:12], key), [a])
    a = t.app("cd2")
    exactly(["--container", a["id"]], [t.sock("cd2")], "--container <full id of cd2>", [a])
    for key in ("cd2", "pm1"):
        a = t.app(key)
        exactly(["--container", a["container_name"]], [t.sock(key)],
                "--container %s (exact name)" % a["container_name"], [a])
    a = t.app("pm1")
    exactly(["--container", a["container_name"][:-1]], [],
            "--container %s (a name's prefix is no match)" % a["container_name"][:-1], [])
    sbx = t.by_key["rc1"]["sandbox"]
    exactly(["--container", sbx["id"][:12]], [],
            "--container %s (rc1's sandbox, which owns no socket)" % sbx["id"][:12], [sbx])
    for ns, keys in (("a", ["cd1", "rc1"]), ("b", ["cd2", "rc2"]), ("h", ["rch"])):
        exactly(["--k8s-namespace", "nsnt-%s-%s" % (t.tag, ns)], [t.sock(k) for k in keys],
                "--k8s-namespace nsnt-%s-%s" % (t.tag, ns), pod_rows(*keys))
    exactly(["--k8s-namespace", "nsnt-%s-a" % t.tag, "--pod", t.app("rc2")["pod_name"]], [],
            "--k8s-namespace nsnt-%s-a --pod %s (the pod is in -b)" % (t.tag, t.app("rc2")["pod_name"]), [])
    exactly(["--runtime", "docker", "--container", t.app("dk1")["id"][:12]], [t.sock("dk1")],
            "--runtime docker --container <dk1>", [t.app("dk1")])
    exactly(["--runtime", "podman", "--container", t.app("dk1")["id"][:12]], [],
            "--runtime podman --container <dk1> (dk1 is docker)", [])

    for rt in ("podman", "runc", "docker", "containerd"):
        doc = t.json(["--all-namespaces", "-tlnp", "--json", "--runtime", rt])
        if doc is None:
            continue
        of_rt = {c["id"] for ns in L.namespaces(doc) for c in ns.get("containers") or []
                 if c["runtime"] == rt}
        bad = [(ns, s) for ns, s in sockets(doc) if not owners(s) & of_rt]
        rep.ok(not bad, "--runtime %s: every socket is owned by a %s container%s"
               % (rt, rt, "" if not bad else ": not %s" % describe(bad)))
        got = {(ns["inode"], s["local"].get("port")) for ns, s in sockets(doc)}
        want = {(r["netns"], r["port"]) for r in t.apps if r["runtime"] == rt}
        notwant = {(r["netns"], r["port"]) for r in t.apps if r["runtime"] != rt}
        rep.ok(want <= got and not (notwant & got),
               "--runtime %s: the fixture's %d %s listener(s) and none of its others (missing %s, extra %s)"
               % (rt, len(want), rt, sorted(want - got), sorted(notwant & got)))

    # Unowned sockets: a TIME-WAIT in a pod's netns belongs to the pod's containers; one
    # in the host netns is never given to a hostNetwork pod.
    cd1, rch = t.app("cd1"), t.app("rch")
    subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % cd1["pid"], "ip", "link", "set", "lo", "up"],
                   capture_output=True)
    g1, g2 = http_get(cd1["port"], cd1["pid"]), http_get(rch["port"])
    rep.ok(g1.returncode == 0 and g2.returncode == 0,
           "HTTP over loopback to cd1 (inside its netns) and to rch (host) %s %s"
           % (g1.stderr.strip()[-200:], g2.stderr.strip()[-200:]))

    def tw(doc, inode, port):
        # The side that closes first keeps the TIME-WAIT: usually httpd (local port
        # PORT), but the client may close first (or both at once): either side counts,
        # as both ends live in the namespace asked about.
        return [(ns, s) for ns, s in sockets(doc) if ns["inode"] == inode
                and port in (s["local"].get("port"), s["peer"].get("port")) and "time" in s["state"].lower()]

    full = t.json(["--all-namespaces", "-tanp", "--json"])
    if full is not None:
        tw_cd1, tw_host = tw(full, cd1["netns"], cd1["port"]), tw(full, t.hostino, rch["port"])
        rep.ok(bool(tw_cd1 and tw_host),
               "unfiltered -ta: TIME-WAIT sockets in cd1's netns and in the host netns (%d, %d; backend %s; "
               "warnings %s)" % (len(tw_cd1), len(tw_host), full.get("scan", {}).get("backend"), full.get("warnings")))
        if not (tw_cd1 and tw_host):
            # What the kernel itself lists now, to tell a lost socket from one that is gone.
            for label, pid in (("cd1", cd1["pid"]), ("host", None)):
                port = cd1["port"] if pid else rch["port"]
                cmd = ["ss", "-tan", "state", "time-wait", "( sport = :%d )" % port]
                if pid:
                    cmd = ["nsenter", "--net=/proc/%d/ns/net" % pid] + cmd
                r = subprocess.run(cmd, capture_output=True, text=True)
                print("# ss in %s now: %s" % (label, r.stdout.strip().replace("\n", " | ")), file=sys.stderr)
    doc = t.json(["--all-namespaces", "-tanp", "--json", "--pod", cd1["pod_name"]])
    if doc is not None:
        tws = tw(doc, cd1["netns"], cd1["port"])
        rep.ok(len(tws) in (1, 2) and not any(owners(s) - {None} for _, s in tws),
               "--pod %s -ta: the unowned TIME-WAIT in its netns is attributed to it: %s"
               % (cd1["pod_name"], describe(tws)))
    doc = t.json(["--all-namespaces", "-tanp", "--json", "--pod", rch["pod_name"]])
    if doc is not None:
        bad = [(ns, s) for ns, s in sockets(doc) if owners(s) != {rch["id"]}]
        rep.ok(not bad and listeners(doc, rch["port"], "127.0.0.1"),
               "--pod %s -ta (hostNetwork): its own listener and no host socket%s"
               % (rch["pod_name"], "" if not bad else ": extra %s" % describe(bad)))

    # Table: NETNS CONTAINER POD Netid State ...
    pm1, dk1 = t.app("pm1"), t.app("dk1")
    for key, args, cname, podtxt in (
            ("cd1", ["--pod", cd1["pod_name"]], cd1["container_name"],
             "%s/%s" % (cd1["pod_namespace"], cd1["pod_name"])),
            ("pm1", ["--container", pm1["container_name"]], pm1["container_name"], "-"),
            ("dk1", ["--container", dk1["id"][:12]], dk1["id"][:12], "-"),
            ("rch", ["--pod", rch["pod_name"]], rch["container_name"],
             "%s/%s" % (rch["pod_namespace"], rch["pod_name"]))):
        args = ["--all-namespaces", "-tln"] + args
        r = subprocess.run([t.binary] + args, capture_output=True, text=True, timeout=60)
        if not rep.ok(r.returncode == 0, "table %s: exit %d %s" % (" ".join(args), r.returncode, r.stderr.strip())):
            continue
        lines = [x.split() for x in r.stdout.splitlines() if x.strip()]
        head = lines[0] if lines else []
        rep.ok(head[:5] == ["NETNS", "CONTAINER", "POD", "Netid", "State"],
               "table %s: header starts NETNS CONTAINER POD Netid State: %r" % (" ".join(args[2:]), head[:6]))
        port = ":%d" % t.app(key)["port"]
        data = [x for x in lines[1:] if any(tok.endswith(port) for tok in x)]
        rep.ok(len(data) == 1 and len(lines) == 2 and data[0][1:3] == [cname, podtxt],
               "table %s: one row, CONTAINER %s, POD %s\n%s" % (" ".join(args[2:]), cname, podtxt, r.stdout))


def check_table_all(t, plain):
    """d (table). Unfiltered --all-namespaces tables, with and without -p: each fixture
    listener's row names its own container and pod (sockets are attributed through their
    owners, with or without -p printing them)."""
    names = {ns["inode"]: set(ns.get("names") or []) | {str(ns["inode"])} | ({"host"} if ns.get("host") else set())
             for ns in L.namespaces(plain)}
    for flags in ("-tln", "-tlnp"):
        args = ["--all-namespaces", flags]
        r = subprocess.run([t.binary] + args, capture_output=True, text=True, timeout=60)
        if not t.rep.ok(r.returncode == 0, "table %s: exit %d %s" % (" ".join(args), r.returncode, r.stderr.strip())):
            continue
        lines = [x.split() for x in r.stdout.splitlines() if x.strip()]
        for a in t.apps:
            cname = a["container_name"] if a["container_name"] != "-" else a["id"][:12]
            rows = [x for x in lines[1:] if x[0] in names.get(a["netns"], ()) and len(x) > 8
                    and any(tok.endswith(":%d" % a["port"]) for tok in x[5:9])]
            got = [x[1:3] for x in rows]
            if a["pod_name"] != "-":
                want = [[cname, "%s/%s" % (a["pod_namespace"], a["pod_name"])]]
                ok = got == want
            elif a["pod_uid"] != "-":
                want = [[cname, "(pod of uid %s)" % a["pod_uid"]]]  # no name known: the text is free
                ok = len(got) == 1 and got[0][0] == cname and got[0][1] != "-"
            else:
                want = [[cname, "-"]]
                ok = got == want
            t.rep.ok(ok, "table %s: %s's row: CONTAINER %s, POD %s%s"
                     % (" ".join(args), a["key"], want[0][0], want[0][1], "" if ok else "; got %s" % got))


HOSTROOT_SH = r'''set -e
HR=$1; shift
mount --rbind / "$HR"
mount -t tmpfs tmpfs "$HR/var/log"
mkdir -p "$HR$POD_DIR/$CTR" "$HR/var/log/containers"
: >"$HR$POD_DIR/$CTR/0.log"
ln -s "$POD_DIR/$CTR/0.log" "$HR/var/log/containers/${POD}_${NS}_${CTR}-${ID}.log"
exec "$@"
'''


def check_pod_logs(t):
    """e. Under a host root holding the kubelet's log layout for the annotation-less runc
    container, it gets its pod and container names; nothing else changes."""
    rep = t.rep
    rcb = t.app("rcb")
    lpod, lns, lctr = "logpod-" + t.tag, "logns-" + t.tag, "logctr"
    hr = os.path.join(t.tmp, "hr")
    os.mkdir(hr)
    env = dict(os.environ, POD_DIR="/var/log/pods/%s_%s_%s" % (lns, lpod, rcb["pod_uid"]),
               CTR=lctr, POD=lpod, NS=lns, ID=rcb["id"])
    args = ["--host-root", hr, "--all-namespaces", "-tlnp", "--json"]
    plain = t.json(["--all-namespaces", "-tlnp", "--json"])
    # The mounts live and die with the private mount namespace of this one command.
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", HOSTROOT_SH, "sh", hr,
                        t.binary] + args, capture_output=True, text=True, timeout=60, env=env)
    doc = None
    if rep.ok(r.returncode == 0, "nsnetstat --host-root HR --all-namespaces -tlnp --json (HR: / with the "
              "kubelet's logs, private mount ns): exit %d %s" % (r.returncode, r.stderr.strip()[-300:])):
        try:
            doc = json.loads(r.stdout)
        except ValueError as ex:
            rep.ok(False, "--host-root: invalid JSON: %s" % ex)
    if doc is None or plain is None:
        return
    c = containers_by_id((L.ns_by_inode(doc, rcb["netns"]) or [{}])[0]).get(rcb["id"])
    want = {"uid": rcb["pod_uid"], "name": lpod, "namespace": lns, "container": lctr}
    rep.ok(c is not None and c.get("pod") == want and c.get("name") == lctr and c.get("runtime") == "runc",
           "--host-root: rcb gets pod %s/%s from /var/log/pods, container %s from /var/log/containers"
           % (lns, lpod, lctr) + ("" if c and c.get("pod") == want and c.get("name") == lctr else "\n  got %r" % c))
    a, b = view(plain, t.inodes), view(doc, t.inodes)
    for cs in b.values():
        if rcb["id"] in cs and rcb["netns"] in a:
            cs[rcb["id"]] = a[rcb["netns"]].get(rcb["id"])
    diff = [(ino, sorted(a.get(ino, {})), sorted(b.get(ino, {}))) for ino in t.inodes if a.get(ino) != b.get(ino)]
    rep.ok(not diff and all_there(t, b), "--host-root: the other containers of the fixture's %d namespaces are as in the plain run%s"
           % (len(t.inodes), "" if not diff else ": %r" % diff))

    # Beyond the fixture: every namespace both runs saw holds the same container ids.
    ia = {ns["inode"]: sorted(containers_by_id(ns)) for ns in L.namespaces(plain)}
    ib = {ns["inode"]: sorted(containers_by_id(ns)) for ns in L.namespaces(doc)}
    common = set(ia) & set(ib)
    diff = [(ino, ia[ino], ib[ino]) for ino in sorted(common) if ia[ino] != ib[ino]]
    rep.ok(not diff and len(common) >= len(t.inodes),
           "--host-root: container ids per namespace as in the plain run, in all %d namespaces%s"
           % (len(common), "" if not diff else ": %r" % diff))

    def socks(d):
        return sorted((ns["inode"], s["local"].get("port"), tuple(sorted(map(str, owners(s)))))
                      for ns, s in sockets(d) if ns["inode"] in t.inodes - {t.hostino})
    rep.ok(socks(plain) == socks(doc), "--host-root: the fixture namespaces' sockets and owners are as in the plain run")


def table(t, args):
    """A table run: (header tokens, data rows split on blanks), or None (a failed check)."""
    r = subprocess.run([t.binary] + args, capture_output=True, text=True, timeout=60)
    if not t.rep.ok(r.returncode == 0, "table %s: exit %d %s" % (" ".join(args), r.returncode, r.stderr.strip())):
        return None
    lines = [x.split() for x in r.stdout.splitlines() if x.strip()]
    return (lines[0] if lines else []), lines[1:], r.stdout


def check_multi_app_pod(t, plain):
    """h. A pod of two app containers in the sandbox's netns (cdm): the namespace lists the
    sandbox and both apps; each listener is its own app's, with -p and without it (then
    only the processes of namespaces with several apps have their fds walked:
    nsn__attr_ambiguous_pids); a socket no process holds belongs to all of them, and its
    CONTAINER cell is "<app>+1"."""
    rep = t.rep
    sbx, apps = t.by_key["cdm"].get("sandbox"), t.by_key["cdm"].get("apps") or []
    if not rep.ok(sbx is not None and len(apps) == 2 and apps[0]["port"] != apps[1]["port"]
                  and {a["netns"] for a in apps} == {sbx["netns"]}
                  and apps[0]["container_name"] != apps[1]["container_name"]
                  and all(a["sandbox_id"] == sbx["id"] for a in apps),
                  "fixture: cdm is a sandbox and two apps of it, with their own names and ports, in one netns"):
        return
    a0, a1 = apps
    ino, pod = sbx["netns"], "%s/%s" % (sbx["pod_namespace"], sbx["pod_name"])
    what = "cdm (pod %s, netns %d)" % (pod, ino)
    ids = {sbx["id"]: "sandbox"}
    ids.update({a["id"]: a["container_name"] for a in apps})

    # JSON with -p: the namespace's containers are exactly the three; each listener's
    # processes are its own app's.
    first_app = None
    ns = L.ns_by_inode(plain, ino) if plain is not None else []
    if plain is not None and rep.ok(len(ns) == 1, "%s: listed once" % what):
        cs = ns[0].get("containers") or []
        got = {c["id"]: c.get("sandbox") for c in cs}
        want = {sbx["id"]: True, a0["id"]: False, a1["id"]: False}
        rep.ok(len(cs) == 3 and got == want,
               "%s: containers are exactly the sandbox and both apps: %s"
               % (what, [(ids.get(c["id"], c["id"][:12]), c.get("sandbox")) for c in cs]))
        sids = {ids.get(c["id"], c["id"][:12]): c.get("sandbox_id") for c in cs}
        rep.ok(all(v == sbx["id"] for k, v in sids.items() if k != "sandbox")
               and sids.get("sandbox") in (None, sbx["id"]),
               "%s: both apps' sandbox_id is the sandbox's id %s (the sandbox's its own or null): %s"
               % (what, sbx["id"][:12], sids))
        first_app = next((c for c in cs if not c.get("sandbox")), None)
        for a in apps:
            mine = [s for n, s in listeners(plain, a["port"]) if n["inode"] == ino]
            rep.ok(len(mine) == 1 and owners(mine[0]) == {a["id"]}
                   and a["pid"] in [p.get("pid") for p in mine[0].get("processes") or []],
                   "%s -p: listener :%d is held by %s (pid %d) alone: %s"
                   % (what, a["port"], a["container_name"], a["pid"],
                      describe([(ns[0], x) for x in mine])))

    # Filters: a container's name or id selects its own listener only; the pod and its
    # Kubernetes namespace select both.
    filtered_exactly(t, ["--container", a0["container_name"]], [(ino, a0["port"])],
                     "--container %s (cdm's first app)" % a0["container_name"], [a0])
    filtered_exactly(t, ["--container", a1["id"][:12]], [(ino, a1["port"])],
                     "--container %s (cdm's second app)" % a1["id"][:12], [a1])
    filtered_exactly(t, ["--pod", sbx["pod_name"]], [(ino, a0["port"]), (ino, a1["port"])],
                     "--pod %s (two apps)" % sbx["pod_name"], [sbx] + apps)
    filtered_exactly(t, ["--k8s-namespace", sbx["pod_namespace"]], [(ino, a0["port"]), (ino, a1["port"])],
                     "--k8s-namespace %s" % sbx["pod_namespace"], [sbx] + apps)

    # A TIME-WAIT on a0's port in the pod's netns: held by no process, so it belongs to
    # every container of the namespace (a1 too).
    subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % sbx["pid"], "ip", "link", "set", "lo", "up"],
                   capture_output=True)
    g = http_get(a0["port"], sbx["pid"])
    rep.ok(g.returncode == 0, "HTTP over loopback to cdm's %s inside the pod's netns %s"
           % (a0["container_name"], g.stderr.strip()[-200:]))
    doc = t.json(["--all-namespaces", "-tanp", "--json", "--container", a1["container_name"]])
    if doc is not None:
        got = sorted((s["local"].get("port"), s["state"].lower(), tuple(sorted(map(str, owners(s)))))
                     for n, s in sockets(doc) if n["inode"] == ino)
        want = sorted([(a1["port"], "listen", (a1["id"],)), (a0["port"], "time-wait", ())])
        rep.ok(got == want, "--container %s -ta: its own listener and the namespace's unowned TIME-WAIT "
               "(on %s's port), not %s's listener: %s" % (a1["container_name"], a0["container_name"],
                                                         a0["container_name"], got))

    # Tables of the pod's namespace alone, without -p (the fds of the pod's processes are
    # walked because the namespace has two apps) and with it.
    plus = "%s+1" % first_app.get("name") if first_app else None
    for flags in ("-tan", "-tanp"):
        args = ["-N", str(sbx["pid"]), flags]
        res = table(t, args)
        if res is None:
            continue
        head, rows, text = res
        if not rep.ok(head[:3] == ["NETNS", "CONTAINER", "POD"], "table %s: NETNS CONTAINER POD first: %r"
                      % (" ".join(args), head[:4])):
            continue
        got = sorted((x[4], x[7].rsplit(":", 1)[-1], x[1], x[2]) for x in rows
                     if len(x) > 8 and x[4] in ("LISTEN", "TIME-WAIT")
                     and x[7].rsplit(":", 1)[-1] in (str(a0["port"]), str(a1["port"])))
        want = sorted([("LISTEN", str(a0["port"]), a0["container_name"], pod),
                       ("LISTEN", str(a1["port"]), a1["container_name"], pod),
                       ("TIME-WAIT", str(a0["port"]), plus, pod)])
        rep.ok(got == want, "table %s: each listener's CONTAINER is its own app, the unowned TIME-WAIT's "
               "is %s (the namespace's first app, +1 more), POD %s\n%s" % (" ".join(args), plus, pod,
                                                                           "" if got == want else text))


HR_FIXED_SH = r"""set -e
HR=$1; MODE=$2; shift 2
mount --rbind / "$HR"
# The host's /run and /var/lib are covered, so that nothing below is created on the host;
# what the scan needs of /run comes back (namespace names, runc's state). With MODE=fixed
# the runtimes' real state appears where a host's runtimes keep it.
mount -t tmpfs -o mode=0755 nsnt-run "$HR/run"
mount -t tmpfs -o mode=0755 nsnt-varlib "$HR/var/lib"
mkdir -p "$HR/run/netns" "$HR/run/runc"
[ ! -d /run/netns ] || mount --rbind /run/netns "$HR/run/netns"
[ ! -d /run/runc ] || mount --bind /run/runc "$HR/run/runc"
if [ "$MODE" = fixed ]; then
  mkdir -p "$HR/run/containerd" "$HR/run/containers/storage" "$HR/var/lib/containers/storage"
  mount --bind "$CONTAINERD_STATE" "$HR/run/containerd"
  mount --bind "$CRIO_RUNROOT" "$HR/run/containers/storage"
  mount --bind "$PODMAN_ROOT" "$HR/var/lib/containers/storage"
fi
exec "$@"
"""


def check_fixed_paths(t, plain):
    """i. The runtimes' fixed places under --host-root: containerd's task dirs
    (/run/containerd/io.containerd.runtime.v2.task/NS/ID), podman's containers/storage
    (/var/lib/containers/storage/overlay-containers/ID/userdata) and CRI-O's
    (/run/containers/storage/..., here under the vfs driver's vfs-containers/). The fixture's runtimes keep their state elsewhere, so a
    private mount namespace shows it there: the same real bundles, found by the first
    sources attrib.c tries, as "bundle" (the path read, as the host names it) tells. The
    negative control is the same view without those binds: the bundles are then found
    the other way (shim's cwd, conmon's -b, runc's state), as in the plain run."""
    rep = t.rep
    rcb = t.app("rcb")
    # CRI-O is not installed. Its bundle is therefore a copy of rcb's REAL config.json
    # (rcb runs under plain runc, with no annotations) given the annotations CRI-O and
    # the kubelet write, in CRI-O's layout: CRI-O-shaped, not made by CRI-O.
    crio_root = os.path.join(t.tmp, "crio-runroot")
    crio = {"ctr": "crioctr", "pod": "criopod-" + t.tag, "ns": "crions-" + t.tag,
            "uid": rcb["pod_uid"], "sbx": os.urandom(32).hex()}
    try:
        with open(t.private_bundle(rcb)) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as ex:
        rep.ok(False, "rcb's bundle %s: %s" % (t.private_bundle(rcb), ex))
        return
    cfg["annotations"] = {
        "io.container.manager": "cri-o",
        "io.kubernetes.cri-o.ContainerType": "container",
        "io.kubernetes.cri-o.SandboxID": crio["sbx"],
        "io.kubernetes.cri-o.ContainerName": "k8s_%s_%s_%s_%s_0" % (crio["ctr"], crio["pod"], crio["ns"], crio["uid"]),
        "io.kubernetes.container.name": crio["ctr"],
        "io.kubernetes.pod.name": crio["pod"],
        "io.kubernetes.pod.namespace": crio["ns"],
        "io.kubernetes.pod.uid": crio["uid"],
    }
    ud = os.path.join(crio_root, "vfs-containers", rcb["id"], "userdata")
    os.makedirs(ud)
    with open(os.path.join(ud, "config.json"), "w") as f:
        json.dump(cfg, f)

    docs = {}
    for mode in ("fixed", "none"):
        hr = os.path.join(t.tmp, "hr-" + mode)
        os.mkdir(hr)
        env = dict(os.environ, CONTAINERD_STATE=t.info["NSNT_CONTAINERD_STATE"],
                   PODMAN_ROOT=t.info["NSNT_PODMAN_ROOT"], CRIO_RUNROOT=crio_root)
        args = ["--host-root", hr, "--all-namespaces", "-tlnp", "--json"]
        # The mounts live and die with the private mount namespace of this one command.
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", HR_FIXED_SH, "sh", hr, mode,
                            t.binary] + args, capture_output=True, text=True, timeout=60, env=env)
        if rep.ok(r.returncode == 0, "nsnetstat --host-root HR (%s: standard runtime paths %s) -tlnp --json: exit %d %s"
                  % (mode, "bound" if mode == "fixed" else "absent", r.returncode, r.stderr.strip()[-300:])):
            try:
                docs[mode] = json.loads(r.stdout)
            except ValueError as ex:
                rep.ok(False, "--host-root (%s): invalid JSON: %s" % (mode, ex))
    if plain is None or len(docs) != 2:
        return

    def container(doc, r):
        return containers_by_id((L.ns_by_inode(doc, r["netns"]) or [{}])[0]).get(r["id"])

    fields = ("runtime", "name", "pod", "sandbox", "sandbox_id", "bundle")
    # Paths absent: every fixture container exactly as in the plain run (which
    # check_containers compared with the record, bundles at the runtimes' private places).
    a, b = view(plain, t.inodes), view(docs["none"], t.inodes)
    diff = [(r["key"], r["id"][:12], {k: (a.get(r["netns"], {}).get(r["id"], {}).get(k),
                                          b.get(r["netns"], {}).get(r["id"], {}).get(k)) for k in fields})
            for r in t.rows if a.get(r["netns"], {}).get(r["id"]) != b.get(r["netns"], {}).get(r["id"])]
    rep.ok(not diff and all_there(t, b), "--host-root without the standard paths: the fixture's %d containers "
           "as in the plain run (bundles through shim cwd / conmon -b / runc state)%s"
           % (len(t.rows), "" if not diff else ": %r" % diff))
    c = container(docs["none"], rcb)
    rep.ok(c is not None and c.get("name") is None and c.get("runtime") == "runc"
           and c.get("bundle") == t.private_bundle(rcb),
           "--host-root without the standard paths: rcb has no name, runtime runc, bundle %s: %r"
           % (t.private_bundle(rcb), c))

    # Paths there: each containerd and podman container's bundle is read at the standard
    # place (the sources before the ancestry), with the same names; rcb is CRI-O's.
    for r in t.rows:
        what = "--host-root with the standard paths: %s %s %s (%s)" % (r["key"], r["role"], r["id"][:12], r["driver"])
        got, base = container(docs["fixed"], r), container(plain, r)
        if not rep.ok(got is not None and base is not None, "%s: in netns %d" % (what, r["netns"])):
            continue
        exp = {k: base.get(k) for k in fields}
        if r["driver"] == "containerd":
            exp["bundle"] = "/run/containerd/io.containerd.runtime.v2.task/%s/%s/config.json" % (r["ctr_ns"], r["id"])
        elif r["driver"] == "podman":
            exp["bundle"] = "/var/lib/containers/storage/overlay-containers/%s/userdata/config.json" % r["id"]
        elif r["key"] == "rcb":
            exp.update(runtime="cri-o", name=crio["ctr"], sandbox=False, sandbox_id=crio["sbx"],
                       bundle="/run/containers/storage/vfs-containers/%s/userdata/config.json" % r["id"],
                       pod={"uid": crio["uid"], "name": crio["pod"], "namespace": crio["ns"], "container": crio["ctr"]})
        gotf = {k: got.get(k) for k in fields}
        podtxt = "%s/%s" % (exp["pod"]["namespace"], exp["pod"]["name"]) if exp["pod"] else None
        rep.ok(gotf == exp, "%s: bundle %s, runtime %s, name %s, pod %s"
               % (what, exp["bundle"], exp["runtime"], exp["name"], podtxt)
               + ("" if gotf == exp else "\n  got %r" % gotf))


def check_one_netns(t):
    """-N PID: the single-namespace view carries the attribution too."""
    for key in ("cd1", "pm1"):
        a = t.app(key)
        doc = t.json(["-N", str(a["pid"]), "-tlnp", "--json"])
        if doc is None:
            continue
        nss = L.namespaces(doc)
        ids = sorted(containers_by_id(nss[0])) if len(nss) == 1 else []
        want = sorted(r["id"] for r in t.rows if r["key"] == key)
        s = listeners(doc, a["port"])
        t.rep.ok(ids == want and len(s) == 1 and owners(s[0][1]) == {a["id"]},
                 "-N %d (%s): containers %s, listener owned by %s" % (a["pid"], key, [i[:12] for i in want], a["id"][:12])
                 + ("" if ids == want else ", got %s" % [i[:12] for i in ids]))


def check_current_netns(t):
    """The current namespace (nsnetstat run inside cd1's, as ss would be): --json is
    attributed by default (containers, each process's container_id), --no-containers
    turns that off; the table stays ss's (no CONTAINER/POD columns) unless --containers."""
    a = t.app("cd1")
    inside = ["nsenter", "--net=/proc/%d/ns/net" % a["pid"], t.binary]
    want = sorted(r["id"] for r in t.rows if r["key"] == "cd1")

    def run(args):
        return subprocess.run(inside + args, capture_output=True, text=True, timeout=60)

    r = run(["-tlnp", "--json"])
    doc = json.loads(r.stdout) if r.returncode == 0 else None
    if t.rep.ok(doc is not None, "current netns -tlnp --json: exit %d %s" % (r.returncode, r.stderr.strip())):
        nss = L.namespaces(doc)
        ids = sorted(containers_by_id(nss[0])) if len(nss) == 1 else []
        s = listeners(doc, a["port"])
        t.rep.ok(ids == want and len(s) == 1 and owners(s[0][1]) == {a["id"]},
                 "current netns (cd1's) --json: containers %s and the listener owned by %s (got %s, %s)"
                 % ([i[:12] for i in want], a["id"][:12], [i[:12] for i in ids],
                    [owners(x) for _, x in s]))
    r = run(["-tlnp", "--json", "--no-containers"])
    doc = json.loads(r.stdout) if r.returncode == 0 else None
    if t.rep.ok(doc is not None, "current netns --json --no-containers: exit %d" % r.returncode):
        nss = L.namespaces(doc)
        procs = [p for _, x in sockets(doc) for p in x.get("processes") or []]
        t.rep.ok(len(nss) == 1 and "containers" not in nss[0] and procs
                 and not any("container_id" in p for p in procs),
                 "current netns --json --no-containers: no containers, no container_id (%d processes)" % len(procs))
    for args, cols in ((["-tln"], False), (["-tln", "--containers"], True)):
        r = run(args)
        head = r.stdout.splitlines()[0].split() if r.returncode == 0 and r.stdout else []
        t.rep.ok(bool(head) and (("CONTAINER" in head and "POD" in head) == cols),
                 "current netns table %s: CONTAINER/POD columns %s (header %s)"
                 % (" ".join(args), "shown" if cols else "absent", head))


def check_cache(t, world, plain):
    """f. -c --json: one document per scan; the second serves unchanged containers from
    the cache (keyed by pid and start time)."""
    rep = t.rep
    # Attribution looks again at processes younger than 2 s (runc init joins its
    # cgroup late): let the fixture's processes age, or the second scan re-reads them.
    time.sleep(2.1)
    p = world.spawn([t.binary, "--all-namespaces", "-tln", "--json", "--continuous=0.2"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    docs = []
    end = time.monotonic() + 30
    try:
        while len(docs) < 2 and time.monotonic() < end:
            ready, _, _ = select.select([p.stdout], [], [], max(0.1, end - time.monotonic()))
            line = p.stdout.readline() if ready else ""
            if not line:
                break
            docs.append(json.loads(line))
    except ValueError as ex:
        rep.ok(False, "--continuous=0.2 --json: a line that is not one JSON document: %s" % ex)
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
    if not rep.ok(len(docs) == 2, "--continuous=0.2 --json: a document per line, per scan (%d read) %s"
                  % (len(docs), "" if docs else p.stderr.read().strip()[-300:])):
        return
    a1, a2 = (d.get("scan", {}).get("attribution") or {} for d in docs)
    rep.ok(a1.get("processes", 0) > 0 and a1.get("cgroup_reads", 0) > 0 and a1.get("bundle_reads", 0) > 0,
           "-c: the first scan examines processes, reads cgroups and bundles: %r" % a1)
    # Other processes may start between the scans, so "few" rather than zero cgroup reads.
    rep.ok(a2.get("bundle_reads") == 0 and a2.get("cgroup_reads", 1 << 30) * 4 < a1.get("processes", 0)
           and a2.get("cached", 0) > 0,
           "-c: the second scan reads no bundle, few cgroups (new processes only), the rest "
           "from cache: first %r, second %r" % (a1, a2))
    v1, v2 = view(docs[0], t.inodes), view(docs[1], t.inodes)
    rep.ok(v1 == v2 and all_there(t, v1), "-c: the fixture's containers are all there, identical in both scans")
    rep.ok(v2 == view(plain, t.inodes), "-c: and as in the one-shot -p scan")


def check_errors(t):
    """g. Bad values: usage errors on one line."""
    rep = t.rep
    r, _ = L.nsnetstat(t.binary, ["--all-namespaces", "-tln", "--runtime", "bogus"])
    err = [x for x in r.stderr.splitlines() if x.strip()]
    rep.ok(r.returncode == 2 and len(err) == 1 and "bogus" in err[0] and all(n in err[0] for n in RUNTIMES),
           "--runtime bogus: exit 2 (%d), one line naming it and %s: %r"
           % (r.returncode, " ".join(RUNTIMES), r.stderr))
    r, _ = L.nsnetstat(t.binary, ["--host-root", "/nonexistent", "--all-namespaces", "-tln"])
    err = [x for x in r.stderr.splitlines() if x.strip()]
    rep.ok(r.returncode != 0 and len(err) == 1 and "/nonexistent" in err[0],
           "--host-root /nonexistent: non-zero exit (%d), one line naming it: %r" % (r.returncode, r.stderr))


def main():
    if len(sys.argv) != 2:
        print("usage: test_containers.py NSNETSTAT", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        L.skip("needs root (starts containers)")
    L.require_root(tools=("ip", "unshare", "nsenter", "mount"))
    world = L.World()
    rep = Checker()
    tmp = world.tmpdir()
    fx = Fixture(os.path.join(tmp, "fx"))
    t0 = time.monotonic()
    rows = fx.up()
    print("# fixture: %d containers in %.1f s (%s)" % (len(rows), time.monotonic() - t0,
                                                        " ".join(sorted({r["key"] for r in rows}))))
    t = Ctx(binary, rep, tmp, rows, fx.info())

    plain = t.json(["--all-namespaces", "-tlnp", "--json"])
    if plain is not None:
        check_containers(t, plain)
        check_sockets(t, plain)
        check_table_all(t, plain)
    check_filters(t)
    check_multi_app_pod(t, plain)
    check_fixed_paths(t, plain)
    check_pod_logs(t)
    check_one_netns(t)
    check_current_netns(t)
    if plain is not None:
        check_cache(t, world, plain)
    check_errors(t)

    fx.teardown()
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
