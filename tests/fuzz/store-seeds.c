/* SPDX-License-Identifier: MIT */
/* fuzz-store's seeds: streams of frames (length prefix and payload, as fuzz-store.c
 * reads them) that reach deep into the store before the fuzzer mutates them. Sessions
 * the store accepts frame by frame: snapshots with every part, deltas that churn a
 * namespace's sockets through slab evacuation and repacking, links and counters
 * replaced, added and removed, cookie-less namespaces and sockets, repeated cookies,
 * unknown fields of a newer agent, a reconnect and a reboot; and the frames the store
 * must refuse, each after a Hello that starts over. Deterministic. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "gen-corpus.h"

#define NSOCK 80

struct out {
	uint8_t *buf;
	size_t len, cap;
};

static void put(struct out *o, const NsnFrame *f)
{
	uint8_t *b;
	size_t n;

	if (nsn_wire_pack(f, NSN_FRAME_MAX_DEFAULT, &b, &n) < 0)
		abort();
	if (o->cap - o->len < n) {
		o->cap = (o->len + n) * 2;
		if (!(o->buf = realloc(o->buf, o->cap)))
			abort();
	}
	memcpy(o->buf + o->len, b, n);
	o->len += n;
	free(b);
}

static int save(const char *dir, const char *name, struct out *o)
{
	char path[4096];
	FILE *fp;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(fp = fopen(path, "wb"))) {
		fprintf(stderr, "fuzz-gen-corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(o->buf, 1, o->len, fp) == o->len;
	if (fclose(fp) != 0 || !ok) {
		fprintf(stderr, "fuzz-gen-corpus: %s: write failed\n", path);
		return -1;
	}
	o->len = 0;
	return 0;
}

static uint64_t seq;

static NsnFrame frame(Nsnet__V1__Frame__BodyCase body, void *msg)
{
	NsnFrame f = NSNET__V1__FRAME__INIT;

	f.seq = ++seq;
	f.body_case = body;
	switch (body) {
	case NSNET__V1__FRAME__BODY_HELLO:
		f.hello = msg;
		f.seq = seq = 1;
		break;
	case NSNET__V1__FRAME__BODY_WELCOME: f.welcome = msg; break;
	case NSNET__V1__FRAME__BODY_SNAPSHOT: f.snapshot = msg; break;
	case NSNET__V1__FRAME__BODY_DELTA: f.delta = msg; break;
	case NSNET__V1__FRAME__BODY_GONE: f.gone = msg; break;
	case NSNET__V1__FRAME__BODY_SCAN_DONE: f.scan_done = msg; break;
	case NSNET__V1__FRAME__BODY_RESPONSE: f.response = msg; break;
	default: abort();
	}
	return f;
}

#define PUT(o, body, msg)                                                                          \
	do {                                                                                       \
		NsnFrame f_ = frame(NSNET__V1__FRAME__BODY_##body, (msg));                         \
		put((o), &f_);                                                                     \
	} while (0)

/* ---- the messages ------------------------------------------------------------------ */

static uint8_t lo4[] = {127, 0, 0, 1}, pod4[] = {10, 77, 0, 2}, gw4[] = {10, 77, 0, 1};
static uint8_t net4[] = {10, 77, 0, 0}, six[16] = {0xfd, 0, [15] = 1};
static uint8_t mac[] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
static uint8_t unknown_varint[] = {0x2a};

static Nsnet__V1__Hello hello = NSNET__V1__HELLO__INIT;
static Nsnet__V1__AgentStats stats = NSNET__V1__AGENT_STATS__INIT;
static Nsnet__V1__NetnsId id_a = NSNET__V1__NETNS_ID__INIT, id_b = NSNET__V1__NETNS_ID__INIT,
			  id_x = NSNET__V1__NETNS_ID__INIT;
