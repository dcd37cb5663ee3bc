/* SPDX-License-Identifier: MIT */
/* The BPF backend: load lib/bpf/nsnwalk.bpf.c (embedded as a libbpf skeleton), run it
 * over the host's socket tables, and turn its records into the scan's sockets.
 *
 * One walk is a series of runs of the program: each run fills the ring buffer until it
 * is nearly full and notes where it stopped, we empty the ring, and the next run
 * resumes there (lib/bpf/nsnwalk.h). Records are sorted into the namespaces discovery
 * found (by namespace inode), filtered by the scan's protocols, families and states as
 * sock_diag would filter them, and de-duplicated by (socket address, cookie): the walk
 * is lock-free and a socket that moves meanwhile may be met twice. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "nsnwalk.h"
#include "nsnwalk.skel.h"

#define RING_DEFAULT (1u << 20) /* 1 MiB: ~9,000 records a run; the pages stay mapped in the agent */
#define RING_MIN (64u << 10)
#define RUNS_MAX (1u << 20)

/* One record as a socket of a namespace, for the duplicate check. */
struct seen {
	uint64_t key, cookie;
	struct nsn_netns *ns; /* NULL: an empty slot */
	size_t idx;
};

struct nsidx {
	uint32_t inode;
	struct nsn_netns *ns;
	uint8_t flags; /* NSNW_NET_PRIVATE_* from its record */
	bool seen;     /* the walk met its NSNW_NET record: it exists */
};

struct walkst {
	struct nsn_bpf_stats *st;
	unsigned protos, families, states;
	struct nsidx *ns;  /* open addressing by inode */
	size_t ns_cap;
	struct seen *seen; /* open addressing by (key, cookie) */
	size_t seen_cap, seen_n;
	int err;
};

struct nsn_bpf {
	struct nsnwalk *skel;
	struct bpf_link *link;    /* nsnw_walk */
	struct bpf_link *cookies; /* nsnw_cookies */
	struct ring_buffer *ring;
	struct walkst *ws; /* the walk in progress, for the ring's callback */
	double load_ms;
	bool load_counted;
};

bool nsn_bpf_built(void)
{
	return true;
}

/* libbpf's messages: kept (the last warning says why a load failed), printed only with
 * NSN_BPF_DEBUG set. */
static __thread char last_msg[256];

__attribute__((format(printf, 2, 0)))
static int on_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static int debug = -1;
	va_list copy;

	if (debug < 0)
		debug = getenv("NSN_BPF_DEBUG") != NULL;
	if (debug) {
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level == LIBBPF_WARN) {
		vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
		last_msg[strcspn(last_msg, "\n")] = '\0';
	}
	return 0;
}

static int kernel_too_old(char *why, size_t len)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0; /* let the load decide */
	if (major > 6 || (major == 6 && minor >= 2))
		return 0;
	snprintf(why, len, "kernel %u.%u is older than 6.2", major, minor);
	return 1;
}

/* NSN_BPF_RING_KB: the ring's size in KiB (a power of two, at least 64); a test knob
 * to make a walk take many runs. */
static unsigned ring_bytes(void)
{
	const char *e = getenv("NSN_BPF_RING_KB");
	unsigned long kb;
	char *end;

	if (!e || !*e)
		return RING_DEFAULT;
	kb = strtoul(e, &end, 10);
	if (*end || kb < RING_MIN / 1024 || kb > (1u << 20) || (kb & (kb - 1)))
		return RING_DEFAULT;
	return (unsigned)kb * 1024;
}

static int on_record(void *ctx, void *data, size_t size);

int nsn_bpf_open(struct nsn_bpf **ret, char *why, size_t why_len)
{
	struct nsn_bpf *b;
	const char *missing;
	double t0 = nsn__now_ms();
	int r;

	*ret = NULL;
	if (kernel_too_old(why, why_len))
		return -ENOTSUP;
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		snprintf(why, why_len, "no kernel BTF: /sys/kernel/btf/vmlinux: %s (CONFIG_DEBUG_INFO_BTF)",
			 strerror(errno));
		return -ENOTSUP;
	}
	if (nsn__bpf_check_caps(&missing) == -EPERM) {
		snprintf(why, why_len, "%s missing (or CAP_SYS_ADMIN)", missing);
		return -EPERM;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	libbpf_set_print(on_libbpf_print);
	last_msg[0] = '\0';
	b->skel = nsnwalk__open();
	if (!b->skel) {
		r = -errno;
		snprintf(why, why_len, "BPF object did not open: %s", strerror(-r));
		goto fail;
	}
	r = bpf_map__set_max_entries(b->skel->maps.rb, ring_bytes());
	if (r == 0)
		r = nsnwalk__load(b->skel);
	if (r) {
		r = r < 0 ? r : -EINVAL;
		snprintf(why, why_len, "program did not load: %s%s%s", strerror(-r), last_msg[0] ? ": " : "",
			 last_msg);
		goto fail;
	}
	b->link = bpf_program__attach_iter(b->skel->progs.nsnw_walk, NULL);
	if (!b->link) {
		r = -errno;
		snprintf(why, why_len, "iterator did not attach: %s", strerror(-r));
		goto fail;
	}
	b->cookies = bpf_program__attach_iter(b->skel->progs.nsnw_cookies, NULL);
	if (!b->cookies) {
		r = -errno;
		snprintf(why, why_len, "iterator did not attach: %s", strerror(-r));
		goto fail;
	}
	b->ring = ring_buffer__new(bpf_map__fd(b->skel->maps.rb), on_record, b, NULL);
	if (!b->ring) {
		r = -errno;
		snprintf(why, why_len, "ring buffer: %s", strerror(-r));
		goto fail;
	}
	b->load_ms = nsn__now_ms() - t0;
	*ret = b;
	return 0;
fail:
	nsn_bpf_close(b);
	return r;
}

