#!/usr/bin/env bash
# fixture.sh - a fixed set of REAL containers (containerd, runc, podman) for nsnetstat's
# container/pod attribution test. Each runs busybox httpd (or sleep, for pod sandboxes)
# from a locally built busybox-static image; nothing is pulled.
#
# Usage: fixture.sh [--state DIR] [--tag T] [--base-port P] [--timeout S] up|tsv|info|teardown
#   up        start the set below, print the record (as "tsv"), exit 0; on failure tear down
#             what was started and exit 1 (77 when a tool is missing or we are not root)
#   tsv       print the record: a header, then one row per container
#   info      shell assignments (state dirs, podman flags) for debugging
#   teardown  stop and remove exactly what the record and the pending markers name
#
# The set (<tag> makes every pod, Kubernetes namespace and container name unique to a run):
#   key  runtime     cgroup style        netns  what
#   cd1  containerd  kubepods            own    pod: sandbox + app, CRI annotations (k8s.io)
#   cd2  containerd  kubepods-systemd    own    pod: sandbox + app, CRI annotations (k8s.io)
#   rc1  runc        kubepods            own    pod: sandbox + app, CRI annotations
#   rc2  runc        kubepods-systemd    own    pod: sandbox + app, CRI annotations
#   rcb  runc        kubepods            own    one container, bare OCI config (no annotations):
#                                               names only from the kubelet's log layout
#   pm1  podman      libpod (cgroupfs)   own    --name nsnt-<tag>-pm1
#   dk1  containerd  docker (/docker/<id>, namespace moby)  own
#   rch  runc        kubepods-systemd    host   hostNetwork pod: sandbox + app on 127.0.0.1
#   cdh  containerd  native (/default/<id>) host  ctr run --net-host, app on 127.0.0.1
#   cdm  containerd  kubepods            own    pod: sandbox + TWO apps (web-<tag>-cdm on port
#                                               P+8, api-<tag>-cdm on P+9) in the sandbox's
#                                               netns, CRI annotations; Kubernetes namespace
#                                               nsnt-<tag>-m. Both rows have key cdm.
# Plain runc uses runc's default root (/run/runc), as on a real host, and so does podman's
# runc; containerd is a private daemon under the state dir (its task dirs are
# <state>/containerd/state/io.containerd.runtime.v2.task/<ns>/<id>, podman's bundles
# <state>/podman/root/overlay-containers/<id>/userdata: "info" prints both roots).
#
# Record columns (tab separated, "-" for none):
#   role         sandbox | app | hostnet (an app sharing the host's netns)
#   runtime      what nsnetstat must report: containerd runc podman docker
#   id pid netns port style pod_uid pod_name pod_namespace container_name sandbox_id
#   key          cd1 ... (above)
#   driver       what started it: containerd runc podman
#   ctr_ns cgroup parent_pid
# container_name is the Kubernetes container name (pods) or podman's --name.
#
# Host notes (Debian 12, no systemd, cgroup v1 + cgroup2 "unified"): the systemd cgroup
# spellings are plain cgroupfs paths with the text the systemd driver would produce;
# podman runs with --runtime runc (crun refuses hybrid cgroups) and low ulimits (raising
# RLIMIT_NOFILE needs CAP_SYS_RESOURCE). Packages come from scripts/install-deps.sh;
# this script never installs anything.
set -euo pipefail

# Descriptors inherited from whoever ran us (a lock held by `flock FILE fixture.sh up`, a
# pipe of a shell) would otherwise live on in the daemons started below, and keep that
# lock, or that pipe, open until teardown. Only stdin, stdout and stderr are ours.
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	if [ "$fd" -gt 2 ] 2>/dev/null; then
		eval "exec $fd>&-" 2>/dev/null || true
	fi
done

STATE=/tmp/nsnt-containers
TAG=""
BASE_PORT=21000
TIMEOUT=20
IMG_REF=localhost/nsnt/busybox:1
SKIP=77

log() { printf 'fixture: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() { log "SKIP: $*"; exit "$SKIP"; }
now_ms() { date +%s%3N; }

CMD=""
while [ $# -gt 0 ]; do
  case "$1" in
    --state) STATE=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    up|tsv|info|teardown) CMD=$1; shift ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[ -n "$CMD" ] || die "no command (see --help)"
