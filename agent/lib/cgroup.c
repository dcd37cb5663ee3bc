/* SPDX-License-Identifier: MIT */
/* Container attribution from the text of /proc/<pid>/cgroup: the first and cheapest
 * source, read before any runtime's bundle or API is consulted.
 *
 * Each line's path is walked component by component, outermost first. A component that
 * names a container replaces what an outer one named, so nested containers (Docker in
 * Docker, a kind or k3d node inside Docker) resolve to the innermost. A component that
 * names a pod clears any container seen above it: the containers of a pod are below the
 * pod, and a container above it is the node the pod runs on.
 *
 * Recognised components (<id> is exactly 64 lowercase hex digits; [.scope]: also without
 * it, as CRI-O's and podman's cgroupfs managers name their directories):
 *   cri-containerd-<id>.scope  nerdctl-<id>.scope              containerd
 *   crio-<id>[.scope]          crio-conmon-<id>[.scope]        CRI-O (conmon: the monitor)
 *   docker-<id>.scope                                          Docker
 *   libpod-<id>[.scope]        libpod-payload-<id>[.scope]     podman (payload: split mode)
 *   libpod-conmon-<id>[.scope]                                 podman (conmon)
 *   <slice>:<prefix>:<id>      the systemd driver's "slice:prefix:name" cgroupsPath taken
 *                              literally by a runtime running with the cgroupfs driver
 *                              (seen on EKS: ...pod<uid>.slice:cri-containerd:<id>)
 *   <id>                       a bare id, only where its parent says who made it:
 *                              pod<uid> (cgroupfs kubelet) and default or k8s.io (plain
 *                              containerd namespaces) mean containerd, docker means
 *                              Docker. Under a pod directory that is also what
 *                              dockershim made; nothing in the path tells them apart, so
 *                              only a prefix ever names Docker inside a pod. A bare id
 *                              under any other parent (/ecs/<task>/<id>, /<id>) is not
 *                              taken: too many things name cgroups with 64 hex digits.
 *   [*-]kubepods[-burstable|-besteffort]-pod<uid with _>.slice   systemd pod slice
 *   pod<uid>                   cgroupfs pod directory, QoS from its parent directory
 *                              (burstable, besteffort; kubepods itself: guaranteed)
 *
 * Pod UIDs are 8-4-4-4-12 lowercase hex, or 32 lowercase hex for static pods (the
 * kubelet names those by the hash of their manifest, e.g. etcd, kube-apiserver).
 *
 * Paths relative to the reader's cgroup namespace ("/../../kubepods-...") lose their
 * outer components: ".." forgets the parent, so a cgroupfs pod seen that way has no QoS,
 * while a systemd pod slice still carries its own. A trailing " (deleted)" (a removed
 * cgroup v2 directory) is ignored. Podman's cgroupfs monitor cgroup (/libpod_parent/conmon)
 * carries no id and is not recognised.
 *
 * The buffer is not NUL-terminated and nothing is allocated: every access is bounded by
 * a span's length, and only fixed-size ids are copied. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "container.h"

#define HEX_ID_LEN	 64
#define POD_UID_HASH_LEN 32 /* static pods */

static const char *const runtime_names[NSN_RUNTIME_MAX] = {
    [NSN_RUNTIME_CONTAINERD] = "containerd",
    [NSN_RUNTIME_CRIO] = "cri-o",
    [NSN_RUNTIME_DOCKER] = "docker",
    [NSN_RUNTIME_PODMAN] = "podman",
};

const char *nsn__runtime_name(enum nsn_runtime rt)
{
	if ((unsigned int)rt >= NSN_RUNTIME_MAX)
		return NULL;
	return runtime_names[rt];
}

/* Scope and directory prefixes, without their '-' (the "slice:prefix:name" form has none).
 * Only CRI-O and podman also name cgroupfs directories this way; the others' prefixes
 * appear only on systemd scopes, and are taken only with ".scope". */
static const struct {
	const char *name;
	enum nsn_runtime rt;
	bool conmon, cgroupfs;
} prefixes[] = {
    {"cri-containerd", NSN_RUNTIME_CONTAINERD, false, false},
    {"nerdctl", NSN_RUNTIME_CONTAINERD, false, false},
    {"crio", NSN_RUNTIME_CRIO, false, true},
    {"crio-conmon", NSN_RUNTIME_CRIO, true, true},
    {"docker", NSN_RUNTIME_DOCKER, false, false},
    {"libpod", NSN_RUNTIME_PODMAN, false, true},
    {"libpod-payload", NSN_RUNTIME_PODMAN, false, true},
    {"libpod-conmon", NSN_RUNTIME_PODMAN, true, true},
};

/* What one path says, while it is being walked. */
struct walk {
	struct nsn__cgroup_ident id;
	const char *prev; /* the previous component, NULL at the top or after ".." */
	size_t prev_n;
	bool prev_pod; /* ... and it was a cgroupfs pod<uid> directory */
};