void nsn_bpf_close(struct nsn_bpf *b)
{
	if (!b)
		return;
	ring_buffer__free(b->ring);
	bpf_link__destroy(b->link);
	bpf_link__destroy(b->cookies);
	nsnwalk__destroy(b->skel);
	free(b);
}

static size_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct nsidx *ns_find(struct walkst *w, uint32_t inode)
{
	for (size_t h = hash64(inode) & (w->ns_cap - 1);; h = (h + 1) & (w->ns_cap - 1)) {
		if (!w->ns[h].ns)
			return NULL;
		if (w->ns[h].inode == inode)
			return &w->ns[h];
	}
}

static int ns_index(struct walkst *w, struct nsn_scan *scan)
{
	size_t cap = 16;

	while (cap < scan->n_netns * 2)
		cap <<= 1;
	w->ns = calloc(cap, sizeof(*w->ns));
	if (!w->ns)
		return -ENOMEM;
	w->ns_cap = cap;
	for (size_t i = 0; i < scan->n_netns; i++) {
		struct nsn_netns *ns = scan->netns[i];
		size_t h = hash64((uint32_t)ns->inode) & (cap - 1);

		while (w->ns[h].ns)
			h = (h + 1) & (cap - 1);
		w->ns[h].inode = (uint32_t)ns->inode;
		w->ns[h].ns = ns;
	}
	return 0;
}

static int seen_grow(struct walkst *w)
{
	size_t cap = w->seen_cap ? w->seen_cap * 2 : 4096;
	struct seen *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < w->seen_cap; i++) {
		struct seen *e = &w->seen[i];
		if (!e->ns)
			continue;
		size_t h = hash64(e->key ^ (e->cookie * 31)) & (cap - 1);
		while (t[h].ns)
			h = (h + 1) & (cap - 1);
		t[h] = *e;
	}
	free(w->seen);
	w->seen = t;
	w->seen_cap = cap;
	return 0;
}

/* The socket of @ns this record repeats (same object, same cookie), or NULL after
 * noting it as new at @idx. */
static struct nsn_sock *seen_check(struct walkst *w, struct nsn_netns *ns, uint64_t key, uint64_t cookie,
				   size_t idx, int *err)
{
	size_t h;

	*err = 0;
	if ((w->seen_n + 1) * 2 > w->seen_cap && (*err = seen_grow(w)) < 0)
		return NULL;
	for (h = hash64(key ^ (cookie * 31)) & (w->seen_cap - 1); w->seen[h].ns; h = (h + 1) & (w->seen_cap - 1)) {
		struct seen *e = &w->seen[h];
		if (e->key == key && e->cookie == cookie && e->ns == ns)
			return &ns->socks[e->idx];
	}
	w->seen[h] = (struct seen){key, cookie, ns, idx};
	w->seen_n++;
	return NULL;
}

static bool family_wanted(const struct walkst *w, unsigned family)
{
	return family == AF_INET ? !!(w->families & NSN_FAMILY_V4) : !!(w->families & NSN_FAMILY_V6);
}

