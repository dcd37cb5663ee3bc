/* SPDX-License-Identifier: MIT */
/* The scan thread. nsn_gather() enters namespaces with setns(2) on threads of its
 * own; this thread only asks for scans, so the loop thread never blocks on /proc or
 * netlink and never changes namespace.
 *
 * Between scans it looks, once a second, at which network namespaces the host's
 * processes and /run/netns hold: readlink of /proc/<pid>/ns/net costs ~1 us per
 * process, a full scan far more, so a new or vanished namespace is noticed within a
 * second without rescanning blindly. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

#define PROBE_PERIOD_MS 1000

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* A fingerprint of the set of namespaces the host's processes live in, and of the
 * names in /run/netns. 0 if /proc could not be read (never "changed" then). */
static uint64_t probe(struct worker *w)
{
	uint64_t *inodes = NULL, h = 1469598103934665603ull;
	size_t n = 0, cap = 0;
	DIR *d = opendir(w->proc);
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[4096 + 300], link[64];
		ssize_t k;
		unsigned long long ino;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/net", w->proc, e->d_name);
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = 0;
		if (sscanf(link, "net:[%llu]", &ino) != 1)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			uint64_t *ni = realloc(inodes, nc * sizeof(*ni));

			if (!ni)
				break;
			inodes = ni;
			cap = nc;
		}
		inodes[n++] = ino;
	}
	closedir(d);
	if (n)
		qsort(inodes, n, sizeof(*inodes), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (i && inodes[i] == inodes[i - 1])
			continue;
		h = (h ^ inodes[i]) * 1099511628211ull;
	}
	free(inodes);
	d = opendir(w->run_netns);
	if (d) {
		while ((e = readdir(d)))
			for (const char *p = e->d_name; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ull + 0x9e37u;
		closedir(d);
	}
	return h ? h : 1;
}

static void *run(void *arg)
{
	struct agent *a = arg;
	struct worker *w = &a->w;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (w->want_scan) {
			struct nsn_scan *scan = NULL;
			struct timespec t0, t1;
			int r;

			w->want_scan = false;
			w->busy = true;
			pthread_mutex_unlock(&w->lock);
			w->probe_fp = probe(w);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			r = nsn_gather(&w->gather, &scan);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			pthread_mutex_lock(&w->lock);
			w->busy = false;
			if (w->result) {
				/* The loop has not taken the previous one: it is replaced. */
				nsn_scan_free(w->result);
				w->superseded++;
			}
			w->result = r < 0 ? NULL : scan;
			w->result_err = r;
			w->result_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
			uv_async_send(&w->async);
			continue;
		}
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PROBE_PERIOD_MS / 1000;
		int r = pthread_cond_timedwait(&w->cond, &w->lock, &until);

		if (r == ETIMEDOUT && !w->stop && !w->want_scan) {
			uint64_t fp;

			pthread_mutex_unlock(&w->lock);
			fp = probe(w);
			pthread_mutex_lock(&w->lock);
			if (fp && w->probe_fp && fp != w->probe_fp) {
				w->want_scan = true;
				w->probe_triggers++;
			}
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

void worker_gather_opts(const struct agent *a, struct nsn_gather_opts *g)
{
	g->scope = NSN_SCOPE_ALL;
	g->flags = NSN_GATHER_PROCS | NSN_GATHER_ROUTES | NSN_GATHER_LINKS | NSN_GATHER_COUNTERS |
		   NSN_GATHER_CONTAINERS | (a->o.tcp_info ? NSN_GATHER_INFO : 0);
	g->host_root = a->o.host_root;
}

int worker_start(struct agent *a)
{
	struct worker *w = &a->w;
	const char *root = a->o.host_root && strcmp(a->o.host_root, "/") ? a->o.host_root : "";
	int r;

	snprintf(w->proc, sizeof(w->proc), "%s/proc", root);
	snprintf(w->run_netns, sizeof(w->run_netns), "%s/run/netns", root);
	w->cache = nsn_cache_new();
	if (!w->cache)
		return -ENOMEM;
	worker_gather_opts(a, &w->gather);
	w->gather.threads = a->o.threads;
	w->gather.cache = w->cache;
	w->gather.bpf = a->bpf;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	r = -pthread_create(&w->thread, NULL, run, a);
	if (r < 0)
		return r;
	w->started = true;
	return 0;
}

void worker_request(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->want_scan = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

bool worker_stop(struct worker *w)
{
	bool busy;

	if (!w->started)
		return false;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	busy = w->busy;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	/* A scan in progress may take seconds on a large host; SIGTERM must not wait for
	 * it. The process exits around it. */
	if (busy) {
		pthread_detach(w->thread);
		w->started = false;
		return true;
	}
	pthread_join(w->thread, NULL);
	w->started = false;
	nsn_scan_free(w->result);
	w->result = NULL;
	nsn_cache_free(w->cache);
	w->cache = NULL;
	return false;
}
