/* SPDX-License-Identifier: MIT */
/* The agent's change tracker (proto/sync.c) against the store (proto/store.c).
 *
 * For a sequence of scans, the frames nsn_sync_diff() emits go through the wire codec
 * into a store, as an agent sends them to a collector: a Hello, then each diff followed
 * by ScanDone (full=true after a resync). After every step, what the store
 * materializes, and what decoding that gives, must encode exactly as the scan itself
 * does (sockets in cookie order, namespaces in key order: the only orders the protocol
 * leaves open). Hand-written steps cover each kind of change with its frame and
 * statistics counts; a seeded random walk of mutations is checked at every step. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nsnet/gather.h>

#include "codec.h"
#include "convert.h"
#include "internal.h"
#include "store.h"
#include "sync.h"
#include "sync-world.h"
#include "tap.h"

/* ---- comparison: packed snapshots in a canonical order ---------------------------- */

static const char *g_test;
static int g_step;

struct nsb {
	uint64_t cookie, dev, inode;
	uint8_t *b;
	size_t len;
};

struct nsset {
	struct nsb *v;
	size_t n;
};

struct sk {
	const Nsnet__V1__Socket *m;
	const uint8_t *b;
	size_t len;
};

static int cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return (alen > blen) - (alen < blen);
}

/* By cookie, then by content (sockets that share a cookie). */
static int cmp_sk(const void *x, const void *y)
{
	const struct sk *a = x, *b = y;

	if (a->m->cookie != b->m->cookie)
		return a->m->cookie < b->m->cookie ? -1 : 1;
	return cmp_bytes(a->b, a->len, b->b, b->len);
}

static int cmp_ctr(const void *x, const void *y)
{
	const Nsnet__V1__Counter *a = *(Nsnet__V1__Counter *const *)x,
				 *b = *(Nsnet__V1__Counter *const *)y;
	int r = strcmp(a->name, b->name);

	return r ? r : (a->value > b->value) - (a->value < b->value);
}

/* Put the sockets in cookie order (and the counters in name order when asked), in place. */
static void canon(Nsnet__V1__NamespaceSnapshot *m, bool sort_ctrs)
{
	size_t total = 0, off = 0;
	struct sk *v;
	uint8_t *buf;

	if (sort_ctrs && m->n_counters > 1)
		qsort(m->counters, m->n_counters, sizeof(*m->counters), cmp_ctr);
	if (m->n_sockets < 2)
		return;
	for (size_t i = 0; i < m->n_sockets; i++)
		total += nsnet__v1__socket__get_packed_size(m->sockets[i]);
	buf = malloc(total ? total : 1);
	v = malloc(m->n_sockets * sizeof(*v));
	if (!buf || !v)
		abort();
	for (size_t i = 0; i < m->n_sockets; i++) {
		v[i] = (struct sk){m->sockets[i], buf + off,
				   nsnet__v1__socket__pack(m->sockets[i], buf + off)};
		off += v[i].len;
	}
	qsort(v, m->n_sockets, sizeof(*v), cmp_sk);
	for (size_t i = 0; i < m->n_sockets; i++)
		m->sockets[i] = (Nsnet__V1__Socket *)v[i].m;
	free(v);
	free(buf);
}

static void set_add(struct nsset *s, Nsnet__V1__NamespaceSnapshot *m, bool sort_ctrs)
{
	struct nsb *e;

	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!s->v)
		abort();
	e = &s->v[s->n++];
	canon(m, sort_ctrs);
	e->cookie = m->id ? m->id->cookie : 0;
	e->dev = m->id ? m->id->dev : 0;
	e->inode = m->id ? m->id->inode : 0;
	e->len = nsnet__v1__namespace_snapshot__get_packed_size(m);
	e->b = malloc(e->len ? e->len : 1);
	if (!e->b)
		abort();
	nsnet__v1__namespace_snapshot__pack(m, e->b);
}

static int cmp_nsb(const void *x, const void *y)
{
	const struct nsb *a = x, *b = y;

	if (a->cookie != b->cookie)
		return a->cookie < b->cookie ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return (a->inode > b->inode) - (a->inode < b->inode);
}

static void set_free(struct nsset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].b);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Say where two packed snapshots of one namespace differ. */
static void explain(const char *what, const struct nsb *a, const struct nsb *b)
{
	Nsnet__V1__NamespaceSnapshot *x = nsnet__v1__namespace_snapshot__unpack(NULL, a->len, a->b);
	Nsnet__V1__NamespaceSnapshot *y = nsnet__v1__namespace_snapshot__unpack(NULL, b->len, b->b);

	TAP_FAIL("%s step %d: %s differs for netns cookie %llu inode %llu (%zu != %zu bytes)",
		 g_test, g_step, what, (unsigned long long)a->cookie, (unsigned long long)a->inode,
		 a->len, b->len);
	if (!x || !y)
		goto out;
	fprintf(stderr,
		"#   expected: %zu sockets, %zu links, %zu counters, %zu routes, %zu rules, %zu "
		"containers\n"
		"#   got:      %zu sockets, %zu links, %zu counters, %zu routes, %zu rules, %zu "
		"containers\n",
		x->n_sockets, x->n_links, x->n_counters, x->n_routes, x->n_rules, x->n_containers,
		y->n_sockets, y->n_links, y->n_counters, y->n_routes, y->n_rules, y->n_containers);
	for (size_t i = 0; i < x->n_sockets && i < y->n_sockets; i++) {
		size_t lx = nsnet__v1__socket__get_packed_size(x->sockets[i]);
		size_t ly = nsnet__v1__socket__get_packed_size(y->sockets[i]);
		uint8_t *bx = malloc(lx + 1), *by = malloc(ly + 1);

		nsnet__v1__socket__pack(x->sockets[i], bx);
		nsnet__v1__socket__pack(y->sockets[i], by);
		bool same = cmp_bytes(bx, lx, by, ly) == 0;
		free(bx);
		free(by);
		if (!same) {
			fprintf(stderr,
				"#   first different socket: #%zu, cookie %llu (state %u) != %llu "
				"(state %u)\n",
				i, (unsigned long long)x->sockets[i]->cookie, x->sockets[i]->state,
				(unsigned long long)y->sockets[i]->cookie, y->sockets[i]->state);
			break;
		}
	}
out:
	nsnet__v1__namespace_snapshot__free_unpacked(x, NULL);
	nsnet__v1__namespace_snapshot__free_unpacked(y, NULL);
}

