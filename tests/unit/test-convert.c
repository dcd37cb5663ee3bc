/* SPDX-License-Identifier: MIT */
/* The record model to nsnet.v1 and back (encode.c, decode.c): a hand-built scan with
 * every field set and a real scan of the current namespace go through bytes and come
 * back equal; malformed snapshots are refused; the arena releases what it gave. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nsnet/gather.h>

#include "convert.h"
#include "internal.h"
#include "tap.h"

#define ID_API	 "3f1a9c0b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
#define ID_PAUSE "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define ID_DB	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- comparison ---------------------------------------------------------------- */

#define ASSERT_BYTES(a, b, n) ASSERT_TRUE(memcmp((a), (b), (n)) == 0)

static size_t alen(unsigned family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static void cmp_container(const struct nsn_container *a, const struct nsn_container *b)
{
	ASSERT_TRUE(!a == !b);
	if (!a || !b)
		return;
	ASSERT_SAME_STR(a->id, b->id);
	ASSERT_SAME_STR(a->runtime, b->runtime);
	ASSERT_SAME_STR(a->name, b->name);
	ASSERT_EQ(a->sandbox, b->sandbox);
	ASSERT_SAME_STR(a->sandbox_id, b->sandbox_id);
	ASSERT_SAME_STR(a->pod_uid, b->pod_uid);
	ASSERT_SAME_STR(a->pod_name, b->pod_name);
	ASSERT_SAME_STR(a->pod_namespace, b->pod_namespace);
	ASSERT_SAME_STR(a->bundle, b->bundle);
}

static void cmp_tcp_info(const struct nsn_tcp_info *a, const struct nsn_tcp_info *b)
{
	ASSERT_TRUE(!a == !b);
	if (!a || !b)
		return;
	ASSERT_SAME_STR(a->cong, b->cong);
	ASSERT_EQ(a->rtt_us, b->rtt_us);
	ASSERT_EQ(a->rttvar_us, b->rttvar_us);
	ASSERT_EQ(a->rto_us, b->rto_us);
	ASSERT_EQ(a->snd_cwnd, b->snd_cwnd);
	ASSERT_EQ(a->snd_ssthresh, b->snd_ssthresh);
	ASSERT_EQ(a->snd_mss, b->snd_mss);
	ASSERT_EQ(a->rcv_mss, b->rcv_mss);
	ASSERT_EQ(a->retrans, b->retrans);
	ASSERT_EQ(a->total_retrans, b->total_retrans);
	ASSERT_EQ(a->last_data_sent_ms, b->last_data_sent_ms);
	ASSERT_EQ(a->last_data_recv_ms, b->last_data_recv_ms);
	ASSERT_EQ(a->last_ack_recv_ms, b->last_ack_recv_ms);
	ASSERT_EQ(a->bytes_acked, b->bytes_acked);
	ASSERT_EQ(a->bytes_received, b->bytes_received);
	ASSERT_EQ(a->bytes_sent, b->bytes_sent);
	ASSERT_EQ(a->bytes_retrans, b->bytes_retrans);
	ASSERT_EQ(a->delivery_rate, b->delivery_rate);
	ASSERT_EQ(a->snd_wscale, b->snd_wscale);
	ASSERT_EQ(a->rcv_wscale, b->rcv_wscale);
}

static void cmp_skmem(const struct nsn_skmem *a, const struct nsn_skmem *b)
{
	ASSERT_TRUE(!a == !b);
	if (!a || !b)
		return;
	ASSERT_EQ(a->rmem_alloc, b->rmem_alloc);
	ASSERT_EQ(a->rcvbuf, b->rcvbuf);
	ASSERT_EQ(a->wmem_alloc, b->wmem_alloc);
	ASSERT_EQ(a->sndbuf, b->sndbuf);
	ASSERT_EQ(a->fwd_alloc, b->fwd_alloc);
	ASSERT_EQ(a->wmem_queued, b->wmem_queued);
	ASSERT_EQ(a->optmem, b->optmem);
	ASSERT_EQ(a->backlog, b->backlog);
	ASSERT_EQ(a->drops, b->drops);
}

static void cmp_sock(const struct nsn_scan *sa, const struct nsn_sock *a, const struct nsn_scan *sb,
		     const struct nsn_sock *b)
{
	const struct nsn_proc_ref *ra, *rb;
	size_t na, nb;

	ASSERT_EQ(a->proto, b->proto);
	ASSERT_EQ(a->family, b->family);
	ASSERT_EQ(a->state, b->state);
	ASSERT_EQ(a->type, b->type);
	ASSERT_EQ(a->v6only, b->v6only);
	ASSERT_EQ(a->recv_q, b->recv_q);
	ASSERT_EQ(a->send_q, b->send_q);
	ASSERT_EQ(a->uid, b->uid);
	ASSERT_EQ(a->inode, b->inode);
	ASSERT_EQ(a->ifindex, b->ifindex);
	ASSERT_EQ(a->cookie, b->cookie);
	ASSERT_BYTES(a->local.addr, b->local.addr, alen(a->family));
	ASSERT_EQ(a->local.port, b->local.port);
	ASSERT_BYTES(a->peer.addr, b->peer.addr, alen(a->family));
	ASSERT_EQ(a->peer.port, b->peer.port);
	ASSERT_EQ(a->peer_inode, b->peer_inode);
	ASSERT_SAME_STR(a->path, b->path);
	ASSERT_SAME_STR(a->dev, b->dev);
	cmp_tcp_info(a->tcp_info, b->tcp_info);
	cmp_skmem(a->skmem, b->skmem);

	na = nsn_procmap_lookup(sa->procs, a->inode, &ra);
	nb = nsn_procmap_lookup(sb->procs, b->inode, &rb);
	ASSERT_EQ(na, nb);
	for (size_t i = 0; i < na && i < nb; i++) {
		ASSERT_EQ(ra[i].pid, rb[i].pid);
		ASSERT_EQ(ra[i].fd, rb[i].fd);
		ASSERT_SAME_STR(ra[i].comm, rb[i].comm);
		cmp_container(ra[i].container, rb[i].container);
	}
}

static void cmp_route(const struct nsn_route *a, const struct nsn_route *b)
{
	ASSERT_EQ(a->family, b->family);
	ASSERT_EQ(a->type, b->type);
	ASSERT_EQ(a->protocol, b->protocol);
	ASSERT_EQ(a->scope, b->scope);
	ASSERT_EQ(a->tos, b->tos);
	ASSERT_EQ(a->dst_len, b->dst_len);
	ASSERT_EQ(a->src_len, b->src_len);
	ASSERT_EQ(a->pref, b->pref);
	ASSERT_EQ(a->has_dst, b->has_dst);
	ASSERT_EQ(a->has_src, b->has_src);
	ASSERT_EQ(a->has_prefsrc, b->has_prefsrc);
	ASSERT_EQ(a->has_metric, b->has_metric);
	ASSERT_EQ(a->table, b->table);
	ASSERT_EQ(a->metric, b->metric);
	ASSERT_EQ(a->flags, b->flags);
	ASSERT_EQ(a->mtu, b->mtu);
	ASSERT_EQ(a->advmss, b->advmss);
	ASSERT_EQ(a->hoplimit, b->hoplimit);
	ASSERT_EQ(a->metrics_locked, b->metrics_locked);
	ASSERT_EQ(a->expires, b->expires);
	/* Bytes of an absent address are not sent: only present ones must match. */
	if (a->has_dst)
		ASSERT_BYTES(a->dst, b->dst, alen(a->family));
	if (a->has_src)
		ASSERT_BYTES(a->src, b->src, alen(a->family));
	if (a->has_prefsrc)
		ASSERT_BYTES(a->prefsrc, b->prefsrc, alen(a->family));
	ASSERT_EQ(a->multipath, b->multipath);
	ASSERT_EQ(a->n_nh, b->n_nh);
	for (size_t i = 0; i < a->n_nh && i < b->n_nh; i++) {
		ASSERT_EQ(a->nh[i].gw_family, b->nh[i].gw_family);
		ASSERT_BYTES(a->nh[i].gateway, b->nh[i].gateway, alen(a->nh[i].gw_family));
		ASSERT_EQ(a->nh[i].weight, b->nh[i].weight);
		ASSERT_EQ(a->nh[i].flags, b->nh[i].flags);
		ASSERT_EQ(a->nh[i].ifindex, b->nh[i].ifindex);
		ASSERT_SAME_STR(a->nh[i].dev, b->nh[i].dev);
	}
}

static void cmp_rule(const struct nsn_rule *a, const struct nsn_rule *b)
{
	ASSERT_EQ(a->family, b->family);
	ASSERT_EQ(a->action, b->action);
	ASSERT_EQ(a->src_len, b->src_len);
	ASSERT_EQ(a->dst_len, b->dst_len);
	ASSERT_EQ(a->tos, b->tos);
	ASSERT_EQ(a->protocol, b->protocol);
	ASSERT_EQ(a->has_src, b->has_src);
	ASSERT_EQ(a->has_dst, b->has_dst);
	ASSERT_EQ(a->has_priority, b->has_priority);
	ASSERT_EQ(a->has_fwmark, b->has_fwmark);
	ASSERT_EQ(a->has_fwmask, b->has_fwmask);
	ASSERT_EQ(a->invert, b->invert);
	ASSERT_EQ(a->priority, b->priority);
	ASSERT_EQ(a->table, b->table);
	ASSERT_EQ(a->fwmark, b->fwmark);
	ASSERT_EQ(a->fwmask, b->fwmask);
	ASSERT_EQ(a->goto_target, b->goto_target);
	ASSERT_EQ(a->flags, b->flags);
	if (a->has_src)
		ASSERT_BYTES(a->src, b->src, alen(a->family));
	if (a->has_dst)
		ASSERT_BYTES(a->dst, b->dst, alen(a->family));
	ASSERT_SAME_STR(a->iif, b->iif);
	ASSERT_SAME_STR(a->oif, b->oif);
}

static void cmp_addr(const struct nsn_addr *a, const struct nsn_addr *b)
{
	ASSERT_EQ(a->family, b->family);
	ASSERT_EQ(a->prefixlen, b->prefixlen);
	ASSERT_EQ(a->scope, b->scope);
	ASSERT_EQ(a->has_peer, b->has_peer);
	ASSERT_EQ(a->has_broadcast, b->has_broadcast);
	ASSERT_EQ(a->flags, b->flags);
	ASSERT_EQ(a->valid_lft, b->valid_lft);
	ASSERT_EQ(a->preferred_lft, b->preferred_lft);
	ASSERT_BYTES(a->local, b->local, alen(a->family));
	if (a->has_peer)
		ASSERT_BYTES(a->peer, b->peer, alen(a->family));
	if (a->has_broadcast)
		ASSERT_BYTES(a->broadcast, b->broadcast, alen(a->family));
	ASSERT_SAME_STR(a->label, b->label);
}

static ptrdiff_t ns_index(const struct nsn_scan *s, const struct nsn_netns *ns)
{
	for (size_t i = 0; i < s->n_netns; i++)
		if (s->netns[i] == ns)
			return (ptrdiff_t)i;
	return -1;
}

static void cmp_link(const struct nsn_scan *sa, const struct nsn_link *a, const struct nsn_scan *sb,
		     const struct nsn_link *b)
{
	ASSERT_EQ(a->ifindex, b->ifindex);
	ASSERT_SAME_STR(a->name, b->name);
	ASSERT_SAME_STR(a->kind, b->kind);
	ASSERT_EQ(a->mtu, b->mtu);
	ASSERT_EQ(a->flags, b->flags);
	ASSERT_EQ(a->operstate, b->operstate);
	ASSERT_EQ(a->arptype, b->arptype);
	ASSERT_EQ(a->mac_len, b->mac_len);
	ASSERT_BYTES(a->mac, b->mac, a->mac_len);
	ASSERT_EQ(a->txqlen, b->txqlen);
	ASSERT_EQ(a->master, b->master);
	ASSERT_EQ(a->link, b->link);
	ASSERT_EQ(a->link_netnsid, b->link_netnsid);
	ASSERT_SAME_STR(a->qdisc, b->qdisc);
	ASSERT_EQ(a->has_stats, b->has_stats);
	if (a->has_stats)
		ASSERT_BYTES(&a->stats, &b->stats, sizeof(a->stats));
	ASSERT_EQ(a->has_peer, b->has_peer);
	if (a->has_peer) {
		ASSERT_EQ(a->peer.ifindex, b->peer.ifindex);
		ASSERT_EQ(a->peer.netnsid, b->peer.netnsid);
		ASSERT_SAME_STR(a->peer.name, b->peer.name);
		/* The peer's namespace is the decoded one at the same position. */
		ASSERT_TRUE(!a->peer.netns == !b->peer.netns);
		ASSERT_EQ(ns_index(sa, a->peer.netns), ns_index(sb, b->peer.netns));
	}
	ASSERT_EQ(a->n_addrs, b->n_addrs);
	for (size_t i = 0; i < a->n_addrs && i < b->n_addrs; i++)
		cmp_addr(&a->addrs[i], &b->addrs[i]);
}

static void cmp_netns(const struct nsn_scan *sa, const struct nsn_netns *a,
		      const struct nsn_scan *sb, const struct nsn_netns *b)
{
	ASSERT_EQ(a->dev, b->dev);
	ASSERT_EQ(a->inode, b->inode);
	ASSERT_EQ(a->cookie, b->cookie);
	ASSERT_EQ(a->host, b->host);
	ASSERT_EQ(a->current, b->current);
	ASSERT_EQ(a->n_names, b->n_names);
	for (size_t i = 0; i < a->n_names && i < b->n_names; i++)
		ASSERT_SAME_STR(a->names[i], b->names[i]);
	if (b->n_names)
		ASSERT_TRUE(b->names[b->n_names] == NULL);
	ASSERT_EQ(a->pid, b->pid);
	ASSERT_EQ(a->n_pids, b->n_pids);
	ASSERT_EQ(a->err, b->err);
	ASSERT_EQ(a->n_socks, b->n_socks);
	for (size_t i = 0; i < a->n_socks && i < b->n_socks; i++)
		cmp_sock(sa, &a->socks[i], sb, &b->socks[i]);
	ASSERT_EQ(a->n_routes, b->n_routes);
	for (size_t i = 0; i < a->n_routes && i < b->n_routes; i++)
		cmp_route(&a->routes[i], &b->routes[i]);
	ASSERT_EQ(a->n_rules, b->n_rules);
	for (size_t i = 0; i < a->n_rules && i < b->n_rules; i++)
		cmp_rule(&a->rules[i], &b->rules[i]);
	ASSERT_EQ(a->n_links, b->n_links);
	for (size_t i = 0; i < a->n_links && i < b->n_links; i++)
		cmp_link(sa, &a->links[i], sb, &b->links[i]);
	ASSERT_EQ(a->n_counters, b->n_counters);
	for (size_t i = 0; i < a->n_counters && i < b->n_counters; i++) {
		ASSERT_SAME_STR(a->counters[i].name, b->counters[i].name);
		ASSERT_EQ(a->counters[i].value, b->counters[i].value);
	}
	ASSERT_EQ(a->n_containers, b->n_containers);
	for (size_t i = 0; i < a->n_containers && i < b->n_containers; i++) {
		cmp_container(a->containers[i].c, b->containers[i].c);
		ASSERT_EQ(a->containers[i].pid, b->containers[i].pid);
		ASSERT_EQ(a->containers[i].n_pids, b->containers[i].n_pids);
	}
}

static const struct nsn_container *find_container(const struct nsn_scan *s, const char *id)
{
	for (size_t i = 0; i < s->n_containers; i++)
		if (strcmp(s->containers[i]->id, id) == 0)
			return s->containers[i];
	return NULL;
}

static void cmp_scan(const struct nsn_scan *a, const struct nsn_scan *b)
{
	ASSERT_EQ(a->n_netns, b->n_netns);
	for (size_t i = 0; i < a->n_netns && i < b->n_netns; i++)
		cmp_netns(a, a->netns[i], b, b->netns[i]);
	ASSERT_EQ(a->n_containers, b->n_containers);
	for (size_t i = 0; i < a->n_containers; i++)
		cmp_container(a->containers[i], find_container(b, a->containers[i]->id));
	ASSERT_EQ(a->procs == NULL, b->procs == NULL);
}

/* ---- through bytes -------------------------------------------------------------- */

/* Encode every namespace of @p scan, pack each snapshot, unpack it, decode them all. */
static int round_trip(const struct nsn_scan *scan, struct nsn_scan **ret)
{
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	Nsnet__V1__NamespaceSnapshot **in = calloc(scan->n_netns + 1, sizeof(*in));
	size_t n = 0;
	int r = -ENOMEM;

	*ret = NULL;
	if (!a || !in)
		goto out;
	for (; n < scan->n_netns; n++) {
		Nsnet__V1__NamespaceSnapshot *m;
		r = nsn_pb_encode_netns(a, scan, scan->netns[n], NSN_PB_ALL, &m);
		ASSERT_EQ(r, 0);
		if (r < 0)
			goto out;
		size_t len = nsnet__v1__namespace_snapshot__get_packed_size(m);
		uint8_t *buf = malloc(len ? len : 1);
		ASSERT_TRUE(buf != NULL);
		if (!buf)
			goto out;
		ASSERT_EQ(nsnet__v1__namespace_snapshot__pack(m, buf), len);
		in[n] = nsnet__v1__namespace_snapshot__unpack(NULL, len, buf);
		free(buf);
		ASSERT_TRUE(in[n] != NULL);
		if (!in[n]) {
			r = -EBADMSG;
			goto out;
		}
	}
	/* The scan is decoded from unpacked messages only: nothing points into the arena. */
	nsn_pb_arena_free(a);
	a = NULL;
	r = nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)in, n, ret);
