// SPDX-License-Identifier: GPL-2.0
/* nsnwalk.bpf.c - every TCP, UDP and UNIX socket of every network namespace, in one
 * pass over the host's socket tables (the design of ../shared/prototypes/bpf-walk).
 *
 * sock_diag walks the host-wide TCP and UDP hash tables once per namespace that asks;
 * on a host of N namespaces that is N walks. This program walks them once: the global
 * TCP established table (incl. TIME-WAIT and request sockets) and listening table, the
 * global UDP table, then every namespace on net_namespace_list -- one record each, with
 * its cookie and whether it has hash tables of its own (tcp_child_ehash_entries,
 * udp_child_hash_entries), which are not walked -- and that namespace's unix table.
 * Each socket becomes one record (nsnwalk.h) tagged with its namespace's inode.
 *
 * It runs as an iter/bpf_map program (the one iterator that needs no namespace and no
 * task), once per read(2) of an iterator instance, under RCU. Records go to a ring
 * buffer. A run stops at a bucket boundary when the ring is nearly full and records
 * where it stopped; user space empties the ring and starts the next run, which resumes
 * there. Nothing is dropped unless one chain alone does not fit in the empty ring (then
 * the drops are counted).
 *
 * Reading lock-free: a socket may move or be freed while the walk is on it (TCP sockets
 * are SLAB_TYPESAFE_BY_RCU). A TCP chain ends in a "nulls" marker naming its bucket;
 * a walk that ends in another bucket's marker went astray and the bucket is walked
 * again (counted). Sockets seen twice are removed in user space by (address, cookie).
 * Chains are cut at CHAIN_MAX (counted): a loop guard, far above any sane chain.
 *
 * Fields are read with plain loads through bpf_rdonly_cast() pointers (6.2+), which
 * the JIT turns into fault-safe loads; CO-RE relocates every offset to the running
 * kernel's layout at load time. Needs kernel >= 6.2 and BTF. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "nsnwalk.h"

char _license[] SEC("license") = "GPL";

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOCK_STREAM 1
#define SOCK_SEQPACKET 5
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

#define CHAIN_MAX 65536            /* sockets per chain before the walk gives up on it */
#define UNIX_BUCKETS 512           /* UNIX_HASH_SIZE: 256 unbound + 256 bound */
#define NETDEV_HASHENTRIES 256     /* 1 << NETDEV_HASHBITS */
#define LISTENING_NULLS_BASE (1u << 29)
#define SKB_WALK_MAX 65536         /* skbs summed for a unix Recv-Q */
#define ATTEMPTS 4                 /* walks of a TCP chain that went astray */
/* Room a bucket must find in the ring before it is started (a quarter of the ring, at
 * most 64 KiB): a run stops rather than split a chain. A longer chain still fits: the
 * run is retried. */
#define BUCKET_ROOM_MAX (64 * 1024)
#define BUCKET_ROOM                                                                          \
	({                                                                                   \
		__u64 _q = bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE) / 4;                      \
		_q < BUCKET_ROOM_MAX ? _q : BUCKET_ROOM_MAX;                                  \
	})
#define BPF_LOOPS (1 << 23) /* BPF_MAX_LOOPS: steps per run, then the next run resumes */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* set by user space before load */
} rb SEC(".maps");

/* In: what to walk (NSNW_WANT_*); where to resume (0/0/0: from the start); force: the
 * last run made no progress from here, so emit even if records must be dropped. */
__u32 nsnw_want;
__u32 nsnw_phase;
__u32 nsnw_bucket;
__u32 nsnw_net;   /* NSNW_PH_NETS: inode of the namespace to resume in */
__u32 nsnw_force;
__u32 nsnw_net_pending; /* NSNW_PH_NETS: that namespace's record is still to be written */
/* Out, per run: whether it stopped for room, and counts (user space sums them). */
__u32 nsnw_stopped;
__u64 nsnw_records, nsnw_drops, nsnw_capped, nsnw_restarts, nsnw_nets, nsnw_lost_net;

/* Unused by the program: it makes clang write struct nsnw_rec's BTF into the object,
 * where tests/unit/test-bpfrec.c checks it against user space's layout. */
struct nsnw_rec nsnw_rec_btf;

extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;
#define CAST(T, p) ((T *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(T)))
/* The unsigned long at an arbitrary kernel address (a list node's first member). */
#define WORD0(p) (CAST(struct pt_regs, (p))->r15)

