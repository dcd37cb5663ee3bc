/* SPDX-License-Identifier: MIT */
/* The store (proto/store.c): sessions, snapshots, deltas, gones, resyncs and the
 * errors that make a collector close a connection, on frames built by hand
 * (store-frames.c). The reading in place is test-store-read.c's. */
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

TEST(snapshot_round_trip)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, host;
	struct nsn_store_node_info info;
	struct nsn_store_error err;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 3), &err), 0);
	mk_ns(&host, 1, NULL, 2);
	host.snap.host = true;
	host.snap.current = true;
	ASSERT_EQ(apply_snap(n, &host.snap, &err), 0);
	ASSERT_EQ(scan_done(n, true), 0);

	nsn_store_node_info(n, &info);
	ASSERT_STREQ(info.name, "n1");
	ASSERT_STREQ(info.boot_id, "boot-a");
	ASSERT_STREQ(info.agent_version, "test");
	ASSERT_EQ(info.namespaces, 2);
	ASSERT_EQ(info.sockets, 5);
	ASSERT_TRUE(info.synced && info.has_scan);
	ASSERT_EQ(info.time_ms, 1700000000000ull);
	ASSERT_EQ(info.scan_ms, 12);
	ASSERT_EQ(info.vanished, 1);
	ASSERT_EQ(info.n_warnings, 1);
	ASSERT_STREQ(info.warnings[0], "netns 7: vanished during the scan");
	ASSERT_TRUE(info.warnings[1] == NULL);
	ASSERT_STREQ(info.backend, "bpf");
	ASSERT_TRUE(info.stats && info.stats->scans == 3 && info.stats->bpf_records_dropped == 4 &&
		    info.stats->bpf_chains_capped == 2);

	struct view v = view_of(n);
	ASSERT_EQ(v.n, 2);
	/* The host first, as nsn_gather() sorts. */
	ASSERT_TRUE(v.n == 2 && v.s[0]->host && v.s[0]->current && !v.s[1]->host);
	const Nsnet__V1__NamespaceSnapshot *s = view_find(&v, 7);
	ASSERT_TRUE(s != NULL);
	if (s) {
		ASSERT_EQ(s->id->dev, 4);
		ASSERT_EQ(s->id->inode, 4026530007u);
		ASSERT_EQ(s->n_names, 1);
		ASSERT_STREQ(s->names[0], "blue");
		ASSERT_EQ(s->pid, 42);
		ASSERT_STREQ(cookies(s), "1,2,3");
		ASSERT_EQ(s->sockets[1]->local_port, 8002);
		ASSERT_EQ(s->sockets[1]->local_addr.len, 4);
		ASSERT_EQ(s->n_routes, 1);
		ASSERT_EQ(s->routes[0]->table, 254);
		/* Links by ifindex whatever order they came in. */
		ASSERT_EQ(s->n_links, 2);
		ASSERT_STREQ(s->links[0]->name, "lo");
		ASSERT_STREQ(s->links[1]->name, "eth0");
		ASSERT_EQ(s->n_counters, 3);
		ASSERT_STREQ(s->counters[2]->name, "Ip6InReceives");
		ASSERT_EQ(s->counters[2]->value, 30);
		ASSERT_EQ(s->n_containers, 0);
	}
	view_free(&v);

	/* A snapshot of a known namespace replaces it whole. */
	mk_ns(&a, 7, "blue2", 1);
	a.snap.n_routes = 0;
	a.snap.n_counters = 1;
	ASSERT_EQ(apply_snap(n, &a.snap, &err), 0);
	v = view_of(n);
	s = view_find(&v, 7);
	ASSERT_TRUE(s && s->n_sockets == 1 && s->n_routes == 0 && s->n_counters == 1 &&
		    strcmp(s->names[0], "blue2") == 0);
	view_free(&v);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.sockets, 3);
	nsn_store_free(st);
}

