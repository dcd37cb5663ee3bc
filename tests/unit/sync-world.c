/* SPDX-License-Identifier: MIT */
/* The synthetic world test-sync.c scans: namespaces, sockets, links and counters as the
 * gatherer would find them, the scan built from them, and the random mutations of the
 * walk. See sync-world.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nsnet/gather.h>

#include "internal.h"
#include "sync-world.h"
#include "tap.h"

/* ---- a world to scan: what the gatherer would find, changed between scans ------- */

const char *const ctr_names[MAX_CTRS] = {
    "IpForwarding",   "IpInReceives",	 "IpOutRequests",	  "IcmpInMsgs",
    "TcpActiveOpens", "TcpPassiveOpens", "TcpCurrEstab",	  "TcpMaxConn",
    "UdpInDatagrams", "UdpOutDatagrams", "TcpExtListenOverflows", "TcpExtTCPTimeouts",
    "IpExtInOctets",  "Ip6InReceives",	 "Ip6OutRequests",	  "Udp6InDatagrams"};

#define ID_A "3f1a9c0b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
#define ID_B "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define ID_C "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct nsn_container conts[N_CONT] = {
    {.id = ID_A,
     .runtime = "containerd",
     .name = "api",
     .sandbox_id = ID_B,
     .pod_uid = "5b0a0c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
     .pod_name = "api-7f9c",
     .pod_namespace = "payments",
     .bundle = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID_A},
    {.id = ID_B,
     .runtime = "containerd",
     .sandbox = true,
     .sandbox_id = ID_B,
     .pod_uid = "5b0a0c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
     .pod_name = "api-7f9c",
     .pod_namespace = "payments"},
    {.id = ID_C, .runtime = "podman", .name = "db"},
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

unsigned pick(struct world *w, unsigned n)
{
	return (unsigned)(xorshift(&w->rng) % n);
}

void w_init(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->next_cookie = 100;
	w->next_ns = 1;
	w->next_inode = 50000;
	w->rng = seed;
	w->shuffle = seed * 7 + 1;
}

void w_free(struct world *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->ns[i].socks);
}

/* Host first, then by first name. */
struct wns *w_ns(struct world *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if ((w->ns[i].host && !strcmp(name, "host")) ||
		    (w->ns[i].n_names && !strcmp(w->ns[i].names[0], name)))
			return &w->ns[i];
	TAP_FAIL("no namespace %s in the world", name);
	abort();
}

/* A namespace with lo, its default routes and rules and three counters. */
struct wns *w_add_ns(struct world *w, const char *name, bool cookie)
{
	struct wns *ns;
	uint64_t k = w->next_ns++;

	if (w->n == MAX_NS)
		abort();
	ns = &w->ns[w->n++];
	memset(ns, 0, sizeof(*ns));
	ns->cookie = cookie ? 8192 + k : 0;
	ns->dev = 4;
	ns->inode = 4026532000u + k;
	if (name) {
		snprintf(ns->names[0], sizeof(ns->names[0]), "%s", name);
		ns->n_names = 1;
	}
	ns->pid = (int)(1000 + k);
	ns->npids = 1;
	ns->routes_v = 1;
	ns->rules_v = 1;
	ns->links[ns->n_links++] =
	    (struct wlink){.ifindex = 1, .mtu = 65536, .rx_bytes = 10, .n_addrs = 1};
	for (size_t i = 0; i < 3; i++)
		ns->ctrs[ns->n_ctrs++] = (struct wctr){ctr_names[i], (int64_t)(k * 10 + i)};
	return ns;
}

void w_remove_ns(struct world *w, struct wns *ns)
{
	size_t i = (size_t)(ns - w->ns);

	free(ns->socks);
	memmove(ns, ns + 1, (w->n - i - 1) * sizeof(*ns));
	w->n--;
}