static void compare(const char *what, struct nsset *exp, struct nsset *got)
{
	qsort(exp->v, exp->n, sizeof(*exp->v), cmp_nsb);
	qsort(got->v, got->n, sizeof(*got->v), cmp_nsb);
	tap_asserts++;
	if (exp->n != got->n)
		TAP_FAIL("%s step %d: %s has %zu namespaces, the scan %zu", g_test, g_step, what,
			 got->n, exp->n);
	for (size_t i = 0; i < exp->n && i < got->n; i++) {
		tap_asserts++;
		if (cmp_nsb(&exp->v[i], &got->v[i]) != 0) {
			TAP_FAIL("%s step %d: %s namespace #%zu is cookie %llu inode %llu, not "
				 "cookie %llu inode %llu",
				 g_test, g_step, what, i, (unsigned long long)got->v[i].cookie,
				 (unsigned long long)got->v[i].inode,
				 (unsigned long long)exp->v[i].cookie,
				 (unsigned long long)exp->v[i].inode);
			break;
		}
		if (cmp_bytes(exp->v[i].b, exp->v[i].len, got->v[i].b, got->v[i].len) != 0)
			explain(what, &exp->v[i], &got->v[i]);
	}
}

/* ---- the agent's side and the collector's side of one connection ---------------- */

struct peer {
	struct nsn_store *store;
	struct nsn_store_node *node;
	struct nsn_sync *sync;
	struct nsn_pb_arena *arena;
	uint64_t seq, session, scan_no;
	unsigned fail_at; /* the emitter refuses the diff's frame with this number (1-based) */
	bool sort_ctrs;	  /* compare counters as a set (see TEST(counters)) */
	/* What the emitter saw during the last diff. */
	unsigned calls;
	size_t snaps, deltas, gones, max_socks;
};

/* Through the wire, as the agent sends and the collector reads: a new frame that the
 * caller frees with nsn_wire_free(), or NULL after a failed assertion. */
static NsnFrame *wire(struct peer *p, NsnFrame *f)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	NsnFrame *g = NULL;
	int r;

	f->seq = ++p->seq;
	r = nsn_wire_pack(f, NSN_FRAME_MAX_DEFAULT, &buf, &len);
	ASSERT_EQ(r, 0);
	if (r < 0)
		return NULL;
	ASSERT_TRUE(len > NSN_FRAME_HDR);
	ASSERT_EQ((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3],
		  len - NSN_FRAME_HDR);
	r = nsn_wire_unpack(buf + NSN_FRAME_HDR, len - NSN_FRAME_HDR, NSN_FRAME_MAX_DEFAULT, &g);
	ASSERT_EQ(r, 0);
	free(buf);
	if (g) {
		ASSERT_EQ(g->seq, p->seq);
		ASSERT_EQ(g->body_case, f->body_case);
	}
	return g;
}

static int emit(NsnFrame *f, void *userdata)
{
	struct peer *p = userdata;
	struct nsn_store_error err = {{0}};
	size_t socks = 0;
	NsnFrame *g;
	int r;

	p->calls++;
	if (p->fail_at && p->calls == p->fail_at)
		return -EPIPE;
	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_SNAPSHOT:
		p->snaps++;
		socks = f->snapshot->n_sockets;
		ASSERT_TRUE(f->snapshot->id != NULL);
		break;
	case NSNET__V1__FRAME__BODY_DELTA:
		p->deltas++;
		socks = f->delta->n_added + f->delta->n_changed + f->delta->n_removed;
		ASSERT_TRUE(f->delta->id != NULL);
		break;
	case NSNET__V1__FRAME__BODY_GONE:
		p->gones++;
		ASSERT_TRUE(f->gone->id != NULL);
		break;
	default:
		TAP_FAIL("%s step %d: the diff emitted a %s frame", g_test, g_step,
			 nsn_wire_body_name(f));
	}
	if (socks > p->max_socks)
		p->max_socks = socks;
	g = wire(p, f);
	if (!g)
		return -EBADMSG;
	r = nsn_store_apply(p->node, g, &err);
	if (r < 0)
		TAP_FAIL("%s step %d: the store refused a %s frame: %s (%d)", g_test, g_step,
			 nsn_wire_body_name(g), err.msg, r);
	nsn_wire_free(g);
	return 0;
}

