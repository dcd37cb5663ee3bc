/* SPDX-License-Identifier: MIT */
/* The store's reading in place (proto/store-read.c), which the collector answers
 * from: views, packed pieces of a namespace under a budget, sockets by slot, counters
 * by name, all against nsn_store_node_snapshots(); on frames built by hand. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "codec.h"
#include "convert.h"
#include "skim.h"
#include "store.h"
#include "tap.h"
#include "store-frames.h"

/* ---- reading in place ------------------------------------------------------------ */

/* A namespace with every part: mk_ns() plus two containers and two rules. */
struct rich_msg {
	struct ns_msg ns;
	Nsnet__V1__Container c[2];
	Nsnet__V1__NetnsContainer nc[2];
	Nsnet__V1__NetnsContainer *ncp[2];
	Nsnet__V1__Rule rules[2];
	Nsnet__V1__Rule *rulep[2];
};

static Nsnet__V1__NamespaceSnapshot *mk_rich(struct rich_msg *r, uint64_t cookie, const char *name,
					     size_t n)
{
	Nsnet__V1__NamespaceSnapshot *s = mk_ns(&r->ns, cookie, name, n);

	for (size_t i = 0; i < 2; i++) {
		nsnet__v1__container__init(&r->c[i]);
		r->c[i].id = i ? "bb22" : "aa11";
		r->c[i].runtime = "containerd";
		nsnet__v1__netns_container__init(&r->nc[i]);
		r->nc[i].container = &r->c[i];
		r->nc[i].pid = (uint32_t)(100 + i);
		r->nc[i].nprocs = 1;
		r->ncp[i] = &r->nc[i];
		nsnet__v1__rule__init(&r->rules[i]);
		r->rules[i].family = AF_INET;
		r->rules[i].table = (uint32_t)(254 + i);
		r->rules[i].has_priority = true;
		r->rules[i].priority = (uint32_t)(32766 + i);
		r->rulep[i] = &r->rules[i];
	}
	s->n_containers = 2;
	s->containers = r->ncp;
	s->n_rules = 2;
	s->rules = r->rulep;
	return s;
}

/* Add @p n sockets (cookies base, base+1, ...) to namespace @p id by one delta. */
static void add_socks(struct nsn_store_node *n, Nsnet__V1__NetnsId *id, uint64_t base, size_t count)
{
	Nsnet__V1__Socket *s = calloc(count, sizeof(*s));
	Nsnet__V1__Socket **sp = calloc(count, sizeof(*sp));
	uint8_t addr[4] = {10, 1, 2, 3};
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	struct nsn_store_error err;

	for (size_t i = 0; i < count; i++) {
		nsnet__v1__socket__init(&s[i]);
		s[i].cookie = base + i;
		s[i].proto = NSNET__V1__PROTO__TCP;
		s[i].family = AF_INET;
		s[i].state = 1;
		s[i].type = SOCK_STREAM;
		s[i].inode = (uint32_t)(70000 + base + i);
		s[i].local_addr = (ProtobufCBinaryData){4, addr};
		s[i].peer_addr = (ProtobufCBinaryData){4, addr};
		s[i].local_port = (uint32_t)(1000 + i);
		s[i].peer_port = 443;
		sp[i] = &s[i];
	}
	dl.id = id;
	dl.n_added = count;
	dl.added = sp;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	free(s);
	free(sp);
}

static void remove_socks(struct nsn_store_node *n, Nsnet__V1__NetnsId *id, uint64_t *cookies,
			 size_t count)
{
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	struct nsn_store_error err;

	dl.id = id;
	dl.n_removed = count;
	dl.removed = cookies;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
}

/* Packed by protobuf-c, two messages are equal exactly when their bytes are. */
static bool same_snapshot(const Nsnet__V1__NamespaceSnapshot *a,
			  const Nsnet__V1__NamespaceSnapshot *b)
{
	size_t la = nsnet__v1__namespace_snapshot__get_packed_size(a);
	size_t lb = nsnet__v1__namespace_snapshot__get_packed_size(b);
	uint8_t *pa = malloc(la ? la : 1), *pb = malloc(lb ? lb : 1);
	bool same = pa && pb && la == lb;

	if (same) {
		nsnet__v1__namespace_snapshot__pack(a, pa);
		nsnet__v1__namespace_snapshot__pack(b, pb);
		same = memcmp(pa, pb, la) == 0;
	}
	free(pa);
	free(pb);
	return same;
}

