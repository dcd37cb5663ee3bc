/* SPDX-License-Identifier: MIT */
/* Protocol counters of one namespace: /proc/thread-self/net/snmp, netstat and snmp6,
 * opened by a worker thread while inside the namespace (never /proc/self/net, which
 * is the namespace of the process's main thread), named as nstat names them:
 * "Tcp: ActiveOpens" becomes TcpActiveOpens, "TcpExt: ListenOverflows"
 * TcpExtListenOverflows, snmp6's lines are already whole names.
 *
 * The names are the same few hundred strings in every namespace, so they are interned
 * once per process instead of copied into each namespace's arena. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static char **intern_tab;  /* open addressing, power-of-two size */
static size_t intern_cap, intern_n;

static size_t hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static const char *intern(const char *s, size_t n)
{
	const char *r = NULL;

	pthread_mutex_lock(&intern_lock);
	if (intern_n * 2 >= intern_cap) {
		size_t ncap = intern_cap ? intern_cap * 2 : 1024;
		char **nt = calloc(ncap, sizeof(*nt));
		if (!nt)
			goto out;
		for (size_t i = 0; i < intern_cap; i++) {
			if (!intern_tab[i])
				continue;
			size_t k = hash(intern_tab[i], strlen(intern_tab[i])) & (ncap - 1);
			while (nt[k])
				k = (k + 1) & (ncap - 1);
			nt[k] = intern_tab[i];
		}
		free(intern_tab);
		intern_tab = nt;
		intern_cap = ncap;
	}
	size_t k = hash(s, n) & (intern_cap - 1);
	while (intern_tab[k]) {
		if (strncmp(intern_tab[k], s, n) == 0 && intern_tab[k][n] == '\0') {
			r = intern_tab[k];
			goto out;
		}
		k = (k + 1) & (intern_cap - 1);
	}
	intern_tab[k] = strndup(s, n);
	if (intern_tab[k]) {
		intern_n++;
		r = intern_tab[k];
	}
out:
	pthread_mutex_unlock(&intern_lock);
	return r;
}

static int push(struct nsn_netns *ns, const char *prefix, size_t plen, const char *name,
		size_t nlen, const char *val, size_t vlen)
{
	struct nsn__netns_priv *p = nsn__priv(ns);
	char full[128], num[32];
	char *end;

	if (plen + nlen >= sizeof(full) || vlen == 0 || vlen >= sizeof(num))
		return -EINVAL;
	memcpy(full, prefix, plen);
	memcpy(full + plen, name, nlen);
	memcpy(num, val, vlen);
	num[vlen] = '\0';
	errno = 0;
	/* Counters are unsigned 64-bit; a few gauges print -1 (TcpMaxConn). */
	long long v = num[0] == '-' ? strtoll(num, &end, 10) : (long long)strtoull(num, &end, 10);
	if (*end || errno)
		return -EINVAL;
	if (ns->n_counters == p->cap_counters) {
		size_t cap = p->cap_counters ? p->cap_counters * 2 : 512;
		struct nsn_counter *c = realloc(ns->counters, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		ns->counters = c;
		p->cap_counters = cap;
	}
	const char *s = intern(full, plen + nlen);
	if (!s)
		return -ENOMEM;
	ns->counters[ns->n_counters].name = s;
	ns->counters[ns->n_counters].value = v;
	ns->n_counters++;
	return 0;
}

/* The next whitespace-separated token of [*p, end) on the current line. */
static bool token(const char **p, const char *eol, const char **ret, size_t *ret_len)
{
	const char *s = *p;

	while (s < eol && (*s == ' ' || *s == '\t'))
		s++;
	if (s == eol)
		return false;
	const char *e = s;
	while (e < eol && *e != ' ' && *e != '\t')
		e++;
	*ret = s;
	*ret_len = (size_t)(e - s);
	*p = e;
	return true;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

int nsn__snmp_parse(const char *buf, size_t len, bool paired, struct nsn_netns *ns)
{
	const char *p = buf, *end = buf + len;
	int r;

	while (p < end) {
		const char *eol = line_end(p, end);

		if (!paired) {
			const char *name, *val;
			size_t nl, vl;
			const char *q = p;
			if (token(&q, eol, &name, &nl)) {
				if (!token(&q, eol, &val, &vl))
					return -EINVAL;
				r = push(ns, "", 0, name, nl, val, vl);
				if (r < 0)
					return r;
			}
			p = eol + 1;
			continue;
		}
		/* "Prefix: Name Name ..." then "Prefix: value value ...". */
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon) {
			p = eol + 1;
			continue;
		}
		const char *vline = eol + 1;
		if (vline >= end)
			return -EINVAL;
		const char *veol = line_end(vline, end);
		size_t plen = (size_t)(colon - p);
		if ((size_t)(veol - vline) <= plen || memcmp(vline, p, plen) != 0 || vline[plen] != ':')
			return -EINVAL;
		const char *nq = colon + 1, *vq = vline + plen + 1;
		const char *name, *val;
		size_t nl, vl;
		while (token(&nq, eol, &name, &nl)) {
			if (!token(&vq, veol, &val, &vl))
				return -EINVAL;
			r = push(ns, p, plen, name, nl, val, vl);
			if (r < 0)
				return r;
		}
		p = veol + 1;
	}
	return 0;
}

/* Read a whole /proc file; these are a few kilobytes. */
static int slurp(int fd, char **ret, size_t *ret_len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

int nsn__snmp_read(int fd_snmp, int fd_netstat, int fd_snmp6, struct nsn_netns *ns)
{
	const int fds[3] = {fd_snmp, fd_netstat, fd_snmp6};
	int r = 0;

	for (int i = 0; i < 3; i++) {
		char *buf = NULL;
		size_t len = 0;

		if (fds[i] < 0)
			continue;
		if (r == 0) {
			r = slurp(fds[i], &buf, &len);
			if (r == 0) {
				r = nsn__snmp_parse(buf, len, i < 2, ns);
				free(buf);
			}
		}
		close(fds[i]);
	}
	return r;
}
