/* SPDX-License-Identifier: MIT */
/* The record model to nsnet.v1 messages, every allocation in a per-batch arena.
 *
 * An agent encodes every namespace after every scan: thousands of small messages that
 * all die together once the batch is packed. A bump allocator makes that one free per
 * chunk instead of one per message, and strings and addresses are not copied at all:
 * the messages point into the scan, which outlives the batch. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "convert.h"
#include "internal.h"

struct chunk {
	struct chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct nsn_pb_arena {
	struct chunk *head; /* the chunk small allocations come from */
	size_t next_size;   /* of the next regular chunk */
	size_t used;
};

/* A snapshot of a busy namespace is a few MB of messages; start at a page and double
 * so that a small batch stays small and a big one takes a few dozen mallocs. */
#define CHUNK_FIRST 4096
#define CHUNK_MAX   (256 * 1024)

struct nsn_pb_arena *nsn_pb_arena_new(void)
{
	struct nsn_pb_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->next_size = CHUNK_FIRST;
	return a;
}

static void *arena_alloc(struct nsn_pb_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct chunk *c = a->head;

	if (size > SIZE_MAX / 2)
		return NULL;
	/* Zero bytes still get a pointer of their own, as from malloc. */
	size = size ? (size + align - 1) & ~(align - 1) : align;
	if (!c || c->size - c->used < size) {
		size_t cap = a->next_size;
		bool oversized = size > cap / 4;

		/* A large array (every socket pointer of a namespace) gets a chunk of its
		 * own behind the head, so the head's free space still serves small ones. */
		if (oversized)
			cap = size;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->size = cap;
		c->used = 0;
		if (oversized && a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
			if (!oversized && a->next_size < CHUNK_MAX)
				a->next_size *= 2;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	a->used += size;
	return p;
}

void *nsn_pb_arena_alloc(struct nsn_pb_arena *a, size_t size)
{
	void *p = arena_alloc(a, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void nsn_pb_arena_reset(struct nsn_pb_arena *a)
{
	struct chunk *keep = NULL;

	if (!a)
		return;
	/* The largest regular chunk is kept: the next batch is likely the same size. */
	for (struct chunk *c = a->head; c; c = c->next)
		if (c->size <= CHUNK_MAX && (!keep || c->size > keep->size))
			keep = c;
	for (struct chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		if (c != keep)
			free(c);
	}
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
	a->used = 0;
}

void nsn_pb_arena_free(struct nsn_pb_arena *a)
{
	if (!a)
		return;
	nsn_pb_arena_reset(a);
	free(a->head);
	free(a);
}

size_t nsn_pb_arena_used(const struct nsn_pb_arena *a)
{
	return a ? a->used : 0;
}

/* n messages of @p size bytes and the array of pointers to them that a repeated field
 * is; the messages are left for the caller to initialise. */
static void **alloc_repeated(struct nsn_pb_arena *a, size_t n, size_t size, void **ret_items)
{
	void **ptrs;
	char *items;

	*ret_items = NULL;
	if (n == 0)
		return NULL;
	if (n > SIZE_MAX / 2 / size)
		return NULL;
	ptrs = arena_alloc(a, n * sizeof(*ptrs));
	items = arena_alloc(a, n * size);
	if (!ptrs || !items)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ptrs[i] = items + i * size;
	*ret_items = items;
	return ptrs;
}

/* protobuf-c packs strings with strlen() and never writes to them. */
static char *str(const char *s)
{
	return (char *)(s ? s : protobuf_c_empty_string);
}

static size_t addr_len(unsigned family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static ProtobufCBinaryData bytes(const uint8_t *p, size_t len)
{
	return (ProtobufCBinaryData){.len = len, .data = len ? (uint8_t *)p : NULL};
}

static ProtobufCBinaryData addr(unsigned family, const uint8_t *p, bool present)
{
	return bytes(p, present ? addr_len(family) : 0);
}

static Nsnet__V1__NetnsId *netns_id(struct nsn_pb_arena *a, const struct nsn_netns *ns)
{
	Nsnet__V1__NetnsId *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	nsnet__v1__netns_id__init(m);
	m->cookie = ns->cookie;
	m->dev = ns->dev;
	m->inode = ns->inode;
	return m;
}

int nsn_pb_encode_id(struct nsn_pb_arena *a, const struct nsn_netns *ns, Nsnet__V1__NetnsId **ret)
{
	*ret = netns_id(a, ns);
	return *ret ? 0 : -ENOMEM;
}

int nsn_pb_encode_meta(struct nsn_pb_arena *a, const struct nsn_netns *ns,
		       Nsnet__V1__NetnsMeta **ret)
{
	Nsnet__V1__NetnsMeta *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return -ENOMEM;
	nsnet__v1__netns_meta__init(m);
	m->host = ns->host;
	m->current = ns->current;
	m->n_names = ns->n_names;
	m->names = ns->n_names ? ns->names : NULL;
	m->pid = (uint32_t)ns->pid;
	m->nprocs = (uint32_t)ns->n_pids;
	m->err = ns->err;
	*ret = m;
	return 0;
}

static Nsnet__V1__TcpInfo *tcp_info(struct nsn_pb_arena *a, const struct nsn_tcp_info *t)
{
	Nsnet__V1__TcpInfo *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	nsnet__v1__tcp_info__init(m);
	/* cong is a fixed array that the kernel NUL-terminates; not pointed to, in case a
	 * caller built one that fills all 16 bytes. */
	size_t n = strnlen(t->cong, sizeof(t->cong));
	char *cong = arena_alloc(a, n + 1);
	if (!cong)
		return NULL;
	memcpy(cong, t->cong, n);
	cong[n] = '\0';
	m->cong = cong;
	m->rtt_us = t->rtt_us;
	m->rttvar_us = t->rttvar_us;
	m->rto_us = t->rto_us;
	m->snd_cwnd = t->snd_cwnd;
	m->snd_ssthresh = t->snd_ssthresh;
	m->snd_mss = t->snd_mss;
	m->rcv_mss = t->rcv_mss;
	m->retrans = t->retrans;
	m->total_retrans = t->total_retrans;
	m->last_data_sent_ms = t->last_data_sent_ms;
	m->last_data_recv_ms = t->last_data_recv_ms;
	m->last_ack_recv_ms = t->last_ack_recv_ms;
	m->bytes_acked = t->bytes_acked;
	m->bytes_received = t->bytes_received;
	m->bytes_sent = t->bytes_sent;
	m->bytes_retrans = t->bytes_retrans;
	m->delivery_rate = t->delivery_rate;
	m->snd_wscale = t->snd_wscale;
	m->rcv_wscale = t->rcv_wscale;
	return m;
}

static Nsnet__V1__SkMem *skmem(struct nsn_pb_arena *a, const struct nsn_skmem *k)
{
	Nsnet__V1__SkMem *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	nsnet__v1__sk_mem__init(m);
	m->rmem_alloc = k->rmem_alloc;
	m->rcvbuf = k->rcvbuf;
	m->wmem_alloc = k->wmem_alloc;
	m->sndbuf = k->sndbuf;
	m->fwd_alloc = k->fwd_alloc;
	m->wmem_queued = k->wmem_queued;
	m->optmem = k->optmem;
	m->backlog = k->backlog;
	m->drops = k->drops;
	return m;
}

static int procs(struct nsn_pb_arena *a, const struct nsn_scan *scan, const struct nsn_sock *s,
		 Nsnet__V1__Socket *m)
{
	const struct nsn_proc_ref *refs = NULL;
	Nsnet__V1__ProcRef *items;
	size_t n = 0;

	if (s->inode != 0 && scan && scan->procs)
		n = nsn_procmap_lookup(scan->procs, s->inode, &refs);
	if (n == 0)
		return 0;
	m->procs = (Nsnet__V1__ProcRef **)alloc_repeated(a, n, sizeof(*items), (void **)&items);
	if (!m->procs)
		return -ENOMEM;
	m->n_procs = n;
	for (size_t i = 0; i < n; i++) {
		Nsnet__V1__ProcRef *p = &items[i];

		nsnet__v1__proc_ref__init(p);
		p->pid = (uint32_t)refs[i].pid;
		p->fd = refs[i].fd;
		/* The map's comm is always terminated (it is written with snprintf). */
		p->comm = (char *)refs[i].comm;
		p->container_id = str(refs[i].container ? refs[i].container->id : NULL);
	}
	return 0;
}

static int socket_fill(struct nsn_pb_arena *a, const struct nsn_scan *scan,
		       const struct nsn_sock *s, Nsnet__V1__Socket *m)
{
	bool inet = s->family == AF_INET || s->family == AF_INET6;

	nsnet__v1__socket__init(m);
	m->cookie = s->cookie;
	m->proto = (Nsnet__V1__Proto)s->proto;
	m->family = s->family;
	m->state = s->state;
	m->type = s->type;
	m->v6only = s->v6only;
	m->recv_q = s->recv_q;
	m->send_q = s->send_q;
	m->uid = s->uid;
	m->inode = s->inode;
	m->ifindex = s->ifindex;
	m->local_addr = addr(s->family, s->local.addr, inet);
	m->local_port = s->local.port;
	m->peer_addr = addr(s->family, s->peer.addr, inet);
	m->peer_port = s->peer.port;
	m->peer_inode = s->peer_inode;
	m->path = str(s->path);
	m->dev = str(s->dev);
	if (s->tcp_info && !(m->tcp_info = tcp_info(a, s->tcp_info)))
		return -ENOMEM;
	if (s->skmem && !(m->skmem = skmem(a, s->skmem)))
		return -ENOMEM;
	return procs(a, scan, s, m);
}

int nsn_pb_encode_socket(struct nsn_pb_arena *a, const struct nsn_scan *scan,
			 const struct nsn_sock *s, Nsnet__V1__Socket **ret)
{
	Nsnet__V1__Socket *m = arena_alloc(a, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	r = socket_fill(a, scan, s, m);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

static int route_fill(struct nsn_pb_arena *a, const struct nsn_route *r, Nsnet__V1__Route *m)
{
	Nsnet__V1__Nexthop *items;

	nsnet__v1__route__init(m);
	m->family = r->family;
	m->type = r->type;
	m->protocol = r->protocol;
	m->scope = r->scope;
	m->tos = r->tos;
	m->dst_len = r->dst_len;
	m->src_len = r->src_len;
	m->pref = r->pref;
	m->dst = addr(r->family, r->dst, r->has_dst);
	m->src = addr(r->family, r->src, r->has_src);
	m->prefsrc = addr(r->family, r->prefsrc, r->has_prefsrc);
	m->has_metric = r->has_metric;
	m->table = r->table;
	m->metric = r->metric;
	m->flags = r->flags;
	m->mtu = r->mtu;
	m->advmss = r->advmss;
	m->hoplimit = r->hoplimit;
	m->metrics_locked = r->metrics_locked;
	m->expires = r->expires;
	m->multipath = r->multipath;
	if (r->n_nh == 0)
		return 0;
	m->nexthops =
	    (Nsnet__V1__Nexthop **)alloc_repeated(a, r->n_nh, sizeof(*items), (void **)&items);
	if (!m->nexthops)
		return -ENOMEM;
	m->n_nexthops = r->n_nh;
	for (size_t i = 0; i < r->n_nh; i++) {
		const struct nsn_nexthop *nh = &r->nh[i];
		Nsnet__V1__Nexthop *x = &items[i];

		nsnet__v1__nexthop__init(x);
		/* A gateway's family may differ from the route's (RTA_VIA). */
		x->gateway = addr(nh->gw_family, nh->gateway, true);
		x->weight = nh->weight;
		x->flags = nh->flags;
		x->ifindex = nh->ifindex;
		x->dev = str(nh->dev);
	}
	return 0;
}

int nsn_pb_encode_routes(struct nsn_pb_arena *a, const struct nsn_netns *ns,
			 Nsnet__V1__Routes **ret)
{
	Nsnet__V1__Routes *m = arena_alloc(a, sizeof(*m));
	Nsnet__V1__Route *items;

	if (!m)
		return -ENOMEM;
	nsnet__v1__routes__init(m);
	if (ns->n_routes) {
		m->routes = (Nsnet__V1__Route **)alloc_repeated(a, ns->n_routes, sizeof(*items),
								(void **)&items);
		if (!m->routes)
			return -ENOMEM;
		m->n_routes = ns->n_routes;
		for (size_t i = 0; i < ns->n_routes; i++)
			if (route_fill(a, &ns->routes[i], &items[i]) < 0)
				return -ENOMEM;
	}
	*ret = m;
	return 0;
}

static void rule_fill(const struct nsn_rule *r, Nsnet__V1__Rule *m)
{
	nsnet__v1__rule__init(m);
	m->family = r->family;
	m->action = r->action;
	m->src_len = r->src_len;
	m->dst_len = r->dst_len;
	m->tos = r->tos;
	m->protocol = r->protocol;
	m->src = addr(r->family, r->src, r->has_src);
	m->dst = addr(r->family, r->dst, r->has_dst);
	m->has_priority = r->has_priority;
	m->priority = r->priority;
	m->has_fwmark = r->has_fwmark;
	m->fwmark = r->fwmark;
	m->has_fwmask = r->has_fwmask;
	m->fwmask = r->fwmask;
	m->invert = r->invert;
	m->table = r->table;
	m->goto_target = r->goto_target;
	m->flags = r->flags;
	m->iif = str(r->iif);
	m->oif = str(r->oif);
}

int nsn_pb_encode_rules(struct nsn_pb_arena *a, const struct nsn_netns *ns, Nsnet__V1__Rules **ret)
{
	Nsnet__V1__Rules *m = arena_alloc(a, sizeof(*m));
	Nsnet__V1__Rule *items;

	if (!m)
		return -ENOMEM;
	nsnet__v1__rules__init(m);
	if (ns->n_rules) {
		m->rules = (Nsnet__V1__Rule **)alloc_repeated(a, ns->n_rules, sizeof(*items),
							      (void **)&items);
		if (!m->rules)
			return -ENOMEM;
		m->n_rules = ns->n_rules;
		for (size_t i = 0; i < ns->n_rules; i++)
			rule_fill(&ns->rules[i], &items[i]);
	}
	*ret = m;
	return 0;
}

static Nsnet__V1__LinkStats *link_stats(struct nsn_pb_arena *a, const struct nsn_link_stats *s)
{
	Nsnet__V1__LinkStats *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	nsnet__v1__link_stats__init(m);
	m->rx_packets = s->rx_packets;
	m->tx_packets = s->tx_packets;
	m->rx_bytes = s->rx_bytes;
	m->tx_bytes = s->tx_bytes;
	m->rx_errors = s->rx_errors;
	m->tx_errors = s->tx_errors;
	m->rx_dropped = s->rx_dropped;
	m->tx_dropped = s->tx_dropped;
	m->multicast = s->multicast;
	m->collisions = s->collisions;
	m->rx_length_errors = s->rx_length_errors;
	m->rx_over_errors = s->rx_over_errors;
	m->rx_crc_errors = s->rx_crc_errors;
	m->rx_frame_errors = s->rx_frame_errors;
	m->rx_fifo_errors = s->rx_fifo_errors;
	m->rx_missed_errors = s->rx_missed_errors;
	m->tx_aborted_errors = s->tx_aborted_errors;
	m->tx_carrier_errors = s->tx_carrier_errors;
	m->tx_fifo_errors = s->tx_fifo_errors;
	m->tx_heartbeat_errors = s->tx_heartbeat_errors;
	m->tx_window_errors = s->tx_window_errors;
	m->rx_compressed = s->rx_compressed;
	m->tx_compressed = s->tx_compressed;
	m->rx_nohandler = s->rx_nohandler;
	return m;
}

static Nsnet__V1__LinkPeer *link_peer(struct nsn_pb_arena *a, const struct nsn_link_peer *p)
{
	Nsnet__V1__LinkPeer *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	nsnet__v1__link_peer__init(m);
	m->ifindex = p->ifindex;
	m->netnsid = p->netnsid;
	m->name = str(p->name);
	if (p->netns && !(m->netns = netns_id(a, p->netns)))
		return NULL;
	return m;
}

static void addr_fill(const struct nsn_addr *x, Nsnet__V1__Addr *m)
{
	nsnet__v1__addr__init(m);
	m->family = x->family;
	m->prefixlen = x->prefixlen;
	m->scope = x->scope;
	m->flags = x->flags;
	m->valid_lft = x->valid_lft;
	m->preferred_lft = x->preferred_lft;
	m->local = addr(x->family, x->local, true);
	m->peer = addr(x->family, x->peer, x->has_peer);
	m->broadcast = addr(x->family, x->broadcast, x->has_broadcast);
	m->label = str(x->label);
}

static int link_fill(struct nsn_pb_arena *a, const struct nsn_link *l, Nsnet__V1__Link *m)
{
	Nsnet__V1__Addr *items;

	nsnet__v1__link__init(m);
	m->ifindex = l->ifindex;
	m->name = str(l->name);
	m->kind = str(l->kind);
	m->mtu = l->mtu;
	m->flags = l->flags;
	m->operstate = l->operstate;
	m->arptype = l->arptype;
	m->mac = bytes(l->mac, l->mac_len <= sizeof(l->mac) ? l->mac_len : sizeof(l->mac));
	m->txqlen = l->txqlen;
	m->master = l->master;
	m->link = l->link;
	m->link_netnsid = l->link_netnsid;
	m->qdisc = str(l->qdisc);
	if (l->has_stats && !(m->stats = link_stats(a, &l->stats)))
		return -ENOMEM;
	if (l->has_peer && !(m->peer = link_peer(a, &l->peer)))
		return -ENOMEM;
	if (l->n_addrs) {
		m->addrs = (Nsnet__V1__Addr **)alloc_repeated(a, l->n_addrs, sizeof(*items),
							      (void **)&items);
		if (!m->addrs)
			return -ENOMEM;
		m->n_addrs = l->n_addrs;
		for (size_t i = 0; i < l->n_addrs; i++)
			addr_fill(&l->addrs[i], &items[i]);
	}
	return 0;
}

int nsn_pb_encode_link(struct nsn_pb_arena *a, const struct nsn_link *l, Nsnet__V1__Link **ret)
{
	Nsnet__V1__Link *m = arena_alloc(a, sizeof(*m));

	if (!m || link_fill(a, l, m) < 0)
		return -ENOMEM;
	*ret = m;
	return 0;
}

static void counter_fill(const struct nsn_counter *c, Nsnet__V1__Counter *m)
{
	nsnet__v1__counter__init(m);
	m->name = str(c->name);
	m->value = c->value;
}

int nsn_pb_encode_counter(struct nsn_pb_arena *a, const struct nsn_counter *c,
			  Nsnet__V1__Counter **ret)
{
	Nsnet__V1__Counter *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return -ENOMEM;
	counter_fill(c, m);
	*ret = m;
	return 0;
}

static Nsnet__V1__Container *container(struct nsn_pb_arena *a, const struct nsn_container *c)
{
	Nsnet__V1__Container *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	nsnet__v1__container__init(m);
	m->id = str(c->id);
	m->runtime = str(c->runtime);
	m->name = str(c->name);
	m->sandbox = c->sandbox;
	m->sandbox_id = str(c->sandbox_id);
	m->bundle = str(c->bundle);
	/* The Pod is absent outside Kubernetes, as the schema promises. */
	if (c->pod_uid || c->pod_name || c->pod_namespace) {
		Nsnet__V1__Pod *p = arena_alloc(a, sizeof(*p));
		if (!p)
			return NULL;
		nsnet__v1__pod__init(p);
		p->uid = str(c->pod_uid);
		p->name = str(c->pod_name);
		p->namespace_ = str(c->pod_namespace);
		m->pod = p;
	}
	return m;
}

int nsn_pb_encode_containers(struct nsn_pb_arena *a, const struct nsn_netns *ns,
			     Nsnet__V1__NetnsContainers **ret)
{
	Nsnet__V1__NetnsContainers *m = arena_alloc(a, sizeof(*m));
	Nsnet__V1__NetnsContainer *items;

	if (!m)
		return -ENOMEM;
	nsnet__v1__netns_containers__init(m);
	if (ns->n_containers) {
		m->containers = (Nsnet__V1__NetnsContainer **)alloc_repeated(
		    a, ns->n_containers, sizeof(*items), (void **)&items);
		if (!m->containers)
			return -ENOMEM;
		m->n_containers = ns->n_containers;
		for (size_t i = 0; i < ns->n_containers; i++) {
			const struct nsn_netns_container *nc = &ns->containers[i];
			Nsnet__V1__NetnsContainer *x = &items[i];

			nsnet__v1__netns_container__init(x);
			if (!(x->container = container(a, nc->c)))
				return -ENOMEM;
			x->pid = (uint32_t)nc->pid;
			x->nprocs = (uint32_t)nc->n_pids;
		}
	}
	*ret = m;
	return 0;
}

static int snapshot_sockets(struct nsn_pb_arena *a, const struct nsn_scan *scan,
			    const struct nsn_netns *ns, Nsnet__V1__NamespaceSnapshot *m)
{
	Nsnet__V1__Socket *items;

	if (!ns->n_socks)
		return 0;
	m->sockets =
	    (Nsnet__V1__Socket **)alloc_repeated(a, ns->n_socks, sizeof(*items), (void **)&items);
	if (!m->sockets)
		return -ENOMEM;
	m->n_sockets = ns->n_socks;
	for (size_t i = 0; i < ns->n_socks; i++)
		if (socket_fill(a, scan, &ns->socks[i], &items[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int snapshot_links(struct nsn_pb_arena *a, const struct nsn_netns *ns,
			  Nsnet__V1__NamespaceSnapshot *m)
{
	Nsnet__V1__Link *items;

	if (!ns->n_links)
		return 0;
	m->links =
	    (Nsnet__V1__Link **)alloc_repeated(a, ns->n_links, sizeof(*items), (void **)&items);
	if (!m->links)
		return -ENOMEM;
	m->n_links = ns->n_links;
	for (size_t i = 0; i < ns->n_links; i++)
		if (link_fill(a, &ns->links[i], &items[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int snapshot_counters(struct nsn_pb_arena *a, const struct nsn_netns *ns,
			     Nsnet__V1__NamespaceSnapshot *m)
{
	Nsnet__V1__Counter *items;

	if (!ns->n_counters)
		return 0;
	m->counters = (Nsnet__V1__Counter **)alloc_repeated(a, ns->n_counters, sizeof(*items),
							    (void **)&items);
	if (!m->counters)
		return -ENOMEM;
	m->n_counters = ns->n_counters;
	for (size_t i = 0; i < ns->n_counters; i++)
		counter_fill(&ns->counters[i], &items[i]);
	return 0;
}

int nsn_pb_encode_netns(struct nsn_pb_arena *a, const struct nsn_scan *scan,
			const struct nsn_netns *ns, unsigned parts,
			Nsnet__V1__NamespaceSnapshot **ret)
{
	Nsnet__V1__NamespaceSnapshot *m = arena_alloc(a, sizeof(*m));

	if (!m)
		return -ENOMEM;
	nsnet__v1__namespace_snapshot__init(m);
	if (!(m->id = netns_id(a, ns)))
		return -ENOMEM;
	m->host = ns->host;
	m->current = ns->current;
	m->n_names = ns->n_names;
	m->names = ns->n_names ? ns->names : NULL;
	m->pid = (uint32_t)ns->pid;
	m->nprocs = (uint32_t)ns->n_pids;
	m->err = ns->err;

	if (parts & NSN_PB_CONTAINERS) {
		Nsnet__V1__NetnsContainers *c;
		if (nsn_pb_encode_containers(a, ns, &c) < 0)
			return -ENOMEM;
		m->n_containers = c->n_containers;
		m->containers = c->containers;
	}
	if ((parts & NSN_PB_SOCKETS) && snapshot_sockets(a, scan, ns, m) < 0)
		return -ENOMEM;
	if (parts & NSN_PB_ROUTES) {
		Nsnet__V1__Routes *routes;
		Nsnet__V1__Rules *rules;
		if (nsn_pb_encode_routes(a, ns, &routes) < 0 ||
		    nsn_pb_encode_rules(a, ns, &rules) < 0)
			return -ENOMEM;
		m->n_routes = routes->n_routes;
		m->routes = routes->routes;
		m->n_rules = rules->n_rules;
		m->rules = rules->rules;
	}
	if ((parts & NSN_PB_LINKS) && snapshot_links(a, ns, m) < 0)
		return -ENOMEM;
	if ((parts & NSN_PB_COUNTERS) && snapshot_counters(a, ns, m) < 0)
		return -ENOMEM;
	*ret = m;
	return 0;
}
