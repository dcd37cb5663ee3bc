#!/usr/bin/env python3
"""The agent's DaemonSet layout, for real, without a cluster (root).

deploy/agent.yaml is read and acted out as a container runtime would: a new mount
namespace (a slave of the host's, as runc makes it), a root of its own, and every
volumeMount of the agent container made from the manifest (hostPath volumes bound at
their mountPath, read-only where readOnly, slaves of the host where HostToContainer; the
Secret as a tmpfs with its file and mode), the root then read-only
(readOnlyRootFilesystem), /proc of the host's pid namespace (hostPID), sysfs read-only at
/sys (as runc mounts it in a container that is not privileged), a network
namespace of its own (a pod's), and exactly the manifest's added capabilities in the
bounding set with no_new_privs (allowPrivilegeEscalation: false). There
`nsnet-agent` runs with the manifest's args unchanged ($(NODE_NAME) from its env):
the Secrets hold a test token and what deploy/gen-certs.sh makes (the files the
kustomization's secretGenerator names, at the volumes' modes), the manifest's
--collector host resolves to 127.0.0.1 through the container's /etc/hosts (standing in
for the Service's DNS name), and there, in the pod's namespace on the manifest's port,
a collector stand-in speaks mutual TLS with the collector's Secret (Python's ssl).

1. Its view (snapshot and deltas, replayed with `nsnetstat --from`) equals a plain run on
   the host: every namespace by identity; the test's namespaces field by field (sockets
   with processes, incl. a listener of uid 65534, names, routes, links, counters): a
   namespace pinned at a path outside /run with no process, one named in
   /run/docker/netns, one held only by a process.
2. Its capabilities are exactly the manifest's `add` list (it refuses to start without
   one it needs, and drops any extra one), NoNewPrivs is 1. They and the layout suffice
   for the BPF backend wherever nsnetstat --backend bpf works on the host: the agent
   (--backend auto) then logs backend=bpf, else the reason it fell back.
3. HostToContainer: a namespace added on the host after the start arrives, and once
   deleted on the host it is sent as gone and no mount of it is left in the agent's
   mount namespace (a private copy would pin it for ever).
4. The manifest's probes answer 200 on the manifest's port in the pod's namespace;
   SIGTERM exits 0.
5. TLS: the agent verifies the collector's certificate for the manifest's --collector
   host and presents the certificate whose identity collector.yaml's
   --tls-agent-any-node accepts, over TLS 1.3.

usage: test_layout.py SOURCE_DIR NSNET_AGENT NSNETSTAT
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import nsntlib as L  # noqa: E402
from test_agent import Agent, Standin, compare_views  # noqa: E402
from test_manifests import container_port, find, gen_certs, load, secret_files  # noqa: E402


def cap_numbers():
    """CAP_NAME -> bit, from the kernel's header (linux-libc-dev)."""
    out = {}
    with open("/usr/include/linux/capability.h") as f:
        for m in re.finditer(r"#define CAP_([A-Z_]+)\s+(\d+)\b", f.read()):
            out[m.group(1)] = int(m.group(2))
    return out


