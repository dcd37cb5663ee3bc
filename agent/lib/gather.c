/* SPDX-License-Identifier: MIT */
/* nsn_gather(): discovery, then worker threads that enter each namespace and dump it.
 *
 * setns(CLONE_NEWNET) changes only the calling thread, so it happens only on the
 * worker threads started here. A worker enters a namespace just long enough to open
 * its NETLINK_SOCK_DIAG socket (a netlink socket stays bound to the namespace it was
 * created in), returns to its original namespace, then dumps. Failing to return is
 * the one unrecoverable error: the thread would report the wrong namespace forever. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "internal.h"

struct pool {
	const struct nsn_gather_opts *opts;
	struct nsn_scan *scan;
	atomic_size_t next;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t done;
	unsigned running;
	bool raw_via_proc; /* no raw_diag: read /proc/thread-self/net/raw{,6} instead */
};

/* Open the namespace through one of the paths discovery saw, checking it is still the
 * same namespace: a task path can be reused by an unrelated process. */
static int open_netns(const struct nsn_netns *ns)
{
	const struct nsn__netns_priv *p = nsn__priv(ns);
	int last = -ENOENT;

	for (size_t i = 0; i < p->n_paths; i++) {
		struct stat st;
		int fd = open(p->paths[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			/* ESRCH/ENOENT: the task exited; EACCES: it changed credentials. */
			if (errno != ENOENT && errno != ESRCH)
				last = -errno;
			continue;
		}
		if (fstat(fd, &st) == 0 && st.st_dev == ns->dev && st.st_ino == ns->inode)
			return fd;
		close(fd);
	}
	return last;
}

/* Open one /proc/thread-self/net file; @p optional files may be absent (snmp6
 * without IPv6). */
static int open_procnet(const char *name, bool optional, int *ret_fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", name);
	*ret_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*ret_fd < 0 && !(optional && errno == ENOENT))
		return -errno;
	return 0;
}

/* Open what the dump needs while this thread is inside the namespace. */
static int open_inside(const struct pool *pool, const struct nsn_gather_opts *o, bool cookies,
		       struct nsn__nsfds *fds)
{
	unsigned fam = o->families ? o->families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);
	int r;

	if (o->flags & NSN_GATHER_NO_SOCKS) {
		/* Only for cookies, which are best effort: without the socket they stay 0. */
		if (cookies && (fds->diag = nsn__sockdiag_open()) < 0)
			fds->diag = -1;
	} else {
		fds->diag = nsn__sockdiag_open();
		if (fds->diag < 0)
			return fds->diag;
		if (pool->raw_via_proc && (nsn__sockdiag_protos(o) & NSN_PROTO_BIT(NSN_PROTO_RAW))) {
			if (fam & NSN_FAMILY_V4) {
				r = open_procnet("raw", false, &fds->raw4);
				if (r < 0)
					return r;
			}
			/* raw6 is absent where IPv6 is disabled: then there are no IPv6 raw sockets. */
			if (fam & NSN_FAMILY_V6) {
				r = open_procnet("raw6", true, &fds->raw6);
				if (r < 0)
					return r;
			}
		}
	}
	if (o->flags & (NSN_GATHER_ROUTES | NSN_GATHER_LINKS)) {
		fds->rtnl = nsn__rtnl_open(&r);
		if (!fds->rtnl)
			return r;
	}
	if (o->flags & NSN_GATHER_COUNTERS) {
		r = open_procnet("snmp", false, &fds->snmp);
		if (r == 0)
			r = open_procnet("netstat", false, &fds->netstat);
		if (r == 0)
			r = open_procnet("snmp6", true, &fds->snmp6);
		if (r < 0)
			return r;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* The namespace cookie identifies the namespace the calling thread is in for the whole
 * boot, where an inode may be reused; receivers key on it. Kernels before 5.14 do not
 * have it: 0, and receivers fall back to the inode. */
static uint64_t netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0 || len != sizeof(cookie))
		cookie = 0;
	close(fd);
	return cookie;
}

/* What is left to do in @p ns once the BPF walk has had its sockets: RAW sockets (in no
 * table the walk reads), routes, links and counters. False when nothing is. */