static Nsnet__V1__Socket socks[NSOCK];
static Nsnet__V1__Socket *sockp[NSOCK];
static Nsnet__V1__ProcRef procs[2];
static Nsnet__V1__ProcRef *procp[] = {&procs[0], &procs[1]};
static Nsnet__V1__TcpInfo tcpi = NSNET__V1__TCP_INFO__INIT;
static Nsnet__V1__SkMem skmem = NSNET__V1__SK_MEM__INIT;
static ProtobufCMessageUnknownField unknown = {40, PROTOBUF_C_WIRE_TYPE_VARINT, 1, unknown_varint};
static Nsnet__V1__Pod pod = NSNET__V1__POD__INIT;
static Nsnet__V1__Container ctr = NSNET__V1__CONTAINER__INIT;
static Nsnet__V1__NetnsContainer nctr = NSNET__V1__NETNS_CONTAINER__INIT;
static Nsnet__V1__NetnsContainer *nctrp[] = {&nctr};
static Nsnet__V1__Nexthop nh[2];
static Nsnet__V1__Nexthop *nhp[] = {&nh[0], &nh[1]};
static Nsnet__V1__Route routes[2];
static Nsnet__V1__Route *routep[] = {&routes[0], &routes[1]};
static Nsnet__V1__Rule rule = NSNET__V1__RULE__INIT;
static Nsnet__V1__Rule *rulep[] = {&rule};
static Nsnet__V1__Addr addrs[2];
static Nsnet__V1__Addr *addrp[] = {&addrs[0], &addrs[1]};
static Nsnet__V1__LinkStats lstats = NSNET__V1__LINK_STATS__INIT;
static Nsnet__V1__LinkPeer peer = NSNET__V1__LINK_PEER__INIT;
static Nsnet__V1__Link links[3];
static Nsnet__V1__Link *linkp[] = {&links[0], &links[1], &links[2]};
static Nsnet__V1__Counter ctrs[4];
static Nsnet__V1__Counter *ctrp[] = {&ctrs[0], &ctrs[1], &ctrs[2], &ctrs[3]};
static char *names_a[] = {"cni-5f1a"}, *names_b[] = {"blue", "/var/run/docker/netns/x"};
static Nsnet__V1__NamespaceSnapshot snap_a = NSNET__V1__NAMESPACE_SNAPSHOT__INIT,
				    snap_b = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;
static Nsnet__V1__ScanDone done = NSNET__V1__SCAN_DONE__INIT;
static char *warnings[] = {"netns=4026532999 vanished mid-scan"};

/* Socket @p i: TCP, UDP and RAW over IPv4 and IPv6, and unix ones, in turn. */
static void mk_sock(size_t i, uint64_t cookie)
{
	Nsnet__V1__Socket *s = &socks[i];

	*s = (Nsnet__V1__Socket)NSNET__V1__SOCKET__INIT;
	s->cookie = cookie;
	s->proto = (Nsnet__V1__Proto)(i % 4);
	s->family = i % 4 == 3 ? 1 : i % 8 < 4 ? 2 : 10;
	s->state = i % 4 == 0 ? (i % 3 ? 1 : 10) : 7;
	s->type = i % 4 == 0 ? 1 : i % 4 == 1 ? 2 : i % 4 == 2 ? 3 : 5;
	s->v6only = s->family == 10 ? (int32_t)(i % 2) : -1;
	s->recv_q = (uint32_t)i;
	s->uid = i % 5 ? 1000 : 4294967295u;
	s->inode = i % 7 ? 20000u + (uint32_t)i : 0;
	if (s->family == 1) {
		s->path = i % 8 == 3 ? "/run/containerd/containerd.sock" : "@/tmp/.X11-unix/X0";
		s->peer_inode = 20001u + (uint32_t)i;
	} else {
		s->local_addr.len = s->peer_addr.len = s->family == 2 ? 4 : 16;
		s->local_addr.data = s->family == 2 ? pod4 : six;
		s->peer_addr.data = s->family == 2 ? lo4 : six;
		s->local_port = 8000u + (uint32_t)i;
		s->peer_port = 40000u + (uint32_t)i;
	}
	if (i % 4 == 0) {
		s->tcp_info = &tcpi;
		s->skmem = &skmem;
	}
	if (i % 6 == 0) {
		s->ifindex = 2;
		s->dev = "eth0";
	}
	if (i % 3 == 0) {
		s->n_procs = i % 2 ? 2 : 1;
		s->procs = procp;
	}
	if (i == 5) { /* a newer agent's field */
		s->base.n_unknown_fields = 1;
		s->base.unknown_fields = &unknown;
	}
	sockp[i] = s;
}