TEST(delta_sockets)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, d;
	struct nsn_store_error err;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 4), &err), 0);
	ASSERT_EQ(scan_done(n, true), 0);

	/* Remove 2, change 3, add 9 and 10. */
	mk_ns(&d, 7, "blue", 0);
	mk_sock(&d, 0, 3, 9003);
	mk_sock(&d, 1, 9, 8009);
	mk_sock(&d, 2, 10, 8010);
	uint64_t removed[] = {2};
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	dl.id = &d.id;
	dl.n_removed = 1;
	dl.removed = removed;
	dl.n_changed = 1;
	dl.changed = &d.sockp[0];
	dl.n_added = 2;
	dl.added = &d.sockp[1];
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);

	struct view v = view_of(n);
	const Nsnet__V1__NamespaceSnapshot *s = view_find(&v, 7);
	/* Changed in place, additions after. */
	ASSERT_STREQ(cookies(s), "1,3,4,9,10");
	ASSERT_EQ(s ? s->sockets[1]->local_port : 0, 9003);
	/* The parts the delta did not name are untouched. */
	ASSERT_TRUE(s && s->n_routes == 1 && s->n_links == 2 && s->n_counters == 3);
	view_free(&v);

	struct nsn_store_node_info info;
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.sockets, 5);
	nsn_store_free(st);
}

TEST(delta_lists)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, d;
	struct nsn_store_error err;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 1), &err), 0);
	ASSERT_EQ(scan_done(n, true), 0);

	mk_ns(&d, 7, "blue", 0);
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	Nsnet__V1__NetnsMeta meta = NSNET__V1__NETNS_META__INIT;
	Nsnet__V1__Routes routes = NSNET__V1__ROUTES__INIT; /* present and empty: no routes */
	Nsnet__V1__NetnsContainers conts = NSNET__V1__NETNS_CONTAINERS__INIT;
	Nsnet__V1__NetnsContainer nc = NSNET__V1__NETNS_CONTAINER__INIT, *ncp = &nc;
	Nsnet__V1__Container c = NSNET__V1__CONTAINER__INIT;
	Nsnet__V1__Link veth = NSNET__V1__LINK__INIT, *links[2] = {&veth, &d.links[0]};
	Nsnet__V1__Counter c1 = NSNET__V1__COUNTER__INIT, c2 = NSNET__V1__COUNTER__INIT,
			   *ctrs[] = {&c1, &c2};
	char *cremoved[] = {"IpInReceives"}, *names[] = {"green", "/run/docker/netns/x"};
	uint32_t lremoved[] = {1};

	meta.n_names = 2;
	meta.names = names;
	meta.pid = 77;
	meta.nprocs = 3;
	c.id = "3f1a9c0b7d2e";
	c.runtime = "containerd";
	nc.container = &c;
	nc.pid = 77;
	conts.n_containers = 1;
	conts.containers = &ncp;
	veth.ifindex = 5;
	veth.name = "veth0";
	d.links[0].mtu = 9000; /* eth0, ifindex 2: replaced */
	c1.name = "TcpActiveOpens";
	c1.value = 21;
	c2.name = "TcpExtListenOverflows"; /* new: appended */
	c2.value = 1;
	dl.id = &d.id;
	dl.meta = &meta;
	dl.routes = &routes;
	dl.containers = &conts;
	dl.n_links = 2;
	dl.links = links;
	dl.n_links_removed = 1;
	dl.links_removed = lremoved;
	dl.n_counters = 2;
	dl.counters = ctrs;
	dl.n_counters_removed = 1;
	dl.counters_removed = cremoved;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);

	struct view v = view_of(n);
	const Nsnet__V1__NamespaceSnapshot *s = view_find(&v, 7);
	ASSERT_TRUE(s != NULL);
	if (s) {
		ASSERT_EQ(s->n_names, 2);
		ASSERT_STREQ(s->names[0], "green");
		ASSERT_EQ(s->pid, 77);
		ASSERT_EQ(s->nprocs, 3);
		ASSERT_EQ(s->id->inode, 4026530007u); /* the identity is the store's */
		ASSERT_EQ(s->n_routes, 0);
		ASSERT_EQ(s->n_rules, 0);
		ASSERT_EQ(s->n_containers, 1);
		ASSERT_STREQ(s->containers[0]->container->id, "3f1a9c0b7d2e");
		ASSERT_EQ(s->n_links, 2);
		ASSERT_EQ(s->links[0]->ifindex, 2);
		ASSERT_EQ(s->links[0]->mtu, 9000);
		ASSERT_STREQ(s->links[1]->name, "veth0");
		ASSERT_EQ(s->n_counters, 3);
		ASSERT_STREQ(s->counters[0]->name, "TcpActiveOpens");
		ASSERT_EQ(s->counters[0]->value, 21);
		ASSERT_STREQ(s->counters[1]->name, "Ip6InReceives");
		ASSERT_STREQ(s->counters[2]->name, "TcpExtListenOverflows");
		ASSERT_EQ(s->n_sockets, 1);
	}
	view_free(&v);
	nsn_store_free(st);
}