static bool after_bpf(const struct nsn_gather_opts *o, struct nsn_gather_opts *rest)
{
	*rest = *o;
	if (!(o->flags & NSN_GATHER_NO_SOCKS)) {
		if (nsn__sockdiag_protos(o) & NSN_PROTO_BIT(NSN_PROTO_RAW))
			rest->protos = NSN_PROTO_BIT(NSN_PROTO_RAW);
		else
			rest->flags |= NSN_GATHER_NO_SOCKS;
	}
	return !(rest->flags & NSN_GATHER_NO_SOCKS) ||
	       (o->flags & (NSN_GATHER_ROUTES | NSN_GATHER_LINKS | NSN_GATHER_COUNTERS));
}

static int dump_one(const struct pool *pool, struct nsn__dumper *d, int self_fd, struct nsn_netns *ns)
{
	const struct nsn_gather_opts *o = pool->opts;
	struct nsn_gather_opts rest;
	struct nsn__nsfds fds = {-1, -1, -1, -1, -1, -1, NULL};
	struct nsn__netns_priv *priv = nsn__priv(ns);
	/* The walk's sockets that no process holds: their cookies, from inside. Best
	 * effort: the walk has the namespace's sockets, and a namespace is never failed
	 * for want of a cookie (they stay 0, counted in scan.bpf.cookie_missing). */
	bool cookies = priv->bpf_done && priv->cookie_wanted > 0;
	bool only_cookies = false;
	int nsfd, r;

	if (priv->bpf_done) {
		/* The walk found it, with its cookie, and read its TCP, UDP and UNIX sockets. */
		only_cookies = !after_bpf(o, &rest);
		if (only_cookies && !cookies)
			return 0;
		o = &rest;
	}
	if (ns->current) {
		if (!ns->cookie) /* the BPF walk read it */
			ns->cookie = netns_cookie();
		r = open_inside(pool, o, cookies, &fds);
	} else {
		nsfd = open_netns(ns);
		if (nsfd < 0) {
			if (only_cookies)
				return 0;
			/* Gone, as opposed to a dump that failed (which may say ENOENT too). */
			nsn__priv(ns)->vanished = nsfd == -ENOENT;
			return nsfd;
		}
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			r = -errno;
			close(nsfd);
			return only_cookies ? 0 : r;
		}
		close(nsfd);
		if (!ns->cookie)
			ns->cookie = netns_cookie();
		r = open_inside(pool, o, cookies, &fds);
		if (setns(self_fd, CLONE_NEWNET) < 0)
			abort();
	}
	if (r < 0 && only_cookies)
		r = 0;
	if (r >= 0 && cookies && fds.diag >= 0)
		(void)nsn__sockdiag_cookies(d, fds.diag, ns, &priv->cookie_asked, &priv->cookie_found);
	if (r >= 0 && fds.diag >= 0 && !(o->flags & NSN_GATHER_NO_SOCKS)) {
		r = nsn__sockdiag_dump(d, &fds, ns, o);
		/* RAW sockets after the walk's: into sock_diag's order */
		if (r >= 0 && priv->bpf_done)
			r = nsn__socks_sort_ss(ns);
	}
	if (r >= 0 && fds.rtnl)
		r = nsn__rtnl_dump(fds.rtnl, ns, o);
	if (r >= 0 && fds.snmp >= 0) {
		r = nsn__snmp_read(fds.snmp, fds.netstat, fds.snmp6, ns);
		fds.snmp = fds.netstat = fds.snmp6 = -1; /* closed by the reader */
	}
	/* Whatever a dump did not hand over is still ours. */
	close_fd(&fds.diag);
	close_fd(&fds.raw4);
	close_fd(&fds.raw6);
	close_fd(&fds.snmp);
	close_fd(&fds.netstat);
	close_fd(&fds.snmp6);
	nsn__rtnl_close(fds.rtnl);
	return r;
}

