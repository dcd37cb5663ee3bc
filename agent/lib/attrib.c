/* SPDX-License-Identifier: MIT */
/*
 * Attribution: which container (and pod) every process belongs to, and so every
 * namespace and every socket, from the host's files alone (no API server, no runtime
 * socket). Cheapest source first:
 *
 *   1. /proc/<pid>/cgroup (cgroup.c): the container id, a runtime guess, the pod UID.
 *   2. The container's OCI bundle config.json (oci.c): names, pod, sandbox. Found at
 *      the runtimes' fixed places below <host-root>/run (containerd's task dirs, CRI-O
 *      and podman's containers/storage), else through the container's ancestry (the
 *      containerd shim runs in its pod's bundle dir; conmon is given "-b BUNDLE"),
 *      else through runc's state (/run/runc/<id>/state.json names the bundle).
 *   3. Names the bundle lacks: containers/storage's containers.json (podman), Docker's
 *      config.v2.json, the kubelet's /var/log/pods and /var/log/containers entries.
 *
 * Which source found the bundle also names the runtime: containerd's task dirs and
 * shims are containerd (docker for containerd's "moby" namespace), storage/conmon
 * are CRI-O or podman by the bundle's own annotations, runc's state alone is "runc".
 *
 * Cache: a process is known by (pid, start time); a container by its id. A scan reads
 * the stat line of every process (the identity check) and nothing else for a process
 * it has seen; runtime files are read once per container (again after 30 s while
 * something is still unknown, as the kubelet's log dirs may come late). Entries not
 * seen in a scan are dropped. The scan gets its own copies, so a scan outlives the
 * cache entries it came from.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "internal.h"

#define RETRY_MS 30000.0
#define CGROUP_MAX (64u << 10)
#define ANCESTRY_MAX 5
#define YOUNG_TICKS 2 /* seconds, times the clock tick rate */

/* A container the cache knows. */
struct cent {
	struct cent *next; /* hash chain */
	char id[NSN_CONTAINER_ID_MAX + 1];
	enum nsn_runtime cg_runtime; /* the cgroup's guess */
	char cg_pod_uid[NSN_POD_UID_MAX + 1];
	const char *runtime;
	char *name, *sandbox_id, *pod_uid, *pod_name, *pod_ns, *bundle;
	bool sandbox, complete, tried;
	double retry_at;
	unsigned gen;
	struct nsn_container *out; /* this scan's copy */
};

/* A process the cache knows. */
struct pent {
	pid_t pid; /* 0: empty slot */
	unsigned long long start;
	struct cent *c; /* NULL: in no container */
	char comm[16];  /* an exec (runc init -> the entrypoint) changes it: look again */
	bool recheck;   /* "no container" of a young process, or a failed read: look again */
};

struct ptable {
	struct pent *slots;
	size_t cap, n;
};

struct nsn_cache {
	struct ptable procs;
	struct cent **ctab;
	size_t ccap, cn;
	unsigned gen;
};

/* One (namespace, container, pid) seen by discovery. */
struct note {
	struct nsn_netns *ns;
	struct cent *c;
	pid_t pid;
};

/* Lazily listed per scan, only when a new container needs them. */
struct podlog {
	char uid[NSN_POD_UID_MAX + 1];
	char ns[64], pod[254];
};
struct ctrlog {
	char id[NSN_CONTAINER_ID_MAX + 1];
	char ns[64], pod[254], name[64];
};

struct nsn__attr {
	struct nsn_cache *cache;
	bool own_cache;
	struct ptable next; /* this scan's processes */
	char root[PATH_MAX]; /* host root, "" for "/" */
	char proc[PATH_MAX];
	char run[PATH_MAX];
	int procfd;
	char *buf;
	size_t buf_cap;
	struct note *notes;
	size_t n_notes, cap_notes;
	bool listed_tasks, listed_podlogs, listed_ctrlogs;
	char **task_ns; /* namespaces of containerd's task dirs */
	size_t n_task_ns;
	struct podlog *podlogs;
	size_t n_podlogs;
	struct ctrlog *ctrlogs;
	size_t n_ctrlogs;
	double now, ms;
	struct stat host_mnt;
	bool have_host_mnt;
	unsigned long long uptime_ticks; /* CLOCK_BOOTTIME, in /proc/<pid>/stat's start time unit */
	long hz;
	struct nsn_attr_stats stats;
};

/* ------------------------------------------------------------------ small helpers */