static void build(void)
{
	stats.scans = 2;
	stats.frames_sent = 9;
	hello.protocol_version = NSN_PROTOCOL_VERSION;
	hello.role = NSNET__V1__HELLO__ROLE__AGENT;
	hello.node = "node-a";
	hello.agent_version = "0.1.0";
	hello.boot_id = "7d3f0c1e-0000-4000-8000-000000000001";
	hello.session = 0xfeedfacecafebeefull;
	hello.interval_ms = 10000;
	hello.max_frame = NSN_FRAME_MAX_DEFAULT;
	hello.stats = &stats;

	id_a.cookie = 4097;
	id_a.dev = 4;
	id_a.inode = 4026532281u;
	id_b.dev = 4; /* a kernel without cookies */
	id_b.inode = 4026532999u;
	id_x.cookie = 9999;

	tcpi.cong = "cubic";
	tcpi.rtt_us = 250;
	tcpi.snd_cwnd = 10;
	tcpi.bytes_acked = 1u << 20;
	tcpi.snd_wscale = 7;
	skmem.rcvbuf = 131072;
	skmem.sndbuf = 16384;
	pod.uid = "9a50e2f3-3472-4769-9d51-a757cec74782";
	pod.name = "api-7f9c";
	pod.namespace_ = "payments";
	ctr.id = "3f1a9c0b7d2e4f6a8b0c2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a";
	ctr.runtime = "containerd";
	ctr.name = "api";
	ctr.sandbox_id = "de1df48ae24415a49f4bab0a5f22bcd66b930db7010b41577c51879b31ffe5b1";
	ctr.pod = &pod;
	ctr.bundle = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f1a9c0b7d2e";
	nctr.container = &ctr;
	nctr.pid = 4410;
	nctr.nprocs = 3;
	for (int i = 0; i < 2; i++) {
		procs[i] = (Nsnet__V1__ProcRef)NSNET__V1__PROC_REF__INIT;
		procs[i].pid = 4410u + (uint32_t)i;
		procs[i].fd = 3 + i;
		procs[i].comm = i ? "nginx" : "api";
		procs[i].container_id = i ? "" : ctr.id;
	}
	for (size_t i = 0; i < NSOCK; i++)
		mk_sock(i, 1000 + i);

	for (int i = 0; i < 2; i++) {
		nh[i] = (Nsnet__V1__Nexthop)NSNET__V1__NEXTHOP__INIT;
		nh[i].gateway.data = gw4;
		nh[i].gateway.len = 4;
		nh[i].weight = (uint32_t)i + 1;
		nh[i].ifindex = 2;
		nh[i].dev = "eth0";
		routes[i] = (Nsnet__V1__Route)NSNET__V1__ROUTE__INIT;
		routes[i].family = 2;
		routes[i].type = 1;
		routes[i].protocol = i ? 2 : 4;
		routes[i].table = 254;
		routes[i].pref = 255;
	}
	routes[0].dst.data = net4; /* 10.77.0.0/24 dev eth0 proto kernel scope link src ... */
	routes[0].dst.len = 4;
	routes[0].dst_len = 24;
	routes[0].scope = 253;
	routes[0].prefsrc.data = pod4;
	routes[0].prefsrc.len = 4;
	routes[0].n_nexthops = 1;
	routes[0].nexthops = nhp;
	routes[1].multipath = 1; /* default, two next hops */
	routes[1].has_metric = 1;
	routes[1].metric = 100;
	routes[1].mtu = 1400;
	routes[1].metrics_locked = 1u << 2;
	routes[1].n_nexthops = 2;
	routes[1].nexthops = nhp;
	rule.family = 2;
	rule.action = 1;
	rule.table = 100;
	rule.has_priority = 1;
	rule.priority = 1000;
	rule.has_fwmark = 1;
	rule.fwmark = 7;
	rule.iif = "eth0";

	for (int i = 0; i < 2; i++) {
		addrs[i] = (Nsnet__V1__Addr)NSNET__V1__ADDR__INIT;
		addrs[i].family = i ? 10 : 2;
		addrs[i].prefixlen = i ? 64 : 24;
		addrs[i].local.data = i ? six : pod4;
		addrs[i].local.len = i ? 16 : 4;
		addrs[i].label = i ? "" : "eth0";
		addrs[i].valid_lft = 4294967295u;
	}
	lstats.rx_packets = 4012;
	lstats.tx_packets = 3990;
	lstats.rx_dropped = 3;
	peer.ifindex = 9;
	peer.netnsid = 0;
	peer.name = "veth3a9c1d2e";
	peer.netns = &id_b;
	for (int i = 0; i < 3; i++) {
		links[i] = (Nsnet__V1__Link)NSNET__V1__LINK__INIT;
		links[i].ifindex = (uint32_t)i + 1;
		links[i].mtu = i ? 1500 : 65536;
		links[i].flags = 0x10049;
		links[i].operstate = i ? 6 : 0;
		links[i].qdisc = "noqueue";
		links[i].stats = &lstats;
	}
	links[0].name = "lo";
	links[0].arptype = 772;
	links[0].n_addrs = 1;
	links[0].addrs = addrp;
	links[1].name = "eth0";
	links[1].kind = "veth";
	links[1].arptype = 1;
	links[1].mac.data = mac;
	links[1].mac.len = sizeof(mac);
	links[1].link = 9;
	links[1].link_netnsid = 0;
	links[1].n_addrs = 2;
	links[1].addrs = addrp;
	links[1].peer = &peer;
	links[2].name = "tunl0";
	links[2].kind = "ipip";
	links[2].arptype = 768;
	static const char *const cnames[] = {"TcpActiveOpens", "TcpExtListenOverflows",
					     "Ip6InReceives", "UdpInErrors"};
	for (int i = 0; i < 4; i++) {
		ctrs[i] = (Nsnet__V1__Counter)NSNET__V1__COUNTER__INIT;
		ctrs[i].name = (char *)cnames[i];
		ctrs[i].value = 17 * (i + 1);
	}

	snap_a.id = &id_a;
	snap_a.n_names = 1;
	snap_a.names = names_a;
	snap_a.pid = 4410;
	snap_a.nprocs = 3;
	snap_a.n_containers = 1;
	snap_a.containers = nctrp;
	snap_a.n_sockets = 40;
	snap_a.sockets = sockp;
	snap_a.n_routes = 2;
	snap_a.routes = routep;
	snap_a.n_rules = 1;
	snap_a.rules = rulep;
	snap_a.n_links = 2;
	snap_a.links = linkp;
	snap_a.n_counters = 3;
	snap_a.counters = ctrp;

	snap_b.id = &id_b;
	snap_b.n_names = 2;
	snap_b.names = names_b;
	snap_b.host = 0;
	snap_b.n_links = 1;
	snap_b.links = linkp + 1;

	done.scan = 1;
	done.time_ms = 1700000000000ull;
	done.full = 1;
	done.namespaces = 2;
	done.sockets = 43;
	done.scan_ms = 12;
	done.n_warnings = 1;
	done.warnings = warnings;
	done.stats = &stats;
}