/* One piece of nsn_store_view_pack(), unpacked (NULL after a TAP_FAIL). */
static Nsnet__V1__NamespaceSnapshot *pack_view(const struct nsn_store_netns_view *v, unsigned parts,
					       nsn_store_sock_fn keep, void *ctx, size_t budget,
					       size_t *cursor, long *ret_kept, size_t *ret_len)
{
	struct nsn_buf b = {0};
	Nsnet__V1__NamespaceSnapshot *m;
	long kept = nsn_store_view_pack(v, parts, keep, ctx, budget, cursor, &b);

	ASSERT_TRUE(kept >= 0);
	if (ret_kept)
		*ret_kept = kept;
	if (ret_len)
		*ret_len = b.len;
	/* Exact-size copy: the unpacker must not read the buffer's slack. */
	uint8_t *exact = (uint8_t *)tap_dup_exact((const char *)b.data, b.len);
	m = nsnet__v1__namespace_snapshot__unpack(NULL, b.len, exact);
	free(exact);
	nsn_buf_release(&b);
	ASSERT_TRUE(b.data == NULL && b.len == 0 && b.cap == 0);
	if (!m)
		TAP_FAIL("a packed view does not unpack as a NamespaceSnapshot");
	return m;
}

#define ALL_PARTS                                                                                  \
	(NSN_STORE_PART_CONTAINERS | NSN_STORE_PART_ROUTES | NSN_STORE_PART_LINKS |                \
	 NSN_STORE_PART_COUNTERS | NSN_STORE_PART_SOCKETS)

/* Views name the namespaces nsn_store_node_snapshots() returns, in its order, with
 * their sizes; a delta's new names move them. */
TEST(views_order)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg m[5];
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0;

	/* Sent in an order that is none of the sorted ones. */
	ASSERT_EQ(apply_snap(n, mk_ns(&m[0], 5, NULL, 1), &err), 0);	/* unnamed, inode ...5 */
	ASSERT_EQ(apply_snap(n, mk_ns(&m[1], 7, "blue", 3), &err), 0);	/* named */
	ASSERT_EQ(apply_snap(n, mk_ns(&m[2], 3, NULL, 0), &err), 0);	/* unnamed, inode ...3 */
	ASSERT_EQ(apply_snap(n, mk_ns(&m[3], 9, "alpha", 2), &err), 0); /* named, first */
	mk_ns(&m[4], 100, NULL, 4);
	m[4].snap.host = true;
	m[4].snap.current = true;
	m[4].snap.n_counters = 2;
	m[4].snap.n_links = 1;
	ASSERT_EQ(apply_snap(n, &m[4].snap, &err), 0);

	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	struct view w = view_of(n);
	ASSERT_EQ(nv, 5);
	ASSERT_EQ(w.n, 5);
	static const uint64_t order[] = {100, 9, 7, 3, 5};
	for (size_t i = 0; i < nv && i < w.n; i++) {
		const Nsnet__V1__NamespaceSnapshot *s = w.s[i];

		ASSERT_EQ(v[i].cookie, order[i]);
		ASSERT_EQ(v[i].cookie, s->id->cookie);
		ASSERT_EQ(v[i].dev, s->id->dev);
		ASSERT_EQ(v[i].inode, s->id->inode);
		ASSERT_EQ(v[i].host, s->host);
		ASSERT_SAME_NAME(v[i].name, s);
		ASSERT_EQ(v[i].n_sockets, s->n_sockets);
		ASSERT_EQ(v[i].n_links, s->n_links);
		ASSERT_EQ(v[i].n_counters, s->n_counters);
		ASSERT_TRUE(v[i].confirmed);
		ASSERT_TRUE(v[i].node == n);
	}
	ASSERT_TRUE(nv == 5 && v[0].host && v[0].n_sockets == 4 && v[0].n_links == 1 &&
		    v[0].n_counters == 2 && v[0].name == NULL);
	ASSERT_TRUE(nv == 5 && v[1].name && strcmp(v[1].name, "alpha") == 0 && v[1].n_sockets == 2);
	ASSERT_TRUE(nv == 5 && v[3].inode == 4026530003u && v[4].inode == 4026530005u);
	free(v);
	view_free(&w);

	/* blue becomes "aaa" (first now), alpha loses its names (last, by inode: 9 > 5). */
	Nsnet__V1__NetnsMeta meta = NSNET__V1__NETNS_META__INIT;
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	char *names[] = {"aaa", "/run/netns/x"};
	meta.n_names = 2;
	meta.names = names;
	dl.id = &m[1].id;
	dl.meta = &meta;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	meta = (Nsnet__V1__NetnsMeta)NSNET__V1__NETNS_META__INIT;
	dl.id = &m[3].id;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);

	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	w = view_of(n);
	static const uint64_t order2[] = {100, 7, 3, 5, 9};
	ASSERT_EQ(nv, 5);
	for (size_t i = 0; i < nv && i < w.n; i++) {
		ASSERT_EQ(v[i].cookie, order2[i]);
		ASSERT_EQ(v[i].cookie, w.s[i]->id->cookie);
		ASSERT_SAME_NAME(v[i].name, w.s[i]);
	}
	ASSERT_TRUE(nv == 5 && v[1].name && strcmp(v[1].name, "aaa") == 0);
	ASSERT_TRUE(nv == 5 && v[4].name == NULL);
	free(v);
	view_free(&w);

	/* A new session: every view is there, unconfirmed until its snapshot comes again. */
	ASSERT_TRUE(hello(st, "n1", "boot-a", 1) == n);
	ASSERT_EQ(apply_snap(n, mk_ns(&m[2], 3, NULL, 0), &err), 0);
	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	ASSERT_EQ(nv, 5);
	for (size_t i = 0; i < nv; i++)
		ASSERT_EQ(v[i].confirmed, v[i].cookie == 3);
	free(v);

	/* A node without namespaces has no views (and a valid, empty array). */
	struct nsn_store_node *e = hello(st, "empty", "boot-a", 1);
	ASSERT_EQ(nsn_store_node_views(e, &v, &nv), 0);
	ASSERT_EQ(nv, 0);
	ASSERT_TRUE(v != NULL);
	free(v);
	nsn_store_free(st);
}