/* A new connection's Hello (seq starts over). */
static void hello(struct peer *p)
{
	Nsnet__V1__Hello h = NSNET__V1__HELLO__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	struct nsn_store_error err = {{0}};
	NsnFrame *g;

	h.protocol_version = NSN_PROTOCOL_VERSION;
	h.role = NSNET__V1__HELLO__ROLE__AGENT;
	h.node = (char *)"node-1";
	h.agent_version = (char *)"test";
	h.boot_id = (char *)"2c3e6f0a-boot";
	h.session = p->session;
	h.interval_ms = 1000;
	h.max_frame = NSN_FRAME_MAX_DEFAULT;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	p->seq = 0;
	g = wire(p, &f);
	if (!g)
		return;
	ASSERT_EQ(nsn_store_hello(p->store, g->hello, &p->node, &err), 0);
	nsn_wire_free(g);
}

static void peer_init(struct peer *p, const char *test)
{
	memset(p, 0, sizeof(*p));
	g_test = test;
	g_step = 0;
	p->store = nsn_store_new();
	p->sync = nsn_sync_new();
	p->arena = nsn_pb_arena_new();
	p->session = 0x1234;
	if (!p->store || !p->sync || !p->arena)
		abort();
	ASSERT_TRUE(nsn_sync_is_full(p->sync));
	hello(p);
}

static void peer_free(struct peer *p)
{
	nsn_sync_free(p->sync);
	nsn_store_free(p->store);
	nsn_pb_arena_free(p->arena);
}

/* What an agent does when its connection is lost and made again (a new process when
 * @p new_session): forget what was sent, Hello, and the next diff is a full resync. */
static void reconnect(struct peer *p, bool new_session)
{
	nsn_sync_reset(p->sync);
	ASSERT_TRUE(nsn_sync_is_full(p->sync));
	if (new_session)
		p->session++;
	hello(p);
}

/* The store's namespaces, and those decoded from them, against the scan's own. */
static void check_same(struct peer *p, const struct nsn_scan *scan)
{
	struct nsset exp = {0}, got = {0}, dec = {0};
	Nsnet__V1__NamespaceSnapshot **snaps = NULL, *m;
	struct nsn_scan *back = NULL;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < scan->n_netns; i++) {
		if (skipped(scan->netns[i]))
			continue;
		ASSERT_EQ(nsn_pb_encode_netns(p->arena, scan, scan->netns[i], NSN_PB_ALL, &m), 0);
		set_add(&exp, m, p->sort_ctrs);
	}
	nsn_pb_arena_reset(p->arena);
	ASSERT_EQ(nsn_store_node_snapshots(p->node, &snaps, &n), 0);
	r = nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)snaps, n, &back);
	ASSERT_EQ(r, 0);
	for (size_t i = 0; i < n; i++)
		set_add(&got, snaps[i], p->sort_ctrs);
	for (size_t i = 0; back && i < back->n_netns; i++) {
		ASSERT_EQ(nsn_pb_encode_netns(p->arena, back, back->netns[i], NSN_PB_ALL, &m), 0);
		set_add(&dec, m, p->sort_ctrs);
	}
	nsn_pb_arena_reset(p->arena);
	compare("the store", &exp, &got);
	compare("the decoded store", &exp, &dec);
	set_free(&exp);
	set_free(&got);
	set_free(&dec);
	nsn_scan_free(back);
	nsn_store_snapshots_free(snaps, n);
}

/* One scan as the agent sends it: the diff, then ScanDone; then the comparison.
 * Returns the diff's result (the emitter's error after a failure). */
static int step_scan(struct peer *p, const struct nsn_scan *scan, struct nsn_sync_stats *st)
{
	Nsnet__V1__ScanDone d = NSNET__V1__SCAN_DONE__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	struct nsn_store_node_info info;
	struct nsn_store_error err = {{0}};
	bool full = nsn_sync_is_full(p->sync);
	size_t n = 0, socks = 0;
	NsnFrame *g;
	int r;

	g_step++;
	p->calls = 0;
	p->snaps = p->deltas = p->gones = p->max_socks = 0;
	r = nsn_sync_diff(p->sync, scan, NSN_PB_ALL, p->arena, emit, p, st);
	if (p->max_socks > NSN_SYNC_CHUNK)
		TAP_FAIL("%s step %d: a frame held %zu sockets", g_test, g_step, p->max_socks);
	if (r < 0)
		return r;
	for (size_t i = 0; i < scan->n_netns; i++) {
		if (skipped(scan->netns[i]))
			continue;
		n++;
		socks += scan->netns[i]->n_socks;
	}
	ASSERT_EQ(st->frames, p->calls);
	ASSERT_EQ(st->snapshots, p->snaps);
	ASSERT_EQ(st->gone, p->gones);
	ASSERT_TRUE(p->deltas >= st->deltas);
	ASSERT_EQ(st->namespaces, n);
	ASSERT_EQ(st->sockets, socks);
	ASSERT_EQ(st->snapshots + st->deltas + st->unchanged, n);
	if (full) {
		ASSERT_EQ(st->snapshots, n);
		ASSERT_EQ(st->sockets_added, socks);
		ASSERT_EQ(st->gone + st->deltas + st->sockets_removed + st->sockets_changed, 0);
	}

	d.scan = ++p->scan_no;
	d.full = full;
	d.namespaces = (uint32_t)st->namespaces;
	d.sockets = st->sockets;
	f.body_case = NSNET__V1__FRAME__BODY_SCAN_DONE;
	f.scan_done = &d;
	g = wire(p, &f);
	if (g) {
		ASSERT_EQ(nsn_store_apply(p->node, g, &err), 0);
		nsn_wire_free(g);
	}
	nsn_store_node_info(p->node, &info);
	ASSERT_TRUE(info.synced);
	ASSERT_EQ(info.scan, p->scan_no);
	ASSERT_EQ(info.namespaces, n);
	ASSERT_EQ(info.sockets, socks);
	check_same(p, scan);
	return 0;
}