/* Namespace B's sockets: cookie-less ones and a repeated cookie, kept as sent. */
static Nsnet__V1__Socket b_socks[4];
static Nsnet__V1__Socket *b_sockp[] = {&b_socks[0], &b_socks[1], &b_socks[2], &b_socks[3]};

static void mk_b(void)
{
	for (int i = 0; i < 4; i++) {
		b_socks[i] = socks[i == 3 ? 2 : 1]; /* UDP over IPv4 and RAW */
		b_socks[i].n_procs = 0;
		b_socks[i].procs = NULL;
		b_socks[i].cookie = i < 2 ? 0 : 55;
	}
	snap_b.n_sockets = 4;
	snap_b.sockets = b_sockp;
}

/* ---- the seeds --------------------------------------------------------------------- */

/* A full session: resync, churn, a reconnect (same boot and session) that confirms one
 * namespace again, and a reboot that forgets everything. */
static void session(struct out *o)
{
	Nsnet__V1__NamespaceDelta d = NSNET__V1__NAMESPACE_DELTA__INIT;
	Nsnet__V1__NamespaceGone gone = NSNET__V1__NAMESPACE_GONE__INIT;
	Nsnet__V1__NetnsMeta meta = NSNET__V1__NETNS_META__INIT;
	Nsnet__V1__Routes rts = NSNET__V1__ROUTES__INIT;
	Nsnet__V1__Rules rls = NSNET__V1__RULES__INIT;
	Nsnet__V1__NetnsContainers cts = NSNET__V1__NETNS_CONTAINERS__INIT;
	Nsnet__V1__Link eth0;
	Nsnet__V1__Link *dlinks[] = {&eth0, &links[2]};
	uint64_t removed[36];
	uint32_t links_removed[] = {1};
	Nsnet__V1__Counter set = NSNET__V1__COUNTER__INIT, add = NSNET__V1__COUNTER__INIT;
	Nsnet__V1__Counter *dctrs[] = {&set, &add};
	char *ctrs_removed[] = {"Ip6InReceives"};
	char *meta_names[] = {"cni-5f1a", "pod-api"};

	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &snap_a);
	mk_b();
	PUT(o, SNAPSHOT, &snap_b);
	PUT(o, SCAN_DONE, &done);

	/* Most of A's snapshot goes (its slab is evacuated), as many new sockets come (and
	 * are repacked into a slab of their own), one changes. */
	for (size_t i = 0; i < 36; i++)
		removed[i] = 1000 + i;
	d.id = &id_a;
	d.n_removed = 36;
	d.removed = removed;
	d.n_added = 36;
	d.added = sockp + 40;
	d.n_changed = 1;
	socks[36].state = 8; /* CLOSE-WAIT now */
	d.changed = sockp + 36;
	meta.n_names = 2;
	meta.names = meta_names;
	meta.pid = 4411;
	meta.nprocs = 2;
	d.meta = &meta;
	rts.n_routes = 1;
	rts.routes = routep + 1;
	d.routes = &rts;
	d.rules = &rls;	     /* present and empty: every rule went */
	d.containers = &cts; /* present and empty: the container left */
	eth0 = links[1];
	eth0.mtu = 9000;
	d.n_links = 2;
	d.links = dlinks;
	d.n_links_removed = 1;
	d.links_removed = links_removed;
	set.name = "TcpActiveOpens";
	set.value = 40;
	add.name = "TcpExtTCPTimeouts";
	add.value = 1;
	d.n_counters = 2;
	d.counters = dctrs;
	d.n_counters_removed = 1;
	d.counters_removed = ctrs_removed;
	PUT(o, DELTA, &d);
	socks[36].state = 1;

	/* B: a cookie-less socket added, then B is gone. */
	d = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
	d.id = &id_b;
	d.n_added = 1;
	d.added = b_sockp;
	PUT(o, DELTA, &d);
	gone.id = &id_b;
	PUT(o, GONE, &gone);
	done.full = 0;
	done.scan = 2;
	done.n_warnings = 0;
	PUT(o, SCAN_DONE, &done);

	/* Reconnect: A sent again (smaller), the resync ends. */
	PUT(o, HELLO, &hello);
	snap_a.n_sockets = 5;
	snap_a.sockets = sockp + 70;
	PUT(o, SNAPSHOT, &snap_a);
	done.full = 1;
	done.scan = 3;
	PUT(o, SCAN_DONE, &done);
	snap_a.n_sockets = 40;
	snap_a.sockets = sockp;

	/* Reboot: everything of the node is forgotten; B comes back alone. */
	hello.boot_id = "7d3f0c1e-0000-4000-8000-000000000002";
	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &snap_b);
	PUT(o, SCAN_DONE, &done);
	hello.boot_id = "7d3f0c1e-0000-4000-8000-000000000001";
}

