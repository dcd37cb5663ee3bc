/* SPDX-License-Identifier: MIT */
/* Discovery: every network namespace of the host, found through the tasks in /proc,
 * the names in /run/netns and /var/run/docker/netns, and nsfs bind mounts listed in
 * mountinfo; de-duplicated by (device, inode) of the namespace file. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sched.h>

#include "internal.h"

/* Open addressing on (dev, inode): a host has at most a few thousand namespaces, but
 * tens of thousands of tasks each look one up. */
struct ns_table {
	struct nsn_netns **slots;
	size_t cap, n;
};

static size_t ns_hash(uint64_t dev, uint64_t ino, size_t cap)
{
	uint64_t h = (ino ^ (dev << 32)) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 17) & (cap - 1);
}

static int table_grow(struct ns_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct nsn_netns **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct nsn_netns *ns = t->slots[i];
		if (!ns)
			continue;
		size_t j = ns_hash(ns->dev, ns->inode, cap);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = ns;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* Find or insert the namespace (dev, ino). */
static int table_get(struct ns_table *t, uint64_t dev, uint64_t ino, struct nsn_netns **ret)
{
	if ((t->n + 1) * 2 > t->cap) {
		int r = table_grow(t);
		if (r < 0)
			return r;
	}
	size_t j = ns_hash(dev, ino, t->cap);
	while (t->slots[j]) {
		if (t->slots[j]->dev == dev && t->slots[j]->inode == ino) {
			*ret = t->slots[j];
			return 0;
		}
		j = (j + 1) & (t->cap - 1);
	}
	struct nsn_netns *ns = nsn__netns_new(dev, ino);
	if (!ns)
		return -ENOMEM;
	t->slots[j] = ns;
	t->n++;
	*ret = ns;
	return 1;
}

struct discover_ctx {
	const char *proc;
	size_t root_len;         /* run_root's length without trailing '/': 0 unless the host
				  * is mounted elsewhere */
	size_t pins_denied;      /* nsfs mounts of the host we may not open */
	char run[PATH_MAX];      /* <run_root>/run */
	char varrun[PATH_MAX];   /* <run_root>/var/run */
	struct ns_table table;
	dev_t nsfs_dev;          /* every nsfs file shares one superblock */
	struct stat host, self;
	int have_host;
	/* The one namespace in scope for NSN_SCOPE_ONE / CURRENT (want_dev 0: all are). */
	uint64_t want_dev, want_ino;
};

static int is_pid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Record a named path (/run/netns/NAME or a bind mount) that resolves to a namespace. */
static int add_named(struct discover_ctx *c, const char *path, const char *name)
{
	struct stat st;
	struct nsn_netns *ns;
	int r, fd;

	if (stat(path, &st) < 0 || st.st_dev != c->nsfs_dev)
		return 0; /* not (or no longer) an nsfs mount */
	/* nsfs also holds mount, uts, ... namespaces: only keep network ones. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	if (r != CLONE_NEWNET)
		return 0;
	r = table_get(&c->table, st.st_dev, st.st_ino, &ns);
	if (r < 0)
		return r;
	nsn__netns_add_path(ns, path, 1);
	return nsn__netns_add_name(ns, name);
}

/* Each entry of @p dir is a bind-mounted namespace file; by_path names it by its full
 * path (as mountinfo will), otherwise by the entry name (as `ip netns` does). */
static int scan_named_dir(struct discover_ctx *c, const char *dir, int by_path)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	int r = 0;

	if (!d)
		return 0; /* absent on hosts that never named a namespace */
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		nsn__pathf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* Named by the host's path, without where the host is mounted here. */
		r = add_named(c, path, by_path ? path + c->root_len : e->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

/* Undo mountinfo's octal escapes (\040 for space, ...), in place. */
static void unescape_mount(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Name a bind mount by its path on the host: /run/netns/NAME is NAME (what `ip netns`
 * calls it); any other mount point is its path. */
static const char *mount_name(const char *mnt)
{
	if (strncmp(mnt, "/run/netns/", 11) == 0 && !strchr(mnt + 11, '/'))
		return mnt + 11;
	return mnt;
}

/* nsfs bind mounts, wherever they are. With the host mounted elsewhere (a DaemonSet's
 * /host), the host's mounts are not ours: a namespace pinned at any path of the host is
 * found in the host's mountinfo, opened through <proc>/N/root and named by its host
 * path, exactly as a run on the host would. N is PID 1, or kthreadd (PID 2, always in
 * the initial mount namespace) where PID 1 may not be looked at (a sandboxed init).
 * Our own mount table is the fallback, its mount points named without the host root.
 * Either way a mount point is named by its path on the host. */
static int scan_mountinfo(struct discover_ctx *c)
{
	char path[PATH_MAX], open_path[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	const char *via = "";
	bool own = true;
	char host_root[PATH_MAX];
	struct stat st;
	FILE *f = NULL;
	int r = 0;

	for (int pid = 1; c->root_len && pid <= 2 && !f; pid++) {
		nsn__pathf(host_root, sizeof(host_root), "%s/%d/root", c->proc, pid);
		nsn__pathf(path, sizeof(path), "%s/%d/mountinfo", c->proc, pid);
		if (stat(host_root, &st) == 0 && (f = fopen(path, "re"))) {
			via = host_root;
			own = false;
		}
	}
	if (!f) {
		nsn__pathf(path, sizeof(path), "%s/self/mountinfo", c->proc);
		f = fopen(path, "re");
	}
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source super */
		char *fields[5], *save = NULL, *tok = strtok_r(line, " ", &save);
		int i = 0;

		while (tok && i < 5) {
			fields[i++] = tok;
			tok = strtok_r(NULL, " ", &save);
		}
		if (i < 5 || strncmp(fields[3], "net:[", 5) != 0)
			continue;
		char *sep = strstr(save ? save : "", "- ");
		if (!sep || strncmp(sep + 2, "nsfs ", 5) != 0)
			continue;
		unescape_mount(fields[4]);
		if (!nsn__pathf(open_path, sizeof(open_path), "%s%s", via, fields[4]))
			continue;
		const char *host_path = fields[4];
		if (own && c->root_len && !strncmp(host_path, c->run, c->root_len) && host_path[c->root_len] == '/')
			host_path += c->root_len;
		if (stat(open_path, &st) < 0 && (errno == EACCES || errno == EPERM)) {
			c->pins_denied++;
			continue;
		}
		r = add_named(c, open_path, mount_name(host_path));
		if (r < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

static int scan_tasks(struct discover_ctx *c, struct nsn__attr *attr)
{
	DIR *proc = opendir(c->proc);
	struct dirent *pe;
	int r = 0;

	if (!proc)
		return -errno;
	while ((pe = readdir(proc))) {
		char path[PATH_MAX];
		DIR *tasks;
		struct dirent *te;
		pid_t pid;

		if (!is_pid(pe->d_name))
			continue;
		pid = (pid_t)atoi(pe->d_name);
		struct nsn__attr_proc *ap = attr ? nsn__attr_proc(attr, pid) : NULL;
		nsn__pathf(path, sizeof(path), "%s/%s/task", c->proc, pe->d_name);
		/* Threads may have entered other namespaces than their leader: look at each. */
		tasks = opendir(path);
		if (!tasks)
			continue; /* exited meanwhile */
		while ((te = readdir(tasks))) {
			struct stat st;
			struct nsn_netns *ns;
			char rel[64];

			if (!is_pid(te->d_name))
				continue;
			nsn__pathf(rel, sizeof(rel), "%s/ns/net", te->d_name);
			if (fstatat(dirfd(tasks), rel, &st, 0) < 0)
				continue; /* exited, or a kernel thread we may not look at */
			r = table_get(&c->table, st.st_dev, st.st_ino, &ns);
			if (r < 0)
				break;
			r = 0;
			struct nsn__netns_priv *p = nsn__priv(ns);
			if (p->last_pid != pid) {
				p->last_pid = pid;
				ns->n_pids++;
				if (!ns->pid || pid < ns->pid)
					ns->pid = pid;
				/* Attribution walks every process whatever the scope, but
				 * notes only namespaces that stay (the others are freed). */
				bool in_scope = !c->want_dev ||
						(ns->dev == c->want_dev && ns->inode == c->want_ino);
				r = attr && in_scope ? nsn__attr_note(attr, ap, ns, pid) : 0;
				if (r < 0)
					break;
			}
			if (p->n_paths < NSN__MAX_PATHS) {
				nsn__pathf(path, sizeof(path), "%s/%s/task/%s/ns/net", c->proc,
					 pe->d_name, te->d_name);
				nsn__netns_add_path(ns, path, 0);
			}
		}
		closedir(tasks);
		if (r < 0)
			break;
	}
	closedir(proc);
	return r;
}

/* Whether visiting @p b after @p a would list nothing new: b is missing, or is a
 * itself (/var/run a link to /run, or the same directory mounted twice, as a DaemonSet
 * mounts /run and /var/run/docker/netns). */
static int same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(b, &sb) < 0)
		return 1;
	if (stat(a, &sa) < 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int cmp_netns(const void *a, const void *b)
{
	const struct nsn_netns *x = *(const struct nsn_netns *const *)a;
	const struct nsn_netns *y = *(const struct nsn_netns *const *)b;

	if (x->host != y->host)
		return x->host ? -1 : 1;
	if ((x->n_names > 0) != (y->n_names > 0))
		return x->n_names > 0 ? -1 : 1;
	if (x->n_names > 0) {
		int r = strcmp(x->names[0], y->names[0]);
		if (r)
			return r;
	}
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Resolve -N's argument to a path: a pid, a path, or a name in /run/netns. */
static void target_path(struct discover_ctx *c, const char *t, char *buf, size_t len)
{
	if (is_pid(t))
		nsn__pathf(buf, len, "%s/%s/ns/net", c->proc, t);
	else if (strchr(t, '/'))
		nsn__pathf(buf, len, "%s", t);
	else
		nsn__pathf(buf, len, "%s/netns/%s", c->run, t);
}

int nsn__discover(const struct nsn_gather_opts *opts, struct nsn__attr *attr, struct nsn_scan *scan)
{
	struct discover_ctx c = {0};
	struct stat target = {0};
	char path[PATH_MAX];
	int r;

	c.proc = opts->proc_root;
	c.root_len = strlen(opts->run_root);
	while (c.root_len > 0 && opts->run_root[c.root_len - 1] == '/')
		c.root_len--;
	nsn__pathf(c.run, sizeof(c.run), "%.*s/run", (int)c.root_len, opts->run_root);
	nsn__pathf(c.varrun, sizeof(c.varrun), "%.*s/var/run", (int)c.root_len, opts->run_root);

	nsn__pathf(path, sizeof(path), "%s/thread-self/ns/net", c.proc);
	if (stat(path, &c.self) < 0)
		return -errno;
	c.nsfs_dev = c.self.st_dev;
	/* The host's namespace is PID 1's; where PID 1 may not be looked at (a sandboxed
	 * init), kthreadd's (PID 2): kernel threads always live in the initial namespace. */
	nsn__pathf(path, sizeof(path), "%s/1/ns/net", c.proc);
	c.have_host = stat(path, &c.host) == 0;
	if (!c.have_host) {
		nsn__pathf(path, sizeof(path), "%s/2/ns/net", c.proc);
		c.have_host = stat(path, &c.host) == 0;
	}

	if (opts->scope == NSN_SCOPE_ONE) {
		target_path(&c, opts->target, path, sizeof(path));
		if (stat(path, &target) < 0)
			return -errno;
		if (target.st_dev != c.nsfs_dev)
			return -EINVAL;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = ioctl(fd, NS_GET_NSTYPE);
		close(fd);
		if (r != CLONE_NEWNET)
			return -EINVAL;
		struct nsn_netns *ns;
		r = table_get(&c.table, target.st_dev, target.st_ino, &ns);
		if (r < 0)
			goto out;
		nsn__netns_add_path(ns, path, 1);
		if (is_pid(opts->target) && !attr) {
			ns->pid = (pid_t)atoi(opts->target);
			ns->n_pids = 1; /* at least; -N does not walk /proc (attribution does) */
		}
		c.want_dev = target.st_dev;
		c.want_ino = target.st_ino;
	}
	if (opts->scope == NSN_SCOPE_CURRENT) {
		c.want_dev = c.self.st_dev;
		c.want_ino = c.self.st_ino;
	}

	/* Names are cheap to find (a directory and mountinfo) and matter for every scope. */
	nsn__pathf(path, sizeof(path), "%s/netns", c.run);
	r = scan_named_dir(&c, path, 0);
	if (r >= 0) {
		nsn__pathf(path, sizeof(path), "%s/docker/netns", c.run);
		r = scan_named_dir(&c, path, 1);
	}
	if (r >= 0) {
		char vpath[PATH_MAX];

		nsn__pathf(vpath, sizeof(vpath), "%s/docker/netns", c.varrun);
		if (!same_dir(path, vpath))
			r = scan_named_dir(&c, vpath, 1);
	}
	if (r < 0)
		goto out;
	r = scan_mountinfo(&c);
	if (r < 0)
		goto out;
	if (c.pins_denied)
		nsn__scan_warn(scan, "%zu namespaces pinned on the host (nsfs mounts in its mount table) "
				     "could not be opened: permission denied (an LSM such as AppArmor?): "
				     "they are missing", c.pins_denied);
	/* Attribution needs every process, whatever the scope. */
	if (opts->scope == NSN_SCOPE_ALL || attr) {
		r = scan_tasks(&c, attr);
		if (r < 0)
			goto out;
	}
	if (opts->scope == NSN_SCOPE_CURRENT) {
		struct nsn_netns *ns;
		r = table_get(&c.table, c.self.st_dev, c.self.st_ino, &ns);
		if (r < 0)
			goto out;
	}
	if (opts->scope == NSN_SCOPE_ALL && c.have_host) {
		/* The host's namespace is always there, even if PID 1's tasks were unreadable. */
		struct nsn_netns *ns;
		r = table_get(&c.table, c.host.st_dev, c.host.st_ino, &ns);
		if (r < 0)
			goto out;
		nsn__pathf(path, sizeof(path), "%s/2/ns/net", c.proc);
		nsn__netns_add_path(ns, path, 0);
	}

	scan->netns = calloc(c.table.n ? c.table.n : 1, sizeof(*scan->netns));
	if (!scan->netns) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.table.cap; i++) {
		struct nsn_netns *ns = c.table.slots[i];
		if (!ns)
			continue;
		c.table.slots[i] = NULL;
		/* Named-only scopes found every named namespace; keep just the one asked for. */
		if ((opts->scope == NSN_SCOPE_ONE &&
		     !(ns->dev == target.st_dev && ns->inode == target.st_ino)) ||
		    (opts->scope == NSN_SCOPE_CURRENT &&
		     !(ns->dev == c.self.st_dev && ns->inode == c.self.st_ino))) {
			nsn__netns_free(ns);
			continue;
		}
		ns->host = c.have_host && ns->dev == c.host.st_dev && ns->inode == c.host.st_ino;
		ns->current = ns->dev == c.self.st_dev && ns->inode == c.self.st_ino;
		scan->netns[scan->n_netns++] = ns;
	}
	qsort(scan->netns, scan->n_netns, sizeof(*scan->netns), cmp_netns);
	r = 0;
out:
	for (size_t i = 0; i < c.table.cap; i++)
		nsn__netns_free(c.table.slots[i]);
	free(c.table.slots);
	return r;
}