static struct wsock *w_push_sock(struct wns *ns)
{
	if (ns->n_socks == ns->cap_socks) {
		ns->cap_socks = ns->cap_socks ? ns->cap_socks * 2 : 16;
		ns->socks = realloc(ns->socks, ns->cap_socks * sizeof(*ns->socks));
		if (!ns->socks)
			abort();
	}
	return &ns->socks[ns->n_socks++];
}

struct wsock *w_add_sock(struct world *w, struct wns *ns, uint8_t proto, bool cookie)
{
	struct wsock *s = w_push_sock(ns);
	uint64_t c = w->next_cookie++;

	*s = (struct wsock){.cookie = cookie ? c : 0,
			    .inode = w->next_inode++,
			    .port = (uint16_t)(1024 + c % 60000),
			    .proto = proto,
			    .nprocs = 1,
			    .info = proto == NSN_PROTO_TCP};
	s->state = proto == NSN_PROTO_TCP    ? NSN_SS_ESTABLISHED
		   : proto == NSN_PROTO_UNIX ? NSN_SS_LISTEN
					     : NSN_SS_CLOSE;
	return s;
}

void w_remove_sock(struct wns *ns, size_t i)
{
	memmove(&ns->socks[i], &ns->socks[i + 1], (ns->n_socks - i - 1) * sizeof(*ns->socks));
	ns->n_socks--;
}

/* The same socket seen twice, as one moving during a dump can be: same cookie and inode,
 * another state. */
void w_dup_sock(struct wns *ns, size_t i)
{
	struct wsock *s = w_push_sock(ns);

	*s = ns->socks[i];
	s->state = s->state == NSN_SS_CLOSE ? NSN_SS_ESTABLISHED : NSN_SS_CLOSE;
}

struct wlink *w_add_link(struct wns *ns, uint32_t ifindex, uint64_t peer_cookie)
{
	size_t i = 0;

	if (ns->n_links == MAX_LINKS)
		abort();
	while (i < ns->n_links && ns->links[i].ifindex < ifindex)
		i++;
	memmove(&ns->links[i + 1], &ns->links[i], (ns->n_links - i) * sizeof(ns->links[0]));
	ns->n_links++;
	ns->links[i] = (struct wlink){.ifindex = ifindex,
				      .mtu = 1500,
				      .rx_bytes = ifindex * 1000ull,
				      .peer_cookie = peer_cookie,
				      .n_addrs = 2};
	return &ns->links[i];
}

void w_remove_link(struct wns *ns, uint32_t ifindex)
{
	for (size_t i = 0; i < ns->n_links; i++) {
		if (ns->links[i].ifindex == ifindex) {
			memmove(&ns->links[i], &ns->links[i + 1],
				(ns->n_links - i - 1) * sizeof(ns->links[0]));
			ns->n_links--;
			return;
		}
	}
	abort();
}

size_t w_ctr_find(const struct wns *ns, const char *name)
{
	for (size_t i = 0; i < ns->n_ctrs; i++)
		if (!strcmp(ns->ctrs[i].name, name))
			return i;
	return SIZE_MAX;
}

/* ---- the scan the gatherer would return ------------------------------------------ */

static char *astr(struct nsn_netns *ns, const char *s)
{
	return nsn__arena_strndup(&nsn__priv(ns)->arena, s, strlen(s));
}