static bool eq(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && memcmp(s, lit, l) == 0;
}

static bool ends_with(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(s + n - l, lit, l) == 0;
}

/* Lowercase only: runtimes print ids in lowercase, and one spelling keeps ids comparable. */
static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static bool is_hex_id(const char *s, size_t n)
{
	return n == HEX_ID_LEN && all_hex(s, n);
}

/* A pod UID, 36 characters with @sep between the groups ('-' in cgroupfs directories,
 * '_' in systemd slice names, where '-' means nesting) or a static pod's 32 hex digits.
 * Written to @ret with dashes only when the whole UID is valid. */
static bool parse_pod_uid(const char *s, size_t n, char sep, char ret[NSN_POD_UID_MAX + 1])
{
	char uid[NSN_POD_UID_MAX + 1];

	if (n == POD_UID_HASH_LEN) {
		if (!all_hex(s, n))
			return false;
	} else if (n == NSN_POD_UID_MAX) {
		for (size_t i = 0; i < n; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash ? s[i] != sep : !is_hex(s[i]))
				return false;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < n; i++)
		uid[i] = s[i] == sep ? '-' : s[i];
	uid[n] = '\0';
	memcpy(ret, uid, n + 1);
	return true;
}

static void set_pod(struct walk *w, const char *uid, const char *qos)
{
	/* The pod is inside whatever container was seen so far: forget that one. */
	w->id.runtime = NSN_RUNTIME_NONE;
	w->id.id[0] = '\0';
	w->id.conmon = false;
	strcpy(w->id.pod_uid, uid);
	strcpy(w->id.qos, qos);
}

static void set_container(struct walk *w, enum nsn_runtime rt, const char *id, bool conmon)
{
	w->id.runtime = rt;
	memcpy(w->id.id, id, HEX_ID_LEN);
	w->id.id[HEX_ID_LEN] = '\0';
	w->id.conmon = conmon;
}

/* A runtime prefix (without its '-') followed by a 64-hex id; @scoped unless it was a
 * cgroupfs directory name. */
static bool prefixed_id(struct walk *w, const char *p, size_t pn, const char *id, size_t idn,
			bool scoped)
{
	if (!is_hex_id(id, idn))
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (eq(p, pn, prefixes[i].name) && (scoped || prefixes[i].cgroupfs)) {
			set_container(w, prefixes[i].rt, id, prefixes[i].conmon);
			return true;
		}
	}
	return false;
}

/* "<runtime>-<id>.scope", or "<runtime>-<id>" for CRI-O's and podman's cgroupfs. */
static bool scope(struct walk *w, const char *c, size_t n)
{
	bool scoped = ends_with(c, n, ".scope");

	if (scoped)
		n -= strlen(".scope");
	if (n < HEX_ID_LEN + 2 || c[n - HEX_ID_LEN - 1] != '-')
		return false;
	return prefixed_id(w, c, n - HEX_ID_LEN - 1, c + n - HEX_ID_LEN, HEX_ID_LEN, scoped);
}

/* The part of a pod slice's name before "-pod": "kubepods" is the guaranteed class,
 * "kubepods-burstable" and "kubepods-besteffort" the others. The kubelet's
 * --cgroup-root adds its own prefix ("kubelet-kubepods-..." in kind). */
static const char *slice_qos(const char *p, size_t n)
{
	static const struct {
		const char *tail, *qos;
	} classes[] = {
	    {"kubepods-burstable", "burstable"},
	    {"kubepods-besteffort", "besteffort"},
	    {"kubepods", "guaranteed"},
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		size_t l = strlen(classes[i].tail);

		if (ends_with(p, n, classes[i].tail) && (n == l || p[n - l - 1] == '-'))
			return classes[i].qos;
	}
	return NULL;
}

/* "kubepods-burstable-pod<uid with _>.slice" and its guaranteed and besteffort kin. */
static bool pod_slice(struct walk *w, const char *c, size_t n)
{
	static const size_t uid_lens[] = {NSN_POD_UID_MAX, POD_UID_HASH_LEN};
	char uid[NSN_POD_UID_MAX + 1];

	if (!ends_with(c, n, ".slice"))
		return false;
	n -= strlen(".slice");
	for (size_t i = 0; i < sizeof(uid_lens) / sizeof(uid_lens[0]); i++) {
		size_t ul = uid_lens[i];
		const char *qos;

		if (n < ul + 4 || memcmp(c + n - ul - 4, "-pod", 4) != 0)
			continue;
		qos = slice_qos(c, n - ul - 4);
		if (qos && parse_pod_uid(c + n - ul, ul, '_', uid)) {
			set_pod(w, uid, qos);
			return true;
		}
	}
	return false;
}