/* Read a whole file (at most @p max bytes) into a->buf. 0, -E2BIG or -errno. */
static int slurp(struct nsn__attr *a, int dirfd, const char *path, size_t max, size_t *ret_len)
{
	/* Containers write some of the files on these paths' way: a FIFO must not hang the
	 * scan, a device must not be opened for real, a final symlink is not followed.
	 * (/proc files are regular files too.) */
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	size_t len = 0;
	struct stat st;

	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EPERM;
	}
	for (;;) {
		if (len == a->buf_cap) {
			size_t cap = a->buf_cap ? a->buf_cap * 2 : 16384;
			char *b;
			if (a->buf_cap > max) {
				close(fd);
				return -E2BIG;
			}
			if (cap > max + 1)
				cap = max + 1; /* one byte more than allowed tells "too big" */
			b = realloc(a->buf, cap + 1);
			if (!b) {
				close(fd);
				return -ENOMEM;
			}
			a->buf = b;
			a->buf_cap = cap;
		}
		ssize_t n = read(fd, a->buf + len, a->buf_cap - len);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			close(fd);
			return -E2BIG;
		}
	}
	close(fd);
	a->buf[len] = '\0';
	*ret_len = len;
	return 0;
}

/* Set *dst to @p s unless it is already known or @p s is empty. */
static void fill(char **dst, const char *s)
{
	if (!*dst && s && s[0])
		*dst = strdup(s);
}

/* ------------------------------------------------------------------ process table */

static size_t pid_hash(pid_t pid, size_t cap)
{
	return (size_t)(((uint32_t)pid * 0x9E3779B1u) >> 7) & (cap - 1);
}

static struct pent *ptable_find(const struct ptable *t, pid_t pid)
{
	if (!t->cap)
		return NULL;
	for (size_t j = pid_hash(pid, t->cap);; j = (j + 1) & (t->cap - 1)) {
		if (t->slots[j].pid == pid)
			return &t->slots[j];
		if (!t->slots[j].pid)
			return NULL;
	}
}

static int ptable_put(struct ptable *t, const struct pent *e)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct pent *s = calloc(cap, sizeof(*s));
		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i].pid)
				continue;
			size_t j = pid_hash(t->slots[i].pid, cap);
			while (s[j].pid)
				j = (j + 1) & (cap - 1);
			s[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = s;
		t->cap = cap;
	}
	size_t j = pid_hash(e->pid, t->cap);
	while (t->slots[j].pid && t->slots[j].pid != e->pid)
		j = (j + 1) & (t->cap - 1);
	if (!t->slots[j].pid)
		t->n++;
	t->slots[j] = *e;
	return 0;
}

/* ------------------------------------------------------------------ container table */

static size_t id_hash(const char *id, size_t cap)
{
	uint64_t h = 1469598103934665603ull;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return (size_t)h & (cap - 1);
}

static void cent_free(struct cent *c)
{
	free(c->name);
	free(c->sandbox_id);
	free(c->pod_uid);
	free(c->pod_name);
	free(c->pod_ns);
	free(c->bundle);
	free(c);
}

static struct cent *cent_get(struct nsn_cache *cache, const char *id, bool *ret_new)
{
	*ret_new = false;
	if (cache->ccap) {
		for (struct cent *c = cache->ctab[id_hash(id, cache->ccap)]; c; c = c->next)
			if (strcmp(c->id, id) == 0)
				return c;
	}
	if (cache->cn + 1 > cache->ccap) {
		size_t cap = cache->ccap ? cache->ccap * 2 : 256;
		struct cent **t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < cache->ccap; i++) {
			struct cent *c = cache->ctab[i], *n;
			for (; c; c = n) {
				size_t j = id_hash(c->id, cap);
				n = c->next;
				c->next = t[j];
				t[j] = c;
			}
		}
		free(cache->ctab);
		cache->ctab = t;
		cache->ccap = cap;
	}
	struct cent *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	size_t j = id_hash(id, cache->ccap);
	c->next = cache->ctab[j];
	cache->ctab[j] = c;
	cache->cn++;
	*ret_new = true;
	return c;
}

struct nsn_cache *nsn_cache_new(void)
{
	return calloc(1, sizeof(struct nsn_cache));
}

void nsn_cache_free(struct nsn_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->ccap; i++) {
		struct cent *c = cache->ctab[i], *n;
		for (; c; c = n) {
			n = c->next;
			cent_free(c);
		}
	}
	free(cache->ctab);
	free(cache->procs.slots);
	free(cache);
}

/* ------------------------------------------------------------------ /proc/<pid>/stat */

struct pstat {
	char comm[16];
	pid_t ppid;
	unsigned long long start;
};