/* Every part, every socket, no budget: the snapshot nsn_store_node_snapshots() gives,
 * byte for byte once both are packed by protobuf-c. */
TEST(view_pack_whole)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct rich_msg a, b;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0;

	ASSERT_EQ(apply_snap(n, mk_rich(&a, 7, "blue", 5), &err), 0);
	mk_rich(&b, 1, NULL, 3);
	b.ns.snap.host = true;
	b.ns.snap.err = -13;
	b.ns.snap.nprocs = 99;
	ASSERT_EQ(apply_snap(n, &b.ns.snap, &err), 0);
	/* Deltas: a socket changed, one removed, two added; a counter set, one added. */
	add_socks(n, &a.ns.id, 100, 2);
	uint64_t rm = 2;
	remove_socks(n, &a.ns.id, &rm, 1);
	{
		Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
		Nsnet__V1__Counter c1 = NSNET__V1__COUNTER__INIT, c2 = NSNET__V1__COUNTER__INIT,
				   *ctrs[] = {&c1, &c2};
		struct ns_msg d;

		mk_ns(&d, 7, "blue", 0);
		mk_sock(&d, 0, 4, 9004);
		c1.name = "TcpActiveOpens";
		c1.value = -5;
		c2.name = "TcpExtListenOverflows";
		c2.value = INT64_MAX;
		dl.id = &a.ns.id;
		dl.n_changed = 1;
		dl.changed = &d.sockp[0];
		dl.n_counters = 2;
		dl.counters = ctrs;
		ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	}

	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	struct view w = view_of(n);
	ASSERT_EQ(nv, 2);
	for (size_t i = 0; i < nv && i < w.n; i++) {
		size_t cursor = 0;
		long kept;
		Nsnet__V1__NamespaceSnapshot *m =
		    pack_view(&v[i], ALL_PARTS, NULL, NULL, 0, &cursor, &kept, NULL);

		ASSERT_TRUE(cursor == SIZE_MAX);
		ASSERT_EQ(kept, w.s[i]->n_sockets);
		ASSERT_EQ(kept, v[i].n_sockets);
		if (!m)
			continue;
		ASSERT_TRUE(same_snapshot(m, w.s[i]));
		/* What the comparison could pass by accident. */
		ASSERT_EQ(m->n_sockets, w.s[i]->n_sockets);
		ASSERT_EQ(m->n_routes, 1);
		ASSERT_EQ(m->n_rules, 2);
		ASSERT_EQ(m->n_links, 2);
		ASSERT_EQ(m->n_containers, 2);
		ASSERT_TRUE(m->id && m->id->cookie == v[i].cookie);
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
	}
	ASSERT_TRUE(w.n == 2 && w.s[0]->err == -13 && w.s[0]->nprocs == 99);
	const Nsnet__V1__NamespaceSnapshot *blue = view_find(&w, 7);
	ASSERT_STREQ(cookies(blue), "1,3,4,5,100,101");
	ASSERT_TRUE(blue && blue->n_counters == 4 && blue->counters[1]->value == -5);

	/* Several namespaces appended to one buffer: each piece is only its own. */
	struct nsn_buf buf = {0};
	size_t cursor = 0, first;
	ASSERT_EQ(nsn_store_view_pack(&v[0], ALL_PARTS, NULL, NULL, 0, &cursor, &buf),
		  (long)v[0].n_sockets);
	first = buf.len;
	cursor = 0;
	ASSERT_EQ(nsn_store_view_pack(&v[1], ALL_PARTS, NULL, NULL, 0, &cursor, &buf),
		  (long)v[1].n_sockets);
	Nsnet__V1__NamespaceSnapshot *m2 =
	    nsnet__v1__namespace_snapshot__unpack(NULL, buf.len - first, buf.data + first);
	ASSERT_TRUE(m2 && same_snapshot(m2, w.s[1]));
	if (m2)
		nsnet__v1__namespace_snapshot__free_unpacked(m2, NULL);
	nsn_buf_release(&buf);

	free(v);
	view_free(&w);
	nsn_store_free(st);
}