static void *azalloc(struct nsn_netns *ns, size_t size)
{
	void *p = nsn__arena_alloc(&nsn__priv(ns)->arena, size);

	if (!p)
		abort();
	memset(p, 0, size);
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

static void build_sock(struct nsn_netns *ns, const struct wsock *ws)
{
	struct nsn_sock *s = nsn__netns_push_sock(ns);
	char path[40];

	if (!s)
		abort();
	*s = (struct nsn_sock){.proto = ws->proto,
			       .state = ws->state,
			       .v6only = -1,
			       .recv_q = ws->recv_q,
			       .send_q = ws->send_q,
			       .uid = ws->inode ? 1000 : UINT32_MAX,
			       .inode = ws->inode,
			       .cookie = ws->cookie};
	switch (ws->proto) {
	case NSN_PROTO_TCP:
		s->family = ws->port & 1 ? AF_INET6 : AF_INET;
		s->type = SOCK_STREAM;
		if (s->family == AF_INET6)
			s->v6only = 0;
		break;
	case NSN_PROTO_UDP:
		s->family = AF_INET;
		s->type = SOCK_DGRAM;
		break;
	case NSN_PROTO_RAW:
		s->family = AF_INET;
		s->type = SOCK_RAW;
		break;
	default:
		s->family = AF_UNIX;
		s->type = SOCK_STREAM;
		break;
	}
	if (s->family == AF_UNIX) {
		snprintf(path, sizeof(path), "/run/nsn-%u.sock", ws->port);
		s->path = astr(ns, path);
		s->peer_inode = ws->inode ? ws->inode + 1 : 0;
		return;
	}
	s->local = (struct nsn_endpoint){{10, 0, (uint8_t)(ws->port >> 8), (uint8_t)ws->port},
					 ws->proto == NSN_PROTO_RAW ? 1 : ws->port};
	if (ws->state == NSN_SS_ESTABLISHED)
		s->peer = (struct nsn_endpoint){{10, 9, 8, 7}, 443};
	if (ws->info && ws->proto == NSN_PROTO_TCP) {
		struct nsn_tcp_info *ti = azalloc(ns, sizeof(*ti));
		struct nsn_skmem *sk = azalloc(ns, sizeof(*sk));

		memcpy(ti->cong, "cubic", 6);
		ti->rtt_us = 100 + ws->recv_q;
		ti->snd_cwnd = 10;
		ti->bytes_acked = 1ull << 33;
		ti->snd_wscale = 7;
		sk->rmem_alloc = ws->recv_q;
		sk->sndbuf = 87040;
		s->tcp_info = ti;
		s->skmem = sk;
	}
}

static struct nsn_netns *build_ns(struct nsn_scan *scan, const struct wns *w)
{
	struct nsn_netns *ns = nsn__netns_new(w->dev, w->inode);
	char buf[32];

	if (!ns)
		abort();
	ns->cookie = w->cookie;
	ns->host = w->host;
	ns->current = w->current;
	ns->pid = w->pid;
	ns->n_pids = (size_t)w->npids;
	ns->err = w->err;
	for (int i = 0; i < w->n_names; i++)
		if (nsn__netns_add_name(ns, w->names[i]) < 0)
			abort();
	for (size_t i = 0; i < w->n_socks; i++) {
		const struct wsock *ws = &w->socks[i];

		build_sock(ns, ws);
		for (unsigned k = 0; ws->inode && k < ws->nprocs; k++) {
			size_t c = (ws->inode + k) % (N_CONT + 1);

			if (nsn__procmap_add(scan->procs, ws->inode,
					     (pid_t)(2000 + ws->inode % 5000 + ws->proc_v * 7u + k),
					     (int)(3 + k), k ? "worker" : "server",
					     c < N_CONT ? scan->containers[c] : NULL) < 0)
				abort();
		}
	}

	ns->routes = xcalloc(w->routes_v % 4, sizeof(*ns->routes));
	for (size_t i = 0; i < w->routes_v % 4; i++) {
		struct nsn_route *r = &ns->routes[ns->n_routes++];

		*r = (struct nsn_route){.family = AF_INET,
					.type = 1,
					.protocol = 4,
					.dst_len = 24,
					.has_dst = true,
					.has_metric = true,
					.table = 254,
					.metric = w->routes_v * 10 + (uint32_t)i,
					.dst = {10, (uint8_t)w->routes_v, (uint8_t)i, 0}};
		r->nh = azalloc(ns, sizeof(*r->nh));
		r->nh[0] = (struct nsn_nexthop){.ifindex = 1};
		r->nh[0].dev = astr(ns, "lo");
		r->n_nh = 1;
	}
	ns->rules = xcalloc(w->rules_v % 3, sizeof(*ns->rules));
	for (size_t i = 0; i < w->rules_v % 3; i++)
		ns->rules[ns->n_rules++] =
		    (struct nsn_rule){.family = AF_INET,
				      .action = 1,
				      .has_priority = true,
				      .priority = 100 + w->rules_v + (uint32_t)i,
				      .table = 254 + (uint32_t)i};
	ns->containers = xcalloc(N_CONT, sizeof(*ns->containers));
	for (size_t i = 0; i < N_CONT; i++)
		if (w->cont_v & (1u << i))
			ns->containers[ns->n_containers++] = (struct nsn_netns_container){
			    scan->containers[i], (pid_t)(300 + i), 1 + i};
	ns->links = xcalloc(w->n_links, sizeof(*ns->links));
	for (size_t i = 0; i < w->n_links; i++) {
		const struct wlink *wl = &w->links[i];
		struct nsn_link *l = &ns->links[ns->n_links++];

		*l = (struct nsn_link){.ifindex = wl->ifindex,
				       .mtu = wl->mtu,
				       .flags = 0x11043,
				       .operstate = 6,
				       .arptype = 1,
				       .mac_len = 6,
				       .mac = {2, 0x42, 0, 0, 0, (uint8_t)wl->ifindex},
				       .txqlen = 1000,
				       .link_netnsid = -1,
				       .has_stats = wl->rx_bytes != 0};
		if (wl->ifindex == 1)
			snprintf(buf, sizeof(buf), "lo");
		else
			snprintf(buf, sizeof(buf), "eth%u", wl->ifindex);
		l->name = astr(ns, buf);
		l->qdisc = astr(ns, "noqueue");
		l->stats.rx_bytes = wl->rx_bytes;
		l->stats.tx_packets = wl->rx_bytes / 3;
		if (wl->peer_cookie) {
			l->kind = astr(ns, "veth");
			l->has_peer = true;
			l->link_netnsid = 0;
			l->peer =
			    (struct nsn_link_peer){.ifindex = 100 + wl->ifindex, .netnsid = 0};
			l->peer.name = astr(ns, "peer0");
		}
		l->addrs = azalloc(ns, (wl->n_addrs + 1) * sizeof(*l->addrs));
		for (size_t k = 0; k < wl->n_addrs; k++)
			l->addrs[l->n_addrs++] = (struct nsn_addr){
			    .family = AF_INET,
			    .prefixlen = 24,
			    .local = {10, (uint8_t)wl->ifindex, 0, (uint8_t)(k + 1)}};
	}
	ns->counters = xcalloc(w->n_ctrs, sizeof(*ns->counters));
	for (size_t i = 0; i < w->n_ctrs; i++)
		ns->counters[ns->n_counters++] =
		    (struct nsn_counter){w->ctrs[i].name, w->ctrs[i].value};
	return ns;
}

/* A scan of the world, its namespaces in an order of the world's choosing (the
 * tracker must not depend on it). */
struct nsn_scan *build(struct world *w)
{
	struct nsn_scan *scan = xcalloc(1, sizeof(*scan));

	scan->containers = xcalloc(N_CONT, sizeof(*scan->containers));
	for (size_t i = 0; i < N_CONT; i++) {
		scan->containers[i] = malloc(sizeof(struct nsn_container));
		if (!scan->containers[i])
			abort();
		*scan->containers[i] = conts[i];
		scan->n_containers++;
	}
	scan->procs = nsn__procmap_new();
	scan->netns = xcalloc(w->n, sizeof(*scan->netns));
	if (!scan->procs)
		abort();
	for (size_t i = 0; i < w->n; i++)
		scan->netns[scan->n_netns++] = build_ns(scan, &w->ns[i]);
	/* veth peers: the namespace with the cookie, when the scan has it */
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->ns[i].n_links; k++)
			for (size_t j = 0; w->ns[i].links[k].peer_cookie && j < w->n; j++)
				if (w->ns[j].cookie == w->ns[i].links[k].peer_cookie)
					scan->netns[i]->links[k].peer.netns = scan->netns[j];
	if (nsn__procmap_seal(scan->procs) < 0)
		abort();
	for (size_t i = scan->n_netns; i > 1; i--) {
		size_t j = (size_t)(xorshift(&w->shuffle) % i);
		struct nsn_netns *t = scan->netns[i - 1];

		scan->netns[i - 1] = scan->netns[j];
		scan->netns[j] = t;
	}
	return scan;
}

