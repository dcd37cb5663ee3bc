/* SPDX-License-Identifier: MIT */
/*
 * Addresses and ports as ss (iproute2 6.1) writes them; see inet_addr_print() and
 * resolve_service() in misc/ss.c, which this file follows case by case.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nsnet/format.h>

/*
 * Service names, looked up once per (protocol, port). getservbyport() reads
 * /etc/services from the top on every call, which would dominate a table of 100k
 * sockets; the set of distinct ports is small, so an open-addressing table filled on
 * demand is enough. Misses are cached too. The table is process-global and not
 * locked: formatting happens on one thread (see the header). It is never freed; it
 * stays reachable from these statics until exit.
 */
struct svc_entry {
	uint32_t key;  /* 0: empty; else 1 << 17 | proto << 16 | port */
	char *name;    /* NULL: no service for this port */
};

static struct {
	struct svc_entry *tab;
	size_t cap, used;
	int eph_min, eph_max; /* eph_min 0: not read yet */
} svc;

static size_t svc_slot(uint32_t key, size_t cap)
{
	return (size_t)((key * 2654435761u) & (cap - 1));
}

static int svc_grow(void)
{
	size_t cap = svc.cap ? svc.cap * 2 : 256;
	struct svc_entry *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -1;
	for (size_t i = 0; i < svc.cap; i++) {
		size_t j;

		if (!svc.tab[i].key)
			continue;
		for (j = svc_slot(svc.tab[i].key, cap); tab[j].key; j = (j + 1) & (cap - 1))
			;
		tab[j] = svc.tab[i];
	}
	free(svc.tab);
	svc.tab = tab;
	svc.cap = cap;
	return 0;
}

/*
 * ss never names ports in the local ephemeral range ("/etc/services contains so much
 * of useless crap ... allocated to this area"), reading the range the same way and
 * falling back to the same 1024-4999 when it cannot.
 */
static bool is_ephemeral(unsigned port)
{
	if (!svc.eph_min) {
		FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");

		if (!f || fscanf(f, "%d %d", &svc.eph_min, &svc.eph_max) != 2 ||
		    svc.eph_min <= 0) {
			svc.eph_min = 1024;
			svc.eph_max = 4999;
		}
		if (f)
			fclose(f);
	}
	return (int)port >= svc.eph_min && (int)port <= svc.eph_max;
}

/* The service name of a tcp/udp port, or NULL. @p tmp holds the answer when the
 * cache cannot take it. */
static const char *svc_name(unsigned proto, uint16_t port, char *tmp, size_t tmplen)
{
	const char *pname = proto == NSN_PROTO_TCP ? "tcp" : "udp";
	uint32_t key = 1u << 17 | (uint32_t)proto << 16 | port;
	struct servent se, *res = NULL;
	char buf[1024];
	size_t j = 0;
	char *name;

	if (svc.cap) {
		for (j = svc_slot(key, svc.cap); svc.tab[j].key; j = (j + 1) & (svc.cap - 1))
			if (svc.tab[j].key == key)
				return svc.tab[j].name;
	}

	if (!is_ephemeral(port) &&
	    getservbyport_r(htons(port), pname, &se, buf, sizeof(buf), &res) != 0)
		res = NULL;

	if ((svc.used + 1) * 2 > svc.cap) {
		if (svc_grow() < 0)
			goto uncached;
		for (j = svc_slot(key, svc.cap); svc.tab[j].key; j = (j + 1) & (svc.cap - 1))
			;
	}
	name = NULL;
	if (res) {
		name = strdup(res->s_name);
		if (!name)
			goto uncached;
	}
	svc.tab[j] = (struct svc_entry){.key = key, .name = name};
	svc.used++;
	return name;

uncached:
	if (!res)
		return NULL;
	snprintf(tmp, tmplen, "%s", res->s_name);
	return tmp;
}

const char *nsn_fmt_addr(char *buf, size_t len, int family, const uint8_t *addr)
{
	if (!buf || !addr || (family != AF_INET && family != AF_INET6))
		return "?";
	if (!inet_ntop(family, addr, buf, (socklen_t)(len > 65535 ? 65535 : len)))
		return "?";
	return buf;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* The appenders: nsn_fmt_endpoint() and the table call them twice per socket, and at 100k
 * sockets snprintf's parsing (and glibc's inet_ntop for IPv4, a sprintf) dominated. */
size_t nsn_fmt_put(char *buf, size_t len, size_t at, const char *s)
{
	size_t n = strlen(s);

	if (n > len - 1 - at)
		n = len - 1 - at;
	memcpy(buf + at, s, n);
	buf[at + n] = '\0';
	return at + n;
}

size_t nsn_fmt_put_u64(char *buf, size_t len, size_t at, unsigned long long v, unsigned base)
{
	char t[24];
	size_t n = 0;

	do {
		t[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n && at < len - 1)
		buf[at++] = t[--n];
	buf[at] = '\0';
	return at;
}

const char *nsn_fmt_endpoint(char *buf, size_t len, const struct nsn_sock *s,
			     const struct nsn_endpoint *ep, bool numeric)
{
	char ntop[INET6_ADDRSTRLEN], portbuf[64];
	const char *port = NULL;
	size_t at = 0;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	if (!s || !ep) {
		nsn_fmt_put(buf, len, 0, "*:*");
		return buf;
	}

	if (s->family == AF_INET6) {
		/* A dual-stack wildcard is "*"; only a v6only one is shown as "[::]". */
		if (s->v6only != 1 && all_zero(ep->addr, 16)) {
			at = nsn_fmt_put(buf, len, at, "*");
		} else {
			at = nsn_fmt_put(buf, len, at, "[");
			at = nsn_fmt_put(buf, len, at, nsn_fmt_addr(ntop, sizeof(ntop), AF_INET6, ep->addr));
			at = nsn_fmt_put(buf, len, at, "]");
		}
	} else if (s->family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i)
				at = nsn_fmt_put(buf, len, at, ".");
			at = nsn_fmt_put_u64(buf, len, at, ep->addr[i], 10);
		}
	} else {
		at = nsn_fmt_put(buf, len, at, nsn_fmt_addr(ntop, sizeof(ntop), s->family, ep->addr));
	}

	/* ss appends the bound device to the local address only, and names an index it
	 * cannot resolve "if<N>" (iproute2's ll_index_to_name()). */
	if (ep == &s->local) {
		if (s->dev) {
			at = nsn_fmt_put(buf, len, at, "%");
			at = nsn_fmt_put(buf, len, at, s->dev);
		} else if (s->ifindex) {
			at = nsn_fmt_put(buf, len, at, "%if");
			at = nsn_fmt_put_u64(buf, len, at, s->ifindex, 10);
		}
	}
	at = nsn_fmt_put(buf, len, at, ":");

	/* Raw sockets keep the protocol number even without -n (ss would name it). */
	if (ep->port == 0)
		port = "*";
	else if (!numeric && (s->proto == NSN_PROTO_TCP || s->proto == NSN_PROTO_UDP))
		port = svc_name(s->proto, ep->port, portbuf, sizeof(portbuf));
	if (port)
		nsn_fmt_put(buf, len, at, port);
	else
		nsn_fmt_put_u64(buf, len, at, ep->port, 10);
	return buf;
}

const char *nsn_fmt_unix_path(const struct nsn_sock *s)
{
	return s && s->path && s->path[0] ? s->path : "*";
}
