/* SPDX-License-Identifier: MIT */
/* nsnetstat: the sockets of every network namespace of this host, as ss shows them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct progress {
	bool shown;
};

static void on_progress(size_t done, size_t total, double elapsed_ms, void *userdata)
{
	struct progress *p = userdata;

	/* Only a scan that is slow enough to wonder about, and only for a person. */
	if (elapsed_ms < 1000)
		return;
	fprintf(stderr, "\rnsnetstat: scanning namespaces %zu/%zu", done, total);
	p->shown = true;
}

/* One scan and its output. *prev is the previous scan of a -c loop, kept for the
 * counter increments; it is replaced by this one. */
static int run_once(struct cli_opts *o, struct nsn_scan **prev)
{
	struct progress prog = {0};
	struct nsn_scan *scan = NULL;
	int r;

	o->gather.progress = o->progress ? on_progress : NULL;
	o->gather.progress_userdata = &prog;
	r = nsn_gather(&o->gather, &scan);
	if (prog.shown)
		fputs("\r\033[K", stderr);
	if (r < 0) {
		if (o->gather.scope == NSN_SCOPE_ONE && (r == -ENOENT || r == -EINVAL || r == -ESRCH)) {
			fprintf(stderr, "nsnetstat: -N %s: %s\n", o->gather.target,
				r == -EINVAL ? "not a network namespace" : "no such network namespace");
			return 2;
		}
		fprintf(stderr, "nsnetstat: scan failed: %s\n", strerror(-r));
		return 1;
	}
	r = nsn_scan_filter_containers(scan, &o->cfilter);
	if (r < 0) {
		fprintf(stderr, "nsnetstat: container filter: %s\n", strerror(-r));
		nsn_scan_free(scan);
		return 1;
	}
	struct cli_node node = {.name = o->node, .scan = scan, .prev = *prev};
	cli_print_views(o, stdout, &node, 1);
	/* The table first, then what went wrong with it, in that order on a terminal. */
	fflush(stdout);
	cli_print_problems(o, stderr, &node, 1);
	nsn_scan_free(*prev);
	*prev = o->continuous && o->counters ? scan : NULL;
	if (!*prev)
		nsn_scan_free(scan);
	return 0;
}

int main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct cli_opts o = {0};
	struct nsn_scan *prev = NULL;
	char host[256] = "localhost";
	const char *missing;
	int r;

	/* `nsnetstat | head` must end quietly: die of SIGPIPE like any filter would,
	 * even if our parent ignored it. */
	signal(SIGPIPE, SIG_DFL);
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	r = cli_parse(argc, argv, &o);
	if (r != 0) {
		cli_opts_release(&o);
		return r == 1 ? 0 : r;
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "localhost");
	o.node = host;
	o.progress = isatty(STDERR_FILENO);
	if (o.from || o.collector) {
		/* A recording or a collector needs no privileges: nothing here is entered or
		 * read but the file or the connection. */
		r = o.from ? cli_from(&o) : cli_remote(&o);
		if (fflush(stdout) != 0 && errno == EPIPE)
			r = 0;
		cli_opts_release(&o);
		return r;
	}
	const char *pause = getenv("NSNETSTAT_TEST_PAUSE_MS");
	if (pause)
		o.gather.pause_after_discovery_ms = (unsigned)strtoul(pause, NULL, 10);

	if (nsn_gather_check_caps(o.gather.scope, &missing) < 0) {
		fprintf(stderr, "nsnetstat: missing capability %s: needed to %s; run as root\n",
			missing ? missing : "?",
			missing && strcmp(missing, "CAP_SYS_ADMIN") == 0
				? "enter other network namespaces (setns)"
				: "read other processes' namespaces and file descriptors");
		cli_opts_release(&o);
		return 2;
	}
	/* The walker is loaded once: a -c loop uses it for every round. */
	struct nsn_bpf *bpf = NULL;
	char why[512];
	r = nsn_backend_open(o.backend, &o.gather, &bpf, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "nsnetstat: %s\n", why[0] ? why : strerror(-r));
		cli_opts_release(&o);
		return 2;
	}
	if (why[0])
		fprintf(stderr, "nsnetstat: %s\n", why);
	o.gather.bpf = bpf;
	/* A -c loop learns each container once (its processes by pid and start time). */
	struct nsn_cache *cache = o.containers ? nsn_cache_new() : NULL;
	o.gather.cache = cache;
	for (;;) {
		if (o.continuous && !o.json)
			printf("# %ld\n", (long)time(NULL));
		r = run_once(&o, &prev);
		if (fflush(stdout) != 0 && errno == EPIPE)
			r = 0;
		if (r != 0 || !o.continuous)
			break;
		struct timespec ts = {(time_t)o.interval_s,
				      (long)((o.interval_s - (double)(time_t)o.interval_s) * 1e9)};
		nanosleep(&ts, NULL);
	}
	nsn_scan_free(prev);
	nsn_cache_free(cache);
	nsn_bpf_close(bpf);
	cli_opts_release(&o);
	return r;
}