TEST(gone)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, b;
	struct nsn_store_error err;
	struct nsn_store_node_info info;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 2), &err), 0);
	ASSERT_EQ(apply_snap(n, mk_ns(&b, 8, "red", 3), &err), 0);
	ASSERT_EQ(apply_gone(n, &a.id, &err), 0);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 1);
	ASSERT_EQ(info.sockets, 3);
	struct view v = view_of(n);
	ASSERT_TRUE(v.n == 1 && view_find(&v, 8) != NULL);
	view_free(&v);
	/* Twice is an error: it is unknown now. */
	ASSERT_EQ(apply_gone(n, &a.id, &err), -EPROTO);
	ASSERT_TRUE(strstr(err.msg, "gone for unknown netns cookie 7") != NULL);
	nsn_store_free(st);
}

/* Without a cookie (old kernels), dev and inode identify a namespace. */
TEST(cookieless_namespaces)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, b;
	struct nsn_store_error err;

	mk_ns(&a, 0, "blue", 1);
	a.id.inode = 100;
	mk_ns(&b, 0, "red", 2);
	b.id.inode = 200;
	ASSERT_EQ(apply_snap(n, &a.snap, &err), 0);
	ASSERT_EQ(apply_snap(n, &b.snap, &err), 0);
	ASSERT_EQ(apply_snap(n, &a.snap, &err), 0); /* replaces, not a third */
	struct nsn_store_node_info info;
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 2);
	ASSERT_EQ(apply_gone(n, &b.id, &err), 0);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 1);
	nsn_store_free(st);
}

TEST(resync_forgets_the_unconfirmed)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, b, d;
	struct nsn_store_error err;
	struct nsn_store_node_info info;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 2), &err), 0);
	ASSERT_EQ(apply_snap(n, mk_ns(&b, 8, "red", 3), &err), 0);
	ASSERT_EQ(scan_done(n, true), 0);

	/* The same agent process reconnects: nothing is wiped yet... */
	struct nsn_store_node *n2 = hello(st, "n1", "boot-a", 1);
	ASSERT_TRUE(n2 == n);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 2);
	ASSERT_TRUE(!info.synced);
	ASSERT_EQ(info.hellos, 2);
	/* ...but a delta must wait for the namespace's snapshot of this session. */
	mk_ns(&d, 8, "red", 0);
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	dl.id = &d.id;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_TRUE(strstr(err.msg, "not sent since the hello") != NULL);

	/* The full resync sends only blue; a non-full ScanDone forgets nothing. */
	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 1), &err), 0);
	ASSERT_EQ(scan_done(n, false), 0);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 2);
	struct view v = view_of(n);
	ASSERT_EQ(v.n, 2); /* red, unconfirmed, is shown as last known */
	view_free(&v);
	ASSERT_EQ(scan_done(n, true), 0);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 1);
	ASSERT_EQ(info.sockets, 1);
	ASSERT_TRUE(info.synced);
	v = view_of(n);
	ASSERT_TRUE(v.n == 1 && view_find(&v, 7) && !view_find(&v, 8));
	view_free(&v);
	/* And deltas to blue work again. */
	mk_ns(&d, 7, "blue", 0);
	dl.id = &d.id;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	nsn_store_free(st);
}