/* "pod<uid>", the cgroupfs driver's pod directory; its parent names the QoS class. */
static bool pod_dir(struct walk *w, const char *c, size_t n)
{
	char uid[NSN_POD_UID_MAX + 1];
	const char *qos = "";

	if (n < 3 || memcmp(c, "pod", 3) != 0 || !parse_pod_uid(c + 3, n - 3, '-', uid))
		return false;
	if (w->prev && eq(w->prev, w->prev_n, "burstable"))
		qos = "burstable";
	else if (w->prev && eq(w->prev, w->prev_n, "besteffort"))
		qos = "besteffort";
	else if (w->prev && eq(w->prev, w->prev_n, "kubepods"))
		qos = "guaranteed";
	set_pod(w, uid, qos);
	return true;
}

/* A bare id, taken only under a parent that says which runtime made it. */
static bool bare_id(struct walk *w, const char *c, size_t n)
{
	enum nsn_runtime rt;

	if (!is_hex_id(c, n) || !w->prev)
		return false;
	if (w->prev_pod || eq(w->prev, w->prev_n, "default") || eq(w->prev, w->prev_n, "k8s.io"))
		rt = NSN_RUNTIME_CONTAINERD;
	else if (eq(w->prev, w->prev_n, "docker"))
		rt = NSN_RUNTIME_DOCKER;
	else
		return false;
	set_container(w, rt, c, false);
	return true;
}

static void component(struct walk *w, const char *c, size_t n);

/* "<slice>:<prefix>:<name>": the slice is a component of its own, then prefix and name. */
static void colon_form(struct walk *w, const char *c, size_t n, const char *colon)
{
	const char *p = colon + 1, *end = c + n, *colon2;

	component(w, c, (size_t)(colon - c));
	colon2 = memchr(p, ':', (size_t)(end - p));
	if (colon2)
		prefixed_id(w, p, (size_t)(colon2 - p), colon2 + 1, (size_t)(end - colon2 - 1),
			    true);
}

static void component(struct walk *w, const char *c, size_t n)
{
	const char *colon;
	bool pod = false;

	if (eq(c, n, "."))
		return;
	if (eq(c, n, "..")) {
		w->prev = NULL;
		w->prev_n = 0;
		w->prev_pod = false;
		return;
	}
	colon = memchr(c, ':', n);
	if (colon)
		colon_form(w, c, n, colon);
	else if (!pod_slice(w, c, n) && !(pod = pod_dir(w, c, n)) && !scope(w, c, n))
		bare_id(w, c, n);
	w->prev = c;
	w->prev_n = n;
	w->prev_pod = pod;
}

static void walk_path(struct walk *w, const char *path, size_t n)
{
	const char *end;

	memset(w, 0, sizeof(*w));
	if (ends_with(path, n, " (deleted)"))
		n -= strlen(" (deleted)");
	end = path + n;
	for (const char *c = path; c < end;) {
		const char *slash = memchr(c, '/', (size_t)(end - c));
		size_t cn = slash ? (size_t)(slash - c) : (size_t)(end - c);

		if (cn)
			component(w, c, cn);
		c += cn + 1;
	}
}

/* "hierarchy-ID:controller-list:path", the ID in decimal; the path may itself contain
 * ':' (the slice:prefix:name form), so it is everything after the second one. */
static bool split_line(const char *l, size_t n, bool *ret_v2, const char **ret_path,
		       size_t *ret_path_n)
{
	const char *c1 = memchr(l, ':', n), *c2;

	if (!c1 || c1 == l)
		return false;
	for (const char *p = l; p < c1; p++)
		if (*p < '0' || *p > '9')
			return false;
	c2 = memchr(c1 + 1, ':', (size_t)(l + n - c1 - 1));
	if (!c2)
		return false;
	*ret_v2 = c1 - l == 1 && l[0] == '0' && c2 == c1 + 1;
	*ret_path = c2 + 1;
	*ret_path_n = (size_t)(l + n - c2 - 1);
	return true;
}

int nsn__cgroup_parse(const char *text, size_t len, struct nsn__cgroup_ident *ret)
{
	struct nsn__cgroup_ident best;
	bool any = false, best_v2 = false;
	int best_score = 0;

	if (!ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (!text)
		return -EINVAL;
	memset(&best, 0, sizeof(best));
	for (size_t off = 0; off < len;) {
		const char *l = text + off, *nl = memchr(l, '\n', len - off), *path;
		size_t n = nl ? (size_t)(nl - l) : len - off, path_n;
		struct walk w;
		bool v2;
		int score;

		off += n + 1;
		if (!split_line(l, n, &v2, &path, &path_n))
			continue;
		any = true;
		walk_path(&w, path, path_n);
		/* A container beats a bare pod; between equals, the v2 line (it is where the
		 * process really is on a v2 or hybrid host), else the first v1 line. */
		score = w.id.runtime != NSN_RUNTIME_NONE ? 2 : w.id.pod_uid[0] ? 1 : 0;
		if (score > best_score || (score && score == best_score && v2 && !best_v2)) {
			best = w.id;
			best_score = score;
			best_v2 = v2;
		}
	}
	if (!any)
		return -EINVAL;
	if (!best_score)
		return 0;
	*ret = best;
	return 1;
}