static void *worker(void *arg)
{
	struct pool *pool = arg;
	struct nsn_scan *scan = pool->scan;
	struct nsn__dumper *d = nsn__dumper_new();
	int self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int setup_err = !d ? -ENOMEM : self_fd < 0 ? -errno : 0;

	for (;;) {
		size_t i = atomic_fetch_add(&pool->next, 1);
		if (i >= scan->n_netns)
			break;
		struct nsn_netns *ns = scan->netns[i];
		if (nsn__priv(ns)->vanished)
			ns->err = -ENOENT; /* the BPF walk found it gone */
		else if (setup_err)
			ns->err = setup_err;
		else
			ns->err = dump_one(pool, d, self_fd, ns);
		/* A namespace whose dump failed is reported as skipped: no partial lists. */
		if (ns->err) {
			ns->n_socks = ns->n_routes = ns->n_rules = ns->n_links = ns->n_counters = 0;
		}
		nsn__netns_trim_socks(ns);
		pthread_mutex_lock(&pool->lock);
		pool->done++;
		pthread_cond_signal(&pool->cond);
		pthread_mutex_unlock(&pool->lock);
	}
	pthread_mutex_lock(&pool->lock);
	pool->running--;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	if (self_fd >= 0)
		close(self_fd);
	nsn__dumper_free(d);
	return NULL;
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

/* Wait for the workers, reporting progress about every 100 ms. Workers signal after
 * each namespace, so the wait wakes often: report by the clock, not by timeouts. */
static void wait_pool(struct pool *pool, double t0)
{
	const struct nsn_gather_opts *o = pool->opts;
	double last = t0;

	pthread_mutex_lock(&pool->lock);
	while (pool->running > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&pool->cond, &pool->lock, &ts);
		double now = nsn__now_ms();
		if (o->progress && now - last >= 100 && pool->running > 0) {
			size_t done = pool->done;
			last = now;
			pthread_mutex_unlock(&pool->lock);
			o->progress(done, pool->scan->n_netns, now - t0, o->progress_userdata);
			pthread_mutex_lock(&pool->lock);
		}
	}
	pthread_mutex_unlock(&pool->lock);
}

static void describe_failures(struct nsn_scan *scan)
{
	for (size_t i = 0; i < scan->n_netns; i++) {
		struct nsn_netns *ns = scan->netns[i];
		char label[32];

		if (!ns->err)
			continue;
		if (nsn__priv(ns)->vanished) {
			scan->n_vanished++;
			nsn__scan_warn(scan, "netns %llu (%s): vanished before it could be entered; skipped",
				       (unsigned long long)ns->inode, nsn_netns_label(ns, label, sizeof(label)));
		} else {
			scan->n_failed++;
			nsn__scan_warn(scan, "netns %llu (%s): dump failed: %s; skipped",
				       (unsigned long long)ns->inode, nsn_netns_label(ns, label, sizeof(label)),
				       strerror(-ns->err));
		}
	}
}

struct nsid_job {
	const struct nsn_netns *from;
	struct nsn_netns *const *targets;
	size_t n;
	int32_t *nsids;
	int err;
};

static void *nsid_thread(void *arg)
{
	struct nsid_job *job = arg;
	struct nl_sock *sk = NULL;
	int self_fd, nsfd, r;

	for (size_t i = 0; i < job->n; i++)
		job->nsids[i] = -1;
	self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0) {
		job->err = -errno;
		return NULL;
	}
	if (job->from->current) {
		sk = nsn__rtnl_open(&r);
	} else {
		nsfd = open_netns(job->from);
		if (nsfd < 0) {
			r = nsfd;
		} else if (setns(nsfd, CLONE_NEWNET) < 0) {
			r = -errno;
			close(nsfd);
		} else {
			close(nsfd);
			sk = nsn__rtnl_open(&r);
			if (setns(self_fd, CLONE_NEWNET) < 0)
				abort();
		}
	}
	close(self_fd);
	if (!sk) {
		job->err = r;
		return NULL;
	}
	for (size_t i = 0; i < job->n; i++) {
		const struct nsn_netns *t = job->targets[i];
		int fd = t->current && nsn__priv(t)->n_paths == 0
				 ? open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
				 : open_netns(t);
		if (fd < 0)
			continue;
		if (nsn__rtnl_nsid(sk, fd, &job->nsids[i]) < 0)
			job->nsids[i] = -1;
		close(fd);
	}
	nsn__rtnl_close(sk);
	return NULL;
}

int nsn__netns_nsids(const struct nsn_netns *from, struct nsn_netns *const *targets, size_t n,
		     int32_t *ret_nsids)
{
	struct nsid_job job = {from, targets, n, ret_nsids, 0};
	pthread_t t;

	if (pthread_create(&t, NULL, nsid_thread, &job) != 0)
		return -EAGAIN;
	pthread_join(t, NULL);
	return job.err;
}

/* Name the veth peers. With one namespace in scope its peers live elsewhere (a pod's
 * eth0 pairs with a host veth): dump the interfaces of every other namespace too --
 * a few tens of microseconds each -- and resolve against all of them. */