/* Only the parts asked for, and the header always. */
TEST(view_pack_parts)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct rich_msg a;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0;

	ASSERT_EQ(apply_snap(n, mk_rich(&a, 7, "blue", 4), &err), 0);
	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	struct view w = view_of(n);
	ASSERT_TRUE(nv == 1 && w.n == 1);
	if (nv != 1 || w.n != 1)
		goto out;
	for (unsigned parts = 0; parts <= ALL_PARTS; parts++) {
		size_t cursor = 0;
		long kept;
		Nsnet__V1__NamespaceSnapshot *m =
		    pack_view(&v[0], parts, NULL, NULL, 0, &cursor, &kept, NULL);
		Nsnet__V1__NamespaceSnapshot want = *w.s[0];

		ASSERT_TRUE(cursor == SIZE_MAX);
		ASSERT_EQ(kept, parts & NSN_STORE_PART_SOCKETS ? 4 : 0);
		if (!m)
			continue;
		/* The header always: id, host, names, pid, nprocs, err, current. */
		ASSERT_TRUE(m->id && m->id->cookie == 7 && m->id->inode == 4026530007u);
		ASSERT_TRUE(m->n_names == 1 && strcmp(m->names[0], "blue") == 0 && m->pid == 42);
		ASSERT_EQ(m->n_containers, parts & NSN_STORE_PART_CONTAINERS ? 2 : 0);
		ASSERT_EQ(m->n_routes, parts & NSN_STORE_PART_ROUTES ? 1 : 0);
		ASSERT_EQ(m->n_rules, parts & NSN_STORE_PART_ROUTES ? 2 : 0);
		ASSERT_EQ(m->n_links, parts & NSN_STORE_PART_LINKS ? 2 : 0);
		ASSERT_EQ(m->n_counters, parts & NSN_STORE_PART_COUNTERS ? 3 : 0);
		ASSERT_EQ(m->n_sockets, parts & NSN_STORE_PART_SOCKETS ? 4 : 0);
		/* And those that are there are the snapshot's. */
		if (!(parts & NSN_STORE_PART_CONTAINERS))
			want.n_containers = 0;
		if (!(parts & NSN_STORE_PART_ROUTES))
			want.n_routes = want.n_rules = 0;
		if (!(parts & NSN_STORE_PART_LINKS))
			want.n_links = 0;
		if (!(parts & NSN_STORE_PART_COUNTERS))
			want.n_counters = 0;
		if (!(parts & NSN_STORE_PART_SOCKETS))
			want.n_sockets = 0;
		ASSERT_TRUE(same_snapshot(m, &want));
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
	}

	/* The header alone, as view_head gives it; the containers alone. */
	size_t len;
	const uint8_t *p = nsn_store_view_head(&v[0], &len);
	ASSERT_TRUE(p != NULL && len > 0);
	Nsnet__V1__NamespaceSnapshot *h = nsnet__v1__namespace_snapshot__unpack(NULL, len, p);
	Nsnet__V1__NamespaceSnapshot want = *w.s[0];
	want.n_containers = want.n_routes = want.n_rules = want.n_links = want.n_counters =
	    want.n_sockets = 0;
	ASSERT_TRUE(h && same_snapshot(h, &want));
	if (h)
		nsnet__v1__namespace_snapshot__free_unpacked(h, NULL);
	p = nsn_store_view_containers(&v[0], &len);
	ASSERT_TRUE(p != NULL && len > 0);
	h = nsnet__v1__namespace_snapshot__unpack(NULL, len, p);
	ASSERT_TRUE(h && h->n_containers == 2 && h->id == NULL && h->n_names == 0);
	if (h && h->n_containers == 2)
		ASSERT_STREQ(h->containers[1]->container->id, "bb22");
	if (h)
		nsnet__v1__namespace_snapshot__free_unpacked(h, NULL);

	/* Links by ifindex, as the snapshot has them; counters by position. */
	for (size_t i = 0; i < v[0].n_links; i++) {
		p = nsn_store_view_link(&v[0], i, &len);
		Nsnet__V1__Link *l = p ? nsnet__v1__link__unpack(NULL, len, p) : NULL;
		ASSERT_TRUE(l != NULL);
		if (l) {
			ASSERT_EQ(l->ifindex, w.s[0]->links[i]->ifindex);
			ASSERT_STREQ(l->name, w.s[0]->links[i]->name);
			nsnet__v1__link__free_unpacked(l, NULL);
		}
	}
	ASSERT_TRUE(nsn_store_view_link(&v[0], v[0].n_links, &len) == NULL && len == 0);
	for (size_t i = 0; i < v[0].n_counters; i++) {
		const char *name;
		int64_t value;

		nsn_store_view_counter(&v[0], i, &name, &value);
		ASSERT_STREQ(name, w.s[0]->counters[i]->name);
		ASSERT_EQ(value, w.s[0]->counters[i]->value);
	}
	{
		const char *name = "x";
		int64_t value = 1;
		nsn_store_view_counter(&v[0], v[0].n_counters, &name, &value);
		ASSERT_TRUE(name == NULL && value == 0);
	}