case "$STATE" in /*) ;; *) die "--state must be an absolute path" ;; esac
STATE=${STATE%/}
[ "$STATE" != "" ] && [ "$STATE" != /tmp ] && [ "$STATE" != / ] || die "refusing state dir '$STATE'"
[[ "$BASE_PORT" =~ ^[0-9]+$ ]] && [ "$BASE_PORT" -ge 1 ] && [ "$BASE_PORT" -le 65000 ] || die "bad --base-port"

REC=$STATE/records.tsv
CGREC=$STATE/created-cgroups   # cgroup dirs (relative to each hierarchy root) we created
PATHREC=$STATE/created-paths   # host dirs outside STATE that did not exist before us
CTRD=$STATE/containerd
SOCK=$CTRD/containerd.sock
PODMAN_FLAGS=(--root "$STATE/podman/root" --runroot "$STATE/podman/run" --tmpdir "$STATE/podman/tmp"
              --cgroup-manager cgroupfs --events-backend file --network-config-dir "$STATE/podman/net"
              --runtime runc)

# ---------------------------------------------------------------- helpers
rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
netns_ino() { stat -L -c %i "/proc/$1/ns/net"; }
ppid_of() { awk '/^PPid:/{print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
cg_roots() { awk '$0 ~ / - cgroup2? / {print $5}' /proc/self/mountinfo | sort -u; }
ref_cg_root() {
  local r
  for r in /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
    if [ -e "$r/cgroup.procs" ]; then echo "$r"; return; fi
  done
}
# Record the leaf of a cgroup path (ours: it ends in our random id) and every ancestor
# that does not exist yet, so that teardown can rmdir exactly those.
note_cgroup() {
  local p=$1 ref acc="" part n i=0 parts
  ref=$(ref_cg_root); [ -n "$ref" ] || return 0
  IFS=/ read -r -a parts <<<"${p#/}"
  n=${#parts[@]}
  for part in "${parts[@]}"; do
    acc="$acc/$part"; i=$((i + 1))
    if [ "$i" = "$n" ] || [ ! -d "$ref$acc" ]; then echo "$acc" >>"$CGREC"; fi
  done
}
note_path() { [ -e "$1" ] || grep -qxF "$1" "$PATHREC" 2>/dev/null || echo "$1" >>"$PATHREC"; }
observed_cgroup() {
  awk -F: '$1=="0" && $3!="/" {v2=$3} $2=="name=systemd" {sd=$3} $2=="memory" {mem=$3}
           END {print (v2!="" ? v2 : (sd!="" ? sd : mem))}' "/proc/$1/cgroup"
}
port_listening() { # pid port -> a listener on that port in the pid's netns
  local hex; hex=$(printf ':%04X' "$2")
  awk -v p="$hex" 'FNR>1 && $4=="0A" && substr($2, length($2)-4)==p {f=1} END {exit !f}' \
    "/proc/$1/net/tcp" "/proc/$1/net/tcp6" 2>/dev/null
}
free_host_port() { # a port with no TCP socket in the host netns, below the ephemeral range
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 12000 ))
    grep -qi "^ *[0-9]*: [0-9A-F]*:$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
ctr_() { TMPDIR=$CTRD/tmp ctr -a "$SOCK" "$@"; }
pod_() { podman "${PODMAN_FLAGS[@]}" "$@"; }

check_tools() {
  [ "$(id -u)" = 0 ] || skip "must run as root"
  local t
  for t in containerd containerd-shim-runc-v2 ctr runc podman conmon busybox unshare flock od sha256sum tar; do
    command -v "$t" >/dev/null 2>&1 || skip "$t not installed (scripts/install-deps.sh installs containerd runc podman busybox-static)"
  done
  ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is dynamically linked; install busybox-static"
  [ -d /sys/fs/cgroup ] || skip "no /sys/fs/cgroup"
  return 0
}

# ---------------------------------------------------------------- image
build_image() {
  local img=$STATE/image bb a L C arch
  rm -rf "$img"; mkdir -p "$img/rootfs/bin" "$img/out"
  bb=$(command -v busybox)
  (cd "$img/rootfs" && mkdir -p etc tmp proc sys dev www run var)
  cp "$bb" "$img/rootfs/bin/busybox"
  for a in sh sleep httpd; do ln -s busybox "$img/rootfs/bin/$a"; done
  echo 'root:x:0:0:root:/:/bin/sh' >"$img/rootfs/etc/passwd"
  echo 'root:x:0:' >"$img/rootfs/etc/group"
  echo 'nsnetstat container fixture' >"$img/rootfs/www/index.html"
  (cd "$img/rootfs" && tar --numeric-owner --owner=0 --group=0 --mtime=2020-01-01 --sort=name -cf "$img/out/layer.tar" .)
  case "$(uname -m)" in
    x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l|armv6l) arch=arm ;; i?86) arch=386 ;;
    ppc64le) arch=ppc64le ;; s390x) arch=s390x ;; *) arch=$(uname -m) ;;
  esac
  L=$(sha256sum "$img/out/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","created":"2020-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}\n' "$arch" "$L" >"$img/out/config.json"
  C=$(sha256sum "$img/out/config.json" | cut -d' ' -f1)
  mkdir "$img/out/$L"; mv "$img/out/layer.tar" "$img/out/$L/layer.tar"; mv "$img/out/config.json" "$img/out/$C.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' "$C" "$IMG_REF" "$L" >"$img/out/manifest.json"
  (cd "$img/out" && tar -cf "$img/image.tar" manifest.json "$C.json" "$L")
  rm -rf "$img/out"
}

# ---------------------------------------------------------------- containerd daemon
snapshotter() { # overlayfs cannot sit on overlayfs (e.g. inside another container)
  if [ "$(stat -f -c %T "$STATE")" = overlayfs ]; then echo native; else echo overlayfs; fi
}
containerd_alive() {
  [ -f "$CTRD/pid" ] || return 1
  local p; p=$(cat "$CTRD/pid")
  [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "--config $CTRD/config.toml" \
    && ctr_ version >/dev/null 2>&1
}
start_containerd() {
  [ ${#SOCK} -lt 100 ] || die "state dir too long for a unix socket path: $SOCK"
  mkdir -p "$CTRD/tmp"   # containerd mounts snapshots under $TMPDIR/containerd-mount*
  note_path /run/containerd
  cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
oom_score = 0
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"
EOF
  # from a subshell, so that it is not a child we would "wait" for
  ( TMPDIR=$CTRD/tmp setsid containerd --config "$CTRD/config.toml" >"$CTRD/containerd.log" 2>&1 </dev/null 9>&- &
    echo $! >"$CTRD/pid" )
  local p i; p=$(cat "$CTRD/pid")
  for i in $(seq 1 200); do
    ctr_ version >/dev/null 2>&1 && break
    kill -0 "$p" 2>/dev/null || { tail -5 "$CTRD/containerd.log" >&2; die "containerd exited"; }
    sleep 0.05
  done
  ctr_ version >/dev/null 2>&1 || die "containerd did not come up (log: $CTRD/containerd.log)"
  local ns
  for ns in k8s.io moby default; do
    ctr_ -n "$ns" images import --snapshotter "$(snapshotter)" "$STATE/image/image.tar" >/dev/null &
  done
  wait
  for ns in k8s.io moby default; do
    ctr_ -n "$ns" images ls -q | grep -qxF "$IMG_REF" || die "image import into containerd namespace $ns failed"
  done
}
load_podman() {
  note_path /var/lib/containers; note_path /run/containers; note_path /run/runc
  mkdir -p "$STATE/podman/net"
  pod_ load -i "$STATE/image/image.tar" >/dev/null 2>"$STATE/podman/load.err" 9>&- \
    || { cat "$STATE/podman/load.err" >&2; die "podman load failed"; }
}

# ---------------------------------------------------------------- cgroup paths
cgroup_path() { # style id poduid qos -> cgroupsPath ('' for the runtime's default)
  local style=$1 id=$2 uid=$3 qos=$4 u=${3//-/_}
  case "$style" in
    kubepods)         echo "/kubepods/$qos/pod$uid/$id" ;;
    kubepods-systemd) echo "/kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod$u.slice/cri-containerd-$id.scope" ;;
    docker)           echo "/docker/$id" ;;
    native)           echo "" ;;
  esac
}

# ---------------------------------------------------------------- OCI bundle for runc
write_bundle() { # dir id args-json cgroupsPath annotations-json netns(own|host|/proc/PID/ns/net)
  local dir=$1 id=$2 args=$3 cg=$4 ann=$5 net=$6 cgline="" netline
  [ -n "$cg" ] && cgline="\"cgroupsPath\": \"$cg\","
  case "$net" in
    own) netline=', {"type":"network"}' ;;
    host) netline='' ;;
    *) netline=", {\"type\":\"network\",\"path\":\"$net\"}" ;;
  esac
  mkdir -p "$dir"
  cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0},
    "args": $args,
    "env": ["PATH=/bin"], "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "$STATE/image/rootfs", "readonly": true},
  "hostname": "${id:0:12}",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid","strictatime","mode=755","size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid","noexec","nodev","mode=1777","size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid","nodev","mode=1777","size=16m"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid","noexec","nodev","ro"]}
  ],
  "annotations": $ann,
  "linux": {
    $cgline
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type":"pid"}$netline, {"type":"ipc"}, {"type":"uts"}, {"type":"mount"}],
    "maskedPaths": ["/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/sched_debug","/sys/firmware","/proc/scsi"],
    "readonlyPaths": ["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]
  }
}
EOF
}

# ---------------------------------------------------------------- start one container
# start_one driver kind(sandbox|app) style net(own|host|join:PID) listen-addr(port or ip:port)
#           pod-uid pod-name pod-ns ctr-name sandbox-id k8s(0|1) [podman-name]
# sets S_ID S_PID S_CTRNS
start_one() {
  local drv=$1 kind=$2 style=$3 net=$4 listen=$5 uid=$6 pname=$7 pns=$8 cname=$9 sbx=${10} k8s=${11} pmname=${12:-}
  local id qos cg ctrns="" args argv lab ann errf joinpid=""
  id=$(rand_hex 32)
  qos=besteffort; [ "$style" = kubepods-systemd ] && qos=burstable
  [ "${net#join:}" != "$net" ] && joinpid=${net#join:}
  if [ "$kind" = sandbox ]; then
    args='["/bin/sleep","2147483647"]'
  else
    args="[\"/bin/httpd\",\"-f\",\"-p\",\"$listen\",\"-h\",\"/www\"]"
  fi
  argv=$(echo "$args" | tr -d '[]"' | tr ',' ' ')
  # kvl: the kubelet's container labels; kva: CRI's OCI annotations (what containerd's CRI
  # plugin writes into config.json). runc bundles get both as annotations.
  local kvl=() kva=()
  if [ "$k8s" = 1 ]; then
    kvl=("io.kubernetes.pod.name=$pname" "io.kubernetes.pod.namespace=$pns" "io.kubernetes.pod.uid=$uid")
    kva=("io.kubernetes.cri.sandbox-name=$pname" "io.kubernetes.cri.sandbox-namespace=$pns"
         "io.kubernetes.cri.sandbox-uid=$uid")
    if [ "$kind" = sandbox ]; then
      kvl+=("io.cri-containerd.kind=sandbox")
      kva+=("io.kubernetes.cri.container-type=sandbox" "io.kubernetes.cri.sandbox-id=$id")
    else
      kvl+=("io.kubernetes.container.name=$cname" "io.cri-containerd.kind=container")
      kva+=("io.kubernetes.cri.container-type=container" "io.kubernetes.cri.container-name=$cname"
            "io.kubernetes.cri.sandbox-id=$sbx")
    fi
  fi
  cg=$(cgroup_path "$style" "$id" "$uid" "$qos")
  [ "$drv" = containerd ] && case "$style" in kubepods*) ctrns=k8s.io ;; docker) ctrns=moby ;; *) ctrns=default ;; esac
  [ "$drv" = containerd ] && [ -z "$cg" ] && cg="/$ctrns/$id"
  [ -n "$cg" ] && note_cgroup "$cg"
  errf=$STATE/jobs/err.$BASHPID
  # pending marker: lets teardown clean up if we die between "run" and the record
  S_PENDING=$STATE/pending/$id; [ "$drv" = podman ] && S_PENDING=$STATE/pending/$pmname
  printf '%s\t%s\t%s\n' "$drv" "${ctrns:--}" "${S_PENDING##*/}" >"$S_PENDING"
  case "$drv" in
    containerd)
      local opts=(-d --null-io --runc-root "$CTRD/runc" --snapshotter "$(snapshotter)" --pid-file "$STATE/pids/$id")
      [ "$style" != native ] && opts+=(--cgroup "$cg")
      [ -n "$joinpid" ] && opts+=(--with-ns "network:/proc/$joinpid/ns/net")
      [ "$net" = host ] && opts+=(--net-host)
      for lab in ${kvl[@]+"${kvl[@]}"}; do opts+=(--label "$lab"); done
      for lab in ${kva[@]+"${kva[@]}"}; do opts+=(--annotation "$lab"); done
      # shellcheck disable=SC2086
      ctr_ -n "$ctrns" run "${opts[@]}" "$IMG_REF" "$id" $argv 2>"$errf" 9>&- \
        || { cat "$errf" >&2; ctr_ -n "$ctrns" c rm "$id" >/dev/null 2>&1 || true; rm -f "$S_PENDING"; return 1; }
      S_PID=$(cat "$STATE/pids/$id") ;;
    runc)
      ann="{$(for lab in ${kvl[@]+"${kvl[@]}"} ${kva[@]+"${kva[@]}"}; do printf '"%s":"%s",' "${lab%%=*}" "${lab#*=}"; done | sed 's/,$//')}"
      local nsarg=$net; [ -n "$joinpid" ] && nsarg=/proc/$joinpid/ns/net
      write_bundle "$STATE/bundles/$id" "$id" "$args" "$cg" "$ann" "$nsarg"
      # runc's default root (/run/runc), where a host's plain runc containers are found
      runc run -d --bundle "$STATE/bundles/$id" --pid-file "$STATE/pids/$id" "$id" \
        </dev/null >/dev/null 2>"$errf" 9>&- \
        || { cat "$errf" >&2; runc delete -f "$id" >/dev/null 2>&1 || true; rm -f "$S_PENDING"; return 1; }
      S_PID=$(cat "$STATE/pids/$id") ;;
    podman)
      local d; for d in /libpod_parent /libpod_parent/conmon; do
        [ -d "$(ref_cg_root)$d" ] || echo "$d" >>"$CGREC"
      done
      # --cidfile is written at creation: a start cut short leaves a container that only
      # runc knows (teardown deletes it by that id)
      local popts=(-d --name "$pmname" --network none --log-driver k8s-file --pidfile "$STATE/pids/$pmname"
                   --cidfile "$STATE/pids/$pmname.cid"
                   --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
      # shellcheck disable=SC2086
      id=$(pod_ run "${popts[@]}" "$IMG_REF" $argv 2>"$errf" 9>&-) \
        || { cat "$errf" >&2; pod_ rm -f "$pmname" >/dev/null 2>&1 || true; rm -f "$S_PENDING"; return 1; }
      S_PID=$(cat "$STATE/pids/$pmname" 2>/dev/null) || S_PID=$(pod_ inspect -f '{{.State.Pid}}' "$id")
      cg="/libpod_parent/libpod-$id"
      echo "$cg" >>"$CGREC" ;;
  esac
  rm -f "$errf"
  S_ID=$id; S_CTRNS=$ctrns
}

