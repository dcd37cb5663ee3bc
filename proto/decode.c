/* SPDX-License-Identifier: MIT */
/* nsnet.v1 namespace snapshots back into a struct nsn_scan that the CLI renders as it
 * renders a local one.
 *
 * The input comes from the network (through a store), so nothing in it is trusted: a
 * value that does not fit the model's field, an address of the wrong size for its
 * family or a state the renderers would index a table with is -EBADMSG, never a
 * truncation or a crash. The scan is built so that nsn_scan_free() releases it at any
 * point of a failure: every array it points to is complete up to its count. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "convert.h"
#include "internal.h"

/* A container id as mentioned by a NetnsContainer (with its description) or by a
 * ProcRef (id only), in order of appearance. */
struct mention {
	const char *id;
	const Nsnet__V1__Container *msg;
	size_t seq;
};

/* A distinct container: its id and the scan's copy. */
struct known {
	const char *id;
	struct nsn_container *c;
	size_t first; /* seq of its first mention, for scan->containers' order */
};

struct decoder {
	struct nsn_scan *scan;
	struct known *known; /* sorted by id */
	size_t n_known;
	struct nsn_procmap *procs;
};

/* A repeated field: protobuf-c never unpacks a count without its array, but a message
 * built in memory could. */
static bool arr_ok(size_t n, const void *p)
{
	return n == 0 || p;
}

/* Strings protobuf-c unpacked are never NULL, but messages built in memory (a store
 * applying deltas) may leave one NULL: it reads as the empty string. */
static const char *s_or_empty(const char *s)
{
	return s ? s : "";
}

static int cmp_mention(const void *x, const void *y)
{
	const struct mention *a = x, *b = y;
	int r = strcmp(a->id, b->id);

	if (r)
		return r;
	/* A description beats a bare id; then the first seen wins. */
	if (!a->msg != !b->msg)
		return a->msg ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_known_first(const void *x, const void *y)
{
	const struct known *a = x, *b = y;

	return (a->first > b->first) - (a->first < b->first);
}

static int cmp_known_id(const void *x, const void *y)
{
	return strcmp(((const struct known *)x)->id, ((const struct known *)y)->id);
}

static const struct nsn_container *lookup(const struct decoder *d, const char *id)
{
	struct known key = {.id = id};
	const struct known *k;

	if (!id || !*id)
		return NULL;
	k = bsearch(&key, d->known, d->n_known, sizeof(*d->known), cmp_known_id);
	return k ? k->c : NULL;
}

/* One allocation with its strings, as the gatherer makes them (nsn_scan_free() frees
 * each with one free()). Unknown fields are NULL, as in a local scan. */
static struct nsn_container *container_new(const char *id, const Nsnet__V1__Container *m)
{
	const Nsnet__V1__Pod *pod = m ? m->pod : NULL;
	const char *src[] = {id,
			     m ? m->runtime : NULL,
			     m ? m->name : NULL,
			     m ? m->sandbox_id : NULL,
			     pod ? pod->uid : NULL,
			     pod ? pod->name : NULL,
			     pod ? pod->namespace_ : NULL,
			     m ? m->bundle : NULL};
	size_t need = sizeof(struct nsn_container);

	for (size_t i = 0; i < NSN_ARRAY_SIZE(src); i++)
		if (src[i] && *src[i])
			need += strlen(src[i]) + 1;
	struct nsn_container *o = calloc(1, need);
	if (!o)
		return NULL;
	char *p = (char *)(o + 1);
	const char **dst[] = {&o->id,	   &o->runtime,	 &o->name,	    &o->sandbox_id,
			      &o->pod_uid, &o->pod_name, &o->pod_namespace, &o->bundle};
	for (size_t i = 0; i < NSN_ARRAY_SIZE(src); i++) {
		if (!src[i] || !*src[i])
			continue;
		size_t n = strlen(src[i]) + 1;
		memcpy(p, src[i], n);
		*dst[i] = p;
		p += n;
	}
	o->sandbox = m && m->sandbox;
	return o;
}

static int mention(struct mention **v, size_t *n, size_t *cap, const char *id,
		   const Nsnet__V1__Container *msg)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct mention *t = realloc(*v, ncap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		*v = t;
		*cap = ncap;
	}
	(*v)[*n] = (struct mention){id, msg, *n};
	(*n)++;
	return 0;
}