static void resolve_peers(const struct nsn_gather_opts *opts, struct nsn_scan *scan)
{
	struct nsn_gather_opts all = *opts;
	struct nsn_scan *ctx = NULL, view = {0};

	if (opts->scope != NSN_SCOPE_ONE || scan->n_netns != 1 || scan->netns[0]->err) {
		nsn__peers_resolve(scan);
		return;
	}
	all.scope = NSN_SCOPE_ALL;
	all.target = NULL;
	all.flags = NSN_GATHER_LINKS | NSN_GATHER_NO_SOCKS;
	all.progress = NULL;
	all.pause_after_discovery_ms = 0;
	if (nsn_gather(&all, &ctx) < 0) {
		nsn__scan_warn(scan, "veth peers outside the namespace left unnamed: the other namespaces could not be scanned");
		nsn__peers_resolve(scan);
		return;
	}
	view.netns = malloc(ctx->n_netns * sizeof(*view.netns));
	if (!view.netns) {
		nsn_scan_free(ctx);
		nsn__peers_resolve(scan);
		return;
	}
	/* The context's copy of our namespace is replaced by the one reported, and the
	 * context's own pairing (made against that copy) is started over. */
	for (size_t i = 0; i < ctx->n_netns; i++) {
		struct nsn_netns *ns = ctx->netns[i];
		for (size_t k = 0; k < ns->n_links; k++) {
			ns->links[k].peer.name = NULL;
			ns->links[k].peer.netns = NULL;
		}
		bool same = ns->dev == scan->netns[0]->dev && ns->inode == scan->netns[0]->inode;
		view.netns[view.n_netns++] = same ? scan->netns[0] : ns;
	}
	nsn__peers_resolve(&view);
	for (size_t i = 0; i < view.n_warnings; i++)
		nsn__scan_warn(scan, "%s", view.warnings[i]);
	for (size_t i = 0; i < view.n_warnings; i++)
		free(view.warnings[i]);
	free(view.warnings);
	free(view.netns);
	scan->context = ctx;
}

/* Processes whose fds we may not list keep their sockets but lose their owner: never
 * silently in a scan of other namespaces (in one's own, like ss -p without root, the
 * other users' processes are simply not shown). */
static void warn_denied(const struct nsn_gather_opts *opts, struct nsn_scan *scan)
{
	size_t n = nsn__procmap_denied(scan->procs);

	if (n > 0 && opts->scope != NSN_SCOPE_CURRENT)
		nsn__scan_warn(scan, "%zu processes' %s/PID/fd not readable (permission denied: "
				     "CAP_DAC_READ_SEARCH missing, or an LSM such as AppArmor): "
				     "their sockets show no process",
			       n, opts->proc_root);
}

/* Every host path relative to opts->host_root: "/host" makes /host/proc and /host/run. */
static int resolve_roots(const struct nsn_gather_opts *in, struct nsn_gather_opts *out,
			 char proc[PATH_MAX], char run[PATH_MAX])
{
	const char *root = in->host_root ? in->host_root : "";
	size_t n = strlen(root);
	struct stat st;

	while (n > 0 && root[n - 1] == '/')
		n--;
	*out = *in;
	if (n > 0 && (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)))
		return stat(root, &st) < 0 ? -errno : -ENOTDIR;
	if (!in->proc_root && snprintf(proc, PATH_MAX, "%.*s/proc", (int)n, root) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (!in->run_root && snprintf(run, PATH_MAX, "%.*s", (int)n, root) >= PATH_MAX)
		return -ENAMETOOLONG;
	out->proc_root = in->proc_root ? in->proc_root : proc;
	out->run_root = in->run_root ? in->run_root : run;
	return 0;
}