/* What the agent skips: a namespace that vanished before it could be entered. */
bool skipped(const struct nsn_netns *ns)
{
	return ns->err == -ENOENT && ns->cookie == 0;
}

/* ---- a random walk ------------------------------------------------------------ */

static const uint8_t states[NSN_PROTO_MAX][3] = {
    [NSN_PROTO_TCP] = {NSN_SS_LISTEN, NSN_SS_SYN_RECV, NSN_SS_TIME_WAIT},
    [NSN_PROTO_UDP] = {NSN_SS_CLOSE, NSN_SS_ESTABLISHED, NSN_SS_CLOSE},
    [NSN_PROTO_RAW] = {NSN_SS_CLOSE, NSN_SS_ESTABLISHED, NSN_SS_CLOSE},
    [NSN_PROTO_UNIX] = {NSN_SS_LISTEN, NSN_SS_ESTABLISHED, NSN_SS_CLOSE},
};

void random_sock(struct world *w, struct wns *ns)
{
	uint8_t proto = (uint8_t)pick(w, NSN_PROTO_MAX);
	struct wsock *s = w_add_sock(w, ns, proto, true);

	s->nprocs = (uint8_t)pick(w, 3);
	s->recv_q = pick(w, 2) ? pick(w, 1000) : 0;
	if (pick(w, 3) == 0)
		s->state = states[proto][pick(w, 3)];
}