out:
	for (size_t i = 0; i < n; i++)
		nsnet__v1__namespace_snapshot__free_unpacked(in[i], NULL);
	free(in);
	nsn_pb_arena_free(a);
	return r;
}

/* ---- a scan with every field set ------------------------------------------------ */

static char *astr(struct nsn_netns *ns, const char *s)
{
	return nsn__arena_strndup(&nsn__priv(ns)->arena, s, strlen(s));
}

static void *azalloc(struct nsn_netns *ns, size_t size)
{
	void *p = nsn__arena_alloc(&nsn__priv(ns)->arena, size);

	memset(p, 0, size);
	return p;
}

/* scan->containers entries are free()d one by one: one allocation, literal strings. */
static struct nsn_container *container_dup(const struct nsn_container *c)
{
	struct nsn_container *o = malloc(sizeof(*o));

	*o = *c;
	return o;
}

static struct nsn_scan *synthetic(void)
{
	static const struct nsn_container api = {
	    .id = ID_API,
	    .runtime = "containerd",
	    .name = "api",
	    .sandbox_id = ID_PAUSE,
	    .pod_uid = "5b0a0c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
	    .pod_name = "api-7f9c",
	    .pod_namespace = "payments",
	    .bundle = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID_API};
	static const struct nsn_container pause_ = {.id = ID_PAUSE,
						    .runtime = "containerd",
						    .sandbox = true,
						    .sandbox_id = ID_PAUSE,
						    .pod_uid =
							"5b0a0c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b",
						    .pod_name = "api-7f9c",
						    .pod_namespace = "payments"};
	static const struct nsn_container db = {.id = ID_DB, .runtime = "podman", .name = "db"};
	struct nsn_scan *scan = calloc(1, sizeof(*scan));
	struct nsn_netns *h = nsn__netns_new(4, 4026531840u), *b = nsn__netns_new(4, 4026532999u);
	struct nsn_sock *s;