/* Two nodes interleaved, as two connections to one collector. */
static void two_nodes(struct out *o)
{
	PUT(o, HELLO, &hello);
	snap_a.n_sockets = 6;
	PUT(o, SNAPSHOT, &snap_a);
	hello.node = "node-b";
	hello.session = 7;
	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &snap_a); /* the same namespace identity on another node */
	snap_b.err = -2;	   /* it vanished before its dump */
	PUT(o, SNAPSHOT, &snap_b);
	id_x.inode = 4026533000u;
	snap_b.id = &id_x;
	snap_b.err = -13; /* its dump failed */
	PUT(o, SNAPSHOT, &snap_b);
	snap_b.id = &id_b;
	snap_b.err = 0;
	PUT(o, SCAN_DONE, &done);
	hello.node = "node-a";
	hello.session = 0xfeedfacecafebeefull;
	snap_a.n_sockets = 40;
}

/* What a query client decodes: a response with the namespaces of one node. */
static void response(struct out *o)
{
	Nsnet__V1__QueryResponse r = NSNET__V1__QUERY_RESPONSE__INIT;
	Nsnet__V1__NodeInfo node = NSNET__V1__NODE_INFO__INIT;
	Nsnet__V1__NamespaceSnapshot *both[] = {&snap_a, &snap_b};

	node.node = "node-a";
	node.boot_id = hello.boot_id;
	node.last_seen_ms = 1700000000000ull;
	node.stats = &stats;
	r.id = 7;
	r.node = &node;
	snap_a.n_sockets = 8;
	r.n_namespaces = 2;
	r.namespaces = both;
	r.last = 1;
	PUT(o, RESPONSE, &r);
	snap_a.n_sockets = 40;
}