/* Every container any namespace lists or any process refers to, once, in scan->containers
 * (by first mention) and in d->known (by id). */
static int collect_containers(struct decoder *d, const Nsnet__V1__NamespaceSnapshot *const *snaps,
			      size_t n)
{
	struct mention *v = NULL;
	size_t nv = 0, cap = 0;
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		const Nsnet__V1__NamespaceSnapshot *s = snaps[i];
		if (!s || !arr_ok(s->n_containers, s->containers) ||
		    !arr_ok(s->n_sockets, s->sockets))
			goto bad;
		for (size_t k = 0; k < s->n_containers && r >= 0; k++) {
			const Nsnet__V1__NetnsContainer *nc = s->containers[k];
			if (!nc || !nc->container || !nc->container->id || !*nc->container->id)
				goto bad;
			r = mention(&v, &nv, &cap, nc->container->id, nc->container);
		}
		for (size_t k = 0; k < s->n_sockets && r >= 0; k++) {
			const Nsnet__V1__Socket *so = s->sockets[k];
			if (!so || !arr_ok(so->n_procs, so->procs))
				goto bad;
			for (size_t j = 0; j < so->n_procs && r >= 0; j++) {
				if (!so->procs[j])
					goto bad;
				if (so->procs[j]->container_id && *so->procs[j]->container_id)
					r = mention(&v, &nv, &cap, so->procs[j]->container_id,
						    NULL);
			}
		}
	}
	if (r < 0)
		goto out;
	if (nv > 1)
		qsort(v, nv, sizeof(*v), cmp_mention);

	size_t distinct = 0;
	for (size_t i = 0; i < nv; i++)
		distinct += i == 0 || strcmp(v[i - 1].id, v[i].id) != 0;
	d->scan->containers = calloc(distinct ? distinct : 1, sizeof(*d->scan->containers));
	d->known = calloc(distinct ? distinct : 1, sizeof(*d->known));
	if (!d->scan->containers || !d->known) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nv;) {
		size_t j = i, first = v[i].seq;
		for (; j < nv && strcmp(v[j].id, v[i].id) == 0; j++)
			if (v[j].seq < first)
				first = v[j].seq;
		struct nsn_container *c = container_new(v[i].id, v[i].msg);
		if (!c) {
			r = -ENOMEM;
			goto out;
		}
		d->scan->containers[d->scan->n_containers++] = c;
		d->known[d->n_known++] = (struct known){c->id, c, first};
		i = j;
	}
	/* A local scan lists them in no particular order; first mention is stable. */
	qsort(d->known, d->n_known, sizeof(*d->known), cmp_known_first);
	for (size_t i = 0; i < d->n_known; i++)
		d->scan->containers[i] = d->known[i].c;
	qsort(d->known, d->n_known, sizeof(*d->known), cmp_known_id);
	d->scan->attr.containers = d->scan->n_containers;
out:
	free(v);
	return r;
bad:
	free(v);
	return -EBADMSG;
}