static uint64_t random_cookie(struct world *w)
{
	const struct wns *ns = &w->ns[pick(w, (unsigned)w->n)];

	return pick(w, 3) ? ns->cookie : 0;
}

void random_ns(struct world *w)
{
	char name[16];
	struct wns *ns;

	snprintf(name, sizeof(name), "ns%llu", (unsigned long long)w->next_ns);
	ns = w_add_ns(w, pick(w, 4) ? name : NULL, pick(w, 8) != 0);
	for (unsigned i = pick(w, 30); i > 0; i--)
		random_sock(w, ns);
	ns->routes_v = pick(w, 8);
	ns->rules_v = pick(w, 8);
	ns->cont_v = pick(w, 8);
	if (pick(w, 2))
		w_add_link(ns, 2 + pick(w, 3), random_cookie(w));
}

void mutate(struct world *w)
{
	struct wns *ns = &w->ns[pick(w, (unsigned)w->n)];
	struct wsock *s = ns->n_socks ? &ns->socks[pick(w, (unsigned)ns->n_socks)] : NULL;
	struct wlink *l = ns->n_links ? &ns->links[pick(w, (unsigned)ns->n_links)] : NULL;

	switch (pick(w, 24)) {
	case 0:
		if (w->n < MAX_NS)
			random_ns(w);
		break;
	case 1:
		if (!ns->host && w->n > 4)
			w_remove_ns(w, ns);
		break;
	case 2:
	case 3:
		for (unsigned i = 1 + pick(w, 4); i > 0; i--)
			random_sock(w, ns);
		break;
	case 4:
	case 5:
		for (unsigned i = 1 + pick(w, 3); i > 0 && ns->n_socks; i--)
			w_remove_sock(ns, pick(w, (unsigned)ns->n_socks));
		break;
	case 6:
	case 7:
	case 8:
		for (unsigned i = 1 + pick(w, 3); i > 0 && ns->n_socks; i--) {
			s = &ns->socks[pick(w, (unsigned)ns->n_socks)];
			switch (pick(w, 6)) {
			case 0: s->state = states[s->proto][pick(w, 3)]; break;
			case 1: s->recv_q = pick(w, 5000); break;
			case 2: s->send_q++; break;
			case 3: s->nprocs = (uint8_t)pick(w, 3); break;
			case 4: s->proc_v++; break;
			default: s->info = !s->info; break;
			}
		}
		break;
	case 9:
		if (s && s->cookie && pick(w, 2))
			w_dup_sock(ns, (size_t)(s - ns->socks));
		break;
	case 10: ns->routes_v = pick(w, 8); break;
	case 11: ns->rules_v = pick(w, 8); break;
	case 12: ns->cont_v = pick(w, 8); break;
	case 13:
		switch (pick(w, 5)) {
		case 0: ns->pid++; break;
		case 1: ns->npids = (int)pick(w, 10); break;
		case 2:
			if (ns->n_names == 1) {
				snprintf(ns->names[1], sizeof(ns->names[1]), "alias%u",
					 pick(w, 100));
				ns->n_names = 2;
			} else if (ns->n_names == 2) {
				ns->n_names = 1;
			}
			break;
		case 3: ns->err = ns->err ? 0 : -EPERM; break;
		default: ns->current = !ns->current; break;
		}
		break;
	case 14:
		if (ns->n_links < MAX_LINKS) {
			uint32_t ifindex = 2 + pick(w, 40);
			bool taken = false;

			for (size_t i = 0; i < ns->n_links; i++)
				taken |= ns->links[i].ifindex == ifindex;
			if (!taken)
				w_add_link(ns, ifindex, random_cookie(w));
		}
		break;
	case 15:
		if (l)
			w_remove_link(ns, l->ifindex);
		break;
	case 16:
		if (!l)
			break;
		switch (pick(w, 4)) {
		case 0: l->mtu = 1280 + pick(w, 8000); break;
		case 1: l->rx_bytes = pick(w, 3) ? l->rx_bytes + pick(w, 10000) : 0; break;
		case 2: l->n_addrs = (uint8_t)pick(w, 3); break;
		default: l->peer_cookie = random_cookie(w); break;
		}
		break;
	case 17:
		for (size_t i = 0; i < ns->n_ctrs; i++)
			if (pick(w, 2))
				ns->ctrs[i].value += pick(w, 100);
		break;
	case 18:
		if (ns->n_ctrs && pick(w, 2)) {
			size_t i = pick(w, (unsigned)ns->n_ctrs);

			memmove(&ns->ctrs[i], &ns->ctrs[i + 1],
				(ns->n_ctrs - i - 1) * sizeof(ns->ctrs[0]));
			ns->n_ctrs--;
		} else {
			const char *name = ctr_names[pick(w, MAX_CTRS)];

			if (w_ctr_find(ns, name) == SIZE_MAX)
				ns->ctrs[ns->n_ctrs++] =
				    (struct wctr){name, (int64_t)pick(w, 1000)};
		}
		break;
	case 19:
		/* vanishes before its dump */
		if (!ns->host && w->n > 4 && pick(w, 2)) {
			ns->cookie = 0;
			ns->err = -ENOENT;
			ns->n_socks = ns->n_links = ns->n_ctrs = 0;
		}
		break;
	case 20:
		/* a raw socket read from /proc/net/raw */
		if (pick(w, 2))
			w_add_sock(w, ns, NSN_PROTO_RAW, false)->state =
			    states[NSN_PROTO_RAW][pick(w, 3)];
		break;
	case 21:
	case 22:
		/* cookies are keys again: no socket without one, none twice */
		for (size_t i = ns->n_socks; i-- > 0;) {
			bool again = false;

			for (size_t k = 0; k < i; k++)
				again |= ns->socks[k].cookie == ns->socks[i].cookie;
			if (!ns->socks[i].cookie || again)
				w_remove_sock(ns, i);
		}
		break;
	default: break; /* a quiet namespace */
	}
}