/* comm, ppid and start time (clock ticks since boot) of @p pid. */
static int read_stat(struct nsn__attr *a, pid_t pid, struct pstat *ret)
{
	char path[32], buf[1024];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	fd = openat(a->procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	buf[n] = '\0';
	/* "pid (comm) S ppid ..." where comm may hold ')' and spaces: the last ')' ends it. */
	char *open = strchr(buf, '('), *close_ = strrchr(buf, ')');
	if (!open || !close_ || close_ < open)
		return -EINVAL;
	size_t cl = (size_t)(close_ - open - 1);
	if (cl >= sizeof(ret->comm))
		cl = sizeof(ret->comm) - 1;
	memcpy(ret->comm, open + 1, cl);
	ret->comm[cl] = '\0';
	/* After ") ": state(3) ppid(4) ... starttime(22). */
	char *p = close_ + 1, *end;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		if (field == 4)
			ret->ppid = (pid_t)strtol(p, NULL, 10);
		if (field == 22) {
			ret->start = strtoull(p, &end, 10);
			return end == p ? -EINVAL : 0;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ runtime files */

/* @p path as the host names it: without the host root in front. */
static const char *host_path(const struct nsn__attr *a, const char *path)
{
	size_t n = strlen(a->root);

	return n && strncmp(path, a->root, n) == 0 && path[n] == '/' ? path + n : path;
}

/* Apply what a config.json says. @return 1 if it was read, 0 if absent, -errno. */
static int read_bundle(struct nsn__attr *a, struct cent *c, int dirfd, const char *path,
		       const char *host_path)
{
	struct nsn__oci_info info;
	size_t len;
	int r = slurp(a, dirfd, path, NSN_OCI_CONFIG_MAX, &len);

	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	a->stats.bundle_reads++;
	r = nsn__oci_parse(a->buf, len, &info);
	if (r < 0)
		return r;
	fill(&c->bundle, host_path);
	if (r == 1) {
		fill(&c->name, info.name);
		fill(&c->pod_name, info.pod_name);
		fill(&c->pod_ns, info.pod_namespace);
		fill(&c->pod_uid, info.pod_uid);
		fill(&c->sandbox_id, info.sandbox_id);
		c->sandbox = info.sandbox;
		if (info.runtime == NSN_RUNTIME_PODMAN)
			c->runtime = "podman";
		else if (info.runtime == NSN_RUNTIME_CRIO && !c->runtime)
			c->runtime = "cri-o";
	}
	return 1;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The namespaces of containerd's runtime-v2 task dirs (k8s.io, moby, default, ...). */
static void list_task_ns(struct nsn__attr *a)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	a->listed_tasks = true;
	if (!nsn__pathf(path, sizeof(path), "%s/containerd/io.containerd.runtime.v2.task", a->run))
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char **t = realloc(a->task_ns, (a->n_task_ns + 1) * sizeof(*t));
		if (!t)
			break;
		a->task_ns = t;
		if (!(t[a->n_task_ns] = strdup(e->d_name)))
			break;
		a->n_task_ns++;
	}
	closedir(d);
	if (a->n_task_ns > 1)
		qsort(a->task_ns, a->n_task_ns, sizeof(*a->task_ns), cmp_str);
}

/* containerd: <run>/containerd/io.containerd.runtime.v2.task/<ns>/<id>/config.json. */
static int from_containerd_dirs(struct nsn__attr *a, struct cent *c)
{
	char path[PATH_MAX];

	if (!a->listed_tasks)
		list_task_ns(a);
	for (size_t i = 0; i < a->n_task_ns; i++) {
		if (!nsn__pathf(path, sizeof(path), "%s/containerd/io.containerd.runtime.v2.task/%s/%s/config.json",
			   a->run, a->task_ns[i], c->id))
			continue;
		int r = read_bundle(a, c, AT_FDCWD, path, host_path(a, path));
		if (r > 0) {
			c->runtime = strcmp(a->task_ns[i], "moby") == 0 ? "docker" : "containerd";
			return r;
		}
	}
	return 0;
}

/* Podman's or CRI-O's bundle is containers/storage's <root>/overlay-containers/<id>/userdata;
 * the container's names are in <root>/overlay-containers/containers.json. */
static void storage_names(struct nsn__attr *a, struct cent *c, const char *bundle_dir)
{
	char path[PATH_MAX], name[256];
	size_t len;

	if (c->name || !nsn__pathf(path, sizeof(path), "%s/../../containers.json", bundle_dir))
		return;
	if (slurp(a, AT_FDCWD, path, NSN_RUNTIME_JSON_MAX, &len) < 0)
		return;
	a->stats.bundle_reads++;
	if (nsn__storage_names(a->buf, len, c->id, name, sizeof(name)) == 0)
		fill(&c->name, name);
}

/* A bundle directory given as a host path (conmon's -b, runc's bundle label). */
static int from_bundle_dir(struct nsn__attr *a, struct cent *c, const char *host_dir, bool storage)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int r;

	if (host_dir[0] != '/' || !nsn__pathf(dir, sizeof(dir), "%s%s", a->root, host_dir) ||
	    !nsn__pathf(path, sizeof(path), "%s/config.json", dir))
		return 0;
	r = read_bundle(a, c, AT_FDCWD, path, host_path(a, path));
	if (r > 0 && storage) {
		if (!c->runtime)
			c->runtime = c->cg_runtime == NSN_RUNTIME_CRIO ? "cri-o" : "podman";
		storage_names(a, c, dir);
	}
	return r;
}

/* CRI-O (/run/containers/storage) and podman (/var/lib/containers/storage, as root);
 * host paths, joined to the host root by from_bundle_dir(). containers/storage names the
 * directory after its graph driver: overlay almost everywhere, vfs where overlay cannot
 * be mounted (rootless, nested), btrfs and zfs on those file systems. */
static int from_storage_dirs(struct nsn__attr *a, struct cent *c)
{
	static const char *const roots[] = {"/run/containers/storage", "/var/lib/containers/storage"};
	static const char *const drivers[] = {"overlay", "vfs", "btrfs", "zfs"};
	char dir[PATH_MAX];

	for (size_t d = 0; d < NSN_ARRAY_SIZE(drivers); d++)
		for (size_t i = 0; i < NSN_ARRAY_SIZE(roots); i++) {
			if (!nsn__pathf(dir, sizeof(dir), "%s/%s-containers/%s/userdata", roots[i], drivers[d],
					c->id))
				continue;
			int r = from_bundle_dir(a, c, dir, true);
			if (r)
				return r;
		}
	return 0;
}

/* The "-b"/"--bundle" argument of conmon's command line. */
static bool conmon_bundle(struct nsn__attr *a, pid_t pid, char *ret, size_t size)
{
	char path[32];
	size_t len;

	snprintf(path, sizeof(path), "%d/cmdline", (int)pid);
	if (slurp(a, a->procfd, path, 1u << 20, &len) < 0)
		return false;
	for (size_t i = 0; i < len;) {
		const char *arg = a->buf + i;
		size_t n = strnlen(arg, len - i);
		bool last = i + n + 1 >= len;
		if (!last && (strcmp(arg, "-b") == 0 || strcmp(arg, "--bundle") == 0))
			return nsn__pathf(ret, size, "%s", a->buf + i + n + 1);
		if (strncmp(arg, "--bundle=", 9) == 0)
			return nsn__pathf(ret, size, "%s", arg + 9);
		i += n + 1;
	}
	return false;
}

/* Whether @p pid runs in container @p c (conmon's own scope names the container it
 * watches, but conmon is not in it). */
static bool inside(struct nsn__attr *a, pid_t pid, const struct cent *c)
{
	char path[32];
	struct nsn__cgroup_ident ident;
	size_t len;

	snprintf(path, sizeof(path), "%d/cgroup", (int)pid);
	if (slurp(a, a->procfd, path, CGROUP_MAX, &len) < 0)
		return true; /* unknown: not to be believed */
	return nsn__cgroup_parse(a->buf, len, &ident) == 1 && !ident.conmon &&
	       strcmp(ident.id, c->id) == 0;
}

/* Whether @p pid lives in the host's mount namespace, as runtimes' shims and conmon
 * do (true when the host's is unknown). */
static bool host_mnt(struct nsn__attr *a, pid_t pid)
{
	char path[32];
	struct stat st;

	if (!a->have_host_mnt)
		return true;
	snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
	return fstatat(a->procfd, path, &st, 0) == 0 && st.st_dev == a->host_mnt.st_dev &&
	       st.st_ino == a->host_mnt.st_ino;
}

/* conmon's bundle of container @p id is containers/storage's ".../<id>/userdata". */
static bool storage_bundle_ok(const char *dir, const char *id)
{
	size_t n = strlen(dir), k = strlen(id);

	if (dir[0] != '/' || strstr(dir, "/../") || strstr(dir, "/./") || n < k + 10)
		return false;
	return strcmp(dir + n - 9, "/userdata") == 0 && dir[n - 10 - k] == '/' &&
	       strncmp(dir + n - 9 - k, id, k) == 0;
}

/* The shim (containerd) or conmon (CRI-O, podman) above the container's process. */
static int from_ancestry(struct nsn__attr *a, struct cent *c, pid_t ppid)
{
	char path[PATH_MAX], link[PATH_MAX];

	for (int depth = 0; depth < ANCESTRY_MAX && ppid > 1; depth++) {
		struct pstat st;
		if (read_stat(a, ppid, &st) < 0)
			return 0;
		/* A process of the container itself names itself as it likes: only a process
		 * outside it (the shim, conmon) is believed. */
		if (inside(a, ppid, c) || !host_mnt(a, ppid)) {
			ppid = st.ppid;
			continue;
		}
		if (strncmp(st.comm, "containerd-shim", 15) == 0) {
			/* Its working directory is the bundle of the container (or pod sandbox)
			 * it was started for; the pod's other bundles are its siblings. */
			ssize_t n;
			nsn__pathf(path, sizeof(path), "%d/cwd", (int)ppid);
			n = readlinkat(a->procfd, path, link, sizeof(link) - 1);
			if (n <= 0 || (size_t)n >= sizeof(link) - 1)
				return 0;
			link[n] = '\0';
			char *slash = strrchr(link, '/');
			if (!slash)
				return 0;
			*slash = '\0';
			char host[PATH_MAX];
			if (!nsn__pathf(path, sizeof(path), "%d/cwd/../%s/config.json", (int)ppid, c->id) ||
			    !nsn__pathf(host, sizeof(host), "%s/%s/config.json", link, c->id))
				return 0;
			int r = read_bundle(a, c, a->procfd, path, host);
			if (r > 0 && !c->runtime) {
				const char *ns = strrchr(link, '/');
				c->runtime = ns && strcmp(ns + 1, "moby") == 0 ? "docker" : "containerd";
			}
			return r;
		}
		if (strcmp(st.comm, "conmon") == 0) {
			if (!conmon_bundle(a, ppid, link, sizeof(link)) || !storage_bundle_ok(link, c->id))
				return 0;
			return from_bundle_dir(a, c, link, true);
		}
		ppid = st.ppid;
	}
	return 0;
}

/* Plain runc and crun: /run/runc/<id>/state.json (a "bundle=" label) and
 * /run/crun/<id>/status (a "bundle" key) name the bundle. */
static int from_runc_state(struct nsn__attr *a, struct cent *c)
{
	static const struct {
		const char *dir, *file;
	} states[] = {{"runc", "state.json"}, {"crun", "status"}};
	char path[PATH_MAX], bundle[PATH_MAX];
	size_t len;
	int r;

	for (size_t i = 0; i < NSN_ARRAY_SIZE(states); i++) {
		if (!nsn__pathf(path, sizeof(path), "%s/%s/%s/%s", a->run, states[i].dir, c->id, states[i].file))
			continue;
		r = slurp(a, AT_FDCWD, path, NSN_RUNTIME_JSON_MAX, &len);
		if (r < 0)
			continue;
		a->stats.bundle_reads++;
		if (nsn__runc_state_bundle(a->buf, len, bundle, sizeof(bundle)) < 0)
			continue;
		r = from_bundle_dir(a, c, bundle, false);
		if (r > 0 && !c->runtime)
			c->runtime = states[i].dir;
		if (r)
			return r;
	}
	return 0;
}

/* Docker names its containers in /var/lib/docker/containers/<id>/config.v2.json. */
static void docker_name(struct nsn__attr *a, struct cent *c)
{
	char path[PATH_MAX], name[256];
	size_t len;

	if (!nsn__pathf(path, sizeof(path), "%s/var/lib/docker/containers/%s/config.v2.json", a->root, c->id) ||
	    slurp(a, AT_FDCWD, path, NSN_RUNTIME_JSON_MAX, &len) < 0)
		return;
	a->stats.bundle_reads++;
	if (nsn__docker_name(a->buf, len, name, sizeof(name)) == 0)
		fill(&c->name, name);
}

static void list_podlogs(struct nsn__attr *a)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	a->listed_podlogs = true;
	if (!nsn__pathf(path, sizeof(path), "%s/var/log/pods", a->root) || !(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		struct podlog pl;
		if (nsn__podlogs_parse_dir(e->d_name, pl.ns, sizeof(pl.ns), pl.pod, sizeof(pl.pod),
					   pl.uid, sizeof(pl.uid)) < 0)
			continue;
		struct podlog *t = realloc(a->podlogs, (a->n_podlogs + 1) * sizeof(*t));
		if (!t)
			break;
		a->podlogs = t;
		t[a->n_podlogs++] = pl;
	}
	closedir(d);
}

static void list_ctrlogs(struct nsn__attr *a)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	a->listed_ctrlogs = true;
	if (!nsn__pathf(path, sizeof(path), "%s/var/log/containers", a->root) || !(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		struct ctrlog cl;
		if (nsn__podlogs_parse_link(e->d_name, cl.pod, sizeof(cl.pod), cl.ns, sizeof(cl.ns),
					    cl.name, sizeof(cl.name), cl.id, sizeof(cl.id)) < 0)
			continue;
		struct ctrlog *t = realloc(a->ctrlogs, (a->n_ctrlogs + 1) * sizeof(*t));
		if (!t)
			break;
		a->ctrlogs = t;
		t[a->n_ctrlogs++] = cl;
	}
	closedir(d);
}

/* The kubelet's log layout: /var/log/containers/<pod>_<ns>_<container>-<id>.log names the
 * container, /var/log/pods/<ns>_<pod>_<uid> the pod of a UID. */
static void from_kubelet_logs(struct nsn__attr *a, struct cent *c)
{
	if (!c->name || !c->pod_name) {
		if (!a->listed_ctrlogs)
			list_ctrlogs(a);
		for (size_t i = 0; i < a->n_ctrlogs; i++) {
			if (strcmp(a->ctrlogs[i].id, c->id) != 0)
				continue;
			fill(&c->name, a->ctrlogs[i].name);
			fill(&c->pod_name, a->ctrlogs[i].pod);
			fill(&c->pod_ns, a->ctrlogs[i].ns);
			break;
		}
	}
	const char *uid = c->pod_uid ? c->pod_uid : c->cg_pod_uid;
	if (uid[0] && (!c->pod_name || !c->pod_ns)) {
		if (!a->listed_podlogs)
			list_podlogs(a);
		for (size_t i = 0; i < a->n_podlogs; i++) {
			if (strcmp(a->podlogs[i].uid, uid) != 0)
				continue;
			fill(&c->pod_name, a->podlogs[i].pod);
			fill(&c->pod_ns, a->podlogs[i].ns);
			break;
		}
	}
}

/* Everything the host's files say about a container seen for the first time (or still
 * incomplete after RETRY_MS). */
static void resolve(struct nsn__attr *a, struct cent *c, pid_t ppid)
{
	/* A source that fails (a malformed file) is passed over like one that has nothing. */
	int r = from_containerd_dirs(a, c);

	if (r <= 0)
		r = from_storage_dirs(a, c);
	if (r <= 0)
		r = from_ancestry(a, c, ppid);
	if (r <= 0)
		r = from_runc_state(a, c);
	if (!c->runtime)
		c->runtime = nsn__runtime_name(c->cg_runtime);
	if (c->cg_runtime == NSN_RUNTIME_DOCKER || (c->runtime && strcmp(c->runtime, "docker") == 0))
		docker_name(a, c);
	fill(&c->pod_uid, c->cg_pod_uid);
	if (c->pod_uid || c->cg_pod_uid[0])
		from_kubelet_logs(a, c);
	c->tried = true;
	/* Complete when its bundle was read (an unnamed container stays unnamed) and, for a
	 * pod, the pod is named: only then is nothing more to be learned by looking again. */
	c->complete = (c->bundle || c->name) && (!c->pod_uid || (c->pod_name && c->pod_ns));
	c->retry_at = a->now + RETRY_MS;
}

/* ------------------------------------------------------------------ per scan */

int nsn__attr_begin(const struct nsn_gather_opts *opts, const char *proc, const char *run_root,
		    struct nsn__attr **ret)
{
	struct nsn__attr *a = calloc(1, sizeof(*a));
	const char *root = opts->host_root ? opts->host_root : "";

	if (!a)
		return -ENOMEM;
	/* "/" and "/host/" become "" and "/host": paths below are appended with a '/'. */
	nsn__pathf(a->root, sizeof(a->root), "%s", root);
	for (size_t n = strlen(a->root); n > 0 && a->root[n - 1] == '/'; n--)
		a->root[n - 1] = '\0';
	nsn__pathf(a->proc, sizeof(a->proc), "%s", proc);
	nsn__pathf(a->run, sizeof(a->run), "%s/run", run_root);
	a->procfd = open(a->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->procfd < 0) {
		int e = -errno;
		free(a);
		return e;
	}
	a->cache = opts->cache;
	if (!a->cache) {
		a->cache = nsn_cache_new();
		a->own_cache = true;
		if (!a->cache) {
			close(a->procfd);
			free(a);
			return -ENOMEM;
		}
	}
	a->cache->gen++;
	a->now = nsn__now_ms();
	/* The host's mount namespace: PID 1's, or kthreadd's where PID 1 is hidden. */
	a->have_host_mnt = fstatat(a->procfd, "1/ns/mnt", &a->host_mnt, 0) == 0 ||
			   fstatat(a->procfd, "2/ns/mnt", &a->host_mnt, 0) == 0;
	struct timespec ts;
	a->hz = sysconf(_SC_CLK_TCK);
	if (a->hz <= 0)
		a->hz = 100;
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		a->uptime_ticks = (unsigned long long)ts.tv_sec * (unsigned long long)a->hz +
				  (unsigned long long)ts.tv_nsec * (unsigned long long)a->hz / 1000000000ull;
	*ret = a;
	return 0;
}

/* The container of a process seen for the first time (or to be looked at again);
 * *ret_recheck when "none" may not last. */
static struct cent *identify(struct nsn__attr *a, pid_t pid, const struct pstat *st, bool *ret_recheck)
{
	char path[32];
	struct nsn__cgroup_ident ident;
	size_t len;
	bool fresh;

	/* A process a runtime is still setting up (runc init) is moved into its container's
	 * cgroup after it started: "none" is only final for one older than that. */
	*ret_recheck = a->uptime_ticks < st->start + YOUNG_TICKS * (unsigned long long)a->hz;
	snprintf(path, sizeof(path), "%d/cgroup", (int)pid);
	if (slurp(a, a->procfd, path, CGROUP_MAX, &len) < 0) {
		*ret_recheck = true;
		return NULL;
	}
	a->stats.cgroup_reads++;
	if (nsn__cgroup_parse(a->buf, len, &ident) != 1 || !ident.id[0] || ident.conmon)
		return NULL; /* not in a container; conmon only watches one */
	struct cent *c = cent_get(a->cache, ident.id, &fresh);
	if (!c) {
		*ret_recheck = true;
		return NULL;
	}
	*ret_recheck = false;
	if (fresh) {
		c->cg_runtime = ident.runtime;
		snprintf(c->cg_pod_uid, sizeof(c->cg_pod_uid), "%s", ident.pod_uid);
	}
	if (!c->tried || (!c->complete && a->now >= c->retry_at))
		resolve(a, c, st->ppid);
	return c;
}

struct nsn__attr_proc *nsn__attr_proc(struct nsn__attr *a, pid_t pid)
{
	struct pstat st;
	struct pent e = {.pid = pid};
	const struct pent *old;
	double t0 = nsn__now_ms();

	a->stats.processes++;
	if (read_stat(a, pid, &st) < 0)
		return NULL; /* exited */
	e.start = st.start;
	memcpy(e.comm, st.comm, sizeof(e.comm));
	old = ptable_find(&a->cache->procs, pid);
	if (old && old->start == st.start && !old->recheck && strcmp(old->comm, st.comm) == 0) {
		a->stats.cached++;
		e.c = old->c;
		if (e.c && !e.c->complete && a->now >= e.c->retry_at)
			resolve(a, e.c, st.ppid);
	} else {
		e.c = identify(a, pid, &st, &e.recheck);
	}
	if (e.c)
		e.c->gen = a->cache->gen;
	a->ms += nsn__now_ms() - t0;
	if (ptable_put(&a->next, &e) < 0)
		return NULL;
	return (struct nsn__attr_proc *)e.c;
}

int nsn__attr_note(struct nsn__attr *a, struct nsn__attr_proc *proc, struct nsn_netns *ns, pid_t pid)
{
	if (!proc)
		return 0;
	if (a->n_notes == a->cap_notes) {
		size_t cap = a->cap_notes ? a->cap_notes * 2 : 256;
		struct note *n = realloc(a->notes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		a->notes = n;
		a->cap_notes = cap;
	}
	a->notes[a->n_notes++] = (struct note){ns, (struct cent *)proc, pid};
	return 0;
}

/* The scan's own copy of a container: one allocation with its strings. */
static struct nsn_container *copy_out(const struct cent *c)
{
	const char *src[] = {c->id, c->runtime, c->name, c->sandbox_id, c->pod_uid, c->pod_name, c->pod_ns, c->bundle};
	size_t need = sizeof(struct nsn_container);
	for (size_t i = 0; i < NSN_ARRAY_SIZE(src); i++)
		if (src[i])
			need += strlen(src[i]) + 1;
	struct nsn_container *o = calloc(1, need);
	if (!o)
		return NULL;
	char *p = (char *)(o + 1);
	const char **dst[] = {&o->id, &o->runtime, &o->name, &o->sandbox_id, &o->pod_uid, &o->pod_name,
			      &o->pod_namespace, &o->bundle};
	for (size_t i = 0; i < NSN_ARRAY_SIZE(src); i++) {
		if (!src[i])
			continue;
		size_t n = strlen(src[i]) + 1;
		memcpy(p, src[i], n);
		*dst[i] = p;
		p += n;
	}
	o->sandbox = c->sandbox;
	return o;
}

static int cmp_note(const void *x, const void *y)
{
	const struct note *a = x, *b = y;

	if (a->ns != b->ns)
		return a->ns < b->ns ? -1 : 1;
	if (a->c != b->c)
		return a->c < b->c ? -1 : 1;
	return (a->pid > b->pid) - (a->pid < b->pid);
}

static const char *nz(const char *s)
{
	return s ? s : "\x7f"; /* unknown sorts last */
}

static int cmp_nc(const void *x, const void *y)
{
	const struct nsn_container *a = ((const struct nsn_netns_container *)x)->c;
	const struct nsn_container *b = ((const struct nsn_netns_container *)y)->c;
	int r = strcmp(nz(a->pod_namespace), nz(b->pod_namespace));

	if (!r)
		r = strcmp(nz(a->pod_name), nz(b->pod_name));
	if (!r && a->sandbox != b->sandbox)
		return a->sandbox ? -1 : 1;
	if (!r)
		r = strcmp(nz(a->name), nz(b->name));
	return r ? r : strcmp(a->id, b->id);
}

int nsn__attr_finish(struct nsn__attr *a, struct nsn_scan *scan)
{
	struct nsn_cache *cache = a->cache;
	size_t n = 0;

	/* Copies for the scan, of every container seen in it. */
	for (size_t i = 0; i < cache->ccap; i++)
		for (struct cent *c = cache->ctab[i]; c; c = c->next)
			n += c->gen == cache->gen;
	scan->containers = calloc(n ? n : 1, sizeof(*scan->containers));
	if (!scan->containers)
		return -ENOMEM;
	for (size_t i = 0; i < cache->ccap; i++) {
		for (struct cent *c = cache->ctab[i]; c; c = c->next) {
			c->out = NULL;
			if (c->gen != cache->gen)
				continue;
			if (!(c->out = copy_out(c)))
				return -ENOMEM;
			scan->containers[scan->n_containers++] = c->out;
		}
	}
	a->stats.containers = scan->n_containers;

	/* Per namespace: each container with its lowest pid and process count (discovery
	 * noted only namespaces in scope). */
	if (a->n_notes > 1)
		qsort(a->notes, a->n_notes, sizeof(*a->notes), cmp_note);
	for (size_t i = 0; i < a->n_notes;) {
		struct nsn_netns *ns = a->notes[i].ns;
		size_t j = i, k = 0, groups = 0;
		for (; j < a->n_notes && a->notes[j].ns == ns; j++)
			groups += j == i || a->notes[j].c != a->notes[j - 1].c;
		ns->containers = calloc(groups, sizeof(*ns->containers));
		if (!ns->containers)
			return -ENOMEM;
		for (size_t x = i; x < j; x++) {
			if (x == i || a->notes[x].c != a->notes[x - 1].c)
				ns->containers[k++] = (struct nsn_netns_container){a->notes[x].c->out, a->notes[x].pid, 0};
			ns->containers[k - 1].n_pids++;
		}
		ns->n_containers = k;
		qsort(ns->containers, k, sizeof(*ns->containers), cmp_nc);
		i = j;
	}
	scan->attr = a->stats;
	scan->attr_ms = a->ms;
	return 0;
}

static int cmp_pid(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;

	return (a > b) - (a < b);
}

size_t nsn__attr_ambiguous_pids(const struct nsn__attr *a, pid_t **ret)
{
	pid_t *pids;
	size_t n = 0;

	*ret = NULL;
	if (!a->n_notes || !(pids = malloc(a->n_notes * sizeof(*pids))))
		return 0;
	/* Notes are sorted by namespace since nsn__attr_finish(). */
	for (size_t i = 0; i < a->n_notes;) {
		const struct nsn_netns *ns = a->notes[i].ns;
		size_t j = i, apps = 0;
		for (; j < a->n_notes && a->notes[j].ns == ns; j++)
			;
		/* Discovery noted only namespaces in scope. */
		for (size_t k = 0; k < ns->n_containers; k++)
			apps += !ns->containers[k].c->sandbox;
		if (ns->host || apps > 1)
			for (size_t k = i; k < j; k++)
				pids[n++] = a->notes[k].pid;
		i = j;
	}
	qsort(pids, n, sizeof(*pids), cmp_pid);
	size_t u = 0;
	for (size_t k = 0; k < n; k++)
		if (u == 0 || pids[u - 1] != pids[k])
			pids[u++] = pids[k];
	*ret = pids;
	return u;
}

const struct nsn_container *nsn__attr_lookup(const struct nsn__attr *a, pid_t pid)
{
	const struct pent *e = ptable_find(&a->next, pid);

	return e && e->c ? e->c->out : NULL;
}

void nsn__attr_end(struct nsn__attr *a)
{
	struct nsn_cache *cache;

	if (!a)
		return;
	cache = a->cache;
	/* This scan's processes replace the last one's; containers not seen go. */
	free(cache->procs.slots);
	cache->procs = a->next;
	for (size_t i = 0; i < cache->ccap; i++) {
		struct cent **pp = &cache->ctab[i];
		while (*pp) {
			struct cent *c = *pp;
			c->out = NULL;
			if (c->gen != cache->gen) {
				*pp = c->next;
				cent_free(c);
				cache->cn--;
			} else {
				pp = &c->next;
			}
		}
	}
	if (a->own_cache)
		nsn_cache_free(cache);
	for (size_t i = 0; i < a->n_task_ns; i++)
		free(a->task_ns[i]);
	free(a->task_ns);
	free(a->podlogs);
	free(a->ctrlogs);
	free(a->notes);
	free(a->buf);
	close(a->procfd);
	free(a);
}

/* ------------------------------------------------------------------ per socket */

static size_t add_unique(const struct nsn_container **ret, size_t n, size_t max,
			 const struct nsn_container *c)
{
	for (size_t i = 0; i < n; i++)
		if (ret[i] == c)
			return n;
	if (n < max)
		ret[n++] = c;
	return n;
}

size_t nsn_sock_containers(const struct nsn_scan *scan, const struct nsn_netns *ns,
			   const struct nsn_sock *s, const struct nsn_container **ret, size_t max)
{
	const struct nsn_proc_ref *refs;
	size_t n = 0, nrefs = nsn_procmap_lookup(scan->procs, s->inode, &refs);

	for (size_t i = 0; i < nrefs; i++)
		if (refs[i].container)
			n = add_unique(ret, n, max, refs[i].container);
	/* Held by container processes: theirs. Held by none, or only by processes outside
	 * any container (nsenter, ip netns exec): the namespace's, but never the host's. */
	if (n > 0 || ns->host)
		return n;
	for (size_t i = 0; i < ns->n_containers; i++)
		n = add_unique(ret, n, max, ns->containers[i].c);
	return n;
}