/* The frames the store refuses, each followed by a Hello that starts over. */
static void refusals(struct out *o)
{
	Nsnet__V1__NamespaceDelta d = NSNET__V1__NAMESPACE_DELTA__INIT;
	Nsnet__V1__NamespaceGone gone = NSNET__V1__NAMESPACE_GONE__INIT;
	Nsnet__V1__NamespaceSnapshot noid = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;
	Nsnet__V1__Welcome w = NSNET__V1__WELCOME__INIT;
	uint64_t twice[] = {1001, 1001}, unknown_cookie[] = {77};
	uint32_t no_link[] = {42};
	char *no_ctr[] = {"NoSuchCounter"};

	PUT(o, HELLO, &hello);
	d.id = &id_x; /* unknown namespace */
	PUT(o, DELTA, &d);

	PUT(o, HELLO, &hello);
	snap_a.n_sockets = 4;
	PUT(o, SNAPSHOT, &snap_a);
	d.id = &id_a;
	d.n_added = 1;
	d.added = sockp + 1; /* already there */
	PUT(o, DELTA, &d);

	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &snap_a);
	d = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
	d.id = &id_a;
	d.n_removed = 2;
	d.removed = twice; /* removed twice in one delta */
	PUT(o, DELTA, &d);

	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &snap_a);
	d = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
	d.id = &id_a;
	d.n_removed = 1;
	d.removed = unknown_cookie;
	PUT(o, DELTA, &d);
	d.n_removed = 0;
	d.n_links_removed = 1;
	d.links_removed = no_link;
	PUT(o, HELLO, &hello); /* a reconnect: A is unconfirmed */
	PUT(o, DELTA, &d);
	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &snap_a);
	d.n_links_removed = 0;
	d.n_counters_removed = 1;
	d.counters_removed = no_ctr;
	PUT(o, DELTA, &d);

	/* Contradictions within one delta: found by the check, gone when applied. */
	{
		uint64_t one[] = {1001};
		uint32_t lo[] = {1, 1};
		char *ctr_twice[] = {"TcpActiveOpens", "TcpActiveOpens"};

		PUT(o, HELLO, &hello);
		PUT(o, SNAPSHOT, &snap_a);
		d = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
		d.id = &id_a;
		d.n_removed = 1;
		d.removed = one;
		d.n_changed = 1;
		d.changed = sockp + 1; /* the socket it removes */
		PUT(o, DELTA, &d);
		PUT(o, HELLO, &hello);
		PUT(o, SNAPSHOT, &snap_a);
		d = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
		d.id = &id_a;
		d.n_links_removed = 2;
		d.links_removed = lo;
		PUT(o, DELTA, &d);
		PUT(o, HELLO, &hello);
		PUT(o, SNAPSHOT, &snap_a);
		d = (Nsnet__V1__NamespaceDelta)NSNET__V1__NAMESPACE_DELTA__INIT;
		d.id = &id_a;
		d.n_counters_removed = 2;
		d.counters_removed = ctr_twice;
		PUT(o, DELTA, &d);
	}

	PUT(o, HELLO, &hello);
	gone.id = &id_x;
	PUT(o, GONE, &gone);
	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &noid);
	PUT(o, HELLO, &hello);
	w.protocol_version = 1;
	PUT(o, WELCOME, &w);

	hello.role = NSNET__V1__HELLO__ROLE__QUERY;
	PUT(o, HELLO, &hello);
	hello.role = NSNET__V1__HELLO__ROLE__AGENT;
	hello.node = "";
	PUT(o, HELLO, &hello);
	hello.node = "node-a";
	snap_a.n_sockets = 40;
}

