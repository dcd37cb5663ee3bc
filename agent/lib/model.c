/* SPDX-License-Identifier: MIT */
/* The record model: names of states and protocols, namespace records, the arena that
 * holds their strings, and freeing a scan. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

struct nsn__arena_chunk {
	struct nsn__arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

/* Most namespaces hold a handful of names and paths: start small (a host of 1000
 * namespaces paid 4 MB for 4 KiB first chunks), then double up to 16 KiB. */
#define ARENA_FIRST 256
#define ARENA_MAX 16384

void *nsn__arena_alloc(struct nsn__arena *a, size_t size)
{
	struct nsn__arena_chunk *c = a->head;

	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->size - c->used < size) {
		size_t cap = c ? (c->size * 2 < ARENA_MAX ? c->size * 2 : ARENA_MAX) : ARENA_FIRST;
		if (cap < size)
			cap = size;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->size = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

char *nsn__arena_strndup(struct nsn__arena *a, const char *s, size_t n)
{
	char *p = nsn__arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void nsn__arena_release(struct nsn__arena *a)
{
	struct nsn__arena_chunk *c = a->head;

	while (c) {
		struct nsn__arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

double nsn__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *const state_names[NSN_SS_MAX] = {
	[NSN_SS_UNKNOWN] = "UNKNOWN",      [NSN_SS_ESTABLISHED] = "ESTAB",
	[NSN_SS_SYN_SENT] = "SYN-SENT",    [NSN_SS_SYN_RECV] = "SYN-RECV",
	[NSN_SS_FIN_WAIT1] = "FIN-WAIT-1", [NSN_SS_FIN_WAIT2] = "FIN-WAIT-2",
	[NSN_SS_TIME_WAIT] = "TIME-WAIT",  [NSN_SS_CLOSE] = "UNCONN",
	[NSN_SS_CLOSE_WAIT] = "CLOSE-WAIT", [NSN_SS_LAST_ACK] = "LAST-ACK",
	[NSN_SS_LISTEN] = "LISTEN",        [NSN_SS_CLOSING] = "CLOSING",
};

const char *nsn_state_name(unsigned state)
{
	return state < NSN_SS_MAX ? state_names[state] : "UNKNOWN";
}

const char *nsn_proto_name(unsigned proto)
{
	static const char *const names[NSN_PROTO_MAX] = {"tcp", "udp", "raw", "unix"};

	return proto < NSN_PROTO_MAX ? names[proto] : "?";
}

const char *nsn_sock_netid(const struct nsn_sock *s)
{
	if (s->proto != NSN_PROTO_UNIX)
		return nsn_proto_name(s->proto);
	switch (s->type) {
	case SOCK_STREAM:
		return "u_str";
	case SOCK_DGRAM:
		return "u_dgr";
	case SOCK_SEQPACKET:
		return "u_seq";
	default:
		return "u_???";
	}
}

const char *nsn_netns_label(const struct nsn_netns *ns, char *buf, size_t len)
{
	if (ns->n_names > 0)
		return ns->names[0];
	if (ns->host)
		return "host";
	snprintf(buf, len, "%llu", (unsigned long long)ns->inode);
	return buf;
}

struct nsn_netns *nsn__netns_new(uint64_t dev, uint64_t inode)
{
	struct nsn_netns *ns = calloc(1, sizeof(*ns) + sizeof(struct nsn__netns_priv));

	if (!ns)
		return NULL;
	ns->dev = dev;
	ns->inode = inode;
	ns->priv = ns + 1;
	return ns;
}

void nsn__netns_free(struct nsn_netns *ns)
{
	if (!ns)
		return;
	nsn__arena_release(&nsn__priv(ns)->arena);
	free(ns->names);
	free(ns->socks);
	free(ns->routes);
	free(ns->rules);
	free(ns->links);
	free(ns->counters);
	free(ns->containers);
	free(ns);
}

int nsn__netns_add_name(struct nsn_netns *ns, const char *name)
{
	struct nsn__netns_priv *p = nsn__priv(ns);

	for (size_t i = 0; i < ns->n_names; i++)
		if (strcmp(ns->names[i], name) == 0)
			return 0;
	if (ns->n_names + 1 >= p->cap_names) {
		size_t cap = p->cap_names ? p->cap_names * 2 : 4;
		char **n = realloc(ns->names, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ns->names = n;
		p->cap_names = cap;
	}
	char *copy = nsn__arena_strndup(&p->arena, name, strlen(name));
	if (!copy)
		return -ENOMEM;
	ns->names[ns->n_names++] = copy;
	ns->names[ns->n_names] = NULL;
	return 0;
}

void nsn__netns_add_path(struct nsn_netns *ns, const char *path, int prefer)
{
	struct nsn__netns_priv *p = nsn__priv(ns);
	const char *copy;

	for (size_t i = 0; i < p->n_paths; i++)
		if (strcmp(p->paths[i], path) == 0)
			return;
	/* A name outlives any process, so named paths go first; tasks fill what is left. */
	if (p->n_paths == NSN__MAX_PATHS && !prefer)
		return;
	copy = nsn__arena_strndup(&p->arena, path, strlen(path));
	if (!copy)
		return;
	if (prefer) {
		if (p->n_paths == NSN__MAX_PATHS)
			p->n_paths--;
		memmove(&p->paths[1], &p->paths[0], p->n_paths * sizeof(p->paths[0]));
		p->paths[0] = copy;
	} else {
		p->paths[p->n_paths] = copy;
	}
	p->n_paths++;
}

void nsn__netns_trim_socks(struct nsn_netns *ns)
{
	struct nsn__netns_priv *p = nsn__priv(ns);
	struct nsn_sock *n;

	if (ns->n_socks == p->cap_socks || ns->n_socks == 0)
		return;
	n = realloc(ns->socks, ns->n_socks * sizeof(*n));
	if (n) {
		ns->socks = n;
		p->cap_socks = ns->n_socks;
	}
}

struct nsn_sock *nsn__netns_push_sock(struct nsn_netns *ns)
{
	struct nsn__netns_priv *p = nsn__priv(ns);

	if (ns->n_socks == p->cap_socks) {
		size_t cap = p->cap_socks ? p->cap_socks * 2 : 64;
		struct nsn_sock *n = realloc(ns->socks, cap * sizeof(*n));

		if (!n)
			return NULL;
		ns->socks = n;
		p->cap_socks = cap;
	}
	struct nsn_sock *s = &ns->socks[ns->n_socks++];
	memset(s, 0, sizeof(*s));
	return s;
}

int nsn__scan_warn(struct nsn_scan *scan, const char *fmt, ...)
{
	char **w = realloc(scan->warnings, (scan->n_warnings + 2) * sizeof(*w));
	va_list ap;
	int r;

	if (!w)
		return -ENOMEM;
	scan->warnings = w;
	va_start(ap, fmt);
	r = vasprintf(&w[scan->n_warnings], fmt, ap);
	va_end(ap);
	if (r < 0) {
		w[scan->n_warnings] = NULL;
		return -ENOMEM;
	}
	w[++scan->n_warnings] = NULL;
	return 0;
}

bool nsn__pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

void nsn_scan_free(struct nsn_scan *scan)
{
	if (!scan)
		return;
	for (size_t i = 0; i < scan->n_netns + scan->n_netns_hidden; i++)
		nsn__netns_free(scan->netns[i]);
	free(scan->netns);
	for (size_t i = 0; i < scan->n_warnings; i++)
		free(scan->warnings[i]);
	free(scan->warnings);
	nsn__procmap_free(scan->procs);
	for (size_t i = 0; i < scan->n_containers; i++)
		free(scan->containers[i]);
	free(scan->containers);
	nsn_scan_free(scan->context);
	free(scan);
}