# record role runtime port style uid pname pns cname sbx key driver
record() {
  local ino; ino=$(netns_ino "$S_PID" 2>/dev/null) || ino="-"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$1" "$2" "$S_ID" "$S_PID" "$ino" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" \
    "${S_CTRNS:--}" "$(observed_cgroup "$S_PID" 2>/dev/null || echo -)" "$(ppid_of "$S_PID")" >>"$REC"
  rm -f "$S_PENDING"
  [ "$ino" != "-" ] || { echo "container $S_ID (pid $S_PID) exited right after start" >&2; return 1; }
}

# one entry of the set, run as a background job; errors go to $STATE/jobs/<key>.err
# apps=2: a pod (k8s=1, own netns) with a second app container on port+1 (the pod's
# containers then share the sandbox's netns and shim, as a CRI runtime runs them)
job() { # key driver runtime style net port k8s [apps]
  local key=$1 drv=$2 rt=$3 style=$4 net=$5 port=$6 k8s=$7 apps=${8:-1} listen role=app
  local uid="-" pname="-" pns="-" cname="-" sbx="-" pmname=""
  [ "$net" = host ] && role=hostnet
  listen=$port; [ "$net" = host ] && listen=127.0.0.1:$port
  case "$style" in
    kubepods*) uid=$(cat /proc/sys/kernel/random/uuid) ;;
  esac
  if [ "$k8s" = 1 ]; then
    pname="nsnt-$TAG-$key"; cname="web-$TAG-$key"
    case "$key" in cdm) pns="nsnt-$TAG-m" ;; *1) pns="nsnt-$TAG-a" ;; *2) pns="nsnt-$TAG-b" ;; *) pns="nsnt-$TAG-h" ;; esac
    start_one "$drv" sandbox "$style" "$net" - "$uid" "$pname" "$pns" - - 1 || return 1
    sbx=$S_ID
    record sandbox "$rt" - "$style" "$uid" "$pname" "$pns" - "$S_ID" "$key" "$drv" || return 1
    [ "$net" = own ] && net=join:$S_PID
  fi
  [ "$drv" = podman ] && { pmname="nsnt-$TAG-$key"; cname=$pmname; style=libpod; }
  start_one "$drv" app "$style" "$net" "$listen" "$uid" "$pname" "$pns" "$cname" "$sbx" "$k8s" "$pmname" || return 1
  record "$role" "$rt" "$port" "$style" "$uid" "$pname" "$pns" "$cname" "$sbx" "$key" "$drv" || return 1
  local out="$S_PID $port $role"
  if [ "$apps" = 2 ]; then
    [ "$k8s" = 1 ] && [ "${net#join:}" != "$net" ] || { echo "apps=2 needs a pod with its own netns" >&2; return 1; }
    local port2=$((port + 1)) cname2="api-$TAG-$key"
    start_one "$drv" app "$style" "$net" "$port2" "$uid" "$pname" "$pns" "$cname2" "$sbx" "$k8s" || return 1
    record "$role" "$rt" "$port2" "$style" "$uid" "$pname" "$pns" "$cname2" "$sbx" "$key" "$drv" || return 1
    out="$out"$'\n'"$S_PID $port2 $role"
  fi
  # written last: a job without it failed
  echo "$out" >"$STATE/jobs/$key.out"
}