/* Snapshots the decoder refuses while the store keeps them: an address of the wrong
 * size, a state past the table, a proto that disagrees with the family. */
static void undecodable(struct out *o)
{
	Nsnet__V1__Socket bad[3];
	Nsnet__V1__Socket *badp[] = {&bad[0], &bad[1], &bad[2]};
	Nsnet__V1__NamespaceSnapshot s = snap_b;

	for (int i = 0; i < 3; i++)
		bad[i] = socks[4];
	bad[0].local_addr.len = 3;
	bad[1].state = 12;
	bad[2].proto = NSNET__V1__PROTO__UNIX;
	s.n_sockets = 3;
	s.sockets = badp;
	s.n_links = 0;
	PUT(o, HELLO, &hello);
	PUT(o, SNAPSHOT, &s);
	PUT(o, SCAN_DONE, &done);
}

int store_seeds(const char *dir)
{
	struct out o = {0};
	int r = 0;

	build();
	session(&o);
	r |= save(dir, "session", &o);
	two_nodes(&o);
	r |= save(dir, "two-nodes", &o);
	response(&o);
	r |= save(dir, "response", &o);
	refusals(&o);
	r |= save(dir, "refusals", &o);
	undecodable(&o);
	r |= save(dir, "undecodable", &o);
	free(o.buf);
	return r ? -1 : 0;
}
