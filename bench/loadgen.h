/* SPDX-License-Identifier: MIT */
/*
 * nsn-loadgen's parts: the recording it replays (loadgen-rec.c) and its measuring
 * helpers (loadgen-util.c). The load generator itself is loadgen.c.
 */
#ifndef NSN_BENCH_LOADGEN_H
#define NSN_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "codec.h"

/* ---- the recording (loadgen-rec.c) ----------------------------------------------- */

struct rec_frame {
	size_t off, len; /* in rec->data, length prefix included */
	int body;	 /* NSNET__V1__FRAME__BODY_* */
};

/* One scan after the full resync: frames [first, first + n), contiguous on the wire,
 * the last one its ScanDone. */
struct rec_scan {
	size_t first, n;
	size_t off, bytes;
	uint64_t added, removed, changed; /* sockets */
	uint64_t snapshots, gone;
	uint64_t sockets; /* its ScanDone's: the node's sockets after it */
};

/* One agent session as nsnet-agent --output wrote it, checked and indexed. */
struct recording {
	uint8_t *data;
	size_t size;
	struct rec_frame *frames;
	size_t n_frames;
	NsnFrame *hello;     /* unpacked, rewritten per node */
	NsnFrame *last_done; /* the last complete scan's ScanDone, the template of heartbeats */
	size_t full_end;     /* frames [1, full_end) are the full resync */
	size_t full_off, full_bytes;
	uint64_t full_sockets, full_namespaces;
	uint64_t full_done_sockets; /* what its ScanDone(full) says */
	struct rec_scan *scans;	    /* complete scans only */
	size_t n_scans;
	uint64_t delta_added, delta_removed, delta_changed, delta_bytes;
	uint32_t interval_ms;
	unsigned rare_port; /* a local port few established TCP sockets have (%PORT%) */
	unsigned rare_count;
	char first_ns[128]; /* a namespace name of the recording (%NS%) */
};

/* Load and check @p path: the first frame an agent's Hello, seq 1, 2, 3, ..., a full
 * resync that ends with ScanDone(full), then scans that each end with a ScanDone (a
 * scan cut short at the end is dropped). Returns 0, or -errno with one line in @p err. */
int nsn__rec_load(const char *path, struct recording *rec, char *err, size_t err_len);

/* Free what nsn__rec_load() allocated. */
void nsn__rec_release(struct recording *rec);

/* Read a whole file into a new buffer (one byte more, not counted, for a NUL). */
int nsn__read_file(const char *path, uint8_t **ret, size_t *ret_len);

/* ---- measuring (loadgen-util.c) ---------------------------------------------------- */

double nsn__now_s(void);     /* CLOCK_MONOTONIC seconds */
uint64_t nsn__wall_ms(void); /* Unix epoch milliseconds */
double nsn__self_cpu_s(void);

/* 2000000 -> "2,000,000" into @p buf (at least 32 bytes); returns @p buf. */
const char *nsn__thousands(uint64_t v, char *buf);

/* The q-quantile (0..1) of @p v, which is sorted in place; 0 for an empty set. */
double nsn__quantile(double *v, size_t n, double q);

/* utime+stime of a process in seconds, or -1. */
double nsn__proc_cpu_s(pid_t pid);

/* A "Vm*:" line of /proc/PID/status (VmRSS, VmHWM) in KiB, or -1. */
long nsn__proc_status_kb(pid_t pid, const char *key);

/* One blocking scrape of http://HOST:PORT/metrics (10 s at most): how long it took,
 * its size, and nsnet_collector_store_bytes and nsnet_collector_sockets (-1 when
 * absent). Returns 0 or -errno. */
int nsn__metrics_scrape(const char *addr, double *ret_ms, size_t *ret_bytes, double *ret_store,
			double *ret_sockets);

/* Protobuf fields of [*p, end) walked without unpacking: 1 with the field number, the
 * varint (or length) and, for a length-delimited field, its bytes; 0 at the end;
 * -EBADMSG. */
int nsn__pb_next(const uint8_t **p, const uint8_t *end, uint32_t *ret_field, uint64_t *ret_v,
		 const uint8_t **ret_data, size_t *ret_len);

/* How many times field @p which occurs in a message. */
uint64_t nsn__pb_count(const uint8_t *p, const uint8_t *end, uint32_t which);

/* The first string field @p which of a message, copied into @p buf ("" if none). */
void nsn__pb_string(const uint8_t *p, const uint8_t *end, uint32_t which, char *buf, size_t size);

#endif
