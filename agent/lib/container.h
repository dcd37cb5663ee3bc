/* SPDX-License-Identifier: MIT */
/* Container and pod attribution: the small parsers, one per source (internal; not
 * installed). Each is a pure function over bytes, so each is unit-tested and fuzzable:
 *   cgroup.c   /proc/<pid>/cgroup (v1, v2, hybrid) -> runtime, container id, pod uid
 *   oci.c      an OCI bundle's config.json (json-c) -> names, pod, sandbox
 *   podlogs.c  /var/log/pods/<ns>_<pod>_<uid>/<container>/ directory names
 */
#ifndef NSN_CONTAINER_H
#define NSN_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

/* Container runtimes, as recognised from cgroup paths and bundle annotations. */
enum nsn_runtime {
	NSN_RUNTIME_NONE = 0,
	NSN_RUNTIME_CONTAINERD,
	NSN_RUNTIME_CRIO,
	NSN_RUNTIME_DOCKER,
	NSN_RUNTIME_PODMAN,
	NSN_RUNTIME_MAX
};

/* "containerd", "cri-o", "docker", "podman"; NULL for NSN_RUNTIME_NONE. */
const char *nsn__runtime_name(enum nsn_runtime rt);

#define NSN_CONTAINER_ID_MAX 64 /* a full hex id */
#define NSN_POD_UID_MAX 36      /* 8-4-4-4-12 */

/* What one process's cgroup says about it. */
struct nsn__cgroup_ident {
	enum nsn_runtime runtime;            /* NONE when no container was recognised */
	char id[NSN_CONTAINER_ID_MAX + 1];   /* lowercase hex container id, "" if none */
	char pod_uid[NSN_POD_UID_MAX + 1];   /* kubepods pod UID with dashes ('_' undone), "" if none */
	char qos[12];                        /* "guaranteed", "burstable", "besteffort", or "" */
	bool conmon;                         /* crio-conmon-<id> / libpod-conmon-<id>: the monitor, not the container */
};

/*
 * Parse the text of /proc/<pid>/cgroup: lines "hierarchy-ID:controllers:path" of cgroup
 * v1, the single "0::path" line of v2, or both (hybrid). The container is taken from
 * the most specific path that names one (v2's line, else the first v1 line with one):
 * containerd (cri-containerd-<id>.scope, /kubepods/<qos>/pod<uid>/<id>), CRI-O
 * (crio-<id>.scope, crio-conmon-<id>.scope), Docker (docker-<id>.scope, /docker/<id>),
 * podman (libpod-<id>.scope, /libpod_parent/libpod-<id>, libpod-conmon-<id>), with the
 * pod UID from the kubepods path or slices (kubepods-burstable-pod<uid with _>.slice).
 * Ids must be 64 lowercase hex; pod UIDs 8-4-4-4-12 lowercase hex, or 32 hex (static
 * pods). Nested paths give the innermost container. A bare id directly under pod<uid>
 * is reported as containerd (dockershim's look the same); see cgroup.c for every rule.
 * @p text need not be NUL-terminated; nothing past @p len is read, nothing is allocated.
 * @return 1 when a container or pod was recognised (a pod alone leaves runtime NONE and
 *         id ""), 0 when the process is in none (*ret zeroed), -EINVAL when the text is
 *         not a cgroup file (no "ID:controllers:path" line with a decimal ID; *ret zeroed)
 *         or @p ret is NULL.
 */
int nsn__cgroup_parse(const char *text, size_t len, struct nsn__cgroup_ident *ret);

/* What an OCI bundle's config.json annotations say about a container. */
struct nsn__oci_info {
	enum nsn_runtime runtime;  /* from the annotation set: io.kubernetes.cri.* is containerd, io.kubernetes.cri-o.* CRI-O */
	char name[128];            /* container name (io.kubernetes.cri.container-name, io.kubernetes.container.name) */
	char pod_name[254];        /* io.kubernetes.cri.sandbox-name / io.kubernetes.pod.name */
	char pod_namespace[254];   /* io.kubernetes.cri.sandbox-namespace / io.kubernetes.pod.namespace */
	char pod_uid[NSN_POD_UID_MAX + 1]; /* io.kubernetes.cri.sandbox-uid / io.kubernetes.pod.uid */
	char sandbox_id[NSN_CONTAINER_ID_MAX + 1]; /* io.kubernetes.cri.sandbox-id / io.kubernetes.cri-o.SandboxID */
	bool sandbox;              /* the pod's sandbox (pause) container: container-type "sandbox" / cri-o.ContainerType "sandbox" */
};