static size_t family_len(uint32_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* An address field: empty (absent, zeroes) or exactly its family's size. */
static int addr_in(uint32_t family, ProtobufCBinaryData b, uint8_t out[16], bool *ret_present)
{
	memset(out, 0, 16);
	if (ret_present)
		*ret_present = false;
	if (b.len == 0)
		return 0;
	if (b.len != family_len(family) || !b.data)
		return -EBADMSG;
	memcpy(out, b.data, b.len);
	if (ret_present)
		*ret_present = true;
	return 0;
}

/* An optional string: the empty string is the model's NULL ("not known"). */
static int opt_str(struct nsn__arena *a, const char *s, const char **ret)
{
	*ret = NULL;
	if (!s || !*s)
		return 0;
	if (!(*ret = nsn__arena_strndup(a, s, strlen(s))))
		return -ENOMEM;
	return 0;
}

static bool inet_family(uint32_t f)
{
	return f == AF_INET || f == AF_INET6;
}

static int decode_procs(struct decoder *d, const Nsnet__V1__Socket *m, uint32_t inode)
{
	for (size_t i = 0; i < m->n_procs; i++) {
		const Nsnet__V1__ProcRef *p = m->procs[i];
		const char *comm = s_or_empty(p->comm);

		if (p->pid > INT_MAX || strlen(comm) >= sizeof(((struct nsn_proc_ref *)0)->comm))
			return -EBADMSG;
		/* The map is keyed by inode: a socket without one (TIME-WAIT) has no holder. */
		if (inode == 0)
			continue;
		if (!d->procs && !(d->procs = nsn__procmap_new()))
			return -ENOMEM;
		if (nsn__procmap_add(d->procs, inode, (pid_t)p->pid, p->fd, comm,
				     lookup(d, p->container_id)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int decode_tcp_info(struct nsn__arena *a, const Nsnet__V1__TcpInfo *m,
			   const struct nsn_tcp_info **ret)
{
	struct nsn_tcp_info *t;
	const char *cong = s_or_empty(m->cong);
	size_t n = strlen(cong);

	if (n >= sizeof(t->cong) || m->snd_wscale > UINT8_MAX || m->rcv_wscale > UINT8_MAX)
		return -EBADMSG;
	if (!(t = nsn__arena_alloc(a, sizeof(*t))))
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	memcpy(t->cong, cong, n);
	t->rtt_us = m->rtt_us;
	t->rttvar_us = m->rttvar_us;
	t->rto_us = m->rto_us;
	t->snd_cwnd = m->snd_cwnd;
	t->snd_ssthresh = m->snd_ssthresh;
	t->snd_mss = m->snd_mss;
	t->rcv_mss = m->rcv_mss;
	t->retrans = m->retrans;
	t->total_retrans = m->total_retrans;
	t->last_data_sent_ms = m->last_data_sent_ms;
	t->last_data_recv_ms = m->last_data_recv_ms;
	t->last_ack_recv_ms = m->last_ack_recv_ms;
	t->bytes_acked = m->bytes_acked;
	t->bytes_received = m->bytes_received;
	t->bytes_sent = m->bytes_sent;
	t->bytes_retrans = m->bytes_retrans;
	t->delivery_rate = m->delivery_rate;
	t->snd_wscale = (uint8_t)m->snd_wscale;
	t->rcv_wscale = (uint8_t)m->rcv_wscale;
	*ret = t;
	return 0;
}

static int decode_skmem(struct nsn__arena *a, const Nsnet__V1__SkMem *m,
			const struct nsn_skmem **ret)
{
	struct nsn_skmem *k = nsn__arena_alloc(a, sizeof(*k));

	if (!k)
		return -ENOMEM;
	*k = (struct nsn_skmem){
	    .rmem_alloc = m->rmem_alloc,
	    .rcvbuf = m->rcvbuf,
	    .wmem_alloc = m->wmem_alloc,
	    .sndbuf = m->sndbuf,
	    .fwd_alloc = m->fwd_alloc,
	    .wmem_queued = m->wmem_queued,
	    .optmem = m->optmem,
	    .backlog = m->backlog,
	    .drops = m->drops,
	};
	*ret = k;
	return 0;
}

static int decode_sock(struct decoder *d, struct nsn__arena *a, const Nsnet__V1__Socket *m,
		       struct nsn_sock *s)
{
	unsigned proto = (unsigned)m->proto;
	bool unix_ = m->family == AF_UNIX;
	int r;

	/* Renderers index tables by proto and state, and read a unix socket's path or an
	 * inet socket's addresses by proto alone: they must agree with the family. */
	if (proto >= NSN_PROTO_MAX || !(unix_ || inet_family(m->family)) ||
	    unix_ != (proto == NSN_PROTO_UNIX) || m->state >= NSN_SS_MAX || m->type > UINT8_MAX ||
	    m->v6only < -1 || m->v6only > 1 || m->local_port > UINT16_MAX ||
	    m->peer_port > UINT16_MAX)
		return -EBADMSG;
	s->proto = (uint8_t)proto;
	s->family = (uint8_t)m->family;
	s->state = (uint8_t)m->state;
	s->type = (uint8_t)m->type;
	s->v6only = (int8_t)m->v6only;
	s->recv_q = m->recv_q;
	s->send_q = m->send_q;
	s->uid = m->uid;
	s->inode = m->inode;
	s->ifindex = m->ifindex;
	s->cookie = m->cookie;
	if (addr_in(m->family, m->local_addr, s->local.addr, NULL) < 0 ||
	    addr_in(m->family, m->peer_addr, s->peer.addr, NULL) < 0)
		return -EBADMSG;
	s->local.port = (uint16_t)m->local_port;
	s->peer.port = (uint16_t)m->peer_port;
	s->peer_inode = m->peer_inode;
	if ((r = opt_str(a, m->path, &s->path)) < 0 || (r = opt_str(a, m->dev, &s->dev)) < 0)
		return r;
	if (m->tcp_info && (r = decode_tcp_info(a, m->tcp_info, &s->tcp_info)) < 0)
		return r;
	if (m->skmem && (r = decode_skmem(a, m->skmem, &s->skmem)) < 0)
		return r;
	return decode_procs(d, m, s->inode);
}

/* A prefix length beyond the address is what a mask computation overflows on. */
static bool prefix_ok(uint32_t family, uint32_t len)
{
	return len <= family_len(family) * 8;
}

static int decode_route(struct nsn__arena *a, const Nsnet__V1__Route *m, struct nsn_route *r)
{
	int e;

	if (!inet_family(m->family) || m->type > UINT8_MAX || m->protocol > UINT8_MAX ||
	    m->scope > UINT8_MAX || m->tos > UINT8_MAX || m->pref > UINT8_MAX ||
	    !prefix_ok(m->family, m->dst_len) || !prefix_ok(m->family, m->src_len))
		return -EBADMSG;
	r->family = (uint8_t)m->family;
	r->type = (uint8_t)m->type;
	r->protocol = (uint8_t)m->protocol;
	r->scope = (uint8_t)m->scope;
	r->tos = (uint8_t)m->tos;
	r->dst_len = (uint8_t)m->dst_len;
	r->src_len = (uint8_t)m->src_len;
	r->pref = (uint8_t)m->pref;
	/* has_dst, has_src and has_prefsrc have no field of their own: present is non-empty. */
	if (addr_in(m->family, m->dst, r->dst, &r->has_dst) < 0 ||
	    addr_in(m->family, m->src, r->src, &r->has_src) < 0 ||
	    addr_in(m->family, m->prefsrc, r->prefsrc, &r->has_prefsrc) < 0)
		return -EBADMSG;
	r->has_metric = m->has_metric;
	r->table = m->table;
	r->metric = m->metric;
	r->flags = m->flags;
	r->mtu = m->mtu;
	r->advmss = m->advmss;
	r->hoplimit = m->hoplimit;
	r->metrics_locked = m->metrics_locked;
	r->expires = m->expires;
	r->multipath = m->multipath;
	if (m->n_nexthops == 0)
		return 0;
	if (!m->nexthops)
		return -EBADMSG;
	if (m->n_nexthops > SIZE_MAX / sizeof(*r->nh) ||
	    !(r->nh = nsn__arena_alloc(a, m->n_nexthops * sizeof(*r->nh))))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_nexthops; i++) {
		const Nsnet__V1__Nexthop *x = m->nexthops[i];
		struct nsn_nexthop *nh = &r->nh[i];

		if (!x || x->weight > UINT8_MAX)
			return -EBADMSG;
		memset(nh, 0, sizeof(*nh));
		/* The gateway's family is its size: RTA_VIA may give another than the route's. */
		nh->gw_family = x->gateway.len == 4 ? AF_INET : x->gateway.len == 16 ? AF_INET6 : 0;
		if ((x->gateway.len && !nh->gw_family) ||
		    addr_in(nh->gw_family, x->gateway, nh->gateway, NULL) < 0)
			return -EBADMSG;
		nh->weight = (uint8_t)x->weight;
		nh->flags = x->flags;
		nh->ifindex = x->ifindex;
		if ((e = opt_str(a, x->dev, &nh->dev)) < 0)
			return e;
		r->n_nh++;
	}
	return 0;
}

static int decode_rule(struct nsn__arena *a, const Nsnet__V1__Rule *m, struct nsn_rule *r)
{
	int e;

	if (!inet_family(m->family) || m->action > UINT8_MAX || m->tos > UINT8_MAX ||
	    m->protocol > UINT8_MAX || !prefix_ok(m->family, m->src_len) ||
	    !prefix_ok(m->family, m->dst_len))
		return -EBADMSG;
	r->family = (uint8_t)m->family;
	r->action = (uint8_t)m->action;
	r->src_len = (uint8_t)m->src_len;
	r->dst_len = (uint8_t)m->dst_len;
	r->tos = (uint8_t)m->tos;
	r->protocol = (uint8_t)m->protocol;
	if (addr_in(m->family, m->src, r->src, &r->has_src) < 0 ||
	    addr_in(m->family, m->dst, r->dst, &r->has_dst) < 0)
		return -EBADMSG;
	r->has_priority = m->has_priority;
	r->priority = m->priority;
	r->has_fwmark = m->has_fwmark;
	r->fwmark = m->fwmark;
	r->has_fwmask = m->has_fwmask;
	r->fwmask = m->fwmask;
	r->invert = m->invert;
	r->table = m->table;
	r->goto_target = m->goto_target;
	r->flags = m->flags;
	if ((e = opt_str(a, m->iif, &r->iif)) < 0 || (e = opt_str(a, m->oif, &r->oif)) < 0)
		return e;
	return 0;
}

static int decode_addr(struct nsn__arena *a, const Nsnet__V1__Addr *m, struct nsn_addr *x)
{
	if (!m || !inet_family(m->family) || !prefix_ok(m->family, m->prefixlen) ||
	    m->scope > UINT8_MAX)
		return -EBADMSG;
	memset(x, 0, sizeof(*x));
	x->family = (uint8_t)m->family;
	x->prefixlen = (uint8_t)m->prefixlen;
	x->scope = (uint8_t)m->scope;
	x->flags = m->flags;
	x->valid_lft = m->valid_lft;
	x->preferred_lft = m->preferred_lft;
	if (addr_in(m->family, m->local, x->local, NULL) < 0 ||
	    addr_in(m->family, m->peer, x->peer, &x->has_peer) < 0 ||
	    addr_in(m->family, m->broadcast, x->broadcast, &x->has_broadcast) < 0)
		return -EBADMSG;
	return opt_str(a, m->label, &x->label);
}

static void decode_stats(const Nsnet__V1__LinkStats *m, struct nsn_link_stats *s)
{
	*s = (struct nsn_link_stats){
	    .rx_packets = m->rx_packets,
	    .tx_packets = m->tx_packets,
	    .rx_bytes = m->rx_bytes,
	    .tx_bytes = m->tx_bytes,
	    .rx_errors = m->rx_errors,
	    .tx_errors = m->tx_errors,
	    .rx_dropped = m->rx_dropped,
	    .tx_dropped = m->tx_dropped,
	    .multicast = m->multicast,
	    .collisions = m->collisions,
	    .rx_length_errors = m->rx_length_errors,
	    .rx_over_errors = m->rx_over_errors,
	    .rx_crc_errors = m->rx_crc_errors,
	    .rx_frame_errors = m->rx_frame_errors,
	    .rx_fifo_errors = m->rx_fifo_errors,
	    .rx_missed_errors = m->rx_missed_errors,
	    .tx_aborted_errors = m->tx_aborted_errors,
	    .tx_carrier_errors = m->tx_carrier_errors,
	    .tx_fifo_errors = m->tx_fifo_errors,
	    .tx_heartbeat_errors = m->tx_heartbeat_errors,
	    .tx_window_errors = m->tx_window_errors,
	    .rx_compressed = m->rx_compressed,
	    .tx_compressed = m->tx_compressed,
	    .rx_nohandler = m->rx_nohandler,
	};
}

/* Everything but the peer's namespace, which needs every namespace decoded first. */
static int decode_link(struct nsn__arena *a, const Nsnet__V1__Link *m, struct nsn_link *l)
{
	int e;

	if (m->operstate > UINT8_MAX || m->arptype > UINT16_MAX || m->mac.len > sizeof(l->mac) ||
	    (m->mac.len && !m->mac.data))
		return -EBADMSG;
	l->ifindex = m->ifindex;
	if ((e = opt_str(a, m->name, &l->name)) < 0 || (e = opt_str(a, m->kind, &l->kind)) < 0 ||
	    (e = opt_str(a, m->qdisc, &l->qdisc)) < 0)
		return e;
	l->mtu = m->mtu;
	l->flags = m->flags;
	l->operstate = (uint8_t)m->operstate;
	l->arptype = (uint16_t)m->arptype;
	l->mac_len = (uint8_t)m->mac.len;
	if (m->mac.len)
		memcpy(l->mac, m->mac.data, m->mac.len);
	l->txqlen = m->txqlen;
	l->master = m->master;
	l->link = m->link;
	l->link_netnsid = m->link_netnsid;
	if (m->stats) {
		l->has_stats = true;
		decode_stats(m->stats, &l->stats);
	}
	if (m->peer) {
		l->has_peer = true;
		l->peer.ifindex = m->peer->ifindex;
		l->peer.netnsid = m->peer->netnsid;
		if ((e = opt_str(a, m->peer->name, &l->peer.name)) < 0)
			return e;
	}
	if (m->n_addrs == 0)
		return 0;
	if (!m->addrs)
		return -EBADMSG;
	if (m->n_addrs > SIZE_MAX / sizeof(*l->addrs) ||
	    !(l->addrs = nsn__arena_alloc(a, m->n_addrs * sizeof(*l->addrs))))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_addrs; i++) {
		if ((e = decode_addr(a, m->addrs[i], &l->addrs[i])) < 0)
			return e;
		l->n_addrs++;
	}
	return 0;
}

/* calloc of n records (at least one byte, so that n == 0 is not an error). */
static void *records(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static int decode_netns(struct decoder *d, const Nsnet__V1__NamespaceSnapshot *m,
			struct nsn_netns *ns)
{
	struct nsn__netns_priv *p = nsn__priv(ns);
	struct nsn__arena *a = &p->arena;
	int r;

	/* err is 0 or -errno; strerror(-err) must stay meaningful. */
	if (m->pid > INT_MAX || m->err > 0 || m->err < -4095)
		return -EBADMSG;
	ns->cookie = m->id->cookie;
	ns->host = m->host;
	ns->current = m->current;
	ns->pid = (pid_t)m->pid;
	ns->n_pids = m->nprocs;
	ns->err = m->err;
	p->vanished = m->err == -ENOENT;
	if (!arr_ok(m->n_names, m->names) || !arr_ok(m->n_routes, m->routes) ||
	    !arr_ok(m->n_rules, m->rules) || !arr_ok(m->n_links, m->links) ||
	    !arr_ok(m->n_counters, m->counters))
		return -EBADMSG;
	for (size_t i = 0; i < m->n_names; i++) {
		if (!m->names[i])
			return -EBADMSG;
		if ((r = nsn__netns_add_name(ns, m->names[i])) < 0)
			return r;
	}

	if (!(ns->containers = records(m->n_containers, sizeof(*ns->containers))))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_containers; i++) {
		const Nsnet__V1__NetnsContainer *nc = m->containers[i];
		if (nc->pid > INT_MAX)
			return -EBADMSG;
		ns->containers[i] = (struct nsn_netns_container){lookup(d, nc->container->id),
								 (pid_t)nc->pid, nc->nprocs};
		ns->n_containers++;
	}

	if (!(ns->socks = records(m->n_sockets, sizeof(*ns->socks))))
		return -ENOMEM;
	p->cap_socks = m->n_sockets ? m->n_sockets : 1;
	for (size_t i = 0; i < m->n_sockets; i++) {
		if ((r = decode_sock(d, a, m->sockets[i], &ns->socks[i])) < 0)
			return r;
		ns->n_socks++;
	}

	if (!(ns->routes = records(m->n_routes, sizeof(*ns->routes))))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_routes; i++) {
		if (!m->routes[i])
			return -EBADMSG;
		if ((r = decode_route(a, m->routes[i], &ns->routes[i])) < 0)
			return r;
		ns->n_routes++;
	}

	if (!(ns->rules = records(m->n_rules, sizeof(*ns->rules))))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_rules; i++) {
		if (!m->rules[i])
			return -EBADMSG;
		if ((r = decode_rule(a, m->rules[i], &ns->rules[i])) < 0)
			return r;
		ns->n_rules++;
	}

	if (!(ns->links = records(m->n_links, sizeof(*ns->links))))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_links; i++) {
		if (!m->links[i])
			return -EBADMSG;
		if ((r = decode_link(a, m->links[i], &ns->links[i])) < 0)
			return r;
		ns->n_links++;
	}

	if (!(ns->counters = records(m->n_counters, sizeof(*ns->counters))))
		return -ENOMEM;
	p->cap_counters = m->n_counters ? m->n_counters : 1;
	for (size_t i = 0; i < m->n_counters; i++) {
		const Nsnet__V1__Counter *c = m->counters[i];
		const char *name;
		if (!c)
			return -EBADMSG;
		name = s_or_empty(c->name);
		/* Renderers print counter names unchecked: never NULL. */
		if (!(ns->counters[i].name = nsn__arena_strndup(a, name, strlen(name))))
			return -ENOMEM;
		ns->counters[i].value = c->value;
		ns->n_counters++;
	}
	return 0;
}

