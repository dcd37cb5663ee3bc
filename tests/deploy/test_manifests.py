#!/usr/bin/env python3
"""deploy/ without a cluster (no privileges needed).

1. Every manifest, and the kustomization rendered by `kubectl kustomize` (with a token
   file), validates against the Kubernetes schemas (kubernetes-models, offline), and
   the kustomization lists every manifest of deploy/.
2. No drift between the manifests and the binaries: every flag a container passes is in
   that binary's --help, every $(VAR) is defined, the agent's capabilities are the ones
   `nsnet-agent --help` says it keeps, the probes, Service ports, Prometheus annotations
   and the agent's --collector name the ports and Service the flags open, the token file
   is in the mounted Secret, the generated Secrets' names reach both workloads.
   Mutual TLS: each workload's --tls-cert/--tls-key/--tls-ca are keys of its own
   read-only TLS Secret, which the kustomization generates from what deploy/gen-certs.sh
   writes; no --plaintext. gen-certs.sh run here: the collector's certificate names the
   agent's --collector host, its Service names and 127.0.0.1, for servers only; the
   agent's identity is the collector's --tls-agent-any-node, for clients only; the real
   nsnet-collector with its Secret's files answers nsnetstat with the query
   certificate, and refuses a certificate of another CA.
3. What the issue asks of each workload: hostPID, tolerations for every taint, ALL
   capabilities dropped, read-only root filesystems, no privilege escalation, host paths
   read-only under /host with HostToContainer propagation, NODE_NAME from spec.nodeName,
   resources; the collector non-root with no capabilities.
4. The image: the runtime packages of deploy/Containerfile's final stage provide every
   library the built binaries link (ldd + dpkg -S), and the manifests' image tag is the
   project's version.

usage: test_manifests.py SOURCE_DIR NSNET_AGENT NSNET_COLLECTOR NSNETSTAT
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
import nsntlib as L  # noqa: E402

VALIDATE = os.path.join(HERE, "k8s-validate.mjs")
# What the agent must see of the host (the list, plus CRI-O's storage and the
# kubelet's /var/log/containers links, which attribution reads).
HOST_PATHS = {"/proc", "/run", "/var/run/docker/netns", "/var/lib/containers/storage", "/var/log/pods",
              "/var/log/containers", "/var/lib/docker/containers"}


def node(args, stdin=None):
    return subprocess.run(["node", VALIDATE] + args, input=stdin, capture_output=True, text=True, timeout=120)


def load(files, stdin=None):
    """Every YAML document of files, parsed by the validator's own YAML parser."""
    r = node(["--json"] + files, stdin)
    if r.returncode != 0:
        raise AssertionError("k8s-validate.mjs --json %s: %s" % (files, r.stderr.strip()))
    return [d["doc"] for d in json.loads(r.stdout)]