out:
	free(v);
	view_free(&w);
	nsn_store_free(st);
}

/* A namespace without containers has no containers blob. */
TEST(view_no_containers)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0, len = 1;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 1), &err), 0);
	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	ASSERT_EQ(nv, 1);
	if (nv == 1) {
		ASSERT_TRUE(nsn_store_view_containers(&v[0], &len) == NULL);
		ASSERT_EQ(len, 0);
	}
	free(v);
	nsn_store_free(st);
}

struct keep_ctx {
	size_t calls;
	uint64_t seen[64];
};

/* Keep every other socket; remember the cookies asked about (read with the skim). */
static bool keep_alternate(const uint8_t *sock, size_t len, void *ctx)
{
	struct keep_ctx *k = ctx;
	struct nsn_skim sk;

	ASSERT_EQ(nsn_skim_socket(sock, len, NSN_SKIM_HEAD, &sk), 0);
	if (k->calls < 64)
		k->seen[k->calls] = sk.s.cookie;
	return k->calls++ % 2 == 0;
}

TEST(view_pack_keep)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0, cursor = 0;
	struct keep_ctx k = {0};
	long kept;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 8), &err), 0);
	uint64_t rm = 4; /* a hole: the callback never sees it */
	remove_socks(n, &a.id, &rm, 1);
	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	ASSERT_EQ(nv, 1);
	if (nv != 1)
		goto out;
	Nsnet__V1__NamespaceSnapshot *m =
	    pack_view(&v[0], ALL_PARTS, keep_alternate, &k, 0, &cursor, &kept, NULL);
	ASSERT_EQ(k.calls, 7);
	ASSERT_TRUE(k.seen[0] == 1 && k.seen[2] == 3 && k.seen[3] == 5 && k.seen[6] == 8);
	ASSERT_EQ(kept, 4);
	ASSERT_TRUE(cursor == SIZE_MAX);
	ASSERT_STREQ(cookies(m), "1,3,6,8");
	/* The other parts are unaffected by what the callback says. */
	ASSERT_TRUE(m && m->n_links == 2 && m->n_counters == 3 && m->n_routes == 1);
	if (m)
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);

	/* Keeping none: the header and parts, no sockets. */
	k = (struct keep_ctx){.calls = 1}; /* odd first: 1,3,5 ... are refused */
	cursor = 0;
	m = pack_view(&v[0], NSN_STORE_PART_SOCKETS, keep_alternate, &k, 0, &cursor, &kept, NULL);
	ASSERT_EQ(kept, 3);
	ASSERT_STREQ(cookies(m), "2,5,7");
	if (m)
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
out:
	free(v);
	nsn_store_free(st);
}