/* One record as a socket, as sockdiag.c makes one from sock_diag's message. */
static int add_sock(struct walkst *w, struct nsn_netns *ns, const struct nsnw_rec *r, size_t size)
{
	struct nsn__arena *arena = &nsn__priv(ns)->arena;
	struct nsn_sock tmp, *s, *dup;
	unsigned proto;
	int err;

	if (r->kind == NSNW_UNIX) {
		/* unix_diag skips sockets without an inode: embryos of connections that a
		 * listener has not accepted yet */
		if (!r->ino)
			return 0;
		proto = NSN_PROTO_UNIX;
	} else if (r->family != AF_INET && r->family != AF_INET6) {
		return 0;
	} else {
		proto = r->proto == IPPROTO_TCP ? NSN_PROTO_TCP : NSN_PROTO_UDP;
		if (!family_wanted(w, r->family))
			return 0;
	}
	if (!(w->protos & NSN_PROTO_BIT(proto)) || r->state >= NSN_SS_MAX || !(w->states & (1u << r->state)))
		return 0;

	memset(&tmp, 0, sizeof(tmp));
	tmp.proto = (uint8_t)proto;
	tmp.family = r->family;
	tmp.state = r->state;
	/* inet_diag_msg_attrs_fill(): IPV6_V6ONLY only for sockets in LISTEN or CLOSE */
	tmp.v6only = r->state == NSN_SS_LISTEN || r->state == NSN_SS_CLOSE ? r->v6only : -1;
	tmp.recv_q = r->rxq;
	tmp.send_q = r->txq;
	tmp.uid = r->uid;
	tmp.inode = (uint32_t)r->ino;
	tmp.cookie = r->cookie;
	if (proto == NSN_PROTO_UNIX) {
		tmp.type = r->proto;
		tmp.peer_inode = (uint32_t)r->un.peer;
		if (r->len > 0 && size >= NSNW_UNIX_SIZE + r->len && r->len <= NSNW_PATH_MAX) {
			char *p = nsn__arena_strndup(arena, r->un.path, r->len);
			if (!p)
				return -ENOMEM;
			/* Abstract names start with NUL and may hold more: ss shows each as '@'. */
			if (p[0] == '\0')
				for (size_t i = 0; i < r->len; i++)
					if (p[i] == '\0')
						p[i] = '@';
			tmp.path = p;
		}
	} else {
		size_t alen = r->family == AF_INET ? 4 : 16;

		/* sock_diag reports no uid for TIME-WAIT and request sockets: 0 */
		tmp.type = proto == NSN_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
		memcpy(tmp.local.addr, r->in.src, alen);
		memcpy(tmp.peer.addr, r->in.dst, alen);
		tmp.local.port = r->in.sport;
		tmp.peer.port = r->in.dport;
		tmp.ifindex = r->in.ifindex;
		if (tmp.ifindex && r->in.dev[0]) {
			tmp.dev = nsn__arena_strndup(arena, r->in.dev, strnlen(r->in.dev, sizeof(r->in.dev)));
			if (!tmp.dev)
				return -ENOMEM;
		}
	}
	dup = seen_check(w, ns, r->key, r->cookie, ns->n_socks, &err);
	if (err < 0)
		return err;
	if (dup) {
		/* Met twice: the later reading is the newer. */
		*dup = tmp;
		w->st->dups++;
		return 0;
	}
	s = nsn__netns_push_sock(ns);
	if (!s)
		return -ENOMEM;
	*s = tmp;
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct nsn_bpf *b = ctx;
	struct walkst *w = b->ws;
	struct nsnw_rec r;
	struct nsidx *x;

	if (!w || w->err)
		return 0;
	if (size < NSNW_NET_SIZE || size > sizeof(r)) {
		w->err = -EBADMSG;
		return 0;
	}
	memset(&r, 0, sizeof(r));
	memcpy(&r, data, size);
	w->st->records++;
	x = ns_find(w, r.netns);
	if (r.kind == NSNW_NET) {
		if (x) {
			x->seen = true;
			x->flags = r.flags;
			if (r.cookie)
				x->ns->cookie = r.cookie;
		}
		return 0;
	}
	if (!x) {
		w->st->foreign++;
		return 0;
	}
	if (size < (r.kind == NSNW_UNIX ? NSNW_UNIX_SIZE : NSNW_INET_SIZE)) {
		w->err = -EBADMSG;
		return 0;
	}
	w->err = add_sock(w, x->ns, &r, size);
	return 0;
}