	scan->netns = calloc(2, sizeof(*scan->netns));
	scan->netns[scan->n_netns++] = h;
	scan->netns[scan->n_netns++] = b;
	scan->containers = calloc(3, sizeof(*scan->containers));
	scan->containers[0] = container_dup(&api);
	scan->containers[1] = container_dup(&pause_);
	scan->containers[2] = container_dup(&db);
	scan->n_containers = 3;
	scan->attr.containers = 3;

	h->cookie = 1;
	h->host = true;
	h->current = true;
	h->pid = 1;
	h->n_pids = 212;
	b->cookie = 8193;
	nsn__netns_add_name(b, "blue");
	nsn__netns_add_name(b, "/var/run/docker/netns/1a2b3c");
	b->pid = 4242;
	b->n_pids = 3;

	/* Host: the db container runs with host networking. */
	h->containers = calloc(1, sizeof(*h->containers));
	h->containers[h->n_containers++] =
	    (struct nsn_netns_container){scan->containers[2], 3100, 2};
	b->containers = calloc(2, sizeof(*b->containers));
	b->containers[b->n_containers++] =
	    (struct nsn_netns_container){scan->containers[1], 4242, 1};
	b->containers[b->n_containers++] =
	    (struct nsn_netns_container){scan->containers[0], 4250, 2};