/* Namespaces by cookie (those that have one) and by (dev, inode), to name veth peers. */
struct ns_index {
	struct nsn_netns **by_cookie, **by_ino;
	size_t n_cookie, n_ino;
};

static int cmp_cookie(const void *x, const void *y)
{
	const struct nsn_netns *a = *(struct nsn_netns *const *)x,
			       *b = *(struct nsn_netns *const *)y;

	return (a->cookie > b->cookie) - (a->cookie < b->cookie);
}

static int cmp_ino(const void *x, const void *y)
{
	const struct nsn_netns *a = *(struct nsn_netns *const *)x,
			       *b = *(struct nsn_netns *const *)y;

	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	return (a->dev > b->dev) - (a->dev < b->dev);
}

/* The cookie is never reused within a boot, the inode is: a cookie decides when both
 * sides have one, and an inode match with a different cookie is another namespace. */
static const struct nsn_netns *find_netns(const struct ns_index *x, const Nsnet__V1__NetnsId *id)
{
	struct nsn_netns key = {.cookie = id->cookie, .dev = id->dev, .inode = id->inode};
	struct nsn_netns *kp = &key, **hit;

	if (id->cookie) {
		hit = bsearch(&kp, x->by_cookie, x->n_cookie, sizeof(*x->by_cookie), cmp_cookie);
		if (hit)
			return *hit;
	}
	hit = bsearch(&kp, x->by_ino, x->n_ino, sizeof(*x->by_ino), cmp_ino);
	if (!hit || (id->cookie && (*hit)->cookie && (*hit)->cookie != id->cookie))
		return NULL;
	return *hit;
}