TEST(new_boot_or_session_wipes)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;
	struct nsn_store_node_info info;

	/* Before any ScanDone the backend is unknown: "". */
	nsn_store_node_info(n, &info);
	ASSERT_STREQ(info.backend, "");
	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 2), &err), 0);
	ASSERT_EQ(scan_done(n, true), 0);
	nsn_store_node_info(n, &info);
	ASSERT_STREQ(info.backend, "bpf");
	n = hello(st, "n1", "boot-b", 1);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 0);
	ASSERT_EQ(info.sockets, 0);
	ASSERT_TRUE(!info.has_scan);
	ASSERT_EQ(info.n_warnings, 0);
	ASSERT_STREQ(info.backend, "");
	ASSERT_STREQ(info.boot_id, "boot-b");

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 2), &err), 0);
	n = hello(st, "n1", "boot-b", 2);
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.namespaces, 0);
	ASSERT_EQ(info.session, 2);
	/* Another node is another node. */
	struct nsn_store_node *m = hello(st, "n2", "boot-b", 2);
	ASSERT_TRUE(m != n);
	ASSERT_EQ(nsn_store_node_count(st), 2);
	ASSERT_TRUE(nsn_store_node_find(st, "n2") == m);
	ASSERT_TRUE(nsn_store_node_at(st, 0) == n);
	ASSERT_TRUE(nsn_store_node_at(st, 2) == NULL);
	nsn_store_node_remove(n);
	ASSERT_EQ(nsn_store_node_count(st), 1);
	ASSERT_TRUE(nsn_store_node_find(st, "n1") == NULL);
	nsn_store_free(st);
}

TEST(semantic_errors)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a, d;
	struct nsn_store_error err;
	Nsnet__V1__NamespaceDelta dl;
	uint64_t cookie;
	uint32_t ifindex;
	char *name;

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 3), &err), 0);
	mk_ns(&d, 9, "none", 0);

	nsnet__v1__namespace_delta__init(&dl);
	dl.id = &d.id;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta for unknown netns cookie 9");
	ASSERT_EQ(apply_gone(n, &d.id, &err), -EPROTO);
	dl.id = NULL;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta without a namespace id");
	a.snap.id = NULL;
	ASSERT_EQ(apply_snap(n, &a.snap, &err), -EPROTO);
	a.snap.id = &a.id;

	/* Each of these is refused before anything changes: a change rides along in each. */
	mk_ns(&d, 7, "blue", 0);
	mk_sock(&d, 0, 1, 1);
	mk_sock(&d, 1, 42, 2);
	mk_sock(&d, 2, 0, 3);
	nsnet__v1__namespace_delta__init(&dl);
	dl.id = &d.id;
	dl.n_changed = 1;
	dl.changed = &d.sockp[0];

	cookie = 42;
	dl.n_removed = 1;
	dl.removed = &cookie;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta removes unknown socket cookie 42 in netns cookie 7");
	cookie = 0;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	dl.n_removed = 0;

	dl.n_changed = 2;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta changes unknown socket cookie 42 in netns cookie 7");
	dl.n_changed = 1;

	dl.n_added = 1;
	dl.added = &d.sockp[0]; /* cookie 1 is there */
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta adds socket cookie 1 already in netns cookie 7");
	dl.n_added = 0;

	ifindex = 3;
	dl.n_links_removed = 1;
	dl.links_removed = &ifindex;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta removes unknown link ifindex 3 in netns cookie 7");
	dl.n_links_removed = 0;

	name = "NoSuchCounter";
	dl.n_counters_removed = 1;
	dl.counters_removed = &name;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta removes unknown counter NoSuchCounter in netns cookie 7");
	dl.n_counters_removed = 0;

	/* Contradictions within one delta are caught as they are met. */
	Nsnet__V1__Socket *twice[] = {d.sockp[1], d.sockp[1]};
	dl.n_changed = 0;
	dl.n_added = 2;
	dl.added = twice;
	ASSERT_EQ(apply_delta(n, &dl, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "delta adds socket cookie 42 twice");
	dl.n_added = 0;

	/* None of the refused deltas changed socket 1. */
	struct view v = view_of(n);
	const Nsnet__V1__NamespaceSnapshot *s = view_find(&v, 7);
	ASSERT_TRUE(s && s->n_sockets >= 1 && s->sockets[0]->local_port == 8001);
	view_free(&v);

	/* A cookie-less socket may be added (it cannot be named later). */
	dl.n_changed = 0;
	dl.n_added = 1;
	dl.added = &d.sockp[2];
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);

	/* Frames an agent does not send, and a Hello through apply. */
	NsnFrame f = NSNET__V1__FRAME__INIT;
	Nsnet__V1__Ack ack = NSNET__V1__ACK__INIT;
	f.body_case = NSNET__V1__FRAME__BODY_ACK;
	f.ack = &ack;
	ASSERT_EQ(nsn_store_apply(n, &f, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "unexpected ack frame from an agent");
	Nsnet__V1__Hello h = NSNET__V1__HELLO__INIT;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	ASSERT_EQ(nsn_store_apply(n, &f, NULL), -EPROTO);
	f.body_case = NSNET__V1__FRAME__BODY__NOT_SET;
	ASSERT_EQ(nsn_store_apply(n, &f, NULL), -EPROTO);

	/* Hellos that are not an agent's, or name no node. */
	struct nsn_store_node *q = (void *)1;
	h.role = NSNET__V1__HELLO__ROLE__QUERY;
	h.node = "n1";
	ASSERT_EQ(nsn_store_hello(st, &h, &q, &err), -EPROTO);
	ASSERT_TRUE(q == NULL);
	h.role = NSNET__V1__HELLO__ROLE__AGENT;
	h.node = "";
	ASSERT_EQ(nsn_store_hello(st, &h, &q, &err), -EPROTO);
	ASSERT_STREQ(err.msg, "hello without a node name");
	nsn_store_free(st);
}