	/* tcp4 established, with tcp_info, skmem and two holders */
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET,
			       .state = NSN_SS_ESTABLISHED,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .recv_q = 7,
			       .send_q = 1448,
			       .uid = 1000,
			       .inode = 55001,
			       .cookie = 0x123456789abcull,
			       .local = {{10, 0, 0, 1}, 44321},
			       .peer = {{93, 184, 216, 34}, 443}};
	struct nsn_tcp_info *ti = azalloc(h, sizeof(*ti));
	*ti = (struct nsn_tcp_info){
	    "cubic", 20500, 3000, 204000,     10,    2147483647u,     1448, 536,     1, 17,
	    12,	     34,    56,	  1ull << 40, 98765, 123456789012ull, 4096, 1250000, 7, 9};
	s->tcp_info = ti;
	struct nsn_skmem *sk = azalloc(h, sizeof(*sk));
	*sk = (struct nsn_skmem){1, 131072, 3, 87040, 5, 6, 7, 8, 9};
	s->skmem = sk;
	/* tcp6 listen, bound to a device */
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET6,
			       .state = NSN_SS_LISTEN,
			       .type = SOCK_STREAM,
			       .v6only = 1,
			       .send_q = 4096,
			       .uid = 0,
			       .inode = 55002,
			       .ifindex = 2,
			       .cookie = 77,
			       .local = {{0xfe, 0x80, [15] = 1}, 22}};
	s->dev = astr(h, "veth0");
	/* TIME-WAIT: no inode, no owner */
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET,
			       .state = NSN_SS_TIME_WAIT,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .uid = UINT32_MAX,
			       .cookie = 78,
			       .local = {{127, 0, 0, 1}, 8080},
			       .peer = {{127, 0, 0, 1}, 51000}};
	/* udp, raw */
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_UDP,
			       .family = AF_INET6,
			       .state = NSN_SS_CLOSE,
			       .type = SOCK_DGRAM,
			       .v6only = 0,
			       .inode = 55003,
			       .cookie = 79,
			       .local = {{0}, 53}};
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_RAW,
			       .family = AF_INET,
			       .state = NSN_SS_CLOSE,
			       .type = SOCK_RAW,
			       .v6only = -1,
			       .inode = 55004,
			       .cookie = 80,
			       .local = {{0}, 1}};
	/* unix: a path, an abstract name, an unnamed peer */
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_UNIX,
			       .family = AF_UNIX,
			       .state = NSN_SS_LISTEN,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .inode = 55005,
			       .cookie = 81};
	s->path = astr(h, "/run/systemd/journal/stdout");
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_UNIX,
			       .family = AF_UNIX,
			       .state = NSN_SS_ESTABLISHED,
			       .type = SOCK_SEQPACKET,
			       .v6only = -1,
			       .inode = 55006,
			       .peer_inode = 55007,
			       .cookie = 82};
	s->path = astr(h, "@/tmp/.X11-unix/X0");
	s = nsn__netns_push_sock(h);
	*s = (struct nsn_sock){.proto = NSN_PROTO_UNIX,
			       .family = AF_UNIX,
			       .state = NSN_SS_ESTABLISHED,
			       .type = SOCK_DGRAM,
			       .v6only = -1,
			       .inode = 55007,
			       .peer_inode = 55006,
			       .cookie = 83};
	/* in blue: the api's listener */
	s = nsn__netns_push_sock(b);
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET,
			       .state = NSN_SS_LISTEN,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .send_q = 128,
			       .inode = 66001,
			       .cookie = 90,
			       .local = {{0}, 8080}};

	scan->procs = nsn__procmap_new();
	nsn__procmap_add(scan->procs, 55001, 3100, 7, "postgres", scan->containers[2]);
	nsn__procmap_add(scan->procs, 55001, 3101, 9, "postgres", scan->containers[2]);
	nsn__procmap_add(scan->procs, 55002, 812, 3, "sshd", NULL);
	nsn__procmap_add(scan->procs, 55005, 1, 44, "systemd", NULL);
	nsn__procmap_add(scan->procs, 66001, 4250, 5, "api-server", scan->containers[0]);
	nsn__procmap_add(scan->procs, 99999, 5, 5, "elsewhere",
			 NULL); /* a socket not in the scan */
	nsn__procmap_seal(scan->procs);

	/* Routes: a default route (no dst), a connected one with prefsrc and metrics, an
	 * IPv6 multipath route with an IPv4 gateway (RTA_VIA) and an unreachable one. */
	h->routes = calloc(4, sizeof(*h->routes));
	struct nsn_route *r = &h->routes[h->n_routes++];
	*r = (struct nsn_route){.family = AF_INET,
				.type = 1,
				.protocol = 3,
				.scope = 0,
				.pref = 0xff,
				.has_metric = true,
				.table = 254,
				.metric = 100,
				.expires = 0};
	r->nh = azalloc(h, sizeof(*r->nh));
	r->nh[0] =
	    (struct nsn_nexthop){.gw_family = AF_INET, .gateway = {10, 0, 0, 254}, .ifindex = 2};
	r->nh[0].dev = astr(h, "veth0");
	r->n_nh = 1;
	r = &h->routes[h->n_routes++];
	*r = (struct nsn_route){.family = AF_INET,
				.type = 1,
				.protocol = 2,
				.scope = 253,
				.tos = 0x10,
				.dst_len = 24,
				.src_len = 8,
				.pref = 0xff,
				.has_dst = true,
				.has_src = true,
				.has_prefsrc = true,
				.table = 1000,
				.flags = 0x200,
				.mtu = 1400,
				.advmss = 1360,
				.hoplimit = 64,
				.metrics_locked = 1u << 2,
				.expires = 300,
				.dst = {10, 0, 0, 0},
				.src = {10, 0, 0, 0},
				.prefsrc = {10, 0, 0, 1}};
	r->nh = azalloc(h, sizeof(*r->nh));
	r->nh[0] = (struct nsn_nexthop){.flags = 4, .ifindex = 2};
	r->n_nh = 1;
	r = &h->routes[h->n_routes++];
	*r = (struct nsn_route){.family = AF_INET6,
				.type = 1,
				.protocol = 186,
				.dst_len = 64,
				.pref = 1,
				.has_dst = true,
				.has_metric = true,
				.table = 254,
				.metric = 1024,
				.multipath = true,
				.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 1}};
	r->nh = azalloc(h, 2 * sizeof(*r->nh));
	r->nh[0] = (struct nsn_nexthop){
	    .gw_family = AF_INET6, .gateway = {0xfe, 0x80, [15] = 0xfe}, .weight = 1, .ifindex = 2};
	r->nh[0].dev = astr(h, "veth0");
	r->nh[1] = (struct nsn_nexthop){
	    .gw_family = AF_INET, .gateway = {192, 0, 2, 1}, .weight = 3, .flags = 1, .ifindex = 1};
	r->nh[1].dev = astr(h, "lo");
	r->n_nh = 2;
	r = &h->routes[h->n_routes++];
	*r = (struct nsn_route){.family = AF_INET6,
				.type = 7,
				.protocol = 4,
				.dst_len = 128,
				.pref = 0xff,
				.has_dst = true,
				.table = 255,
				.dst = {0x20, 0x01, 0x0d, 0xb8, [15] = 9}};

	h->rules = calloc(3, sizeof(*h->rules));
	h->rules[h->n_rules++] = (struct nsn_rule){
	    .family = AF_INET, .action = 1, .has_priority = true, .priority = 0, .table = 255};
	h->rules[h->n_rules++] = (struct nsn_rule){.family = AF_INET,
						   .action = 1,
						   .src_len = 16,
						   .dst_len = 24,
						   .tos = 4,
						   .protocol = 4,
						   .has_src = true,
						   .has_dst = true,
						   .has_priority = true,
						   .has_fwmark = true,
						   .has_fwmask = true,
						   .invert = true,
						   .priority = 100,
						   .table = 1000,
						   .fwmark = 0x10,
						   .fwmask = 0xff,
						   .flags = 2,
						   .src = {172, 16},
						   .dst = {10, 1, 2}};
	h->rules[h->n_rules - 1].iif = astr(h, "veth0");
	h->rules[h->n_rules - 1].oif = astr(h, "lo");
	h->rules[h->n_rules++] = (struct nsn_rule){.family = AF_INET6,
						   .action = 2,
						   .dst_len = 48,
						   .has_dst = true,
						   .has_priority = true,
						   .priority = 200,
						   .goto_target = 32766,
						   .dst = {0x20, 0x01, 0x0d, 0xb8}};

	/* Links: lo, and a veth pair across the two namespaces. */
	h->links = calloc(2, sizeof(*h->links));
	struct nsn_link *l = &h->links[h->n_links++];
	*l = (struct nsn_link){.ifindex = 1,
			       .mtu = 65536,
			       .flags = 0x10049,
			       .operstate = 0,
			       .arptype = 772,
			       .mac_len = 6,
			       .txqlen = 1000,
			       .link_netnsid = -1,
			       .has_stats = true};
	l->name = astr(h, "lo");
	l->qdisc = astr(h, "noqueue");
	for (size_t i = 0; i < sizeof(l->stats) / sizeof(uint64_t); i++)
		((uint64_t *)&l->stats)[i] = 1000 + i;
	l->addrs = azalloc(h, 2 * sizeof(*l->addrs));
	l->addrs[0] = (struct nsn_addr){.family = AF_INET,
					.prefixlen = 8,
					.scope = 254,
					.flags = 0x80,
					.valid_lft = UINT32_MAX,
					.preferred_lft = UINT32_MAX,
					.local = {127, 0, 0, 1}};
	l->addrs[0].label = astr(h, "lo");
	l->addrs[1] = (struct nsn_addr){.family = AF_INET6,
					.prefixlen = 128,
					.scope = 254,
					.flags = 0x80,
					.valid_lft = UINT32_MAX,
					.preferred_lft = UINT32_MAX,
					.local = {[15] = 1}};
	l->n_addrs = 2;
	l = &h->links[h->n_links++];
	*l = (struct nsn_link){.ifindex = 2,
			       .mtu = 1500,
			       .flags = 0x11043,
			       .operstate = 6,
			       .arptype = 1,
			       .mac_len = 6,
			       .mac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02},
			       .txqlen = 1000,
			       .master = 5,
			       .link = 3,
			       .link_netnsid = 0,
			       .has_stats = true,
			       .has_peer = true,
			       .peer = {.ifindex = 3, .netnsid = 0}};
	l->name = astr(h, "veth0");
	l->kind = astr(h, "veth");
	l->qdisc = astr(h, "noqueue");
	l->stats.rx_bytes = 1ull << 50;
	l->stats.rx_nohandler = 3;
	l->addrs = azalloc(h, 2 * sizeof(*l->addrs));
	l->addrs[0] = (struct nsn_addr){.family = AF_INET,
					.prefixlen = 24,
					.has_broadcast = true,
					.valid_lft = 3600,
					.preferred_lft = 1800,
					.local = {10, 0, 0, 1},
					.broadcast = {10, 0, 0, 255}};
	l->addrs[0].label = astr(h, "veth0:1");
	l->addrs[1] = (struct nsn_addr){.family = AF_INET,
					.prefixlen = 32,
					.has_peer = true,
					.local = {192, 168, 9, 1},
					.peer = {192, 168, 9, 2}};
	l->n_addrs = 2;

	b->links = calloc(1, sizeof(*b->links));
	l = &b->links[b->n_links++];
	*l = (struct nsn_link){.ifindex = 3,
			       .mtu = 1500,
			       .flags = 0x11043,
			       .operstate = 6,
			       .arptype = 1,
			       .mac_len = 6,
			       .mac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x03},
			       .link = 2,
			       .link_netnsid = 0,
			       .has_peer = true,
			       .peer = {.ifindex = 2, .netnsid = 0}};
	l->name = astr(b, "eth0");
	l->kind = astr(b, "veth");
	h->links[1].peer.name = l->name;
	h->links[1].peer.netns = b;
	l->peer.name = h->links[1].name;
	l->peer.netns = h;

	h->counters = calloc(3, sizeof(*h->counters));
	h->counters[h->n_counters++] = (struct nsn_counter){"IpForwarding", 1};
	h->counters[h->n_counters++] = (struct nsn_counter){"TcpMaxConn", -1};
	h->counters[h->n_counters++] = (struct nsn_counter){"TcpExtListenOverflows", INT64_MAX};
	b->counters = calloc(1, sizeof(*b->counters));
	b->counters[b->n_counters++] = (struct nsn_counter){"Ip6InReceives", 0};
	return scan;
}