static int resolve_peers(struct nsn_scan *scan, const Nsnet__V1__NamespaceSnapshot *const *snaps)
{
	struct ns_index x = {0};
	size_t n = scan->n_netns;

	x.by_cookie = malloc((n ? n : 1) * sizeof(*x.by_cookie));
	x.by_ino = malloc((n ? n : 1) * sizeof(*x.by_ino));
	if (!x.by_cookie || !x.by_ino) {
		free(x.by_cookie);
		free(x.by_ino);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (scan->netns[i]->cookie)
			x.by_cookie[x.n_cookie++] = scan->netns[i];
		x.by_ino[x.n_ino++] = scan->netns[i];
	}
	qsort(x.by_cookie, x.n_cookie, sizeof(*x.by_cookie), cmp_cookie);
	qsort(x.by_ino, x.n_ino, sizeof(*x.by_ino), cmp_ino);
	/* Links decode in message order, so link k of namespace i is snaps[i]'s link k. */
	for (size_t i = 0; i < n; i++) {
		struct nsn_netns *ns = scan->netns[i];
		for (size_t k = 0; k < ns->n_links; k++) {
			const Nsnet__V1__LinkPeer *p = snaps[i]->links[k]->peer;
			if (p && p->netns)
				ns->links[k].peer.netns = find_netns(&x, p->netns);
		}
	}
	free(x.by_cookie);
	free(x.by_ino);
	return 0;
}