/* Sockets without a cookie, or repeating one, are kept as a snapshot sent them. */
TEST(weak_cookies_kept)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;

	mk_ns(&a, 7, "blue", 5);
	a.socks[0].cookie = 0;
	a.socks[1].cookie = 0;
	a.socks[3].cookie = 3; /* a duplicate of socks[2] */
	ASSERT_EQ(apply_snap(n, &a.snap, &err), 0);
	struct view v = view_of(n);
	ASSERT_STREQ(cookies(view_find(&v, 7)), "0,0,3,3,5");
	view_free(&v);

	/* Removing 3 removes the first; the second becomes reachable after compaction. */
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	uint64_t c = 3;
	dl.id = &a.id;
	dl.n_removed = 1;
	dl.removed = &c;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	v = view_of(n);
	ASSERT_STREQ(cookies(view_find(&v, 7)), "0,0,3,5");
	view_free(&v);
	nsn_store_free(st);
}

/* Many sockets through snapshot and deltas: the index survives growth, removals and
 * compactions, order is kept, and the memory stays within the budget. */
TEST(many_sockets)
{
	enum { N = 100000, CHUNK = 1000 };
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;
	Nsnet__V1__Socket *s = calloc(CHUNK, sizeof(*s));
	Nsnet__V1__Socket **sp = calloc(CHUNK, sizeof(*sp));
	uint64_t *rm = calloc(N, sizeof(*rm));
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	size_t before = nsn_store_memory(st);

	ASSERT_EQ(apply_snap(n, mk_ns(&a, 7, "blue", 0), &err), 0);
	ASSERT_EQ(scan_done(n, true), 0);
	for (size_t base = 0; base < N; base += CHUNK) {
		Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;

		for (size_t i = 0; i < CHUNK; i++) {
			nsnet__v1__socket__init(&s[i]);
			s[i].cookie = 0x100000000ull + base + i;
			s[i].proto = NSNET__V1__PROTO__TCP;
			s[i].family = AF_INET6;
			s[i].state = 1;
			s[i].inode = (uint32_t)(base + i);
			s[i].local_addr = (ProtobufCBinaryData){16, v6};
			s[i].peer_addr = (ProtobufCBinaryData){16, v6};
			s[i].local_port = 443;
			s[i].peer_port = (uint32_t)(1024 + (base + i) % 60000);
			s[i].uid = 1000;
			s[i].recv_q = 0;
			s[i].send_q = 0;
			sp[i] = &s[i];
		}
		dl.id = &a.id;
		dl.n_added = CHUNK;
		dl.added = sp;
		ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	}
	struct nsn_store_node_info info;
	nsn_store_node_info(n, &info);
	ASSERT_EQ(info.sockets, N);
	size_t per = (nsn_store_memory(st) - before) / N;
	printf("# %zu bytes per socket held (packed IPv6 TCP socket, index included)\n", per);
	ASSERT_TRUE(per < 160);

	/* Remove every socket but those whose index is a multiple of 3, in one delta. */
	size_t k = 0;
	for (size_t i = 0; i < N; i++)
		if (i % 3)
			rm[k++] = 0x100000000ull + i;
	Nsnet__V1__NamespaceDelta dl = NSNET__V1__NAMESPACE_DELTA__INIT;
	dl.id = &a.id;
	dl.n_removed = k;
	dl.removed = rm;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);
	/* Change a survivor: still found after the compactions. */
	nsnet__v1__socket__init(&s[0]);
	s[0].cookie = 0x100000000ull + 99999;
	s[0].local_port = 1;
	dl = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
	dl.id = &a.id;
	dl.n_changed = 1;
	dl.changed = sp;
	ASSERT_EQ(apply_delta(n, &dl, &err), 0);

	struct view v = view_of(n);
	const Nsnet__V1__NamespaceSnapshot *m = view_find(&v, 7);
	bool ordered = m && m->n_sockets == (N + 2) / 3;
	for (size_t i = 0; ordered && i < m->n_sockets; i++)
		ordered = m->sockets[i]->cookie == 0x100000000ull + 3 * i;
	ASSERT_TRUE(ordered);
	ASSERT_EQ(m ? m->sockets[m->n_sockets - 1]->local_port : 0, 1);
	view_free(&v);
	free(s);
	free(sp);
	free(rm);
	nsn_store_free(st);
}