def find(docs, kind, name=None):
    hits = [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    if len(hits) != 1:
        raise AssertionError("want exactly one %s %s, found %d" % (kind, name or "", len(hits)))
    return hits[0]


def help_flags(binary):
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise AssertionError("%s --help: exit %d" % (binary, r.returncode))
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", r.stdout)), r.stdout


def flag_map(args):
    """--name=value (the manifests' spelling) as a dict; a bare --name maps to None."""
    out = {}
    for a in args:
        if not a.startswith("--"):
            raise AssertionError("argument %r: the manifests spell options as --name=value" % a)
        k, eq, v = a.partition("=")
        out[k] = v if eq else None
    return out


def port_of(hostport):
    return int(hostport.rsplit(":", 1)[1])


def container_port(c, port):
    """A probe's or Service's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    for p in c.get("ports") or []:
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError("container %s has no port named %r" % (c["name"], port))


def check_workload_common(rep, what, pod, c, binary, flags_known):
    args = c.get("args") or []
    fl = flag_map(args)
    unknown = sorted(set(fl) - flags_known)
    rep.check(not unknown, "%s: flags not in `%s --help`: %s" % (what, os.path.basename(binary), unknown))
    rep.check(c.get("command") == [os.path.basename(binary)],
              "%s: command %r, want [%r]" % (what, c.get("command"), os.path.basename(binary)))
    env = {e["name"] for e in c.get("env") or []}
    refs = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", " ".join(args)))
    rep.check(refs <= env, "%s: $(VAR) without an env entry: %s" % (what, sorted(refs - env)))
    sc = c.get("securityContext") or {}
    rep.check(sc.get("allowPrivilegeEscalation") is False, "%s: allowPrivilegeEscalation must be false" % what)
    rep.check(sc.get("readOnlyRootFilesystem") is True, "%s: readOnlyRootFilesystem must be true" % what)
    rep.check(not sc.get("privileged"), "%s: privileged" % what)
    rep.check((sc.get("capabilities") or {}).get("drop") == ["ALL"], "%s: capabilities.drop must be [ALL]" % what)
    psc = pod.get("securityContext") or {}
    rep.check((sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault",
              "%s: seccompProfile must be RuntimeDefault" % what)
    rep.check((pod.get("nodeSelector") or {}).get("kubernetes.io/os") == "linux",
              "%s: nodeSelector kubernetes.io/os: linux missing" % what)
    res = c.get("resources") or {}
    rep.check({"cpu", "memory"} <= set(res.get("requests") or {}) and "memory" in (res.get("limits") or {}),
              "%s: want cpu and memory requests and a memory limit: %r" % (what, res))
    # The token: --token-file inside a Secret volume's mount, the key the Secret holds.
    tf = fl.get("--token-file")
    if rep.check(bool(tf), "%s: no --token-file" % what):
        vols = {v["name"]: v for v in pod.get("volumes") or []}
        mnt = [m for m in c.get("volumeMounts") or [] if tf.startswith(m["mountPath"].rstrip("/") + "/")]
        ok = len(mnt) == 1 and "secret" in vols.get(mnt[0]["name"], {}) and mnt[0].get("readOnly") is True
        rep.check(ok and tf[len(mnt[0]["mountPath"].rstrip("/")) + 1:] == "token",
                  "%s: --token-file=%s is not the key 'token' of a read-only Secret mount" % (what, tf))
        if ok:
            sec = vols[mnt[0]["name"]]["secret"]
            rep.check(sec["secretName"] == "nsnet-token", "%s: the token volume is not the Secret nsnet-token" % what)
            # Secret files are root's; the kubelet gives them the fsGroup as group.
            uid = sc.get("runAsUser", psc.get("runAsUser"))
            mode = sec.get("defaultMode", 0o644)
            readable = (mode & 0o400) if uid == 0 else (mode & 0o004) or (psc.get("fsGroup") is not None and mode & 0o040)
            rep.check(bool(readable) and not mode & 0o002,
                      "%s: the token (mode %o) is not readable by uid %s, or is writable" % (what, mode, uid))
    # Mutual TLS: the three files are keys of one read-only Secret mount, readable.
    rep.check("--plaintext" not in fl, "%s: --plaintext: the manifests use mutual TLS" % what)
    tls_secrets = set()
    for flag, key in (("--tls-cert", "tls.crt"), ("--tls-key", "tls.key"), ("--tls-ca", "ca.crt")):
        path = fl.get(flag)
        if not rep.check(bool(path), "%s: no %s" % (what, flag)):
            continue
        vols = {v["name"]: v for v in pod.get("volumes") or []}
        mnt = [m for m in c.get("volumeMounts") or [] if path.startswith(m["mountPath"].rstrip("/") + "/")]
        ok = len(mnt) == 1 and "secret" in vols.get(mnt[0]["name"], {}) and mnt[0].get("readOnly") is True
        rep.check(ok and path[len(mnt[0]["mountPath"].rstrip("/")) + 1:] == key,
                  "%s: %s=%s is not the key %r of a read-only Secret mount" % (what, flag, path, key))
        if ok:
            sec = vols[mnt[0]["name"]]["secret"]
            tls_secrets.add(sec["secretName"])
            uid = sc.get("runAsUser", psc.get("runAsUser"))
            mode = sec.get("defaultMode", 0o644)
            readable = (mode & 0o400) if uid == 0 else (psc.get("fsGroup") is not None and mode & 0o040)
            rep.check(bool(readable) and not mode & 0o006,
                      "%s: %s (mode %o) is not readable by uid %s only, or is world-readable" % (what, flag, mode, uid))
    rep.check(len(tls_secrets) == 1, "%s: the TLS files come from one Secret, not %s" % (what, sorted(tls_secrets)))
    fl["_tls_secret"] = next(iter(tls_secrets), None)
    # Probes: GET /healthz on the port the binary serves it on.
    return fl, sc


def check_probes(rep, what, c, port):
    for probe in ("livenessProbe", "readinessProbe"):
        g = (c.get(probe) or {}).get("httpGet") or {}
        rep.check(g.get("path") == "/healthz" and g.get("port") is not None and container_port(c, g["port"]) == port,
                  "%s: %s must GET /healthz on port %d: %r" % (what, probe, port, c.get(probe)))


def check_agent(rep, docs, agent_bin):
    known, help_text = help_flags(agent_bin)
    ds = find(docs, "DaemonSet", "nsnet-agent")
    pod = ds["spec"]["template"]["spec"]
    rep.check(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
              "agent: the selector does not match the pod's labels")
    rep.check(pod.get("hostPID") is True, "agent: hostPID must be true")
    rep.check(not pod.get("hostNetwork"), "agent: hostNetwork: its own namespace is enough")
    rep.check({"operator": "Exists"} in (pod.get("tolerations") or []),
              "agent: no toleration {operator: Exists}: it would not run on tainted nodes")
    rep.check(pod.get("automountServiceAccountToken") is False, "agent: mounts an API token it never uses")
    cs = pod["containers"]
    rep.check(len(cs) == 1, "agent: want one container, found %d" % len(cs))
    c = cs[0]
    fl, sc = check_workload_common(rep, "agent", pod, c, agent_bin, known)
    rep.check(fl.get("--host-root") == "/host", "agent: --host-root=/host missing")
    rep.check(fl.get("--node") == "$(NODE_NAME)", "agent: --node=$(NODE_NAME) missing")
    env = {e["name"]: e for e in c.get("env") or []}
    rep.check(((env.get("NODE_NAME") or {}).get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
              "agent: NODE_NAME must come from the downward API's spec.nodeName")
    rep.check(sc.get("runAsUser") == 0, "agent: runAsUser must be 0 (with only the added capabilities)")
    rep.check((sc.get("appArmorProfile") or {}).get("type") == "Unconfined",
              "agent: appArmorProfile Unconfined: the runtime's default profile denies other processes' /proc")
    # The capabilities: what --help says the agent keeps, no more, no less.
    m = re.search(r"keeps only ([A-Z_, ]+?(?: and [A-Z_]+))", help_text.replace("\n", " "))
    kept = set(re.findall(r"CAP_([A-Z_]+)", m.group(1))) if m else set()
    added = set((sc.get("capabilities") or {}).get("add") or [])
    rep.check(bool(kept) and added == kept, "agent: capabilities.add %s, but nsnet-agent keeps %s"
              % (sorted(added), sorted(kept)))
    hl = fl.get("--health-listen")
    if rep.check(bool(hl), "agent: no --health-listen for the probes"):
        check_probes(rep, "agent", c, port_of(hl))
        rep.check(hl.startswith("0.0.0.0:") or hl.startswith("[::]:"),
                  "agent: --health-listen=%s is not reachable on the pod IP" % hl)
    # The host, read-only under /host, following the host's mounts.
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    seen = set()
    for mnt in c.get("volumeMounts") or []:
        hp = (vols.get(mnt["name"]) or {}).get("hostPath")
        if not hp:
            continue
        seen.add(hp["path"])
        rep.check(mnt["mountPath"] == "/host" + hp["path"], "agent: %s mounted at %s, want /host%s"
                  % (hp["path"], mnt["mountPath"], hp["path"]))
        rep.check(mnt.get("readOnly") is True, "agent: %s is not read-only" % hp["path"])
        rep.check(mnt.get("mountPropagation") == "HostToContainer",
                  "agent: %s without mountPropagation HostToContainer" % hp["path"])
        rep.check(hp.get("type") in ("Directory", "DirectoryOrCreate"),
                  "agent: hostPath %s of type %r, want Directory or DirectoryOrCreate" % (hp["path"], hp.get("type")))
    rep.check(seen == HOST_PATHS, "agent: host paths %s, want %s" % (sorted(seen), sorted(HOST_PATHS)))
    return ds, c, fl


def check_collector(rep, docs, collector_bin, agent_flags):
    known, _ = help_flags(collector_bin)
    dep = find(docs, "Deployment", "nsnet-collector")
    svc = find(docs, "Service", "nsnet-collector")
    pod = dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    rep.check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(),
              "collector: the selector does not match the pod's labels")
    c = pod["containers"][0]
    fl, sc = check_workload_common(rep, "collector", pod, c, collector_bin, known)
    psc = pod.get("securityContext") or {}
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    rep.check(psc.get("runAsNonRoot") is True and isinstance(uid, int) and uid != 0,
              "collector: must run as non-root (runAsNonRoot, a non-zero runAsUser)")
    rep.check(not (sc.get("capabilities") or {}).get("add"), "collector: adds capabilities")
    listen, http = fl.get("--listen"), fl.get("--http")
    if not rep.check(bool(listen) and bool(http), "collector: --listen and --http are both needed"):
        return fl
    check_probes(rep, "collector", c, port_of(http))
    rep.check(svc["spec"]["selector"].items() <= labels.items(), "collector: the Service selects no collector pod")
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    for name, flag in (("agents", listen), ("http", http)):
        p = ports.get(name)
        rep.check(p is not None and container_port(c, p.get("targetPort", p["port"])) == port_of(flag),
                  "collector: Service port %s does not reach %s" % (name, flag))
    ann = svc["metadata"].get("annotations") or {}
    rep.check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(port_of(http))
              and ann.get("prometheus.io/path", "/metrics") == "/metrics",
              "collector: Prometheus annotations do not point at /metrics on --http's port: %r" % ann)
    # The agents' --collector: the Service's name and agent port.
    want = "%s:%d" % (svc["metadata"]["name"], ports["agents"]["port"]) if "agents" in ports else None
    rep.check(agent_flags.get("--collector") == want,
              "agent: --collector=%s, but the Service is %s" % (agent_flags.get("--collector"), want))
    rep.check(bool(fl.get("--tls-agent-any-node")), "collector: --tls-agent-any-node for the DaemonSet's shared "
              "certificate (or per-node certificates, and a test for them)")
    return fl


def cert_text(path):
    r = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-subject", "-ext",
                        "subjectAltName,extendedKeyUsage"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("openssl x509 %s: %s" % (path, r.stderr.strip()))
    return r.stdout


def cert_identity(text):
    """What the collector takes as a certificate's identity: its first DNS SAN, else CN."""
    m = re.search(r"DNS:([^,\s]+)", text)
    if m:
        return m.group(1)
    m = re.search(r"subject=.*CN ?= ?([^,\n]+)", text)
    return m.group(1).strip() if m else None


def gen_certs(src, out):
    r = subprocess.run([os.path.join(src, "deploy", "gen-certs.sh"), "-o", out], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("deploy/gen-certs.sh: exit %d: %s" % (r.returncode, r.stderr.strip()))


def secret_files(kz, name, deploy):
    """A secretGenerator's {key: path} (key=path, or the file's own name)."""
    gen = {g["name"]: g for g in kz.get("secretGenerator") or []}.get(name) or {}
    out = {}
    for f in gen.get("files") or []:
        key, eq, path = f.partition("=")
        out[key if eq else os.path.basename(f)] = os.path.join(deploy, path if eq else f)
    return out


def check_certs(rep, src, agent_flags, coll_flags, collector_bin, nsnetstat):
    """gen-certs.sh's certificates fit the manifests, and work with the binaries."""
    if not shutil.which("openssl"):
        rep.check(False, "openssl missing (apt-get install openssl)")
        return
    deploy = os.path.join(src, "deploy")
    kz = load([os.path.join(deploy, "kustomization.yaml")])[0]
    tmp = tempfile.mkdtemp(prefix="nsnt-certs-")
    try:
        gen_certs(src, os.path.join(tmp, "tls"))
        secrets = {}
        for what, fl in (("agent", agent_flags), ("collector", coll_flags)):
            name = fl.get("_tls_secret")
            files = {k: os.path.join(tmp, os.path.relpath(p, deploy)) for k, p in secret_files(kz, name, deploy).items()}
            rep.check({"tls.crt", "tls.key", "ca.crt"} <= set(files) and all(os.path.isfile(p) for p in files.values()),
                      "%s: the Secret %s is generated from files gen-certs.sh writes: %s" % (what, name, files))
            rep.check(not any(os.path.basename(p) == "ca.key" for p in files.values()),
                      "%s: the CA's key is in the Secret %s" % (what, name))
            secrets[what] = files
        coll = cert_text(secrets["collector"]["tls.crt"])
        host = (agent_flags.get("--collector") or ":").rsplit(":", 1)[0]
        sans = set(re.findall(r"(?:DNS:|IP Address:)([^,\s]+)", coll))
        want = {host, host + ".nsnet.svc", host + ".nsnet.svc.cluster.local", "127.0.0.1"}
        rep.check(want <= sans, "the collector's certificate names %s, want %s (the agent's --collector, the "
                  "Service's names, 127.0.0.1 for port-forwards and exec)" % (sorted(sans), sorted(want)))
        rep.check("Server Authentication" in coll and "Client Authentication" not in coll,
                  "the collector's certificate is for servers only")
        agent = cert_text(secrets["agent"]["tls.crt"])
        rep.check(cert_identity(agent) == coll_flags.get("--tls-agent-any-node"),
                  "the agent certificate's identity %r is the collector's --tls-agent-any-node=%s"
                  % (cert_identity(agent), coll_flags.get("--tls-agent-any-node")))
        rep.check("Client Authentication" in agent and "Server Authentication" not in agent,
                  "the agent's certificate is for clients only")
        # The collector with its Secret's files, and nsnetstat with the query certificate,
        # as the README's `kubectl exec deploy/nsnet-collector -- nsnetstat ...` runs it.
        cf = secrets["collector"]
        log = open(os.path.join(tmp, "collector.log"), "w+")
        p = subprocess.Popen([collector_bin, "--listen", "127.0.0.1:0", "--tls-cert", cf["tls.crt"], "--tls-key",
                              cf["tls.key"], "--tls-ca", cf["ca.crt"], "--tls-agent-any-node",
                              coll_flags.get("--tls-agent-any-node") or "x"], stderr=log)
        try:
            port, end = None, time.monotonic() + 10
            while port is None and time.monotonic() < end and p.poll() is None:
                log.seek(0)
                m = re.search(r"event=listening addr=\S+ port=(\d+)", log.read())
                port = int(m.group(1)) if m else None
                time.sleep(0.05)
            if not rep.check(port is not None, "nsnet-collector with the Secret's files did not start: %s"
                             % open(log.name).read()[-800:]):
                return
            q = ["--collector", "127.0.0.1:%d" % port, "--tls-ca", cf["ca.crt"]]
            r = subprocess.run([nsnetstat] + q + ["--tls-cert", cf["query.crt"], "--tls-key", cf["query.key"],
                                                  "--json", "-tln"], capture_output=True, text=True, timeout=30)
            rep.check(r.returncode == 0 and json.loads(r.stdout or "{}").get("nodes") == [],
                      "nsnetstat with the query certificate gets the (empty) cluster view: exit %d %s"
                      % (r.returncode, r.stderr.strip()))
            gen_certs(src, os.path.join(tmp, "other"))
            o = os.path.join(tmp, "other")
            r = subprocess.run([nsnetstat] + q + ["--tls-cert", o + "/query.crt", "--tls-key", o + "/query.key",
                                                  "-tln"], capture_output=True, text=True, timeout=30)
            rep.check(r.returncode == 1 and "unknown ca" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                      "a query certificate of another CA is refused with one line: exit %d %r"
                      % (r.returncode, r.stderr))
        finally:
            p.terminate()
            p.wait(timeout=10)
            log.close()
        print("ok: gen-certs.sh's certificates fit the manifests and the binaries")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_kustomization(rep, src, resources):
    deploy = os.path.join(src, "deploy")
    kz = load([os.path.join(deploy, "kustomization.yaml")])[0]
    listed = kz.get("resources") or []
    present = sorted(f for f in os.listdir(deploy) if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml")
    rep.check(sorted(listed) == present, "kustomization resources %s, deploy/ has %s" % (sorted(listed), present))
    rep.check(kz.get("namespace") == find(resources, "Namespace")["metadata"]["name"],
              "kustomization namespace is not the Namespace it creates")
    gens = {g["name"]: g for g in kz.get("secretGenerator") or []}
    rep.check(gens.get("nsnet-token", {}).get("files") == ["token"],
              "kustomization: secretGenerator nsnet-token from the file 'token' (key token)")
    uses = {"DaemonSet": {"nsnet-token", "nsnet-agent-tls"}, "Deployment": {"nsnet-token", "nsnet-collector-tls"}}
    rep.check(set(gens) == set.union(*uses.values()), "kustomization: secretGenerators %s, want %s"
              % (sorted(gens), sorted(set.union(*uses.values()))))
    if not shutil.which("kubectl"):
        rep.check(False, "kubectl missing: scripts/install-deps.sh installs kubernetes-client")
        return
    # Render a copy with a token and certificates, as a user would after writing
    # deploy/token and running deploy/gen-certs.sh.
    tmp = tempfile.mkdtemp(prefix="nsnt-kz-")
    try:
        for f in listed + ["kustomization.yaml"]:
            shutil.copy(os.path.join(deploy, f), tmp)
        with open(os.path.join(tmp, "token"), "w") as f:
            f.write("0123456789abcdef\n")
        gen_certs(src, os.path.join(tmp, "tls"))
        r = subprocess.run(["kubectl", "kustomize", tmp], capture_output=True, text=True, timeout=60)
        if not rep.check(r.returncode == 0, "kubectl kustomize deploy/: %s" % r.stderr.strip()):
            return
        docs = load(["-"], r.stdout)
        # kustomize folds long base64 (the certificates) over several lines; the API
        # server's decoder skips line breaks, the schema's "byte" format does not.
        for d in docs:
            if d.get("kind") == "Secret":
                d["data"] = {k: re.sub(r"\s+", "", v) for k, v in (d.get("data") or {}).items()}
        v = node(["-"], "\n---\n".join(json.dumps(d) for d in docs))
        rep.check(v.returncode == 0, "the rendered kustomization does not validate:\n%s" % v.stderr)
        secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
        keys = {"nsnet-token": {"token"}, "nsnet-agent-tls": {"ca.crt", "tls.crt", "tls.key"},
                "nsnet-collector-tls": {"ca.crt", "tls.crt", "tls.key", "query.crt", "query.key"}}
        generated = {}
        for base, want in keys.items():
            hits = [n for n in secrets if re.fullmatch(re.escape(base) + r"-[a-z0-9]+", n)]
            ok = len(hits) == 1 and set(secrets[hits[0]].get("data", {})) == want
            rep.check(ok, "rendered Secret %s with the keys %s: %s" % (base, sorted(want), hits))
            if hits:
                generated[base] = hits[0]
        for kind, bases in uses.items():
            w = find(docs, kind)
            names = {v["secret"]["secretName"] for v in w["spec"]["template"]["spec"]["volumes"] if "secret" in v}
            want = {generated.get(b) for b in bases}
            rep.check(names == want, "rendered %s uses Secrets %s, generated %s" % (kind, sorted(names), sorted(want)))
        ns = kz.get("namespace")
        rep.check(all(d["metadata"].get("namespace") == ns for d in docs if d["kind"] != "Namespace"),
                  "rendered objects outside namespace %s" % ns)
        print("ok: kubectl kustomize renders %d objects, all valid" % len(docs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_image(rep, src, binaries, docs):
    with open(os.path.join(src, "CMakeLists.txt")) as f:
        version = re.search(r"project\(nsnetstat VERSION ([0-9.]+)", f.read()).group(1)
    images = {c["image"] for d in docs if d["kind"] in ("DaemonSet", "Deployment")
              for c in d["spec"]["template"]["spec"]["containers"]}
    rep.check(images == {"nsnetstat:" + version}, "images %s, want nsnetstat:%s" % (sorted(images), version))
    with open(os.path.join(src, "deploy", "Containerfile")) as f:
        text = f.read()
    stages = re.split(r"(?m)^FROM ", text)
    rep.check(len(stages) >= 3, "Containerfile: want a build stage and a runtime stage")
    final = stages[-1]
    rep.check(not re.search(r"\b(gcc|build-essential|cmake|-dev)\b", final),
              "Containerfile: build tools in the final stage")
    m = re.search(r"apt-get install((?:[^&]|&(?!&))*)", final.replace("\\\n", " "))
    pkgs = {w for w in (m.group(1).split() if m else []) if not w.startswith("-")}
    # The packages of the libraries each binary names (DT_NEEDED; apt brings their own
    # dependencies), found where ldd resolves them. A sanitizer build's runtimes are
    # not the release image's business.
    need = set()
    for b in binaries:
        paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", subprocess.run(["ldd", b], capture_output=True,
                                                                       text=True).stdout, re.M))
        dyn = subprocess.run(["readelf", "-d", b], capture_output=True, text=True).stdout
        for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn):
            if re.match(r"lib(a|ub|t|l)san\.", lib):
                continue
            path = paths.get(lib)
            r = subprocess.run(["dpkg", "-S", os.path.realpath(path) if path else lib], capture_output=True, text=True)
            if r.returncode != 0 and path:
                r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if rep.check(r.returncode == 0, "no Debian package owns %s (needed by %s)" % (lib, b)):
                need.add(r.stdout.split(":", 1)[0])
    need -= {"libc6", "libgcc-s1"}  # in every Debian base
    rep.check(bool(need) and need <= pkgs, "Containerfile's runtime stage lacks %s (it installs %s)"
              % (sorted(need - pkgs), sorted(pkgs)))
    print("ok: the image's runtime packages %s cover the binaries' libraries %s" % (sorted(pkgs), sorted(need)))


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    src, agent_bin, collector_bin, nsnetstat = sys.argv[1:]
    rep = L.Report()
    mods = os.path.join(HERE, "node_modules", "kubernetes-models")
    if not shutil.which("node") or not os.path.isdir(mods):
        rep.check(False, "node or tests/deploy/node_modules missing: run scripts/install-deps.sh")
        rep.finish()
    deploy = os.path.join(src, "deploy")
    files = sorted(os.path.join(deploy, f) for f in os.listdir(deploy)
                   if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml")
    r = node(files)
    print(r.stdout, end="")
    rep.check(r.returncode == 0, "schema validation of deploy/:\n%s" % r.stderr)
    # The validator must reject what it should: a wrong type and an unknown kind.
    bad = node(["-"], "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: http}]\n")
    rep.check(bad.returncode == 1 and "INVALID" in bad.stderr, "a Service with a string port validated: %r" % bad.stderr)
    bad = node(["-"], "apiVersion: apps/v1\nkind: DaemonSett\nmetadata: {name: x}\n")
    rep.check(bad.returncode == 1 and "unknown apiVersion/kind" in bad.stderr, "an unknown kind validated")
    docs = load(files)
    _, _, agent_flags = check_agent(rep, docs, agent_bin)
    coll_flags = check_collector(rep, docs, collector_bin, agent_flags)
    check_certs(rep, src, agent_flags, coll_flags or {}, collector_bin, nsnetstat)
    check_kustomization(rep, src, docs)
    check_image(rep, src, [agent_bin, collector_bin, nsnetstat], docs)
    rep.finish()


if __name__ == "__main__":
    sys.exit(main())