int nsn_pb_decode_scan(const Nsnet__V1__NamespaceSnapshot *const *snaps, size_t n,
		       struct nsn_scan **ret_scan)
{
	struct decoder d = {0};
	int r;

	*ret_scan = NULL;
	if (n && !snaps)
		return -EBADMSG;
	if (!(d.scan = calloc(1, sizeof(*d.scan))))
		return -ENOMEM;
	r = collect_containers(&d, snaps, n);
	if (r < 0)
		goto fail;
	if (!(d.scan->netns = calloc(n ? n : 1, sizeof(*d.scan->netns)))) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const Nsnet__V1__NamespaceSnapshot *m = snaps[i];
		struct nsn_netns *ns;

		if (!m->id || (m->id->cookie == 0 && m->id->inode == 0)) {
			r = -EBADMSG;
			goto fail;
		}
		if (!(ns = nsn__netns_new(m->id->dev, m->id->inode))) {
			r = -ENOMEM;
			goto fail;
		}
		d.scan->netns[d.scan->n_netns++] = ns;
		r = decode_netns(&d, m, ns);
		if (r < 0)
			goto fail;
		if (ns->err == -ENOENT)
			d.scan->n_vanished++;
		else if (ns->err)
			d.scan->n_failed++;
	}
	r = resolve_peers(d.scan, snaps);
	if (r < 0)
		goto fail;
	if (d.procs) {
		r = nsn__procmap_seal(d.procs);
		if (r < 0)
			goto fail;
		d.scan->procs = d.procs;
		d.procs = NULL;
	}
	free(d.known);
	*ret_scan = d.scan;
	return 0;
fail:
	nsn__procmap_free(d.procs);
	free(d.known);
	nsn_scan_free(d.scan);
	return r;
}