TEST(synthetic_round_trip)
{
	struct nsn_scan *scan = synthetic(), *back = NULL;

	ASSERT_EQ(round_trip(scan, &back), 0);
	ASSERT_TRUE(back != NULL);
	if (!back)
		goto out;
	cmp_scan(scan, back);
	/* What the comparison could pass by accident: spot checks of the tricky parts. */
	ASSERT_EQ(back->n_containers, 3);
	ASSERT_EQ(back->attr.containers, 3);
	ASSERT_TRUE(back->netns[1]->links[0].peer.netns == back->netns[0]);
	ASSERT_TRUE(back->netns[0]->links[1].peer.netns == back->netns[1]);
	ASSERT_STREQ(back->netns[0]->socks[6].path, "@/tmp/.X11-unix/X0");
	ASSERT_TRUE(back->netns[0]->socks[2].path == NULL);
	ASSERT_TRUE(!back->netns[0]->routes[0].has_dst && back->netns[0]->routes[1].has_src);
	ASSERT_EQ(back->netns[0]->routes[2].nh[1].gw_family, AF_INET);
	ASSERT_EQ(back->netns[0]->counters[1].value, -1);
	ASSERT_TRUE(back->netns[1]->containers[1].c == find_container(back, ID_API));
	const struct nsn_proc_ref *refs;
	ASSERT_EQ(nsn_procmap_lookup(back->procs, 66001, &refs), 1);
	ASSERT_TRUE(refs && refs[0].container == find_container(back, ID_API));
	ASSERT_EQ(nsn_procmap_lookup(back->procs, 99999, &refs), 0); /* only the scan's sockets */
out:
	nsn_scan_free(back);
	nsn_scan_free(scan);
}

