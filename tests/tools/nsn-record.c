/* SPDX-License-Identifier: MIT */
/*
 * nsn-record: what an agent would send, without the agent, for tests of
 * `nsnetstat --from`. Gathers every namespace (sockets of every protocol and state,
 * processes, tcp_info, routes, links, counters, containers) and writes the frames a
 * collector would receive: Hello, then what nsn_sync_diff() emits (snapshots on the
 * first scan, deltas and gones on later ones), then ScanDone (full on the first).
 *
 * usage: nsn-record [--node NAME] [--session N] [--boot-id ID] [--scans N] OUT|-
 * With --scans N > 1 it prints "scanned K" on stdout after each scan but the last and
 * waits for a line on stdin before the next, so a test can change the world between.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nsnet/gather.h>

#include "codec.h"
#include "convert.h"
#include "sync.h"

struct out {
	FILE *f;
	uint64_t seq;
};

static int put(struct out *o, NsnFrame *f)
{
	uint8_t *buf;
	size_t len;
	int r;

	f->seq = ++o->seq;
	r = nsn_wire_pack(f, NSN_FRAME_MAX_LIMIT, &buf, &len);
	if (r < 0)
		return r;
	if (fwrite(buf, 1, len, o->f) != len)
		r = -EIO;
	free(buf);
	return r;
}

static int emit(NsnFrame *f, void *userdata)
{
	return put(userdata, f);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void read_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"node", required_argument, NULL, 'n'},
	    {"session", required_argument, NULL, 's'},
	    {"boot-id", required_argument, NULL, 'b'},
	    {"scans", required_argument, NULL, 'k'},
	    {0},
	};
	char host[256] = "localhost", boot_id[64];
	const char *node = NULL;
	uint64_t session = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	unsigned long scans = 1;
	struct out out = {0};
	int c, r = 0;

	read_boot_id(boot_id, sizeof(boot_id));
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': node = optarg; break;
		case 's': session = strtoull(optarg, NULL, 0); break;
		case 'b': snprintf(boot_id, sizeof(boot_id), "%s", optarg); break;
		case 'k': scans = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: nsn-record [--node NAME] [--session N] [--boot-id "
					"ID] [--scans N] OUT|-\n");
			return 2;
		}
	}
	if (optind + 1 != argc || scans == 0) {
		fprintf(stderr, "usage: nsn-record [--node NAME] [--session N] [--boot-id ID] "
				"[--scans N] OUT|-\n");
		return 2;
	}
	if (!node) {
		if (gethostname(host, sizeof(host) - 1) < 0)
			snprintf(host, sizeof(host), "localhost");
		node = host;
	}
	out.f = strcmp(argv[optind], "-") == 0 ? stdout : fopen(argv[optind], "we");
	if (!out.f) {
		fprintf(stderr, "nsn-record: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}

	Nsnet__V1__Hello hello = NSNET__V1__HELLO__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	hello.protocol_version = NSN_PROTOCOL_VERSION;
	hello.role = NSNET__V1__HELLO__ROLE__AGENT;
	hello.node = (char *)node;
	hello.agent_version = "nsn-record";
	hello.boot_id = boot_id;
	hello.session = session;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &hello;
	r = put(&out, &f);

	struct nsn_cache *cache = nsn_cache_new();
	struct nsn_sync *sync = nsn_sync_new();
	struct nsn_pb_arena *arena = nsn_pb_arena_new();
	if (!cache || !sync || !arena)
		r = -ENOMEM;
	for (unsigned long k = 1; r >= 0 && k <= scans; k++) {
		struct nsn_gather_opts go = {
		    .scope = NSN_SCOPE_ALL,
		    .flags = NSN_GATHER_PROCS | NSN_GATHER_INFO | NSN_GATHER_ROUTES |
			     NSN_GATHER_LINKS | NSN_GATHER_COUNTERS | NSN_GATHER_CONTAINERS,
		    .cache = cache,
		};
		struct nsn_sync_stats st;
		struct nsn_scan *scan;
		uint64_t t0 = now_ms();

		r = nsn_gather(&go, &scan);
		if (r < 0)
			break;
		r = nsn_sync_diff(sync, scan, NSN_PB_ALL, arena, emit, &out, &st);
		if (r >= 0) {
			Nsnet__V1__ScanDone done = NSNET__V1__SCAN_DONE__INIT;

			done.scan = k;
			done.time_ms = now_ms();
			done.full = k == 1;
			done.namespaces = (uint32_t)st.namespaces;
			done.sockets = st.sockets;
			done.scan_ms = (uint32_t)(done.time_ms - t0);
			done.n_warnings = scan->n_warnings;
			done.warnings = scan->warnings;
			done.vanished = (uint32_t)scan->n_vanished;
			done.failed = (uint32_t)scan->n_failed;
			f.body_case = NSNET__V1__FRAME__BODY_SCAN_DONE;
			f.scan_done = &done;
			r = put(&out, &f);
		}
		nsn_scan_free(scan);
		if (r >= 0 && fflush(out.f) != 0)
			r = -errno;
		if (r >= 0 && k < scans) {
			char line[64];

			printf("scanned %lu\n", k);
			fflush(stdout);
			if (!fgets(line, sizeof(line), stdin))
				break;
		}
	}
	nsn_pb_arena_free(arena);
	nsn_sync_free(sync);
	nsn_cache_free(cache);
	if (out.f != stdout && fclose(out.f) != 0 && r >= 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "nsn-record: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