static int step(struct peer *p, struct world *w, struct nsn_sync_stats *st)
{
	struct nsn_scan *scan = build(w);
	int r = step_scan(p, scan, st);

	nsn_scan_free(scan);
	return r;
}

/* Frames, namespaces sent whole, as changes, gone and unchanged; sockets added, removed
 * and changed. */
static void expect_stats(const struct nsn_sync_stats *st, int line, size_t frames, size_t snapshots,
			 size_t deltas, size_t gone, size_t unchanged, size_t added, size_t removed,
			 size_t changed)
{
	tap_asserts++;
	if (st->frames != frames || st->snapshots != snapshots || st->deltas != deltas ||
	    st->gone != gone || st->unchanged != unchanged || st->sockets_added != added ||
	    st->sockets_removed != removed || st->sockets_changed != changed)
		TAP_FAIL("line %d: %s step %d: frames %zu snapshots %zu deltas %zu gone %zu "
			 "unchanged %zu "
			 "sockets +%zu -%zu ~%zu, expected %zu %zu %zu %zu %zu +%zu -%zu ~%zu",
			 line, g_test, g_step, st->frames, st->snapshots, st->deltas, st->gone,
			 st->unchanged, st->sockets_added, st->sockets_removed, st->sockets_changed,
			 frames, snapshots, deltas, gone, unchanged, added, removed, changed);
}
#define EXPECT(st, ...) expect_stats((st), __LINE__, __VA_ARGS__)

/* The host (sockets of every kind, routes, rules, a container, a veth to blue) and
 * blue (two sockets, two containers, the veth's other end): 8 sockets. */
static void base_world(struct world *w)
{
	struct wns *h, *b;
	struct wsock *s;

	w_init(w, 1);
	h = w_add_ns(w, NULL, true);
	h->host = h->current = true;
	h->pid = 1;
	h->npids = 150;
	h->routes_v = 2;
	h->rules_v = 2;
	h->cont_v = 4;
	w_add_sock(w, h, NSN_PROTO_TCP, true)->state = NSN_SS_LISTEN;
	s = w_add_sock(w, h, NSN_PROTO_TCP, true);
	s->nprocs = 2;
	s->recv_q = 5;
	s = w_add_sock(w, h, NSN_PROTO_TCP, true);
	s->state = NSN_SS_TIME_WAIT;
	s->inode = 0;
	s->nprocs = 0;
	s->info = false;
	w_add_sock(w, h, NSN_PROTO_UDP, true);
	w_add_sock(w, h, NSN_PROTO_UNIX, true);
	w_add_sock(w, h, NSN_PROTO_UNIX, true)->state = NSN_SS_ESTABLISHED;
	b = w_add_ns(w, "blue", true);
	b->cont_v = 3;
	w_add_sock(w, b, NSN_PROTO_TCP, true)->state = NSN_SS_LISTEN;
	w_add_sock(w, b, NSN_PROTO_TCP, true);
	w_add_link(h, 2, b->cookie);
	w_add_link(b, 2, h->cookie);
}

/* ---- the cases ---------------------------------------------------------------- */

TEST(basic)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *r;

	base_world(&w);
	peer_init(&p, "basic");
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 2, 0, 0, 0, 8, 0, 0);
	ASSERT_EQ(st.namespaces, 2);
	ASSERT_EQ(st.sockets, 8);
	ASSERT_TRUE(!nsn_sync_is_full(p.sync));
	ASSERT_TRUE(nsn_sync_memory(p.sync) > 0);

	/* An idle rescan sends nothing: ScanDone alone is the heartbeat. */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);

	/* A new namespace (no veth to the others) goes whole, alone. */
	r = w_add_ns(&w, "red", true);
	for (int i = 0; i < 3; i++)
		w_add_sock(&w, r, NSN_PROTO_UDP, true);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 3, 0, 0);
	ASSERT_EQ(st.namespaces, 3);
	ASSERT_EQ(st.sockets, 11);

	/* and goes away */
	w_remove_ns(&w, w_ns(&w, "red"));
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 0, 1, 2, 0, 0, 0);
	ASSERT_EQ(st.namespaces, 2);
	ASSERT_EQ(st.sockets, 8);

	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);
	peer_free(&p);
	w_free(&w);
}