/* One run of an iterator program, read to its end. */
static int run_iter(struct bpf_link *link)
{
	char buf[64];
	ssize_t n;
	int fd = bpf_iter_create(bpf_link__fd(link));

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		; /* the programs write nothing to the seq file */
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Run the program until the walk is done; then every record has been read. */
static int run_walk(struct nsn_bpf *b, struct walkst *w)
{
	struct nsnwalk__bss *bss = b->skel->bss;
	int r = run_iter(b->cookies); /* first: the cookies sock_diag would have made */

	if (r < 0)
		return r;

	for (unsigned runs = 0;; runs++) {
		uint32_t phase = bss->nsnw_phase, bucket = bss->nsnw_bucket, net = bss->nsnw_net;
		uint64_t before = bss->nsnw_records;

		if (runs == RUNS_MAX)
			return -ELOOP;
		r = run_iter(b->link);
		if (r < 0)
			return r;
		w->st->passes++;
		if (ring_buffer__consume(b->ring) < 0)
			return -EIO;
		if (w->err)
			return w->err;
		if (bss->nsnw_phase == NSNW_PH_DONE)
			return 0;
		if (!bss->nsnw_stopped)
			return -EPROTO; /* neither done nor stopped: the program did not run */
		/* A run that got nowhere (one chain larger than the empty ring) is run again
		 * with force: what does not fit is dropped, and counted. */
		bss->nsnw_force = bss->nsnw_records == before && bss->nsnw_phase == phase &&
				  bss->nsnw_bucket == bucket && bss->nsnw_net == net;
	}
}

int nsn__bpf_walk(struct nsn_bpf *b, const struct nsn_gather_opts *opts, struct nsn_scan *scan)
{
	struct nsnwalk__bss *bss = b->skel->bss;
	struct walkst w = {.st = &scan->bpf};
	double t0 = nsn__now_ms();
	size_t met = 0;
	int r;

	w.protos = nsn__sockdiag_protos(opts);
	w.families = opts->families ? opts->families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);
	w.states = (opts->states ? opts->states : NSN_STATES_ALL) & NSN_STATES_ALL;
	if (!b->load_counted) {
		scan->bpf.load_ms = b->load_ms;
		b->load_counted = true;
	}
	r = ns_index(&w, scan);
	if (r < 0)
		return r;
	memset(bss, 0, sizeof(*bss));
	bss->nsnw_want = (w.protos & NSN_PROTO_BIT(NSN_PROTO_TCP) ? NSNW_WANT_TCP : 0) |
			 (w.protos & NSN_PROTO_BIT(NSN_PROTO_UDP) ? NSNW_WANT_UDP : 0) |
			 (w.protos & NSN_PROTO_BIT(NSN_PROTO_UNIX) ? NSNW_WANT_UNIX : 0);
	b->ws = &w;
	r = run_walk(b, &w);
	b->ws = NULL;
	scan->bpf.capped = bss->nsnw_capped;
	scan->bpf.drops = bss->nsnw_drops;
	scan->bpf.restarts = bss->nsnw_restarts + bss->nsnw_lost_net;
	scan->bpf.walk_ms = nsn__now_ms() - t0;
	for (size_t i = 0; i < w.ns_cap; i++)
		met += w.ns[i].ns && w.ns[i].seen;
	if (r == 0 && scan->n_netns > 0 && met == 0)
		r = -EPROTO; /* it found none of the namespaces: it did not read what we think */
	if (r < 0) {
		/* Nothing half done: sock_diag dumps every namespace afresh. */
		for (size_t i = 0; i < scan->n_netns; i++)
			scan->netns[i]->n_socks = 0;
		free(w.ns);
		free(w.seen);
		return r;
	}
	for (size_t i = 0; i < w.ns_cap; i++) {
		struct nsidx *x = &w.ns[i];
		bool priv_tcp = x->flags & NSNW_NET_PRIVATE_TCP, priv_udp = x->flags & NSNW_NET_PRIVATE_UDP;

		if (!x->ns)
			continue;
		if (!x->seen) {
			/* Not on the kernel's list of namespaces: gone since discovery. */
			x->ns->n_socks = 0;
			nsn__priv(x->ns)->vanished = 1;
			continue;
		}
		if ((priv_tcp && (w.protos & NSN_PROTO_BIT(NSN_PROTO_TCP))) ||
		    (priv_udp && (w.protos & NSN_PROTO_BIT(NSN_PROTO_UDP)))) {
			/* Its own hash tables (net.ipv4.tcp_child_ehash_entries,
			 * udp_child_hash_entries), which the walk does not read: sock_diag. */
			x->ns->n_socks = 0;
			scan->bpf.netlink_ns++;
			continue;
		}
		nsn__priv(x->ns)->bpf_done = true;
		/* What no process holds has no cookie yet: its worker looks those up. */
		nsn__priv(x->ns)->cookie_wanted = nsn__sockdiag_cookies_wanted(x->ns);
		r = nsn__socks_sort_ss(x->ns);
		if (r < 0)
			break;
	}
	free(w.ns);
	free(w.seen);
	if (r < 0)
		return r;
	if (scan->bpf.capped)
		nsn__scan_warn(scan, "BPF walk: %zu hash chains or queues longer than the walk follows were cut: "
				     "sockets beyond them are missing, Recv-Q undercounted",
			       scan->bpf.capped);
	if (scan->bpf.drops)
		nsn__scan_warn(scan, "BPF walk: %zu sockets lost to a full ring buffer (one hash chain larger "
				     "than NSN_BPF_RING_KB): they are missing",
			       scan->bpf.drops);
	return 0;
}