static __always_inline __u64 ring_free(void)
{
	return bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE) - bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
}

/* A zeroed record of @size bytes (a constant) in the ring, or NULL when there is no
 * room: then, under force, the record is counted as dropped. */
#define RESERVE(size)                                                                   \
	({                                                                              \
		struct nsnw_rec *_r = bpf_ringbuf_reserve(&rb, (size), 0);              \
		if (_r)                                                                 \
			__builtin_memset(_r, 0, (size));                                \
		else if (nsnw_force)                                                    \
			__sync_fetch_and_add(&nsnw_drops, 1);                           \
		_r;                                                                     \
	})

static __always_inline void submit(struct nsnw_rec *r)
{
	__sync_fetch_and_add(&nsnw_records, 1);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

static __always_inline __u64 sk_ino(__u64 skaddr)
{
	struct socket *so = CAST(struct sock, skaddr)->sk_socket;

	if (!so)
		return 0;
	/* SOCK_INODE(): the inode follows the socket in struct socket_alloc */
	return CAST(struct socket_alloc, (__u64)so - bpf_core_field_offset(struct socket_alloc, socket))->vfs_inode.i_ino;
}

struct devctx {
	__u64 node;
	int ifindex;
	int found;
	char name[16];
};

static long dev_cb(__u32 i, struct devctx *c)
{
	struct net_device *dev;

	if (!c->node)
		return 1;
	dev = CAST(struct net_device, c->node - bpf_core_field_offset(struct net_device, index_hlist));
	if (dev->ifindex == c->ifindex) {
		bpf_probe_read_kernel(c->name, sizeof(c->name), dev->name);
		c->found = 1;
		return 1;
	}
	c->node = WORD0(c->node);
	return 0;
}

/* dev_get_by_index_rcu(): the name of @ifindex in @net, into @out (16 bytes). */
static __always_inline void dev_name(struct net *net, int ifindex, char *out)
{
	struct devctx c = {.ifindex = ifindex};
	__u64 head = (__u64)BPF_CORE_READ(net, dev_index_head); /* a scalar, for arithmetic */

	if (!head)
		return;
	c.node = WORD0(head + (__u64)(ifindex & (NETDEV_HASHENTRIES - 1)) * sizeof(struct hlist_head));
	bpf_loop(64, dev_cb, &c, 0);
	if (c.found)
		__builtin_memcpy(out, c.name, sizeof(c.name));
}

/* What TCP and UDP objects share, TIME-WAIT and request sockets included (sock_common). */
static __always_inline void fill_common(struct nsnw_rec *r, __u64 addr)
{
	struct sock_common *skc = CAST(struct sock_common, addr);
	struct net *net = skc->skc_net.net;

	r->key = addr;
	r->cookie = skc->skc_cookie.counter;
	r->netns = net->ns.inum;
	r->family = skc->skc_family;
	r->state = skc->skc_state;
	r->v6only = -1;
	r->in.sport = skc->skc_num;
	r->in.dport = bpf_ntohs(skc->skc_dport);
	r->in.ifindex = skc->skc_bound_dev_if;
	if (r->family == AF_INET6) {
		__builtin_memcpy(r->in.src, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(r->in.dst, &skc->skc_v6_daddr, 16);
	} else {
		*(__u32 *)r->in.src = skc->skc_rcv_saddr;
		*(__u32 *)r->in.dst = skc->skc_daddr;
	}
	if (r->in.ifindex)
		dev_name(net, r->in.ifindex, r->in.dev);
}

/* inet_diag_msg_attrs_fill(): INET_DIAG_SKV6ONLY for full AF_INET6 sockets. */
static __always_inline void fill_v6only(struct nsnw_rec *r, __u64 addr)
{
	struct sock_common *skc = CAST(struct sock_common, addr);

	if (r->family == AF_INET6)
		r->v6only = BPF_CORE_READ_BITFIELD(skc, skc_ipv6only);
}

static __always_inline void fill_tcp(struct nsnw_rec *r, __u64 addr)
{
	fill_common(r, addr);
	r->proto = IPPROTO_TCP;
	if (r->state == TCP_TIME_WAIT) {
		/* tcp_diag: the substate (TIME-WAIT or FIN-WAIT-2); no uid, inode or queues */
		r->kind = NSNW_TW;
		r->state = CAST(struct inet_timewait_sock, addr)->tw_substate;
	} else if (r->state == TCP_NEW_SYN_RECV) {
		r->kind = NSNW_REQ;
		r->state = TCP_SYN_RECV;
	} else {
		struct tcp_sock *tp = CAST(struct tcp_sock, addr);
		struct sock *sk = CAST(struct sock, addr);

		r->kind = NSNW_FULL;
		/* tcp_diag_get_info() */
		if (r->state == TCP_LISTEN) {
			r->rxq = sk->sk_ack_backlog;
			r->txq = sk->sk_max_ack_backlog;
		} else {
			int rq = tp->rcv_nxt - tp->copied_seq;

			r->rxq = rq < 0 ? 0 : rq;
			r->txq = tp->write_seq - tp->snd_una;
		}
		r->ino = sk_ino(addr);
		r->uid = sk->sk_uid.val;
		fill_v6only(r, addr);
	}
}

static __always_inline void fill_udp(struct nsnw_rec *r, __u64 addr)
{
	struct sock *sk = CAST(struct sock, addr);
	struct udp_sock *up = CAST(struct udp_sock, addr);

	fill_common(r, addr);
	r->proto = IPPROTO_UDP;
	r->kind = NSNW_FULL;
	/* udp_diag_get_info(): udp_rqueue_get() and sk_wmem_alloc_get() */
	r->rxq = sk->sk_backlog.rmem_alloc.counter - up->forward_deficit;
	r->txq = sk->sk_wmem_alloc.refs.counter - 1;
	r->ino = sk_ino(addr);
	r->uid = sk->sk_uid.val;
	fill_v6only(r, addr);
}

struct skbctx {
	__u64 skb;
	__u64 head;
	__u32 sum;
};

static long skb_cb(__u32 i, struct skbctx *c)
{
	struct sk_buff *skb;
	struct unix_skb_parms *cb;

	if (!c->skb || c->skb == c->head)
		return 1;
	skb = CAST(struct sk_buff, c->skb);
	cb = CAST(struct unix_skb_parms, c->skb + bpf_core_field_offset(struct sk_buff, cb));
	c->sum += skb->len - cb->consumed; /* unix_skb_len() */
	c->skb = (__u64)skb->next;
	return 0;
}

static __always_inline void fill_unix(struct nsnw_rec *r, __u64 addr)
{
	struct unix_sock *u = CAST(struct unix_sock, addr);
	struct sock *sk = CAST(struct sock, addr);
	struct sock *peer = u->peer;

	r->key = addr;
	r->cookie = sk->__sk_common.skc_cookie.counter;
	r->netns = sk->__sk_common.skc_net.net->ns.inum;
	r->family = AF_UNIX;
	r->kind = NSNW_UNIX;
	r->proto = sk->sk_type;
	r->state = sk->__sk_common.skc_state;
	r->v6only = -1;
	r->ino = sk_ino(addr);
	r->uid = sk->sk_uid.val;
	/* sk_diag_show_rqlen(): unix_inq_len() and unix_outq_len() */
	if (r->state == TCP_LISTEN) {
		r->rxq = sk->sk_receive_queue.qlen;
		r->txq = sk->sk_max_ack_backlog;
	} else {
		__u64 head = addr + bpf_core_field_offset(struct sock, sk_receive_queue);

		if (r->proto == SOCK_STREAM || r->proto == SOCK_SEQPACKET) {
			struct skbctx c = {.skb = (__u64)sk->sk_receive_queue.next, .head = head};

			if (sk->sk_receive_queue.qlen) {
				if (bpf_loop(SKB_WALK_MAX, skb_cb, &c, 0) == SKB_WALK_MAX && c.skb != head)
					__sync_fetch_and_add(&nsnw_capped, 1);
			}
			r->rxq = c.sum;
		} else {
			__u64 first = (__u64)sk->sk_receive_queue.next;

			if (first && first != head)
				r->rxq = CAST(struct sk_buff, first)->len;
		}
		r->txq = sk->sk_wmem_alloc.refs.counter - 1;
	}
	if (peer)
		r->un.peer = sk_ino((__u64)peer);
}

/* Bytes of sun_path the socket is bound to (0: unnamed), at most NSNW_PATH_MAX. */
static __always_inline int unix_name_len(__u64 addr)
{
	struct unix_address *a = CAST(struct unix_sock, addr)->addr;
	int len;

	if (!a)
		return 0;
	len = a->len - 2; /* less sun_family */
	if (len <= 0)
		return 0;
	return len > NSNW_PATH_MAX ? NSNW_PATH_MAX : len;
}

static __always_inline void fill_unix_name(struct nsnw_rec *r, __u64 addr)
{
	struct unix_address *a = CAST(struct unix_sock, addr)->addr;
	__u64 n;

	if (!a)
		return;
	/* Read again, and bounded here: the verifier must see the bound on the very
	 * register the helper gets (a value the compiler already knew it would drop). */
	n = (__u64)(a->len - 2) & 0xffff;
	if (n == 0 || n > 0x8000)
		return;
	if (n > NSNW_PATH_MAX)
		n = NSNW_PATH_MAX; /* a full sun_path without its NUL: len counts one more */
	barrier_var(n);
	if (n > NSNW_PATH_MAX)
		return;
	r->len = n;
	bpf_probe_read_kernel(r->un.path, n,
			      (void *)a + bpf_core_field_offset(struct unix_address, name) +
				      bpf_core_field_offset(struct sockaddr_un, sun_path));
}

enum { KIND_LHASH, KIND_EHASH, KIND_UDP, KIND_UNIX };

/* The walk as one flat state machine: every step of one bpf_loop() either starts a
 * bucket, reads one socket, or moves to the next table or namespace. One small
 * callback keeps the verifier's work (and so the load time) low, where nested loops
 * per table multiply it. */

/* In .bss, not on the stack: the verifier does not track what a map holds, so every
 * step looks alike to it and the callback is verified in a few passes, not one per
 * combination of phase, kind and counters. */
struct nsnw_walk nsnw_w;

static __always_inline void set_table(struct nsnw_walk *w, __u32 kind, __u64 base, __u32 n, __u32 stride, __u32 off,
				      __u32 node_off)
{
	w->kind = kind;
	w->base = base;
	w->nbuckets = base ? n : 0;
	w->stride = stride;
	w->off = off;
	w->node_off = node_off;
	w->in_chain = 0;
}

/* Enter the namespace at w->net_cur: its record, then its unix table. 1 when there is
 * no room for the record (stop), else 0. */
static __always_inline int enter_net(struct nsnw_walk *w, int with_record)
{
	struct net *net = CAST(struct net, w->net_cur - w->list_off);
	__u64 buckets = 0;

	w->net_inum = net->ns.inum;
	if (with_record) {
		struct nsnw_rec *r = NULL;

		if (nsnw_force || ring_free() >= BUCKET_ROOM)
			r = RESERVE(NSNW_NET_SIZE);
		w->net_pending = !r && !nsnw_force;
		if (w->net_pending)
			return 1;
		if (r) {
			r->kind = NSNW_NET;
			r->key = w->net_cur - w->list_off;
			r->netns = w->net_inum;
			r->cookie = net->net_cookie;
			if ((__u64)BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo) != w->tcp_hinfo)
				r->flags |= NSNW_NET_PRIVATE_TCP;
			if ((__u64)BPF_CORE_READ(net, ipv4.udp_table) != w->udp_table)
				r->flags |= NSNW_NET_PRIVATE_UDP;
			submit(r);
		}
		__sync_fetch_and_add(&nsnw_nets, 1);
	}
	if (nsnw_want & NSNW_WANT_UNIX)
		buckets = (__u64)BPF_CORE_READ(net, unx.table.buckets);
	set_table(w, KIND_UNIX, buckets, UNIX_BUCKETS, sizeof(struct hlist_head), 0,
		  bpf_core_field_offset(struct sock_common, skc_node));
	w->bucket = 0;
	return 0;
}

/* The table after the current one (w->phase), or done. 1 to stop for room. */
static __always_inline int next_table(struct nsnw_walk *w)
{
	struct inet_hashinfo *h = (struct inet_hashinfo *)w->tcp_hinfo;
	struct udp_table *ut = (struct udp_table *)w->udp_table;
	__u32 nulls = bpf_core_field_offset(struct sock_common, skc_nulls_node);

	w->bucket = 0;
	switch (w->phase) {
	case NSNW_PH_START:
		w->phase = NSNW_PH_LHASH;
		if (nsnw_want & NSNW_WANT_TCP)
			set_table(w, KIND_LHASH, (__u64)BPF_CORE_READ(h, lhash2), BPF_CORE_READ(h, lhash2_mask) + 1,
				  bpf_core_type_size(struct inet_listen_hashbucket),
				  bpf_core_field_offset(struct inet_listen_hashbucket, nulls_head), nulls);
		else
			set_table(w, KIND_LHASH, 0, 0, 0, 0, 0);
		return 0;
	case NSNW_PH_LHASH:
		w->phase = NSNW_PH_EHASH;
		if (nsnw_want & NSNW_WANT_TCP)
			set_table(w, KIND_EHASH, (__u64)BPF_CORE_READ(h, ehash), BPF_CORE_READ(h, ehash_mask) + 1,
				  bpf_core_type_size(struct inet_ehash_bucket), 0, nulls);
		else
			set_table(w, KIND_EHASH, 0, 0, 0, 0, 0);
		return 0;
	case NSNW_PH_EHASH:
		w->phase = NSNW_PH_UDP;
		if (nsnw_want & NSNW_WANT_UDP)
			set_table(w, KIND_UDP, (__u64)BPF_CORE_READ(ut, hash), BPF_CORE_READ(ut, mask) + 1,
				  bpf_core_type_size(struct udp_hslot), bpf_core_field_offset(struct udp_hslot, head),
				  bpf_core_field_offset(struct sock_common, skc_node));
		else
			set_table(w, KIND_UDP, 0, 0, 0, 0, 0);
		return 0;
	case NSNW_PH_UDP:
		w->phase = NSNW_PH_NETS;
		w->net_cur = w->net_head; /* advanced to init_net just below */
		/* fall through */
	case NSNW_PH_NETS:
		w->net_cur = WORD0(w->net_cur); /* list_head.next */
		if (w->net_cur == w->net_head || !w->net_cur) {
			w->phase = NSNW_PH_DONE;
			w->done = 1;
			return 0;
		}
		return enter_net(w, 1);
	default:
		w->done = 1;
		return 0;
	}
}

static long step(__u32 i, void *ctx)
{
	struct nsnw_walk *w = &nsnw_w;
	__u64 node, obj;
	struct nsnw_rec *r;

	if (!w->in_chain) {
		if (w->bucket >= w->nbuckets) {
			if (next_table(w)) {
				w->stopped = 1;
				return 1;
			}
			if (w->done)
				return 1;
			return 0;
		}
		if (!nsnw_force && ring_free() < BUCKET_ROOM) {
			w->stopped = 1;
			return 1;
		}
		w->node = WORD0(w->base + (__u64)w->bucket * w->stride + w->off);
		w->in_chain = 1;
		w->chain_len = 0;
		return 0;
	}
	node = w->node;
	if (w->kind <= KIND_EHASH ? (node & 1) : !node) {
		/* The chain's end. get_nulls_value(): which bucket's chain it was. */
		if (w->kind <= KIND_EHASH && w->attempts < ATTEMPTS &&
		    (node >> 1) != (w->kind == KIND_LHASH ? w->bucket + LISTENING_NULLS_BASE : w->bucket)) {
			w->attempts++;
			__sync_fetch_and_add(&nsnw_restarts, 1);
		} else {
			w->attempts = 0;
			w->bucket++;
		}
		w->in_chain = 0;
		return 0;
	}
	if (w->chain_len >= CHAIN_MAX) {
		__sync_fetch_and_add(&nsnw_capped, 1);
		w->attempts = 0;
		w->bucket++;
		w->in_chain = 0;
		return 0;
	}
	obj = node - w->node_off;
	if (w->kind <= KIND_UDP) {
		r = RESERVE(NSNW_INET_SIZE);
		if (r) {
			if (w->kind == KIND_UDP)
				fill_udp(r, obj);
			else
				fill_tcp(r, obj);
			submit(r);
		}
	} else if (unix_name_len(obj)) {
		r = RESERVE(NSNW_REC_MAX);
		if (r) {
			fill_unix(r, obj);
			fill_unix_name(r, obj);
			submit(r);
		}
	} else {
		r = RESERVE(NSNW_UNIX_SIZE);
		if (r) {
			fill_unix(r, obj);
			submit(r);
		}
	}
	if (!r && !nsnw_force) {
		/* No room: stop, and walk this bucket again next run (what was read of it
		 * is read again: duplicates are removed in user space). */
		w->in_chain = 0;
		w->stopped = 1;
		return 1;
	}
	w->node = WORD0(node); /* hlist_nulls_node.next and hlist_node.next come first */
	w->chain_len++;
	return 0;
}

struct up {
	struct task_struct *t;
};

static long up_cb(__u32 i, struct up *c)
{
	struct task_struct *p = CAST(struct task_struct, c->t)->real_parent;

	if (!p || p == c->t)
		return 1;
	c->t = p;
	return 0;
}

static long seek_cb(__u32 i, void *ctx)
{
	struct nsnw_walk *w = &nsnw_w;
	w->net_cur = WORD0(w->net_cur);
	if (w->net_cur == w->net_head || !w->net_cur)
		return 1;
	if (CAST(struct net, w->net_cur - w->list_off)->ns.inum == w->net_inum)
		return 1;
	return 0;
}

SEC("iter/bpf_map")
int nsnw_walk(struct bpf_iter__bpf_map *ctx)
{
	struct up up = {};
	struct net *init;
	struct nsnw_walk *w = &nsnw_w;

	if (!ctx->map || ctx->meta->seq_num != 0)
		return 0; /* one run per read: the first map only */
	nsnw_stopped = 0;
	__builtin_memset(w, 0, sizeof(*w));
	/* &init_net, from init_task's nsproxy: every task's parent chain ends at init_task
	 * (pid 0, its own parent), whatever namespace the caller is in. */
	up.t = bpf_get_current_task_btf();
	bpf_loop(1 << 16, up_cb, &up, 0);
	init = CAST(struct task_struct, up.t)->nsproxy->net_ns;
	/* Base addresses are read as plain numbers (BPF_CORE_READ), not typed pointers:
	 * the walk adds bucket offsets to them. */
	w->tcp_hinfo = (__u64)BPF_CORE_READ(init, ipv4.tcp_death_row.hashinfo);
	w->udp_table = (__u64)BPF_CORE_READ(init, ipv4.udp_table);
	w->net_head = (__u64)BPF_CORE_READ(init, list.prev); /* init_net comes first */
	w->list_off = bpf_core_field_offset(struct net, list);
	if (!w->tcp_hinfo || !w->udp_table || !w->net_head)
		return 0;

	/* Resume where the last run stopped: the table of the phase, at the bucket. */
	w->phase = nsnw_phase;
	if (w->phase == NSNW_PH_DONE)
		return 0;
	if (w->phase == NSNW_PH_NETS) {
		w->net_cur = w->net_head;
		w->net_inum = nsnw_net;
		bpf_loop(1 << 20, seek_cb, NULL, 0);
		if (w->net_cur == w->net_head || !w->net_cur) {
			/* The namespace to resume in is gone: every namespace again
			 * (duplicates are removed in user space). */
			__sync_fetch_and_add(&nsnw_lost_net, 1);
			w->phase = NSNW_PH_UDP;
			w->bucket = w->nbuckets = 0;
		} else {
			if (enter_net(w, nsnw_net_pending))
				goto stopped;
			w->bucket = nsnw_bucket;
		}
	} else if (w->phase != NSNW_PH_START) {
		/* next_table() moves on from the phase before */
		w->phase--;
		next_table(w);
		w->bucket = nsnw_bucket;
	}
	bpf_loop(BPF_LOOPS, step, NULL, 0);
	if (w->done) {
		nsnw_phase = NSNW_PH_DONE;
		return 0;
	}
stopped:
	/* Stopped for room, or out of loop steps: the next run resumes here. */
	nsnw_phase = w->phase;
	nsnw_bucket = w->bucket;
	nsnw_net = w->net_inum;
	nsnw_net_pending = w->net_pending;
	nsnw_stopped = 1;
	return 0;
}

/* Socket cookies: sock_diag gives every socket it dumps a cookie (sock_gen_cookie());
 * a hash-table walk can only read them. This pass over every open file of every task
 * does the same for every socket a process holds, so that the walk that follows
 * reports the cookies sock_diag would (TIME-WAIT, request and not yet accepted sockets
 * keep 0 unless something asked before: their cookie is the full socket's). */
SEC("iter/task_file")
int nsnw_cookies(struct bpf_iter__task_file *ctx)
{
	struct file *f = ctx->file;
	struct socket *so;
	struct sock *sk;

	if (!f)
		return 0;
	so = bpf_sock_from_file(f);
	if (!so)
		return 0;
	sk = so->sk;
	if (sk)
		bpf_get_socket_cookie(sk);
	return 0;
}