/* A budget splits the sockets into pieces: together they hold each socket once, in
 * order; the first piece has the other parts, the later ones only the header. */
static void split(const struct nsn_store_netns_view *v, const Nsnet__V1__NamespaceSnapshot *whole,
		  size_t budget, nsn_store_sock_fn keep, void *ctx, size_t want_sockets)
{
	size_t cursor = 0, pieces = 0, got = 0, max_sock = 0, head_len, empty = 0;
	bool ordered = true;

	(void)nsn_store_view_head(v, &head_len);

	for (size_t i = 0; i < whole->n_sockets; i++) {
		size_t l = nsnet__v1__socket__get_packed_size(whole->sockets[i]) + 3;
		if (l > max_sock)
			max_sock = l;
	}
	while (cursor != SIZE_MAX && pieces < 10000) {
		size_t before = cursor, len;
		long kept;
		Nsnet__V1__NamespaceSnapshot *m =
		    pack_view(v, ALL_PARTS, keep, ctx, budget, &cursor, &kept, &len);

		pieces++;
		ASSERT_TRUE(cursor == SIZE_MAX || cursor > before);
		if (!m)
			break;
		ASSERT_EQ(kept, m->n_sockets);
		/* Only the last piece may hold no socket: the budget was crossed just
		 * before slots that are all empty or refused. */
		if (kept == 0 && cursor != SIZE_MAX)
			TAP_FAIL("piece %zu holds no socket but is not the last", pieces);
		empty += kept == 0;
		ASSERT_TRUE(m->id && m->id->cookie == v->cookie && m->n_names == whole->n_names);
		if (before == 0) {
			ASSERT_EQ(m->n_routes, whole->n_routes);
			ASSERT_EQ(m->n_rules, whole->n_rules);
			ASSERT_EQ(m->n_links, whole->n_links);
			ASSERT_EQ(m->n_counters, whole->n_counters);
			ASSERT_EQ(m->n_containers, whole->n_containers);
		} else {
			ASSERT_TRUE(m->n_routes == 0 && m->n_rules == 0 && m->n_links == 0 &&
				    m->n_counters == 0 && m->n_containers == 0);
			/* It stopped right after the socket that crossed the budget (or
			 * after the first one, when the header alone crossed it). */
			ASSERT_TRUE(len <= (budget > head_len ? budget : head_len) + max_sock);
		}
		/* Not before: a piece that leaves sockets for the next one is full. */
		if (cursor != SIZE_MAX)
			ASSERT_TRUE(len > budget);
		for (size_t i = 0; i < m->n_sockets; i++) {
			/* @p whole has the sockets this selection keeps, in order. */
			if (got >= whole->n_sockets ||
			    m->sockets[i]->cookie != whole->sockets[got]->cookie)
				ordered = false;
			got++;
		}
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
	}
	ASSERT_TRUE(cursor == SIZE_MAX);
	ASSERT_TRUE(ordered);
	ASSERT_EQ(got, want_sockets);
	ASSERT_EQ(got, whole->n_sockets);
	printf("# budget %zu: %zu sockets in %zu pieces (%zu without sockets)\n", budget, got,
	       pieces, empty);
	if (budget && budget <= 200 && want_sockets > 20)
		ASSERT_TRUE(pieces > 2);
}

/* A keep callback that refuses cookies divisible by 3, and the snapshot it leaves. */
static bool keep_not3(const uint8_t *sock, size_t len, void *ctx)
{
	struct nsn_skim sk;

	(void)ctx;
	return nsn_skim_socket(sock, len, NSN_SKIM_HEAD, &sk) == 0 && sk.s.cookie % 3 != 0;
}