TEST(sockets)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *h, *b;

	base_world(&w);
	peer_init(&p, "sockets");
	ASSERT_EQ(step(&p, &w, &st), 0);

	/* Two new, one gone, and one each changed in state, queue, holders and a
	 * holder's pid (the last two only in the process map). */
	h = w_ns(&w, "host");
	w_add_sock(&w, h, NSN_PROTO_TCP, true);
	w_add_sock(&w, h, NSN_PROTO_UNIX, true);
	w_remove_sock(h, 3); /* udp */
	h->socks[0].state = NSN_SS_CLOSE_WAIT;
	h->socks[1].recv_q += 100;
	h->socks[3].nprocs = 2;
	h->socks[4].proc_v++;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 2, 1, 4);

	/* what only ss -i shows */
	b = w_ns(&w, "blue");
	b->socks[1].info = false;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 1);
	b->socks[1].info = true;
	b->socks[1].recv_q = 7; /* tcp_info's rtt and skmem follow it */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 1);

	/* a socket closed and another one opened on the same port: another cookie */
	b->socks[0].cookie = w.next_cookie++;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 1, 1, 0);

	/* every socket of a namespace */
	b->n_socks = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 2, 0);
	ASSERT_EQ(st.sockets, 7);
	peer_free(&p);
	w_free(&w);
}

/* More than NSN_SYNC_CHUNK sockets: a snapshot and deltas, and deltas in chunks. */
TEST(big)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *h, *big;
	size_t mem;

	w_init(&w, 2);
	h = w_add_ns(&w, NULL, true);
	h->host = true;
	w_add_sock(&w, h, NSN_PROTO_TCP, true);
	w_add_sock(&w, h, NSN_PROTO_UDP, true);
	big = w_add_ns(&w, "big", true);
	for (size_t i = 0; i < 45000; i++) {
		struct wsock *s = w_add_sock(&w, big, i % 7 ? NSN_PROTO_TCP : NSN_PROTO_UNIX, true);
		s->nprocs = i % 100 == 0;
		s->info = i % 10 == 0;
	}
	peer_init(&p, "big");
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 4, 2, 0, 0, 0, 45002, 0, 0);
	ASSERT_EQ(p.snaps, 2);
	ASSERT_EQ(p.deltas, 2); /* 20000 in the snapshot, 20000 and 5000 added after */
	ASSERT_EQ(p.max_socks, NSN_SYNC_CHUNK);
	mem = nsn_sync_memory(p.sync);
	ASSERT_TRUE(mem >= 45000 * 2 * sizeof(uint64_t));

	/* 30000 go, 30000 come, 5000 change: 65000 in four deltas */
	big = w_ns(&w, "big");
	memmove(big->socks, big->socks + 30000, 15000 * sizeof(*big->socks));
	big->n_socks = 15000;
	for (size_t i = 0; i < 5000; i++)
		big->socks[i * 3].send_q++;
	for (size_t i = 0; i < 30000; i++)
		w_add_sock(&w, big, NSN_PROTO_TCP, true)->nprocs = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 4, 0, 1, 0, 1, 30000, 30000, 5000);
	ASSERT_EQ(p.deltas, 4);
	ASSERT_EQ(p.max_socks, NSN_SYNC_CHUNK);

	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);

	/* The emitter fails in the middle of the chunks: a new connection's resync
	 * restores it all. */
	for (size_t i = 0; i < 25000; i++)
		big->socks[i].recv_q++;
	p.fail_at = 2;
	ASSERT_EQ(step(&p, &w, &st), -EPIPE);
	ASSERT_EQ(p.calls, 2);
	p.fail_at = 0;
	reconnect(&p, false);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 4, 2, 0, 0, 0, 45002, 0, 0);

	w_remove_ns(&w, big);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 0, 1, 1, 0, 0, 0);
	ASSERT_TRUE(nsn_sync_memory(p.sync) < mem / 10);
	peer_free(&p);
	w_free(&w);
}

/* Sockets without a cookie (raw sockets from /proc/net/raw): the namespace goes whole
 * when its sockets change, and nothing goes when nothing changed. */
TEST(weak)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *r;

	base_world(&w);
	r = w_add_ns(&w, "raw", true);
	for (int i = 0; i < 3; i++)
		w_add_sock(&w, r, NSN_PROTO_TCP, true);
	w_add_sock(&w, r, NSN_PROTO_RAW, false);
	w_add_sock(&w, r, NSN_PROTO_RAW, false)->state = NSN_SS_ESTABLISHED;
	peer_init(&p, "weak");
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 3, 3, 0, 0, 0, 13, 0, 0);

	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 3, 0, 0, 0);

	/* a socket with a cookie changes: all five go */
	r = w_ns(&w, "raw");
	r->socks[0].state = NSN_SS_FIN_WAIT1;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 5, 0, 0);

	/* one without */
	r->socks[4].recv_q = 99;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 5, 0, 0);

	/* only what is not a socket: a delta */
	r->routes_v = 3;
	r->ctrs[0].value++;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 2, 0, 0, 0);

	/* Both raw sockets close: the namespace has keys again, but the peer's copy has
	 * sockets no delta can name. */
	r->n_socks = 3;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 3, 0, 0);

	/* from here on, deltas */
	w_add_sock(&w, r, NSN_PROTO_TCP, true);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 2, 1, 0, 0);

	/* until a raw socket opens */
	w_add_sock(&w, r, NSN_PROTO_RAW, false);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 5, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 3, 0, 0, 0);

	/* a namespace with only cookie-less sockets, new */
	r = w_add_ns(&w, "onlyraw", true);
	w_add_sock(&w, r, NSN_PROTO_RAW, false);
	w_add_sock(&w, r, NSN_PROTO_RAW, false);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 3, 2, 0, 0);
	r->n_socks = 1;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 3, 1, 0, 0);
	peer_free(&p);
	w_free(&w);
}

