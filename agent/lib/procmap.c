/* SPDX-License-Identifier: MIT */
/* Socket inode -> processes, from ONE pass over /proc/<pid>/fd for every namespace.
 *
 * `ss -p` walks all of /proc on every call (about 7 us per fd on the host), so
 * a loop of ss over N namespaces pays N walks. Socket inodes come from one host-wide
 * counter (sockfs), so a single inode-keyed map serves every namespace. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct entry {
	uint32_t inode;
	struct nsn_proc_ref ref;
};

struct nsn_procmap {
	struct entry *e;
	struct nsn_proc_ref *refs; /* refs[i] == e[i].ref, contiguous for lookups */
	size_t n, cap;
	size_t denied; /* processes whose fd directory we may not list */
};

static int push(struct nsn_procmap *m, uint32_t inode, pid_t pid, int fd, const char *comm,
		const struct nsn_container *container)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct entry *e = realloc(m->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->e = e;
		m->cap = cap;
	}
	struct entry *x = &m->e[m->n++];
	x->inode = inode;
	x->ref.pid = pid;
	x->ref.fd = fd;
	snprintf(x->ref.comm, sizeof(x->ref.comm), "%s", comm);
	x->ref.container = container;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->ref.pid != y->ref.pid)
		return x->ref.pid < y->ref.pid ? -1 : 1;
	return (x->ref.fd > y->ref.fd) - (x->ref.fd < y->ref.fd);
}

static void read_comm(int piddir, char comm[16])
{
	int fd = openat(piddir, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, comm, 15) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		n = 0;
	comm[n] = '\0';
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

/* Walk one process's fds; the comm is read only if it holds a socket. */
static int scan_pid(struct nsn_procmap *m, const struct nsn__attr *attr, int procfd, const char *name)
{
	char comm[16] = "";
	int piddir = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fddir, r = 0;
	DIR *d;
	struct dirent *e;

	if (piddir < 0)
		return 0;
	fddir = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fddir < 0 && (errno == EACCES || errno == EPERM))
		m->denied++;
	if (fddir < 0 || !(d = fdopendir(fddir))) {
		if (fddir >= 0)
			close(fddir);
		close(piddir);
		return 0; /* exited, or a kernel thread */
	}
	pid_t pid = (pid_t)atoi(name);
	const struct nsn_container *container = attr ? nsn__attr_lookup(attr, pid) : NULL;
	while ((e = readdir(d))) {
		char link[64];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n < 9 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[n] = '\0';
		if (!comm[0])
			read_comm(piddir, comm);
		r = push(m, (uint32_t)strtoul(link + 8, NULL, 10), pid, atoi(e->d_name), comm,
			 container);
		if (r < 0)
			break;
	}
	closedir(d);
	close(piddir);
	return r;
}

int nsn__procmap_build(const char *proc_root, const struct nsn__attr *attr, const pid_t *pids,
		       size_t n_pids, struct nsn_procmap **ret_map)
{
	struct nsn_procmap *m = calloc(1, sizeof(*m));
	int procfd, r = 0;
	DIR *d;
	struct dirent *e;

	if (!m)
		return -ENOMEM;
	procfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0 || !(d = fdopendir(procfd))) {
		r = -errno;
		if (procfd >= 0)
			close(procfd);
		free(m);
		return r;
	}
	if (pids) {
		for (size_t i = 0; i < n_pids && r >= 0; i++) {
			char name[16];
			snprintf(name, sizeof(name), "%d", (int)pids[i]);
			r = scan_pid(m, attr, dirfd(d), name);
		}
	}
	while (!pids && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		r = scan_pid(m, attr, dirfd(d), e->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r >= 0)
		r = nsn__procmap_seal(m);
	if (r < 0) {
		nsn__procmap_free(m);
		return r;
	}
	*ret_map = m;
	return 0;
}

size_t nsn__procmap_denied(const struct nsn_procmap *m)
{
	return m ? m->denied : 0;
}

struct nsn_procmap *nsn__procmap_new(void)
{
	return calloc(1, sizeof(struct nsn_procmap));
}

int nsn__procmap_add(struct nsn_procmap *m, uint32_t inode, pid_t pid, int fd, const char *comm,
		     const struct nsn_container *container)
{
	return push(m, inode, pid, fd, comm, container);
}

int nsn__procmap_seal(struct nsn_procmap *m)
{
	struct nsn_proc_ref *refs;
	size_t k = 0;

	if (m->n) /* m->e is NULL while empty: qsort must not see it */
		qsort(m->e, m->n, sizeof(*m->e), cmp_entry);
	/* A /proc walk lists each descriptor once, but a map rebuilt from a peer's
	 * messages may name one (inode, pid, fd) twice: lookups must not show it twice. */
	for (size_t i = 0; i < m->n; i++)
		if (k == 0 || cmp_entry(&m->e[k - 1], &m->e[i]) != 0)
			m->e[k++] = m->e[i];
	m->n = k;
	refs = realloc(m->refs, (m->n ? m->n : 1) * sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	m->refs = refs;
	for (size_t i = 0; i < m->n; i++)
		m->refs[i] = m->e[i].ref;
	return 0;
}

size_t nsn_procmap_lookup(const struct nsn_procmap *m, uint32_t inode,
			  const struct nsn_proc_ref **ret_refs)
{
	size_t lo = 0, hi, end;

	*ret_refs = NULL;
	if (!m || inode == 0)
		return 0;
	hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->e[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < m->n && m->e[end].inode == inode; end++)
		;
	if (end == lo)
		return 0;
	*ret_refs = &m->refs[lo];
	return end - lo;
}

void nsn__procmap_free(struct nsn_procmap *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->refs);
	free(m);
}