TEST(real_scan_round_trip)
{
	struct nsn_gather_opts opts = {
	    .scope = NSN_SCOPE_CURRENT,
	    .flags = NSN_GATHER_PROCS | NSN_GATHER_INFO | NSN_GATHER_ROUTES | NSN_GATHER_LINKS |
		     NSN_GATHER_COUNTERS,
	    .threads = 1,
	};
	struct nsn_scan *scan = NULL, *back = NULL;
	size_t socks = 0, held = 0;
	bool found_unix = false, found_tcp = false;
	/* Sockets of our own, so that inet, unix and the process map are not left to
	 * whatever the host happens to run. */
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int unx = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "nsn-test-convert-%d", (int)getpid());
	ASSERT_EQ(bind(tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ASSERT_EQ(listen(tcp, 1), 0);
	ASSERT_EQ(bind(unx, (struct sockaddr *)&sun,
		       offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sun.sun_path + 1)),
		  0);
	ASSERT_EQ(listen(unx, 1), 0);

	int r = nsn_gather(&opts, &scan);
	ASSERT_EQ(r, 0);
	if (r < 0)
		goto out;
	ASSERT_EQ(scan->n_netns, 1);
	ASSERT_TRUE(scan->netns[0]->n_links > 0); /* at least lo */
	ASSERT_EQ(round_trip(scan, &back), 0);
	if (back) {
		cmp_scan(scan, back);
		for (size_t i = 0; i < back->n_netns; i++) {
			const struct nsn_netns *ns = back->netns[i];
			for (size_t k = 0; k < ns->n_socks; k++) {
				const struct nsn_proc_ref *refs;
				size_t n =
				    nsn_procmap_lookup(back->procs, ns->socks[k].inode, &refs);
				bool mine = false;
				for (size_t j = 0; j < n; j++)
					mine |= refs[j].pid == getpid();
				held += n > 0;
				socks++;
				if (mine && ns->socks[k].path &&
				    strcmp(ns->socks[k].path + 1, sun.sun_path + 1) == 0)
					found_unix = ns->socks[k].path[0] == '@';
				if (mine && ns->socks[k].proto == NSN_PROTO_TCP &&
				    ns->socks[k].state == NSN_SS_LISTEN &&
				    ns->socks[k].local.addr[0] == 127)
					found_tcp = true;
			}
		}
		ASSERT_TRUE(found_unix); /* the abstract name, with its holder */
		ASSERT_TRUE(found_tcp);
		printf("# current namespace: %zu sockets (%zu with holders), %zu routes, %zu "
		       "links, %zu counters\n",
		       socks, held, back->netns[0]->n_routes, back->netns[0]->n_links,
		       back->netns[0]->n_counters);
	}
out:
	nsn_scan_free(back);
	nsn_scan_free(scan);
	close(tcp);
	close(unx);
}