/* One socket seen twice (it moved during the dump): both copies are kept. */
TEST(duplicates)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *d;

	base_world(&w);
	d = w_add_ns(&w, "dup", true);
	for (int i = 0; i < 3; i++)
		w_add_sock(&w, d, NSN_PROTO_TCP, true);
	w_dup_sock(d, 2); /* socks[3] repeats socks[2]'s cookie */
	peer_init(&p, "duplicates");
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 3, 3, 0, 0, 0, 12, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 3, 0, 0, 0);

	/* The first copy stays, the second goes: the peer has two sockets with that cookie
	 * and a delta cannot say which one to remove. */
	d = w_ns(&w, "dup");
	d->n_socks = 3;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 3, 0, 0);

	/* seen twice again, then only the second copy stays */
	w_dup_sock(d, 2);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 4, 0, 0);
	w_remove_sock(d, 2);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 3, 0, 0);

	/* keys again: deltas */
	d->socks[2].recv_q = 1;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 2, 0, 0, 1);

	/* the same socket twice, identical, next to a change */
	w_dup_sock(d, 0);
	d->socks[3] = d->socks[0];
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 4, 0, 0);
	d->socks[1].state = NSN_SS_LAST_ACK;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 1, 0, 0, 2, 4, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 3, 0, 0, 0);
	peer_free(&p);
	w_free(&w);
}

/* A large namespace with cookie-less and repeated sockets goes whole in chunks: the
 * peer must accept every chunk. */
TEST(big_weak)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *r;

	w_init(&w, 3);
	r = w_add_ns(&w, "rawbig", true);
	for (int i = 0; i < 20; i++)
		w_add_sock(&w, r, NSN_PROTO_RAW, false);
	for (int i = 0; i < 25000; i++)
		w_add_sock(&w, r, NSN_PROTO_TCP, true)->nprocs = 0;
	w_dup_sock(r, r->n_socks - 1); /* the highest cookie: in the last chunk by order */
	w_dup_sock(r, 7000);
	peer_init(&p, "big_weak");
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 1, 0, 0, 0, 25022, 0, 0);
	ASSERT_EQ(p.deltas, 1);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 1, 0, 0, 0);
	r->socks[12345].state = NSN_SS_CLOSING;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 1, 0, 0, 0, 25022, 0, 0);
	r->n_ctrs--;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 0, 0, 0, 0);
	peer_free(&p);
	w_free(&w);
}

/* Routes, rules, containers and the header are replaced whole when they change. */
TEST(lists)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *h, *b;

	base_world(&w);
	peer_init(&p, "lists");
	ASSERT_EQ(step(&p, &w, &st), 0);
	h = w_ns(&w, "host");
	b = w_ns(&w, "blue");

	h->routes_v = 3; /* three routes, all different */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	h->routes_v = 4; /* none */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	h->rules_v = 3; /* none */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	h->rules_v = 5;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	b->cont_v = 6;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	b->cont_v = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);

	/* the header: pid, processes, names, error, current */
	b->pid++;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	snprintf(b->names[1], sizeof(b->names[1]), "/var/run/docker/netns/1a2b");
	b->n_names = 2;
	b->npids = 9;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	b->err = -EPERM;
	b->current = true;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	b->err = 0;
	b->n_names = 1;
	h->host = false; /* not what happens; what a field change is */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 0, 2, 0, 0, 0, 0, 0);

	/* everything at once, with sockets */
	h->routes_v = 6;
	h->rules_v = 1;
	h->cont_v = 7;
	b->cont_v = 1;
	b->pid = 4242;
	w_add_sock(&w, b, NSN_PROTO_UDP, true);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 0, 2, 0, 0, 1, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);
	peer_free(&p);
	w_free(&w);
}

TEST(links)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *h, *b;
	struct wlink *l;

	base_world(&w);
	peer_init(&p, "links");
	ASSERT_EQ(step(&p, &w, &st), 0);
	h = w_ns(&w, "host");
	b = w_ns(&w, "blue");

	l = w_add_link(b, 5, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	l->mtu = 9000;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	l->rx_bytes++; /* counters change on every scan of a busy link */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	l->n_addrs = 0;
	l->rx_bytes = 0; /* and no stats */
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	w_add_link(b, 3, 0); /* between two others */
	w_add_link(b, 7, 0);
	b->links[0].mtu = 1280;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);

	/* blue's end of the veth goes; the host's still names blue */
	w_remove_link(b, 2);
	w_remove_link(b, 5);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);

	/* Blue goes: gone, and the host's veth no longer resolves its peer. */
	w_remove_ns(&w, b);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 0, 1, 1, 0, 0, 0, 0);

	h = w_ns(&w, "host");
	h->n_links = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 0, 0, 0, 0);
	w_add_link(h, 1, 0);
	w_add_link(h, 4, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 0, 0, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 1, 0, 0, 0);
	peer_free(&p);
	w_free(&w);
}