TEST(view_pack_budget)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct rich_msg a;
	struct ns_msg e;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0;

	ASSERT_EQ(apply_snap(n, mk_rich(&a, 7, "blue", 8), &err), 0);
	add_socks(n, &a.ns.id, 100, 60);
	uint64_t rm[] = {3, 100, 101, 130, 159};
	remove_socks(n, &a.ns.id, rm, 5);
	ASSERT_EQ(apply_snap(n, mk_ns(&e, 9, "empty", 0), &err), 0);
	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	struct view w = view_of(n);
	ASSERT_TRUE(nv == 2 && w.n == 2);
	if (nv != 2 || w.n != 2)
		goto out;
	ASSERT_EQ(v[0].cookie, 7);
	ASSERT_EQ(v[0].n_sockets, 63);

	split(&v[0], w.s[0], 200, NULL, NULL, 63);
	split(&v[0], w.s[0], 1, NULL, NULL, 63); /* one socket per piece */
	split(&v[0], w.s[0], 0, NULL, NULL, 63);
	split(&v[0], w.s[0], 1u << 20, NULL, NULL, 63);

	/* With a selection: the pieces hold exactly the kept sockets. */
	Nsnet__V1__NamespaceSnapshot sel = *w.s[0];
	Nsnet__V1__Socket **ks = calloc(sel.n_sockets, sizeof(*ks));
	size_t nk = 0;
	for (size_t i = 0; i < sel.n_sockets; i++)
		if (sel.sockets[i]->cookie % 3 != 0)
			ks[nk++] = sel.sockets[i];
	sel.sockets = ks;
	sel.n_sockets = nk;
	split(&v[0], &sel, 200, keep_not3, NULL, nk);
	free(ks);

	/* No sockets: one piece. */
	ASSERT_EQ(v[1].cookie, 9);
	size_t cursor = 0;
	long kept = -1;
	Nsnet__V1__NamespaceSnapshot *m =
	    pack_view(&v[1], ALL_PARTS, NULL, NULL, 200, &cursor, &kept, NULL);
	ASSERT_TRUE(cursor == SIZE_MAX);
	ASSERT_EQ(kept, 0);
	ASSERT_TRUE(m && same_snapshot(m, w.s[1]));
	if (m)
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
out:
	free(v);
	view_free(&w);
	nsn_store_free(st);
}

/* Sockets removed by a delta leave empty slots until the table is compacted. */
TEST(view_socket_holes)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0, len;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 8), &err), 0);
	uint64_t rm[] = {2, 5, 8};
	remove_socks(n, &a.id, rm, 3);
	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	ASSERT_EQ(nv, 1);
	if (nv != 1)
		goto out;
	ASSERT_EQ(v[0].n_sockets, 5);
	size_t slots = nsn_store_view_socket_slots(&v[0]);
	ASSERT_EQ(slots, 8);
	size_t live = 0;
	for (size_t i = 0; i < slots; i++) {
		const uint8_t *p = nsn_store_view_socket(&v[0], i, &len);
		uint64_t c = i + 1;
		bool gone = c == 2 || c == 5 || c == 8;

		ASSERT_EQ(p == NULL, gone);
		if (!p) {
			ASSERT_EQ(len, 0);
			continue;
		}
		struct nsn_skim sk;
		ASSERT_EQ(nsn_skim_socket(p, len, NSN_SKIM_FULL, &sk), 0);
		ASSERT_TRUE(sk.s.cookie == c);
		ASSERT_EQ(sk.s.local.port, 8000 + c);
		live++;
	}
	ASSERT_EQ(live, 5);
	len = 7;
	ASSERT_TRUE(nsn_store_view_socket(&v[0], slots, &len) == NULL && len == 0);
	ASSERT_TRUE(nsn_store_view_socket(&v[0], SIZE_MAX, &len) == NULL && len == 0);

	size_t cursor = 0;
	long kept;
	Nsnet__V1__NamespaceSnapshot *m =
	    pack_view(&v[0], NSN_STORE_PART_SOCKETS, NULL, NULL, 0, &cursor, &kept, NULL);
	ASSERT_EQ(kept, 5);
	ASSERT_STREQ(cookies(m), "1,3,4,6,7");
	if (m)
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
	/* A budget piece may start on a hole. */
	cursor = 1;
	m = pack_view(&v[0], NSN_STORE_PART_SOCKETS, NULL, NULL, 0, &cursor, &kept, NULL);
	ASSERT_STREQ(cookies(m), "3,4,6,7");
	ASSERT_TRUE(m && m->n_links == 0); /* not the first piece */
	if (m)
		nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