/*
 * Parse an OCI runtime config.json (json-c) and read its annotations.
 * @p json need not be NUL-terminated; nothing past @p len is read. It must be one strict
 * JSON object (whitespace around it allowed), nested at most 32 deep.
 * The runtime's own keys decide: CRI-O's io.kubernetes.cri-o.{ContainerType,SandboxID,
 * ContainerName} first (CRI-O copies pod annotations into the spec, so a
 * io.kubernetes.cri.* key there may be a user's), unless io.container.manager is "libpod"
 * (podman writes CRI-O's key names too); then containerd's io.kubernetes.cri.*. The
 * kubelet's labels (io.kubernetes.{container.name,pod.name,pod.namespace,pod.uid}) fill
 * what is still empty, and for CRI-O so does its "k8s_<ctr>_<pod>_<ns>_<uid>_<n>" name.
 * A value of another JSON type than string is ignored. A string that does not fit its
 * field, is empty, or holds a control character (an escaped NUL) leaves the field "":
 * names are never truncated. Bare labels give runtime NONE, or PODMAN under libpod.
 * @return 1 if it carried Kubernetes annotations (one of the keys above as a string;
 *         fields may still be ""), 0 if it is a valid config without them (*ret
 *         zeroed), -EINVAL for malformed, truncated or trailing-garbage JSON, a
 *         non-object, len 0 or a NULL argument, -E2BIG when @p len exceeds
 *         NSN_OCI_CONFIG_MAX (checked before reading). *ret is zeroed on every error.
 */
#define NSN_OCI_CONFIG_MAX (4u << 20)
int nsn__oci_parse(const char *json, size_t len, struct nsn__oci_info *ret);

/* A pod's log directory name "<namespace>_<pod-name>_<pod-uid>" (kubelet's layout in
 * /var/log/pods since 1.14). Validated strictly: the namespace a DNS-1123 label (at most
 * 63), the pod name a DNS-1123 subdomain (at most 253), so neither contains '_'; the uid
 * 8-4-4-4-12 lowercase hex, or 32 lowercase hex for static pods (the kubelet's MD5 of the
 * manifest). The outputs are NUL-terminated. @return 0, or -EINVAL for anything else,
 * including a NULL argument or an output buffer too small for its part (every output
 * with room is set to "" on failure). */
int nsn__podlogs_parse_dir(const char *name, char *ret_ns, size_t ns_len, char *ret_pod,
			   size_t pod_len, char *ret_uid, size_t uid_len);

/*
 * The container runtimes' own records (runtimes.c, json-c) and the kubelet's
 * /var/log/containers names (podlogs.c). The JSON readers share nsn__oci_parse's
 * strictness: @p json need not be NUL-terminated and nothing past @p len is read; it must
 * be exactly one strict JSON value of the expected type (whitespace around it allowed,
 * UTF-8 validated), nested at most 64 deep. A value is copied whole or not at all: *ret
 * is "" on every error (when @p ret is non-NULL and @p size non-zero). Common codes:
 * -E2BIG when @p len exceeds NSN_RUNTIME_JSON_MAX (checked before reading); -EINVAL for
 * malformed, truncated or trailing-garbage JSON, the wrong top-level type, len 0, a NULL
 * argument or size 0, and for a value that is present but unusable (empty, or holding a
 * control character such as an escaped NUL); -ENOENT when the document is valid but the
 * value is absent or of another JSON type than string; -ENAMETOOLONG when it does not fit
 * in @p size bytes with its NUL; -ENOMEM.
 */
#define NSN_RUNTIME_JSON_MAX (8u << 20) /* state.json holds libcontainer's whole config */

/**
 * The bundle directory of a runc container, from /run/runc/<id>/state.json: the last
 * "bundle=<dir>" string in config.labels (runc appends its own after the OCI annotations,
 * so an annotation named "bundle" cannot stand in for it). Failing that, the top-level
 * "bundle" string, which is where crun keeps it (its file is /run/crun/<id>/status, not
 * state.json).
 * @return 0 with the absolute path in @p ret; -EINVAL also for a relative path; the other
 *         codes above.
 */
int nsn__runc_state_bundle(const char *json, size_t len, char *ret, size_t size);

/**
 * The first name of container @p id in containers/storage's
 * overlay-containers/containers.json (podman, CRI-O): a JSON array of objects with "id"
 * and "names". @p id is compared exactly (entries that are not objects are skipped; the
 * first match counts).
 * @return 0 with the name in @p ret; -ENOENT also when no entry has @p id or its "names"
 *         is missing, empty or not an array; -EINVAL also for a NULL or empty @p id; the
 *         other codes above.
 */
int nsn__storage_names(const char *json, size_t len, const char *id, char *ret, size_t size);

/**
 * A Docker container's name from /var/lib/docker/containers/<id>/config.v2.json: the
 * top-level "Name" ("/web-1"), returned without its leading '/' ("web-1").
 * @return 0 with the name in @p ret; -EINVAL also for "/" alone; the other codes above.
 */
int nsn__docker_name(const char *json, size_t len, char *ret, size_t size);

/**
 * A /var/log/containers entry name, "<pod>_<namespace>_<container>-<id>.log" (the
 * kubelet's symlinks into /var/log/pods). Validated strictly: the pod a DNS-1123
 * subdomain, the namespace and the container DNS-1123 labels, the id 64 lowercase hex,
 * the name at most 255 bytes (the kubelet cuts longer ones, losing the id). The container
 * name ends at the '-' before the id, so its own '-' are kept. The outputs are
 * NUL-terminated; the id needs 65 bytes.
 * @return 0, or -EINVAL for anything else, including a NULL argument or an output buffer
 *         too small for its part (every output with room is set to "" on failure).
 */
int nsn__podlogs_parse_link(const char *name, char *ret_pod, size_t pod_len, char *ret_ns,
			    size_t ns_len, char *ret_container, size_t ctr_len, char *ret_id,
			    size_t id_len);

#endif