TEST(counters)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *h, *b;

	base_world(&w);
	peer_init(&p, "counters");
	ASSERT_EQ(step(&p, &w, &st), 0);
	h = w_ns(&w, "host");
	b = w_ns(&w, "blue");

	h->ctrs[1].value += 5;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	h->ctrs[0].value = -1;
	h->ctrs[2].value = INT64_MAX;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	/* removed */
	memmove(&h->ctrs[0], &h->ctrs[1], 2 * sizeof(h->ctrs[0]));
	h->n_ctrs = 2;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	/* added at the end (where a file read later puts them) */
	h->ctrs[h->n_ctrs++] = (struct wctr){ctr_names[13], 0};
	h->ctrs[h->n_ctrs++] = (struct wctr){ctr_names[0], 1};
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	/* all three at once, in both namespaces */
	h->ctrs[0].value++;
	h->ctrs[1] = h->ctrs[3];
	h->ctrs[2] = (struct wctr){ctr_names[7], -1};
	h->n_ctrs = 3;
	b->ctrs[1].value++;
	b->ctrs[b->n_ctrs++] = (struct wctr){ctr_names[9], 12};
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 0, 2, 0, 0, 0, 0, 0);
	b->n_ctrs = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);

	/* A counter that appears before others: the store appends what a delta adds, so
	 * the peer has the same counters in another order (compared as a set here) until
	 * the next full resync puts them in the scan's order again. */
	ASSERT_EQ(w_ctr_find(h, ctr_names[4]), SIZE_MAX);
	memmove(&h->ctrs[1], &h->ctrs[0], h->n_ctrs * sizeof(h->ctrs[0]));
	h->ctrs[0] = (struct wctr){ctr_names[4], 77};
	h->n_ctrs++;
	p.sort_ctrs = true;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	h->ctrs[2].value--;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 0);
	reconnect(&p, false);
	p.sort_ctrs = false;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 2, 0, 0, 0, 8, 0, 0);
	peer_free(&p);
	w_free(&w);
}

/* nsn_sync_reset(): the next diff sends everything; the store, told by a Hello, forgets
 * what that resync does not confirm. */
TEST(reset)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *g;

	base_world(&w);
	peer_init(&p, "reset");
	ASSERT_EQ(step(&p, &w, &st), 0);
	w_ns(&w, "host")->socks[0].send_q = 3;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 1);

	nsn_sync_reset(p.sync);
	ASSERT_TRUE(nsn_sync_is_full(p.sync));
	nsn_sync_reset(p.sync);
	/* While the agent was away, blue went and green came. */
	w_remove_ns(&w, w_ns(&w, "blue"));
	g = w_add_ns(&w, "green", true);
	w_add_sock(&w, g, NSN_PROTO_TCP, true);
	hello(&p);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 2, 0, 0, 0, 7, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);

	/* a new agent process: the store forgets the node's namespaces at its Hello */
	reconnect(&p, true);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 2, 0, 0, 0, 7, 0, 0);
	w_ns(&w, "green")->socks[0].state = NSN_SS_CLOSE_WAIT;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 1, 0, 0, 1);
	peer_free(&p);
	w_free(&w);
}

/* The emitter fails (the connection broke): the diff stops with its error; after a
 * reset and a new Hello, a full resync restores the peer. */
TEST(emit_error)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *r;

	base_world(&w);
	r = w_add_ns(&w, "red", true);
	w_add_sock(&w, r, NSN_PROTO_TCP, true);
	peer_init(&p, "emit_error");

	/* in the first diff of a session */
	p.fail_at = 1;
	ASSERT_EQ(step(&p, &w, &st), -EPIPE);
	ASSERT_EQ(p.calls, 1);
	reconnect(&p, false);
	p.fail_at = 2;
	ASSERT_EQ(step(&p, &w, &st), -EPIPE);
	ASSERT_EQ(p.calls, 2);
	reconnect(&p, false);
	p.fail_at = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 3, 3, 0, 0, 0, 9, 0, 0);

	/* among deltas and snapshots */
	for (size_t i = 0; i < w.n; i++)
		w.ns[i].socks[0].recv_q += 10;
	w_add_sock(&w, w_add_ns(&w, "new", true), NSN_PROTO_UDP, true);
	p.fail_at = 2;
	ASSERT_EQ(step(&p, &w, &st), -EPIPE);
	ASSERT_EQ(p.calls, 2);
	p.fail_at = 0;
	reconnect(&p, false);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 4, 4, 0, 0, 0, 10, 0, 0);

	/* Among gones: the host's delta (its veth lost its peer), then two gones, the
	 * second refused. The resync's ScanDone(full=true) drops what it did not send. */
	w_remove_ns(&w, w_ns(&w, "blue"));
	w_remove_ns(&w, w_ns(&w, "red"));
	p.fail_at = 3;
	ASSERT_EQ(step(&p, &w, &st), -EPIPE);
	ASSERT_EQ(p.gones, 1);
	p.fail_at = 0;
	reconnect(&p, false);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 2, 0, 0, 0, 7, 0, 0);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);

	/* and a sync state freed right after a failure (no reset) leaks nothing */
	w_ns(&w, "new")->socks[0].state = NSN_SS_ESTABLISHED;
	w_add_ns(&w, "newer", true);
	p.fail_at = 1;
	ASSERT_EQ(step(&p, &w, &st), -EPIPE);
	peer_free(&p);
	w_free(&w);
}