/* A container named only by a process becomes a container with only its id; a peer
 * whose namespace has no cookie is found by dev+inode; an unknown one stays NULL. */
TEST(decode_details)
{
	struct nsn_scan *scan = synthetic(), *back = NULL;
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	Nsnet__V1__NamespaceSnapshot *m[2];

	scan->netns[1]->containers[1].c = scan->containers[1]; /* api now only in a ProcRef */
	scan->netns[0]->cookie = 0;
	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[0], NSN_PB_ALL, &m[0]), 0);
	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[1], NSN_PB_ALL, &m[1]), 0);
	ASSERT_EQ(nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)m, 2, &back), 0);
	if (back) {
		const struct nsn_container *c = find_container(back, ID_API);
		ASSERT_EQ(back->n_containers, 3);
		ASSERT_TRUE(c != NULL);
		if (c) {
			ASSERT_STREQ(c->id, ID_API);
			ASSERT_TRUE(c->runtime == NULL && c->name == NULL && c->pod_name == NULL &&
				    !c->sandbox);
		}
		ASSERT_TRUE(back->netns[1]->links[0].peer.netns == back->netns[0]);
		ASSERT_STREQ(back->netns[1]->links[0].peer.name, "veth0");
		nsn_scan_free(back);
	}

	/* Decoded alone, blue's peer is in no decoded namespace: named but unresolved. */
	ASSERT_EQ(nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)&m[1], 1, &back),
		  0);
	if (back) {
		ASSERT_TRUE(back->netns[0]->links[0].has_peer);
		ASSERT_TRUE(back->netns[0]->links[0].peer.netns == NULL);
		ASSERT_EQ(back->netns[0]->links[0].peer.ifindex, 2);
		nsn_scan_free(back);
	}

	/* A cookie that differs is another namespace, even on the same inode. */
	m[0]->id->cookie = 5;
	m[1]->links[0]->peer->netns->cookie = 6;
	ASSERT_EQ(nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)m, 2, &back), 0);
	if (back) {
		ASSERT_TRUE(back->netns[1]->links[0].peer.netns == NULL);
		nsn_scan_free(back);
	}

	/* Nothing at all is an empty scan. */
	ASSERT_EQ(nsn_pb_decode_scan(NULL, 0, &back), 0);
	if (back) {
		ASSERT_EQ(back->n_netns, 0);
		ASSERT_TRUE(back->procs == NULL);
		nsn_scan_free(back);
	}
	nsn_pb_arena_free(a);
	nsn_scan_free(scan);
}

/* ---- malformed input ---------------------------------------------------------- */

static int decode2(Nsnet__V1__NamespaceSnapshot **m)
{
	struct nsn_scan *back = (struct nsn_scan *)&back; /* must be reset to NULL */
	int r = nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)m, 2, &back);

	if (r < 0)
		ASSERT_TRUE(back == NULL);
	nsn_scan_free(back);
	return r;
}

#define ASSERT_BAD(field, value)                                                                   \
	do {                                                                                       \
		__typeof__(field) saved_ = (field);                                                \
		(field) = (value);                                                                 \
		ASSERT_EQ(decode2(m), -EBADMSG);                                                   \
		(field) = saved_;                                                                  \
		ASSERT_EQ(decode2(m), 0);                                                          \
	} while (0)