out:
	free(v);
	nsn_store_free(st);
}

TEST(view_counter_find)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, b;
	struct nsn_store_error err;
	struct nsn_store_netns_view *v = NULL;
	size_t nv = 0;
	int64_t value;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 0), &err), 0);
	/* red has a counter blue lacks: its name is interned in the store. */
	mk_ns(&b, 8, "red", 0);
	b.ctrs[2].name = "TcpExtListenOverflows";
	b.ctrs[2].value = -1;
	ASSERT_EQ(apply_snap(n, &b.snap, &err), 0);
	/* blue loses TcpActiveOpens. */
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	char *gone[] = {"TcpActiveOpens"};
	dl.id = &a.id;
	dl.n_counters_removed = 1;
	dl.counters_removed = gone;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);

	ASSERT_EQ(nsn_store_node_views(n, &v, &nv), 0);
	ASSERT_EQ(nv, 2);
	if (nv != 2)
		goto out;
	ASSERT_EQ(v[0].cookie, 7); /* blue < red */
	ASSERT_EQ(v[0].n_counters, 2);
	ASSERT_TRUE(nsn_store_view_counter_find(&v[0], "IpInReceives", &value));
	ASSERT_EQ(value, 10);
	ASSERT_TRUE(nsn_store_view_counter_find(&v[0], "Ip6InReceives", &value));
	ASSERT_EQ(value, 30);
	value = 5;
	ASSERT_TRUE(!nsn_store_view_counter_find(&v[0], "TcpActiveOpens", &value)); /* removed */
	ASSERT_EQ(value, 0);
	value = 5;
	ASSERT_TRUE(!nsn_store_view_counter_find(&v[0], "TcpExtListenOverflows", &value));
	ASSERT_EQ(value, 0);
	value = 5;
	ASSERT_TRUE(!nsn_store_view_counter_find(&v[0], "NoSuchCounter", &value)); /* never seen */
	ASSERT_EQ(value, 0);
	ASSERT_TRUE(!nsn_store_view_counter_find(&v[0], "", &value));
	ASSERT_TRUE(!nsn_store_view_counter_find(&v[0], "ipinreceives", &value));
	ASSERT_TRUE(nsn_store_view_counter_find(&v[1], "TcpExtListenOverflows", &value));
	ASSERT_EQ(value, -1);
	ASSERT_TRUE(nsn_store_view_counter_find(&v[1], "TcpActiveOpens", &value));
	ASSERT_EQ(value, 20);
	ASSERT_TRUE(!nsn_store_view_counter_find(&v[1], "Ip6InReceives", &value));
out:
	free(v);
	nsn_store_free(st);
}

TEST(buf)
{
	struct nsn_buf b = {0};

	ASSERT_EQ(nsn_buf_reserve(&b, 0), 0);
	ASSERT_EQ(nsn_buf_reserve(&b, 10), 0);
	ASSERT_TRUE(b.data != NULL && b.cap >= 10 && b.len == 0);
	memset(b.data, 'x', 10);
	b.len = 10;
	ASSERT_EQ(nsn_buf_reserve(&b, 100000), 0);
	ASSERT_TRUE(b.cap - b.len >= 100000);
	ASSERT_TRUE(b.data[9] == 'x' && b.len == 10); /* kept across the growth */
	memset(b.data + b.len, 'y', 100000);
	b.len += 100000;
	ASSERT_EQ(nsn_buf_reserve(&b, SIZE_MAX - 5), -ENOMEM);
	ASSERT_TRUE(b.len == 100010 && b.data[100009] == 'y');
	nsn_buf_release(&b);
	ASSERT_TRUE(b.data == NULL && b.len == 0 && b.cap == 0);
	nsn_buf_release(&b);
}

TEST_MAIN(CASE(views_order), CASE(view_pack_whole), CASE(view_pack_parts), CASE(view_no_containers),
	  CASE(view_pack_keep), CASE(view_pack_budget), CASE(view_socket_holes), CASE(view_counter_find),
	  CASE(buf))