/* Namespaces known by dev+inode (no cookie), a failed dump, and those that vanish. */
TEST(vanished)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct wns *h, *o, *x, *v;

	w_init(&w, 4);
	h = w_add_ns(&w, NULL, true);
	h->host = true;
	w_add_sock(&w, h, NSN_PROTO_TCP, true);
	o = w_add_ns(&w, "old", false); /* a kernel without SO_NETNS_COOKIE */
	w_add_sock(&w, o, NSN_PROTO_TCP, true);
	w_add_sock(&w, o, NSN_PROTO_UNIX, true);
	x = w_add_ns(&w, "x", false); /* could not be entered */
	x->err = -EPERM;
	x->n_links = x->n_ctrs = 0;
	x->routes_v = x->rules_v = 0;
	peer_init(&p, "vanished");
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 3, 3, 0, 0, 0, 3, 0, 0);

	o = w_ns(&w, "old");
	o->socks[0].state = NSN_SS_CLOSE_WAIT;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 1, 0, 2, 0, 0, 1);

	/* It vanishes before its dump: no cookie, -ENOENT, nothing gathered. It is not
	 * sent, and what the peer had is gone. */
	o->err = -ENOENT;
	o->n_socks = o->n_links = o->n_ctrs = 0;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 1, 0, 0, 1, 2, 0, 0, 0);
	ASSERT_EQ(st.namespaces, 2);
	w_remove_ns(&w, o);

	/* x can be entered now and has a cookie: to the peer, another namespace */
	x = w_ns(&w, "x");
	x->cookie = 999;
	x->err = 0;
	w_add_sock(&w, x, NSN_PROTO_UDP, true);
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 2, 1, 0, 1, 1, 1, 0, 0);

	/* one that vanished before it was ever sent is never sent */
	v = w_add_ns(&w, "brief", false);
	v->err = -ENOENT;
	ASSERT_EQ(step(&p, &w, &st), 0);
	EXPECT(&st, 0, 0, 0, 0, 2, 0, 0, 0);
	ASSERT_EQ(st.namespaces, 2);
	peer_free(&p);
	w_free(&w);
}

TEST(random_walk)
{
	struct world w;
	struct peer p;
	struct nsn_sync_stats st;
	struct nsn_sync_stats sum = {0};
	size_t idle = 0, failures = 0, resyncs = 0;
	int failed_before = tap_failed;
	struct wns *h;

	w_init(&w, 0x9e3779b97f4a7c15ull);
	h = w_add_ns(&w, NULL, true);
	h->host = h->current = true;
	for (int i = 0; i < 20; i++)
		random_sock(&w, h);
	for (int i = 0; i < 5; i++)
		random_ns(&w);
	peer_init(&p, "random_walk");
	ASSERT_EQ(step(&p, &w, &st), 0);
	for (int i = 0; i < 200; i++) {
		bool quiet = pick(&w, 8) == 0;
		int r;

		if (!quiet)
			for (unsigned k = 1 + pick(&w, 4); k > 0; k--)
				mutate(&w);
		if (i % 37 == 36) {
			reconnect(&p, i % 74 == 73);
			resyncs++;
		} else if (i % 23 == 22) {
			p.fail_at = 1 + pick(&w, 2);
			r = step(&p, &w, &st);
			p.fail_at = 0;
			if (r == 0)
				continue;
			ASSERT_EQ(r, -EPIPE);
			failures++;
			reconnect(&p, false);
		}
		ASSERT_EQ(step(&p, &w, &st), 0);
		if (quiet && i % 37 != 36 && i % 23 != 22) {
			EXPECT(&st, 0, 0, 0, 0, st.namespaces, 0, 0, 0);
			idle++;
		}
		/* What vanished is not found by the next scan's discovery. */
		for (size_t k = w.n; k-- > 0;)
			if (w.ns[k].err == -ENOENT && w.ns[k].cookie == 0)
				w_remove_ns(&w, &w.ns[k]);
		sum.frames += st.frames;
		sum.snapshots += st.snapshots;
		sum.deltas += st.deltas;
		sum.gone += st.gone;
		sum.sockets_added += st.sockets_added;
		sum.sockets_removed += st.sockets_removed;
		sum.sockets_changed += st.sockets_changed;
		if (tap_failed > failed_before)
			break; /* one step's report is enough */
	}
	printf("# random: %zu frames, %zu snapshots, %zu deltas, %zu gone, sockets +%zu -%zu ~%zu; "
	       "%zu idle, %zu "
	       "failures, %zu resyncs; %zu namespaces at the end\n",
	       sum.frames, sum.snapshots, sum.deltas, sum.gone, sum.sockets_added,
	       sum.sockets_removed, sum.sockets_changed, idle, failures, resyncs, st.namespaces);
	/* the walk went everywhere it should */
	ASSERT_TRUE(sum.deltas > 100 && sum.gone > 5 && sum.sockets_removed > 20 &&
		    sum.sockets_changed > 20);
	ASSERT_TRUE(idle > 5 && failures >= 2 && resyncs == 5);
	peer_free(&p);
	w_free(&w);
}

TEST_MAIN(CASE(basic), CASE(sockets), CASE(big), CASE(weak), CASE(duplicates), CASE(big_weak),
	  CASE(lists), CASE(links), CASE(counters), CASE(reset), CASE(emit_error), CASE(vanished),
	  CASE(random_walk))