int nsn_gather(const struct nsn_gather_opts *in, struct nsn_scan **ret_scan)
{
	struct nsn_gather_opts eff;
	const struct nsn_gather_opts *opts = &eff;
	char proc[PATH_MAX], run[PATH_MAX];
	struct nsn_scan *scan;
	struct pool pool = {.opts = opts};
	struct nsn__attr *attr = NULL;
	pthread_t tids[64];
	unsigned n_threads;
	double t0 = nsn__now_ms();
	int r = resolve_roots(in, &eff, proc, run);

	if (r < 0)
		return r;
	scan = calloc(1, sizeof(*scan));
	if (!scan)
		return -ENOMEM;
	pool.scan = scan;
	if (opts->flags & NSN_GATHER_CONTAINERS) {
		r = nsn__attr_begin(opts, opts->proc_root, opts->run_root, &attr);
		if (r < 0)
			goto fail;
	}
	r = nsn__discover(opts, attr, scan);
	if (r < 0)
		goto fail;
	if (attr) {
		r = nsn__attr_finish(attr, scan);
		if (r < 0)
			goto fail;
	}
	scan->discover_ms = nsn__now_ms() - t0;
	if (opts->pause_after_discovery_ms) {
		struct timespec ts = {opts->pause_after_discovery_ms / 1000,
				      (long)(opts->pause_after_discovery_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}

	t0 = nsn__now_ms();
	scan->backend = "netlink";
	if (opts->bpf && !(opts->flags & NSN_GATHER_NO_SOCKS)) {
		r = nsn__bpf_walk(opts->bpf, opts, scan);
		if (r < 0)
			nsn__scan_warn(scan, "BPF walk failed: %s; every namespace dumped with sock_diag instead",
				       strerror(-r));
		else
			scan->backend = "bpf";
	}
	if (!(opts->flags & NSN_GATHER_NO_SOCKS) &&
	    (!opts->protos || (opts->protos & NSN_PROTO_BIT(NSN_PROTO_RAW))))
		pool.raw_via_proc = nsn__sockdiag_has_raw() == 0;
	n_threads = opts->threads ? opts->threads : default_threads();
	if (n_threads > NSN_ARRAY_SIZE(tids))
		n_threads = NSN_ARRAY_SIZE(tids);
	if (n_threads > scan->n_netns)
		n_threads = scan->n_netns ? (unsigned)scan->n_netns : 1;
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.cond, NULL);
	/* Count a worker before it starts: a fast one may finish before pthread_create()
	 * returns here. */
	unsigned started = 0;
	for (unsigned i = 0; i < n_threads; i++) {
		pthread_mutex_lock(&pool.lock);
		pool.running++;
		pthread_mutex_unlock(&pool.lock);
		if (pthread_create(&tids[started], NULL, worker, &pool) != 0) {
			pthread_mutex_lock(&pool.lock);
			pool.running--;
			pthread_mutex_unlock(&pool.lock);
			break;
		}
		started++;
	}
	n_threads = started;
	if (n_threads == 0) {
		r = -EAGAIN;
		goto fail;
	}
	/* The /proc walk for -p runs here, beside the workers: it needs no namespace. */
	if (opts->flags & NSN_GATHER_PROCS) {
		double tp = nsn__now_ms();
		r = nsn__procmap_build(opts->proc_root, attr, NULL, 0, &scan->procs);
		scan->procs_ms = nsn__now_ms() - tp;
		if (r < 0)
			nsn__scan_warn(scan, "process map unavailable: %s", strerror(-r));
		else
			warn_denied(opts, scan);
	} else if (attr && !(opts->flags & NSN_GATHER_NO_SOCKS)) {
		/* Without -p, walk only the fds of the container processes whose sockets the
		 * namespace alone cannot place (hostNetwork pods, shared namespaces). */
		double tp = nsn__now_ms();
		pid_t *pids;
		size_t n = nsn__attr_ambiguous_pids(attr, &pids);
		if (n > 0) {
			r = nsn__procmap_build(opts->proc_root, attr, pids, n, &scan->procs);
			if (r < 0)
				nsn__scan_warn(scan, "container processes' sockets unattributed: %s", strerror(-r));
			else
				warn_denied(opts, scan);
		}
		free(pids);
		scan->procs_ms = nsn__now_ms() - tp;
	}
	wait_pool(&pool, t0);
	for (unsigned i = 0; i < n_threads; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&pool.lock);
	pthread_cond_destroy(&pool.cond);
	scan->dump_ms = nsn__now_ms() - t0;
	for (size_t i = 0; i < scan->n_netns; i++) {
		const struct nsn__netns_priv *p = nsn__priv(scan->netns[i]);

		if (scan->netns[i]->err)
			continue; /* its sockets are not reported at all */
		scan->bpf.cookie_lookups += p->cookie_asked;
		scan->bpf.cookie_missing += p->cookie_wanted - p->cookie_found; /* not found, or not asked */
	}
	describe_failures(scan);
	nsn__attr_end(attr);
	if (opts->flags & NSN_GATHER_LINKS)
		resolve_peers(opts, scan);
	*ret_scan = scan;
	return 0;
fail:
	nsn__attr_end(attr);
	nsn_scan_free(scan);
	return r;
}