do_up() {
  check_tools
  [ -z "$TAG" ] && TAG=$(rand_hex 2)
  [[ "$TAG" =~ ^[a-z0-9]{1,8}$ ]] || die "--tag must be 1-8 of [a-z0-9]"
  mkdir -p "$STATE"/{pids,bundles,jobs,pending}
  [ ! -s "$REC" ] || die "$STATE already holds containers; tear it down first"
  touch "$REC" "$CGREC" "$PATHREC"
  echo "$TAG" >"$STATE/tag"
  local t0; t0=$(now_ms)
  build_image
  local hp1 hp2
  hp1=$(free_host_port) && hp2=$(free_host_port) || die "no free host port"
  [ "$hp1" != "$hp2" ] || hp2=$(free_host_port)
  # the daemons load the image in parallel
  ( start_containerd ) 9>&- & local cpid=$!
  ( load_podman ) 9>&- & local ppid=$!
  wait "$cpid" || die "containerd setup failed"
  wait "$ppid" || die "podman setup failed"
  note_path /run/runc
  local P=$BASE_PORT
  local plan=(
    "cd1 containerd containerd kubepods own $((P + 1)) 1"
    "cd2 containerd containerd kubepods-systemd own $((P + 2)) 1"
    "rc1 runc runc kubepods own $((P + 3)) 1"
    "rc2 runc runc kubepods-systemd own $((P + 4)) 1"
    "rcb runc runc kubepods own $((P + 5)) 0"
    "pm1 podman podman libpod own $((P + 6)) 0"
    "dk1 containerd docker docker own $((P + 7)) 0"
    "rch runc runc kubepods-systemd host $hp1 1"
    "cdh containerd containerd native host $hp2 0"
    "cdm containerd containerd kubepods own $((P + 8)) 1 2"
  )
  local item jobpids=() failed=0
  for item in "${plan[@]}"; do
    # shellcheck disable=SC2086
    ( set +e; set -- $item; job "$@" 2>"$STATE/jobs/$1.err" ) 9>&- &
    jobpids+=($!)
  done
  wait "${jobpids[@]}" 2>/dev/null || true
  for item in "${plan[@]}"; do
    set -- $item
    if [ ! -s "$STATE/jobs/$1.out" ]; then
      failed=$((failed + 1))
      log "container $1 ($2/$4) failed: $(tail -3 "$STATE/jobs/$1.err" 2>/dev/null)"
    fi
  done
  [ "$failed" = 0 ] || return 1

  # own-netns containers must not share the host's netns; host ones must; the apps of
  # one pod share its netns; all listeners up (jobs/<key>.out: one "pid port role" per app)
  local hostns pid port role pending deadline first
  hostns=$(netns_ino self)
  for item in "${plan[@]}"; do
    set -- $item; first=""
    while read -r pid port role; do
      if [ "$role" = hostnet ]; then
        [ "$(netns_ino "$pid")" = "$hostns" ] || { log "$1 is not in the host netns"; return 1; }
      else
        [ "$(netns_ino "$pid")" != "$hostns" ] || { log "$1 shares the host netns"; return 1; }
      fi
      [ -z "$first" ] && first=$(netns_ino "$pid")
      [ "$(netns_ino "$pid")" = "$first" ] || { log "$1: its apps are in different netns"; return 1; }
    done <"$STATE/jobs/$1.out"
  done
  deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
  while :; do
    pending=""
    for item in "${plan[@]}"; do
      set -- $item
      while read -r pid port role; do
        [ -e "/proc/$pid" ] || { log "container $1 (pid $pid) exited before its listener came up"; return 1; }
        port_listening "$pid" "$port" || pending="$pending $1:$port"
      done <"$STATE/jobs/$1.out"
    done
    [ -z "$pending" ] && break
    [ "$(now_ms)" -lt "$deadline" ] || { log "listener(s) not up after ${TIMEOUT}s:$pending"; return 1; }
    sleep 0.02
  done
  rm -f "$STATE"/jobs/*
  log "started $(wc -l <"$REC") containers in $(( $(now_ms) - t0 )) ms (state: $STATE)"
  do_tsv
}

do_tsv() {
  printf 'role\truntime\tid\tpid\tnetns\tport\tstyle\tpod_uid\tpod_name\tpod_namespace\tcontainer_name\tsandbox_id\tkey\tdriver\tctr_ns\tcgroup\tparent_pid\n'
  [ -f "$REC" ] && cat "$REC"
  return 0
}
do_info() {
  cat <<EOF
NSNT_STATE=$STATE
NSNT_TAG=$(cat "$STATE/tag" 2>/dev/null)
NSNT_CONTAINERD_SOCK=$SOCK
NSNT_CONTAINERD_STATE=$CTRD/state
NSNT_CONTAINERD_RUNC_ROOT=$CTRD/runc
NSNT_PODMAN_ROOT=$STATE/podman/root
NSNT_RUNC_BUNDLES=$STATE/bundles
NSNT_PODMAN_FLAGS="${PODMAN_FLAGS[*]}"
EOF
}

# ---------------------------------------------------------------- teardown
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
wait_gone() {
  local p i a
  for i in $(seq 1 100); do
    a=0; for p in "$@"; do alive "$p" && a=1; done
    [ "$a" = 0 ] && return 0
    sleep 0.05
  done
  return 1
}
is_our_shim() { # pid id: a containerd shim of our daemon serving that container
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "-address $SOCK .*-id $2 "
}
podman_runc_delete() { # podman name: the runc container of an interrupted "podman run"
  local f=$STATE/pids/$1.cid cid
  [ -s "$f" ] || return 0
  cid=$(cat "$f")
  [[ "$cid" =~ ^[0-9a-f]{64}$ ]] || return 0
  if [ -e "/run/runc/$cid" ]; then
    runc delete -f "$cid" >/dev/null 2>&1 || log "runc delete $cid (podman $1) failed"
  fi
  return 0
}
remove_one() { # driver ctr_ns id parent_pid ctrd_ok
  local drv=$1 ns=$2 id=$3 ppid=$4 ok=$5
  case "$drv" in
    containerd)
      if [ "$ok" = 1 ]; then
        ctr_ -n "$ns" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
        ctr_ -n "$ns" task rm -f "$id" >/dev/null 2>&1 || true
        ctr_ -n "$ns" c rm "$id" >/dev/null 2>&1 || log "ctr c rm $id failed"
      else
        # the daemon is gone: kill through its runc root, then the shim (a pod's containers
        # share the sandbox's shim, whose command line names the sandbox)
        runc --root "$CTRD/runc/$ns" delete -f "$id" >/dev/null 2>&1 || true
        is_our_shim "$ppid" "$id" && kill "$ppid" 2>/dev/null || true
      fi ;;
    runc) runc delete -f "$id" >/dev/null 2>&1 || { [ -e "/run/runc/$id" ] && log "runc delete $id failed"; } ;;
    podman) ;;   # removed by name, all at once, before
  esac
  return 0
}

do_teardown() {
  [ -d "$STATE" ] || { log "nothing to tear down ($STATE absent)"; return 0; }
  local t0; t0=$(now_ms)
  local pids=() names=() ok=0 role kind id r_role r_id r_pid r_drv r_ns r_pp
  containerd_alive && ok=1
  if [ -s "$REC" ]; then
    mapfile -t names < <(awk -F'\t' '$14=="podman" {print $11}' "$REC")
    if [ ${#names[@]} -gt 0 ]; then
      pod_ rm -f -t 0 "${names[@]}" >/dev/null 2>&1 || log "podman rm reported errors"
      for id in "${names[@]}"; do podman_runc_delete "$id"; done
    fi
    # apps first, then their sandboxes (a sandbox holds the pod's netns and shim)
    for kind in app sandbox; do
      local jp=()
      while IFS=$'\t' read -r r_role _ r_id r_pid _ _ _ _ _ _ _ _ _ r_drv r_ns _ r_pp; do
        [ "$r_role" = sandbox ] && role=sandbox || role=app
        [ "$role" = "$kind" ] || continue
        ( remove_one "$r_drv" "$r_ns" "$r_id" "$r_pp" "$ok" ) 9>&- &
        jp+=($!)
      done <"$REC"
      [ ${#jp[@]} -eq 0 ] || wait "${jp[@]}" 2>/dev/null || true
    done
    while IFS=$'\t' read -r r_role _ r_id r_pid _ _ _ _ _ _ _ _ _ r_drv r_ns _ r_pp; do
      pids+=("$r_pid")
      [ "$r_drv" = containerd ] && is_our_shim "$r_pp" "$r_id" && pids+=("$r_pp")
    done <"$REC"
  fi
  # starts interrupted before they were recorded
  local f drv ns
  for f in "$STATE"/pending/*; do
    [ -f "$f" ] || continue
    IFS=$'\t' read -r drv ns id <"$f"
    case "$drv" in
      containerd) if [ "$ok" = 1 ]; then
                    ctr_ -n "$ns" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
                    ctr_ -n "$ns" task rm -f "$id" >/dev/null 2>&1 || true
                    ctr_ -n "$ns" c rm "$id" >/dev/null 2>&1 || true
                  else runc --root "$CTRD/runc/$ns" delete -f "$id" >/dev/null 2>&1 || true; fi ;;
      runc) runc delete -f "$id" >/dev/null 2>&1 || true ;;
      podman) pod_ rm -f -t 0 "$id" >/dev/null 2>&1 || true
              podman_runc_delete "$id" ;;
    esac
    log "cleaned up interrupted start $drv/$id"
  done
  # whatever is still registered in our private containerd's runc root is ours
  local d more=() c
  if [ "$ok" = 0 ]; then
    for d in "$CTRD"/runc/*/*/; do
      [ -d "$d" ] || continue
      runc --root "$(dirname "$d")" delete -f "$(basename "$d")" >/dev/null 2>&1 && log "removed leftover containerd container $(basename "$d")"
    done
    # shims of our dead daemon: named by our private socket on their command line
    for d in /proc/[0-9]*; do
      c=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
      case "$c" in *containerd-shim-runc-v2\ *"-address $SOCK "*) kill "${d#/proc/}" 2>/dev/null && more+=("${d#/proc/}") ;; esac
    done
  fi
  pids+=(${more[@]+"${more[@]}"})
  if [ ${#pids[@]} -gt 0 ] && ! wait_gone "${pids[@]}"; then
    local left=() p
    for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
    die "processes still running: ${left[*]} - state kept in $STATE, re-run teardown"
  fi
  if [ -f "$CTRD/pid" ]; then
    local cp; cp=$(cat "$CTRD/pid")
    if [ -r "/proc/$cp/cmdline" ] && tr '\0' ' ' <"/proc/$cp/cmdline" | grep -qF -- "--config $CTRD/config.toml"; then
      kill "$cp" 2>/dev/null || true
      wait_gone "$cp" || { kill -9 "$cp" 2>/dev/null || true; wait_gone "$cp" || true; }
    fi
  fi
  # cgroup dirs we created, deepest first, in every hierarchy (rmdir removes only empty
  # ones; exited processes stay in their cgroup until reaped, hence the retries)
  if [ -s "$CGREC" ]; then
    local roots dirs=() rt_ _try
    mapfile -t roots < <(cg_roots)
    for _try in $(seq 1 25); do
      dirs=()
      while read -r d; do
        for rt_ in "${roots[@]}"; do [ -d "$rt_$d" ] && dirs+=("$rt_$d"); done
      done < <(sort -u "$CGREC" | awk '{print gsub("/","/") "\t" $0}' | sort -rn | cut -f2-)
      [ ${#dirs[@]} -eq 0 ] && break
      rmdir "${dirs[@]}" 2>/dev/null && break
      sleep 0.2
    done
  fi
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v s="$STATE/" 'index($5, s)==1 {print $5}' /proc/self/mountinfo | sort -r)
  local created=""; [ -f "$PATHREC" ] && created=$(cat "$PATHREC")
  rm -rf --one-file-system "$STATE"
  local p
  for p in $created; do
    case "$p" in
      /run/containerd) rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc/* /run/containerd/runc /run/containerd 2>/dev/null || true ;;
      /run/containers) rmdir /run/containers/networks /run/containers 2>/dev/null || true ;;
      /var/lib/containers) rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb; rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null || true ;;
      *) rmdir "$p" 2>/dev/null || true ;;
    esac
  done
  log "teardown done in $(( $(now_ms) - t0 )) ms"
}

# ---------------------------------------------------------------- main
case "$CMD" in
  up)
    [ "$(id -u)" = 0 ] || skip "must run as root"
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    flock -w 300 9 || die "state dir is locked by another run"
    # a subshell not under "||", so that errexit stays on inside it
    set +e; ( do_up ); rc=$?; set -e
    if [ "$rc" != 0 ]; then
      [ "$rc" = "$SKIP" ] || { log "start failed; tearing down"; do_teardown || true; }
      [ "$rc" = "$SKIP" ] && rm -rf --one-file-system "$STATE"
      exit "$rc"
    fi ;;
  tsv|info|teardown)
    if [ ! -d "$STATE" ]; then
      case "$CMD" in tsv) do_tsv ;; info) do_info ;; teardown) log "nothing to tear down ($STATE absent)" ;; esac
      exit 0
    fi
    [ "$(id -u)" = 0 ] || skip "must run as root"
    exec 9>"$STATE/.lock"
    flock -w 300 9 || die "state dir is locked by another run"
    case "$CMD" in tsv) do_tsv ;; info) do_info ;; teardown) do_teardown ;; esac ;;
esac
