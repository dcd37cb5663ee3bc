/* SPDX-License-Identifier: MIT */
/*
 * nsn-loadgen's measuring helpers: clocks, /proc of the collector, one /metrics
 * scrape, and a protobuf walker for answers too large to unpack just to count them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

double nsn__now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t nsn__wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 2000000 -> "2,000,000" into @p buf (at least 32 bytes). */
const char *nsn__thousands(uint64_t v, char *buf)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of @p v, sorted in place; 0 for an empty set. */
double nsn__quantile(double *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)ceil(q * (double)n);
	if (i > 0)
		i--;
	return v[i < n ? i : n - 1];
}

/* utime+stime of a process in seconds, or -1. */
double nsn__proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields count from the last ')'. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS (or another "Vm*" line) of a process in KiB, or -1. */
long nsn__proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

double nsn__self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The gauges of one line of the exposition, if it is one of them. */
static void metrics_line(const char *line, double *ret_store, double *ret_socks)
{
	if (!strncmp(line, "nsnet_collector_store_bytes ", 28))
		*ret_store = strtod(line + 28, NULL);
	else if (!strncmp(line, "nsnet_collector_sockets ", 24))
		*ret_socks = strtod(line + 24, NULL);
}

int nsn__metrics_scrape(const char *addr, double *ret_ms, size_t *ret_bytes, double *ret_store,
			double *ret_socks)
{
	/* Read in pieces, line by line: a cluster's exposition is tens of MB, and holding
	 * it would make this process's peak RSS (which a spawned nsnetstat's ru_maxrss
	 * starts from) that large. */
	char host[256], *colon, req[320], buf[65536 + 1];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	size_t have = 0, total = 0;
	double t0 = nsn__now_s();
	int fd = -1, r = -EIO;

	*ret_store = *ret_socks = -1;
	snprintf(host, sizeof(host), "%s", addr);
	colon = strrchr(host, ':');
	if (!colon)
		goto out;
	*colon = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		goto out;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto out;
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
		 addr);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		char *line, *nl;
		ssize_t k;

		if (poll(&p, 1, 10000) <= 0)
			goto out;
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: not one of ours */
		k = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		total += (size_t)k;
		have += (size_t)k;
		buf[have] = '\0';
		for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = '\0';
			metrics_line(line, ret_store, ret_socks);
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	buf[have] = '\0';
	metrics_line(buf, ret_store, ret_socks);
	*ret_ms = (nsn__now_s() - t0) * 1e3;
	*ret_bytes = total;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return r;
}

/* One protobuf field of [*p, end): 1 with it in the ret_*, 0 at the end, -EBADMSG. */
int nsn__pb_next(const uint8_t **p, const uint8_t *end, uint32_t *ret_field, uint64_t *ret_v,
		 const uint8_t **ret_data, size_t *ret_len)
{
	uint64_t key = 0, v = 0;
	unsigned shift = 0;

	if (*p >= end)
		return 0;
	do {
		if (*p >= end || shift > 63)
			return -EBADMSG;
		key |= (uint64_t)(**p & 0x7f) << shift;
		shift += 7;
	} while (*(*p)++ & 0x80);
	*ret_field = (uint32_t)(key >> 3);
	switch (key & 7) {
	case 0:
	case 2:
		shift = 0;
		do {
			if (*p >= end || shift > 63)
				return -EBADMSG;
			v |= (uint64_t)(**p & 0x7f) << shift;
			shift += 7;
		} while (*(*p)++ & 0x80);
		*ret_v = v;
		if ((key & 7) == 2) {
			if (v > (uint64_t)(end - *p))
				return -EBADMSG;
			*ret_data = *p;
			*ret_len = (size_t)v;
			*p += v;
		}
		return 1;
	case 1:
	case 5: {
		size_t w = (key & 7) == 1 ? 8 : 4;

		if ((size_t)(end - *p) < w)
			return -EBADMSG;
		*p += w;
		return 1;
	}
	default: return -EBADMSG;
	}
}

uint64_t nsn__pb_count(const uint8_t *p, const uint8_t *end, uint32_t which)
{
	const uint8_t *d;
	uint64_t n = 0, v;
	uint32_t field;
	size_t len;

	while (nsn__pb_next(&p, end, &field, &v, &d, &len) > 0)
		if (field == which)
			n++;
	return n;
}

/* The string field @p which of a message, copied into @p buf. */
void nsn__pb_string(const uint8_t *p, const uint8_t *end, uint32_t which, char *buf, size_t size)
{
	const uint8_t *d = NULL;
	uint32_t field;
	uint64_t v;
	size_t len = 0;

	buf[0] = '\0';
	while (nsn__pb_next(&p, end, &field, &v, &d, &len) > 0)
		if (field == which) {
			snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1),
				 (const char *)d);
			return;
		}
}