TEST(malformed)
{
	struct nsn_scan *scan = synthetic();
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	Nsnet__V1__NamespaceSnapshot *m[2];
	static const uint8_t five[5] = {1, 2, 3, 4, 5}, sixteen[16] = {0x20, 1};
	const ProtobufCBinaryData b5 = {5, (uint8_t *)five}, b16 = {16, (uint8_t *)sixteen},
				  b4 = {4, (uint8_t *)five};

	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[0], NSN_PB_ALL, &m[0]), 0);
	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[1], NSN_PB_ALL, &m[1]), 0);
	ASSERT_EQ(decode2(m), 0);

	/* identity */
	ASSERT_BAD(m[0]->id, NULL);
	ASSERT_BAD(m[1]->id, NULL); /* after a first namespace was built */
	ASSERT_BAD(m[1]->err, 5);
	ASSERT_BAD(m[1]->pid, (uint32_t)INT_MAX + 1);

	/* sockets: addresses per family, enums, ranges */
	Nsnet__V1__Socket *tcp4 = m[0]->sockets[0], *tcp6 = m[0]->sockets[1],
			  *unx = m[0]->sockets[5];
	ASSERT_BAD(tcp4->local_addr, b5);
	ASSERT_BAD(tcp4->peer_addr, b16);
	ASSERT_BAD(tcp6->local_addr, b4);
	ASSERT_BAD(unx->local_addr, b4);
	ASSERT_BAD(tcp4->state, NSN_SS_MAX);
	ASSERT_BAD(tcp4->state, 0xffffffffu);
	ASSERT_BAD(tcp4->proto, (Nsnet__V1__Proto)4);
	ASSERT_BAD(tcp4->proto, (Nsnet__V1__Proto)-1);
	ASSERT_BAD(tcp4->proto, NSNET__V1__PROTO__UNIX); /* unix proto, inet family */
	ASSERT_BAD(tcp4->family, 3);
	ASSERT_BAD(tcp4->family, AF_UNIX);
	ASSERT_BAD(tcp4->local_port, 65536);
	ASSERT_BAD(tcp4->v6only, 2);
	ASSERT_BAD(tcp4->type, 256);
	ASSERT_BAD(tcp4->tcp_info->cong, "0123456789abcdef");
	ASSERT_BAD(tcp4->tcp_info->snd_wscale, 256);
	ASSERT_BAD(tcp4->procs[0]->comm, "0123456789abcdef");
	ASSERT_BAD(tcp4->procs[0]->pid, 0x80000000u);
	ASSERT_BAD(m[1]->sockets[0], NULL);

	/* routes, rules, addresses */
	Nsnet__V1__Route *rt = m[0]->routes[1];
	ASSERT_BAD(rt->dst, b16);
	ASSERT_BAD(rt->prefsrc, b5);
	ASSERT_BAD(rt->family, 1);
	ASSERT_BAD(rt->dst_len, 33);
	ASSERT_BAD(m[0]->routes[2]->dst_len, 129);
	ASSERT_BAD(m[0]->routes[2]->nexthops[0]->gateway, b5);
	ASSERT_BAD(m[0]->routes[2]->nexthops[0]->weight, 256);
	ASSERT_BAD(m[0]->rules[1]->src, b16);
	ASSERT_BAD(m[0]->rules[2]->dst, b4);
	ASSERT_BAD(m[0]->links[1]->addrs[0]->broadcast, b16);
	ASSERT_BAD(m[0]->links[1]->addrs[1]->peer, b5);
	ASSERT_BAD(m[0]->links[1]->addrs[0]->prefixlen, 33);
	ASSERT_BAD(m[0]->links[1]->mac, ((ProtobufCBinaryData){33, (uint8_t *)scan}));
	ASSERT_BAD(m[0]->links[1]->operstate, 256);

	/* containers: no description, no id */
	ASSERT_BAD(m[1]->containers[0]->container, NULL);
	ASSERT_BAD(m[1]->containers[0]->container->id, (char *)protobuf_c_empty_string);

	nsn_pb_arena_free(a);
	nsn_scan_free(scan);
}

/* The same bytes through protobuf-c: a wrong-sized address survives unpacking and is
 * refused by the decoder, not by luck of an in-memory message. */
TEST(malformed_bytes)
{
	struct nsn_scan *scan = synthetic(), *back = NULL;
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	Nsnet__V1__NamespaceSnapshot *m, *u;
	static const uint8_t three[3] = {1, 2, 3};

	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[0], NSN_PB_ALL, &m), 0);
	m->sockets[0]->local_addr = (ProtobufCBinaryData){3, (uint8_t *)three};
	size_t len = nsnet__v1__namespace_snapshot__get_packed_size(m);
	uint8_t *buf = malloc(len);
	nsnet__v1__namespace_snapshot__pack(m, buf);
	u = nsnet__v1__namespace_snapshot__unpack(NULL, len, buf);
	ASSERT_TRUE(u != NULL);
	if (u) {
		ASSERT_EQ(
		    nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)&u, 1, &back),
		    -EBADMSG);
		ASSERT_TRUE(back == NULL);
		nsnet__v1__namespace_snapshot__free_unpacked(u, NULL);
	}
	/* An empty snapshot has no id. */
	u = nsnet__v1__namespace_snapshot__unpack(NULL, 0, buf);
	ASSERT_TRUE(u != NULL);
	if (u) {
		ASSERT_EQ(
		    nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)&u, 1, &back),
		    -EBADMSG);
		nsnet__v1__namespace_snapshot__free_unpacked(u, NULL);
	}
	free(buf);
	nsn_pb_arena_free(a);
	nsn_scan_free(scan);
}

/* ---- the arena ---------------------------------------------------------------- */

TEST(arena)
{
	struct nsn_scan *scan = synthetic();
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	Nsnet__V1__NamespaceSnapshot *m;
	size_t once;

	ASSERT_TRUE(a != NULL);
	ASSERT_EQ(nsn_pb_arena_used(a), 0);
	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[0], NSN_PB_ALL, &m), 0);
	once = nsn_pb_arena_used(a);
	ASSERT_TRUE(once > sizeof(*m));
	/* Many batches' worth, with a few large arrays among them, then back to nothing. */
	for (int i = 0; i < 200; i++)
		ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[i % 2], NSN_PB_ALL, &m), 0);
	uint64_t *big = nsn_pb_arena_alloc(a, 1 << 20);
	ASSERT_TRUE(big != NULL);
	if (big)
		ASSERT_EQ(big[(1 << 20) / sizeof(*big) - 1], 0);
	ASSERT_TRUE(nsn_pb_arena_used(a) > 100 * once + (1 << 20));
	nsn_pb_arena_reset(a);
	ASSERT_EQ(nsn_pb_arena_used(a), 0);
	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[0], NSN_PB_ALL, &m), 0);
	ASSERT_EQ(nsn_pb_arena_used(a), once);

	/* Zeroed even when the memory was used before the reset. */
	nsn_pb_arena_reset(a);
	unsigned char *z = nsn_pb_arena_alloc(a, 3000);
	int zero = 1;
	for (size_t i = 0; z && i < 3000; i++)
		zero &= z[i] == 0;
	ASSERT_TRUE(z != NULL && zero);
	ASSERT_TRUE(nsn_pb_arena_alloc(a, 0) != NULL);

	/* What an encoder allocates is aligned for any type. */
	for (size_t n = 1; n < 40; n++)
		ASSERT_EQ((uintptr_t)nsn_pb_arena_alloc(a, n) % _Alignof(max_align_t), 0);

	nsn_pb_arena_free(a);
	nsn_pb_arena_free(NULL);
	nsn_pb_arena_reset(NULL);
	ASSERT_EQ(nsn_pb_arena_used(NULL), 0);
	nsn_scan_free(scan);
}

TEST_MAIN(CASE(synthetic_round_trip), CASE(real_scan_round_trip), CASE(decode_details),
	  CASE(malformed), CASE(malformed_bytes), CASE(arena))