def mounts_script(world, root, c, pod, node_name, secrets, hosts, keep):
    """The shell commands that build the container's mounts, as the runtime would.
    SECRETS: secretName -> a directory holding its files; HOSTS: the pod's /etc/hosts."""
    q = shlex.quote
    sh = ["set -eu", "R=%s" % q(root), "mount -t tmpfs -o mode=0755 rootfs \"$R\""]
    # The image's root: the host's /usr and /etc stand in for the image (read-only
    # anyway below), merged-/usr links as Debian's.
    for d in ("usr", "etc", "dev"):
        sh += ["mkdir -p \"$R\"/%s" % d, "mount --rbind /%s \"$R\"/%s" % (d, d)]
    for d in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink("/" + d):
            sh.append("ln -s %s \"$R\"/%s" % (q(os.readlink("/" + d)), d))
        elif os.path.isdir("/" + d):
            sh += ["mkdir -p \"$R\"/%s" % d, "mount --rbind /%s \"$R\"/%s" % (d, d)]
    for d in keep:  # the binary's and the stand-in's directories
        sh += ["mkdir -p \"$R\"%s" % q(d), "mount --rbind %s \"$R\"%s" % (q(d), q(d))]
    sh += ["mkdir -p \"$R\"/proc", "mount -t proc proc \"$R\"/proc", "mkdir -p \"$R\"/tmp"]
    # runc mounts sysfs read-only into a container that is not privileged: the node's
    # kernel BTF (/sys/kernel/btf/vmlinux), which the BPF backend needs, is there.
    sh += ["mkdir -p \"$R\"/sys", "mount -t sysfs -o ro,nosuid,nodev,noexec sysfs \"$R\"/sys"]
    # The kubelet gives every pod its own /etc/hosts, bound over the image's.
    sh.append("mount --bind %s \"$R\"/etc/hosts" % q(hosts))
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        v = vols[m["name"]]
        dst = "\"$R\"" + q(m["mountPath"])
        if "hostPath" in v:
            src = v["hostPath"]["path"]
            kind = v["hostPath"].get("type", "")
            if not os.path.exists(src):
                if kind != "DirectoryOrCreate":
                    raise AssertionError("hostPath %s (type %r) is missing on this host" % (src, kind))
                # As the kubelet would; removed again at the end.
                top = src
                while not os.path.exists(os.path.dirname(top)):
                    top = os.path.dirname(top)
                os.makedirs(src)
                world.paths.append(top)
            sh += ["mkdir -p " + dst, "mount --rbind %s %s" % (q(src), dst)]
            prop = m.get("mountPropagation", "None")
            sh.append({"HostToContainer": "mount --make-rslave ", "None": "mount --make-rprivate "}[prop] + dst)
        elif "secret" in v:
            mode = v["secret"].get("defaultMode", 0o644)
            files = secrets[v["secret"]["secretName"]]
            sh += ["mkdir -p " + dst, "mount -t tmpfs -o mode=0755,size=64k secret " + dst,
                   "cp %s/* %s/" % (q(files), dst), "chmod %o %s/*" % (mode, dst)]
        else:
            raise AssertionError("volume %s: neither hostPath nor secret" % m["name"])
        if m.get("readOnly"):
            sh.append("mount -o remount,bind,ro " + dst)
    if (c.get("securityContext") or {}).get("readOnlyRootFilesystem"):
        sh.append("mount -o remount,bind,ro \"$R\"")
    return sh


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    src, agent_bin, nsnetstat = sys.argv[1:]
    agent_bin = os.path.realpath(agent_bin)
    L.require_root(tools=("ip", "unshare", "nsenter", "setpriv", "chroot"))
    rep = L.Report()
    docs = load([os.path.join(src, "deploy", "agent.yaml")])
    ds = find(docs, "DaemonSet", "nsnet-agent")
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c.get("securityContext") or {}
    caps = cap_numbers()
    added = (sc.get("capabilities") or {}).get("add") or []
    rep.check(pod.get("hostPID") is True and not pod.get("hostNetwork"),
              "the layout acted out here is hostPID without hostNetwork")

    world = L.World()
    tmp = world.tmpdir()
    root = world.tmpdir()
    sockdir = world.tmpdir()

    # The host: namespaces of every kind of discovery.
    a, b = world.add_netns("a"), world.add_netns("b")
    world.fixture_veth(a, b)
    fx = L.start_fixture(world, {"tag": world.tag, "tmpdir": tmp, "ns": {"a": "/run/netns/" + a, "b": "/run/netns/" + b}})
    rep.check(bool(fx), "fixture did not start")
    L.listener_as(world, b, 7058)
    # Pinned outside /run, no process: only the host's mount table knows it.
    pin = os.path.join(tmp, "pinned-ns")
    open(pin, "w").close()
    L.run(["unshare", "--net=" + pin, "true"])
    world.mounts.append(pin)
    # Named where Docker names its namespaces.
    dockdir = "/run/docker/netns"
    if not os.path.isdir(dockdir):
        top = "/run/docker" if not os.path.isdir("/run/docker") else dockdir
        os.makedirs(dockdir)
        world.paths.append(top)
    dock = os.path.join(dockdir, world.tag)
    open(dock, "w").close()
    world.paths.append(dock)
    L.run(["unshare", "--net=" + dock, "true"])
    world.mounts.append(dock)
    held = world.unshare_sleep(300)
    mine = [(a, os.stat("/run/netns/" + a).st_ino), (b, os.stat("/run/netns/" + b).st_ino),
            ("pinned", os.stat(pin).st_ino), ("docker", os.stat(dock).st_ino),
            ("held", os.stat("/proc/%d/ns/net" % held.pid).st_ino)]

    # The Secrets: a test token, and the certificates deploy/gen-certs.sh makes, each
    # Secret's files as the kustomization's secretGenerator names them.
    deploy = os.path.join(src, "deploy")
    kz = load([os.path.join(deploy, "kustomization.yaml")])[0]
    gen_certs(src, os.path.join(tmp, "deploy", "tls"))
    secrets = {}
    for gen in kz.get("secretGenerator") or []:
        d = secrets[gen["name"]] = world.tmpdir()
        for key, path in secret_files(kz, gen["name"], deploy).items():
            if path == os.path.join(deploy, "token"):
                data = b"layout-token\n"  # deploy/token is the cluster's, never committed
            else:
                with open(os.path.join(tmp, "deploy", os.path.relpath(path, deploy)), "rb") as f:
                    data = f.read()
            with open(os.path.join(d, key), "wb") as f:
                f.write(data)

    # The pod's own network namespace; the collector's Service name resolves to
    # 127.0.0.1 there, where the stand-in listens on the manifest's port with the
    # collector's Secret.
    podns = world.add_netns("pod")
    L.run(["ip", "-n", podns, "link", "set", "lo", "up"])
    record = os.path.join(sockdir, "rec.bin")
    coll_host, coll_port = next(a.split("=", 1)[1] for a in c.get("args") or []
                                if a.startswith("--collector=")).rsplit(":", 1)
    cdoc = load([os.path.join(deploy, "collector.yaml")])
    cpod = find(cdoc, "Deployment", "nsnet-collector")["spec"]["template"]["spec"]
    cflags = dict(a.partition("=")[::2] for a in cpod["containers"][0].get("args") or [])
    csecret = next(secrets[v["secret"]["secretName"]] for v in cpod["volumes"]
                   if "secret" in v and v["secret"]["secretName"].endswith("-tls"))
    st = Standin(world, "127.0.0.1:" + coll_port, record, "--tls-cert", os.path.join(csecret, "tls.crt"),
                 "--tls-key", os.path.join(csecret, "tls.key"), "--tls-ca", os.path.join(csecret, "ca.crt"),
                 netns=podns)
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1\tlocalhost\n127.0.0.1\t%s\n" % coll_host)
    node_name = world.tag + "-node"
    env = dict(os.environ)
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = e["value"]
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            env[e["name"]] = node_name
        else:
            rep.check(False, "env %s: only values and spec.nodeName are acted out here" % e["name"])
    args = []
    for arg in c.get("args") or []:
        arg = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), arg)
        args.append(arg)
    rep.check(c["command"] == ["nsnet-agent"], "command %r" % c["command"])
    sh = mounts_script(world, root, c, pod, node_name, secrets, hosts, [os.path.dirname(agent_bin)])
    bounding = ",".join(["-all"] + ["+" + x.lower() for x in added])
    uid = sc.get("runAsUser", 0)
    gid = sc.get("runAsGroup", 0)
    exec_ = ["exec", "chroot", "\"$R\"", "/usr/bin/setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
             "--clear-groups", "--inh-caps=-all", "--bounding-set=" + bounding]
    if sc.get("allowPrivilegeEscalation") is False:
        exec_.append("--no-new-privs")
    exec_ += ["--", shlex.quote(agent_bin)] + [shlex.quote(x) for x in args]
    script = "\n".join(sh + [" ".join(exec_)]) + "\n"
    with open(os.path.join(tmp, "container.sh"), "w") as f:
        f.write(script)
    print("container: %s" % " ".join(args))
    log = os.path.join(tmp, "agent.log")
    # nsenter and unshare exec (no fork): the child's pid is the agent's.
    lf = open(log, "w")
    p = world.spawn(["nsenter", "--net=/run/netns/" + podns, "unshare", "--mount", "--propagation", "slave",
                     "sh", os.path.join(tmp, "container.sh")], stderr=lf, stdout=subprocess.DEVNULL, env=env)
    ag = Agent.__new__(Agent)
    ag.log, ag.f, ag.p, ag.health = log, lf, p, None

    hello = st.wait(lambda e: e["ev"] == "hello", 15)
    if not rep.check(hello is not None, "no Hello within 15 s; agent log:\n" + "\n".join(ag.lines())):
        rep.finish()
    rep.check(hello["node"] == node_name and hello["token"] == "layout-token",
              "Hello: node %r token %r" % (hello["node"], hello["token"]))
    # 5. Mutual TLS: the agent took the stand-in's certificate for the manifest's
    # --collector host, and its own is one the collector's flags accept for any node.
    tls = st.wait(lambda e: e["ev"] in ("tls", "tls_error"), 1)
    rep.check(tls is not None and tls["ev"] == "tls" and tls["version"] == "TLSv1.3"
              and tls["identity"] == cflags.get("--tls-agent-any-node"),
              "TLS 1.3 with the agent certificate of identity %r (collector.yaml's --tls-agent-any-node): %r"
              % (cflags.get("--tls-agent-any-node"), tls))
    full = st.wait(lambda e: e["ev"] == "scan_done" and e["full"], 20)
    if not rep.check(full is not None, "no full scan; agent log:\n" + "\n".join(ag.lines())):
        rep.finish()
    s = L.proc_status(p.pid)
    want = sum(1 << caps[x] for x in added)
    rep.check(os.stat("/proc/%d/exe" % p.pid).st_ino == os.stat(agent_bin).st_ino, "pid %d is not the agent" % p.pid)
    rep.check(int(s["CapEff"], 16) == want and int(s["CapPrm"], 16) == want and int(s["CapBnd"], 16) == want
              and s["NoNewPrivs"] == "1",
              "capabilities: manifest adds %s (%#x); agent has CapEff %s CapPrm %s CapBnd %s NoNewPrivs %s"
              % (added, want, s["CapEff"], s["CapPrm"], s["CapBnd"], s["NoNewPrivs"]))
    # The backend: bpf in the pod wherever it works on the host (as root, every capability).
    host_bpf = subprocess.run([nsnetstat, "--backend", "bpf", "--all-namespaces", "-t", "--json"],
                              capture_output=True, text=True, timeout=60)
    start = next((x for x in ag.lines() if "event=start " in x), "")
    fallback = [x for x in ag.lines() if "event=backend_fallback" in x]
    if host_bpf.returncode == 0:
        rep.check("backend=bpf" in start and not fallback,
                  "the BPF backend loads on the host but not in the DaemonSet's layout: %r %r" % (start, fallback))
    else:
        rep.check("backend=netlink" in start and len(fallback) == 1,
                  "no BPF on the host (%s): want backend=netlink and one backend_fallback line, got %r %r"
                  % (host_bpf.stderr.strip(), start, fallback))
    print("backend: %s" % (fallback[0] if fallback else start.rsplit(" ", 1)[-1]))
    rep.check(os.readlink("/proc/%d/root" % p.pid) == root, "the agent's root is %s, not the container's %s"
              % (os.readlink("/proc/%d/root" % p.pid), root))
    rep.check(os.readlink("/proc/%d/ns/net" % p.pid) == "net:[%d]" % os.stat("/run/netns/" + podns).st_ino,
              "the agent is not in the pod's network namespace")

    # 1. The view equals a plain run on the host (the manifest's interval between scans).
    interval = float(next((a.split("=", 1)[1] for a in args if a.startswith("--interval=")), "10"))
    remote = compare_views(rep, "DaemonSet layout -tuwanxp", nsnetstat, record, mine, ["-tuwanxp"], st,
                           scan_timeout=interval + 10)
    compare_views(rep, "DaemonSet layout -r -i -s", nsnetstat, record, mine, ["-r", "--rules", "-i", "-s"], st,
                  scan_timeout=interval + 10)
    if remote is None:
        rep.finish()
    names = {ns["inode"]: ns["names"] for ns in L.namespaces(remote)}
    rep.check(names.get(mine[2][1]) == [pin], "pinned namespace named %r, want [%r]" % (names.get(mine[2][1]), pin))
    rep.check(names.get(mine[3][1]) == [dock], "docker namespace named %r, want [%r]" % (names.get(mine[3][1]), dock))
    owners = [q["pid"] for ns in L.namespaces(remote) if ns["inode"] == mine[1][1]
              for sk in ns["sockets"] if sk["local"].get("port") == 7058 for q in sk["processes"]]
    rep.check(len(owners) == 1, "the uid-65534 listener's process is missing: %r" % owners)
    rep.check(not remote.get("warnings"), "warnings: %s" % remote.get("warnings"))

    # 3. HostToContainer both ways.
    n0 = len(st.events)
    late = world.add_netns("late")
    late_ino = os.stat("/run/netns/" + late).st_ino
    ev = st.wait(lambda e: e["ev"] == "snapshot" and e["id"]["inode"] == late_ino, 5, n0)
    rep.check(ev is not None, "a namespace added on the host after the start did not arrive")
    with open("/proc/%d/mountinfo" % p.pid) as f:
        rep.check("/host/run/netns/" + late in f.read(), "the new namespace's mount did not propagate")
    n1 = len(st.events)
    L.run(["ip", "netns", "del", late])
    world.netns.remove(late)
    ev = st.wait(lambda e: e["ev"] == "gone" and e["id"]["inode"] == late_ino, 5, n1)
    rep.check(ev is not None, "a namespace deleted on the host was not sent as gone")
    with open("/proc/%d/mountinfo" % p.pid) as f:
        left = [x for x in f.read().splitlines() if late in x]
    rep.check(not left, "the deleted namespace is still mounted in the agent's mount namespace: %s" % left)

    # 4. The probes, as the kubelet sends them, in the pod's namespace.
    for probe in ("livenessProbe", "readinessProbe"):
        g = c[probe]["httpGet"]
        port = container_port(c, g["port"])
        r = subprocess.run(["ip", "netns", "exec", podns, sys.executable, "-c",
                            "import urllib.request as u;print(u.urlopen('http://127.0.0.1:%d%s',timeout=5).status)"
                            % (port, g["path"])], capture_output=True, text=True, timeout=20)
        rep.check(r.stdout.strip() == "200", "%s GET %s on %d: %s %s" % (probe, g["path"], port, r.stdout, r.stderr))
    t = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    rep.check(rc == 0, "SIGTERM: exit %r after %.1f s" % (rc, time.monotonic() - t))
    rep.check(not [x for x in ag.lines() if "level=error" in x], "errors logged:\n" + "\n".join(ag.lines()))
    print(json.dumps({"scans": sum(1 for e in st.events if e["ev"] == "scan_done")}))
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