/* Frames that went through the wire (unpacked by protobuf-c, not built by hand), and
 * the store's snapshots through the decoder: the scan the CLI renders. */
TEST(wire_and_decode)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *n = hello(st, "n1", "boot-a", 1);
	struct ns_msg a;
	struct nsn_store_error err;
	NsnFrame f = NSNET__V1__FRAME__INIT, *g;
	uint8_t *buf;
	size_t len;

	f.seq = 2;
	f.body_case = NSNET__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = mk_ns(&a, 7, "blue", 3);
	ASSERT_EQ(nsn_wire_pack(&f, NSN_FRAME_MAX_DEFAULT, &buf, &len), 0);
	ASSERT_EQ(
	    nsn_wire_unpack(buf + NSN_FRAME_HDR, len - NSN_FRAME_HDR, NSN_FRAME_MAX_DEFAULT, &g),
	    0);
	free(buf);
	ASSERT_EQ(nsn_store_apply(n, g, &err), 0);
	nsn_wire_free(g);

	struct view v = view_of(n);
	struct nsn_scan *scan = NULL;
	ASSERT_EQ(nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)v.s, v.n, &scan),
		  0);
	view_free(&v);
	ASSERT_TRUE(scan != NULL);
	if (scan) {
		ASSERT_EQ(scan->n_netns, 1);
		const struct nsn_netns *ns = scan->netns[0];
		ASSERT_EQ(ns->cookie, 7);
		ASSERT_EQ(ns->inode, 4026530007u);
		ASSERT_STREQ(ns->names[0], "blue");
		ASSERT_EQ(ns->n_socks, 3);
		ASSERT_EQ(ns->socks[2].cookie, 3);
		ASSERT_EQ(ns->socks[2].local.port, 8003);
		ASSERT_EQ(ns->n_links, 2);
		ASSERT_EQ(ns->n_counters, 3);
		ASSERT_EQ(ns->n_routes, 1);
	}
	nsn_scan_free(scan);
	nsn_store_free(st);
}

TEST(null_safe)
{
	nsn_store_free(NULL);
	nsn_store_node_remove(NULL);
	nsn_store_snapshots_free(NULL, 0);
	struct nsn_store *st = nsn_store_new();
	ASSERT_EQ(nsn_store_node_count(st), 0);
	ASSERT_TRUE(nsn_store_node_find(st, "x") == NULL);
	nsn_store_free(st);
}

TEST_MAIN(CASE(snapshot_round_trip), CASE(delta_sockets), CASE(delta_lists), CASE(gone),
	  CASE(cookieless_namespaces), CASE(resync_forgets_the_unconfirmed),
	  CASE(new_boot_or_session_wipes), CASE(semantic_errors), CASE(weak_cookies_kept),
	  CASE(many_sockets), CASE(wire_and_decode), CASE(null_safe))
