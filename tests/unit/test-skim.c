/* SPDX-License-Identifier: MIT */
/* A packed nsnet.v1.Socket read in place (proto/skim.c) against the full decoder
 * (decode.c through nsn_pb_decode_scan()): hand-built sockets with every field, a real
 * scan of the current namespace, unknown fields, merged messages, and malformed bytes
 * (every truncation, impossible wire types, overlong varints and strings), each in an
 * exact-size heap copy so that ASan sees any read past the end. */
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
#include "skim.h"
#include "tap.h"

#define ID_API	 "3f1a9c0b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
#define ID_PAUSE "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define ID_DB	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- bytes ------------------------------------------------------------------------ */

/* An exact-size heap copy: nothing after the last byte for the reader to lean on. */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	return (uint8_t *)tap_dup_exact((const char *)p, len);
}

static uint8_t *pack_sock(const Nsnet__V1__Socket *m, size_t *ret_len)
{
	size_t len = nsnet__v1__socket__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf)
		ASSERT_EQ(nsnet__v1__socket__pack(m, buf), len);
	*ret_len = len;
	return buf;
}

/* Skim @p len bytes of @p data from an exact-size copy. The container ids point into
 * the copy: it lives until the next call. */
static int skim(const uint8_t *data, size_t len, int what, struct nsn_skim *k)
{
	static uint8_t *held;

	free(held);
	held = dup_exact(data, len);
	/* Poison the result: everything the skim reports must be written by it. */
	memset(k, 0xa5, sizeof(*k));
	return nsn_skim_socket(held, len, what, k);
}

/* A small protobuf writer for hand-made bytes. */
struct wr {
	uint8_t b[1024];
	size_t n;
};

static void w_raw(struct wr *w, const void *p, size_t n)
{
	if (w->n + n <= sizeof(w->b)) {
		memcpy(w->b + w->n, p, n);
		w->n += n;
	}
}

static void w_varint(struct wr *w, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			c |= 0x80;
		w_raw(w, &c, 1);
	} while (v);
}

static void w_tag(struct wr *w, unsigned field, unsigned wt)
{
	w_varint(w, (uint64_t)field << 3 | wt);
}

static void w_bytes(struct wr *w, unsigned field, const void *p, size_t n)
{
	w_tag(w, field, 2);
	w_varint(w, n);
	w_raw(w, p, n);
}

/* ---- the decoder's view ------------------------------------------------------------- */

/* The sockets of one namespace through nsn_pb_decode_scan(), each unpacked from the
 * very bytes the skim reads. */
struct decoded {
	Nsnet__V1__Socket **u;
	size_t n;
	struct nsn_scan *scan;
};

static int decode_bytes(uint8_t *const *bytes, const size_t *lens, size_t n, struct decoded *ret)
{
	Nsnet__V1__NetnsId id = NSNET__V1__NETNS_ID__INIT;
	Nsnet__V1__NamespaceSnapshot snap = NSNET__V1__NAMESPACE_SNAPSHOT__INIT, *sp = &snap;

	memset(ret, 0, sizeof(*ret));
	ret->u = calloc(n ? n : 1, sizeof(*ret->u));
	for (size_t i = 0; i < n; i++) {
		ret->u[i] = nsnet__v1__socket__unpack(NULL, lens[i], bytes[i]);
		ASSERT_TRUE(ret->u[i] != NULL);
		if (!ret->u[i])
			return -EBADMSG;
		ret->n++;
	}
	id.cookie = 1;
	id.dev = 4;
	id.inode = 4026531840u;
	snap.id = &id;
	snap.host = true;
	snap.n_sockets = n;
	snap.sockets = ret->u;
	return nsn_pb_decode_scan((const Nsnet__V1__NamespaceSnapshot *const *)&sp, 1, &ret->scan);
}

static void decoded_free(struct decoded *d)
{
	for (size_t i = 0; i < d->n; i++)
		nsnet__v1__socket__free_unpacked(d->u[i], NULL);
	free(d->u);
	nsn_scan_free(d->scan);
	memset(d, 0, sizeof(*d));
}

/* ---- comparison ----------------------------------------------------------------- */

static void cmp_head(const struct nsn_skim *k, const struct nsn_sock *d)
{
	ASSERT_EQ(k->s.proto, d->proto);
	ASSERT_EQ(k->s.family, d->family);
	ASSERT_EQ(k->s.state, d->state);
	ASSERT_EQ(k->s.type, d->type);
	ASSERT_EQ(k->s.v6only, d->v6only);
	ASSERT_EQ(k->s.recv_q, d->recv_q);
	ASSERT_EQ(k->s.send_q, d->send_q);
	ASSERT_EQ(k->s.uid, d->uid);
	ASSERT_EQ(k->s.inode, d->inode);
	ASSERT_EQ(k->s.ifindex, d->ifindex);
	/* ASSERT_EQ compares as long long: a cookie past 2^63 must match bit for bit. */
	ASSERT_TRUE(k->s.cookie == d->cookie);
	ASSERT_TRUE(k->s.tcp_info == NULL && k->s.skmem == NULL);
}

/* What a head-only skim leaves alone is zero. */
static void check_head_only(const struct nsn_skim *k)
{
	static const uint8_t zero[16];

	ASSERT_TRUE(memcmp(k->s.local.addr, zero, 16) == 0 && k->s.local.port == 0);
	ASSERT_TRUE(memcmp(k->s.peer.addr, zero, 16) == 0 && k->s.peer.port == 0);
	ASSERT_EQ(k->s.peer_inode, 0);
	ASSERT_TRUE(k->s.path == NULL && k->s.dev == NULL);
	ASSERT_EQ(k->n_procs, 0);
	ASSERT_EQ(k->n_ctr_ids, 0);
	ASSERT_TRUE(!k->ctr_ids_more);
}

/* Every field struct nsn_skim holds against the decoded socket and its processes. */
static void cmp_full(const struct nsn_skim *k, const struct nsn_scan *scan,
		     const struct nsn_sock *d)
{
	const struct nsn_proc_ref *refs;
	size_t nrefs, nids = 0;

	cmp_head(k, d);
	/* decode.c zero-fills both addresses (16 bytes) whatever the family. */
	ASSERT_TRUE(memcmp(k->s.local.addr, d->local.addr, 16) == 0);
	ASSERT_EQ(k->s.local.port, d->local.port);
	ASSERT_TRUE(memcmp(k->s.peer.addr, d->peer.addr, 16) == 0);
	ASSERT_EQ(k->s.peer.port, d->peer.port);
	ASSERT_EQ(k->s.peer_inode, d->peer_inode);
	ASSERT_SAME_STR(k->s.path, d->path);
	ASSERT_SAME_STR(k->s.dev, d->dev);
	ASSERT_TRUE(k->s.path == NULL || k->s.path == k->path);
	ASSERT_TRUE(k->s.dev == NULL || k->s.dev == k->dev);

	nrefs = nsn_procmap_lookup(scan->procs, d->inode, &refs);
	ASSERT_EQ(k->n_procs, nrefs);
	ASSERT_TRUE(k->n_ctr_ids <= NSN_SKIM_CTR_IDS);
	/* The decoder's map orders processes by pid and fd, the skim keeps them in message
	 * order: every id the skim kept is one of the decoder's, each used once. */
	bool *used = calloc(nrefs ? nrefs : 1, sizeof(*used));
	for (size_t i = 0; i < nrefs; i++) {
		const char *id = refs[i].container ? refs[i].container->id : NULL;
		if (id && *id)
			nids++;
	}
	for (size_t j = 0; j < k->n_ctr_ids && j < NSN_SKIM_CTR_IDS; j++) {
		bool found = false;

		for (size_t i = 0; i < nrefs && !found; i++) {
			const char *id = refs[i].container ? refs[i].container->id : NULL;

			if (!used[i] && id && strlen(id) == k->ctr_id_len[j] &&
			    memcmp(k->ctr_id[j], id, k->ctr_id_len[j]) == 0)
				found = used[i] = true;
		}
		if (!found)
			TAP_FAIL("skimmed container id %zu (%.*s) is none of the decoded ones", j,
				 (int)k->ctr_id_len[j], (const char *)k->ctr_id[j]);
		tap_asserts++;
	}
	free(used);
	ASSERT_EQ(k->n_ctr_ids, nids < NSN_SKIM_CTR_IDS ? nids : NSN_SKIM_CTR_IDS);
	ASSERT_EQ(k->ctr_ids_more, nids > NSN_SKIM_CTR_IDS);
}

/* Skim each of @p n packed sockets fully (and, with @p head, head-only) and compare with
 * what the decoder made of the same bytes. @return sockets compared. */
static size_t skim_vs_decode(uint8_t *const *bytes, const size_t *lens, size_t n, bool head)
{
	struct decoded d;
	struct nsn_skim k;
	size_t done = 0;
	int r = decode_bytes(bytes, lens, n, &d);

	ASSERT_EQ(r, 0);
	if (r == 0 && d.scan && d.scan->n_netns == 1 && d.scan->netns[0]->n_socks == n) {
		const struct nsn_netns *ns = d.scan->netns[0];

		for (size_t i = 0; i < n; i++) {
			ASSERT_EQ(skim(bytes[i], lens[i], NSN_SKIM_FULL, &k), 0);
			cmp_full(&k, d.scan, &ns->socks[i]);
			done++;
			if (!head)
				continue;
			ASSERT_EQ(skim(bytes[i], lens[i], NSN_SKIM_HEAD, &k), 0);
			cmp_head(&k, &ns->socks[i]);
			check_head_only(&k);
			/* ADDRS: everything FULL has but the processes. */
			struct nsn_skim full;
			ASSERT_EQ(skim(bytes[i], lens[i], NSN_SKIM_FULL, &full), 0);
			ASSERT_EQ(skim(bytes[i], lens[i], NSN_SKIM_ADDRS, &k), 0);
			cmp_head(&k, &ns->socks[i]);
			ASSERT_TRUE(memcmp(&k.s.local, &full.s.local, sizeof(k.s.local)) == 0);
			ASSERT_TRUE(memcmp(&k.s.peer, &full.s.peer, sizeof(k.s.peer)) == 0);
			ASSERT_EQ(k.s.peer_inode, full.s.peer_inode);
			ASSERT_TRUE(!k.s.path == !full.s.path && (!k.s.path || !strcmp(k.s.path, full.s.path)));
			ASSERT_TRUE(!k.s.dev == !full.s.dev && (!k.s.dev || !strcmp(k.s.dev, full.s.dev)));
			ASSERT_EQ(k.n_procs, 0);
			ASSERT_EQ(k.n_ctr_ids, 0);
			/* HEAD, then the rest: the same as FULL in one go. */
			ASSERT_EQ(skim(bytes[i], lens[i], NSN_SKIM_HEAD, &k), 0);
			ASSERT_EQ(nsn_skim_more(bytes[i], lens[i], NSN_SKIM_FULL, &k), 0);
			cmp_full(&k, d.scan, &ns->socks[i]);
		}
	} else {
		TAP_FAIL("decode of %zu sockets failed: %d", n, r);
	}
	decoded_free(&d);
	return done;
}

/* ---- hand-built sockets ------------------------------------------------------------ */

#define MAX_PROCS 16

struct sock_msg {
	Nsnet__V1__Socket m;
	Nsnet__V1__TcpInfo ti;
	Nsnet__V1__SkMem sk;
	Nsnet__V1__ProcRef p[MAX_PROCS];
	Nsnet__V1__ProcRef *pp[MAX_PROCS];
	char ids[MAX_PROCS][65];
	uint8_t la[16], pa[16];
	char path[400];
	char dev[80];
};

static Nsnet__V1__Socket *sm_init(struct sock_msg *s, Nsnet__V1__Proto proto, uint32_t family,
				  uint32_t state, uint32_t type)
{
	memset(s, 0, sizeof(*s));
	nsnet__v1__socket__init(&s->m);
	s->m.proto = proto;
	s->m.family = family;
	s->m.state = state;
	s->m.type = type;
	s->m.v6only = -1;
	s->m.procs = s->pp;
	return &s->m;
}

static void sm_addrs(struct sock_msg *s, const uint8_t *la, uint32_t lport, const uint8_t *pa,
		     uint32_t pport)
{
	size_t n = s->m.family == AF_INET6 ? 16 : 4;

	if (la) {
		memcpy(s->la, la, n);
		s->m.local_addr = (ProtobufCBinaryData){n, s->la};
	}
	if (pa) {
		memcpy(s->pa, pa, n);
		s->m.peer_addr = (ProtobufCBinaryData){n, s->pa};
	}
	s->m.local_port = lport;
	s->m.peer_port = pport;
}

/* A process holding it; @p ctr NULL or "" for none. Pids must come in increasing order
 * (the decoder's map sorts by pid). */
static void sm_proc(struct sock_msg *s, uint32_t pid, int32_t fd, const char *comm, const char *ctr)
{
	size_t i = s->m.n_procs;

	if (i >= MAX_PROCS)
		return;
	nsnet__v1__proc_ref__init(&s->p[i]);
	s->p[i].pid = pid;
	s->p[i].fd = fd;
	s->p[i].comm = (char *)comm;
	snprintf(s->ids[i], sizeof(s->ids[i]), "%s", ctr ? ctr : "");
	s->p[i].container_id = s->ids[i];
	s->pp[i] = &s->p[i];
	s->m.n_procs++;
}

static void sm_path(struct sock_msg *s, const char *path)
{
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->m.path = s->path;
}

static void sm_dev(struct sock_msg *s, const char *dev)
{
	snprintf(s->dev, sizeof(s->dev), "%s", dev);
	s->m.dev = s->dev;
}

enum { N_CASES = 16 };

/* The hand-built sockets, each one packed; returns how many. */
static size_t hand_built(struct sock_msg *s, uint8_t **bytes, size_t *lens)
{
	static const uint8_t v4a[4] = {10, 0, 0, 1}, v4b[4] = {93, 184, 216, 34};
	static const uint8_t v6a[16] = {0xfe, 0x80, [15] = 1},
			     v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xbe, [15] = 0xef},
			     v6any[16] = {0}, v4max[4] = {255, 255, 255, 255};
	Nsnet__V1__Socket *m;
	size_t n = 0;

	/* 0: tcp4 established, cookie past 2^63, tcp_info and skmem (skipped), two holders
	 * in one container. */
	m = sm_init(&s[n], NSNET__V1__PROTO__TCP, AF_INET, NSN_SS_ESTABLISHED, SOCK_STREAM);
	m->cookie = (1ull << 63) + 5;
	m->recv_q = 7;
	m->send_q = 1448;
	m->uid = 1000;
	m->inode = 55001;
	sm_addrs(&s[n], v4a, 44321, v4b, 443);
	nsnet__v1__tcp_info__init(&s[n].ti);
	s[n].ti.cong = "cubic";
	s[n].ti.rtt_us = 20500;
	s[n].ti.bytes_acked = 1ull << 40;
	s[n].ti.delivery_rate = UINT64_MAX;
	s[n].ti.snd_wscale = 7;
	m->tcp_info = &s[n].ti;
	nsnet__v1__sk_mem__init(&s[n].sk);
	s[n].sk.rcvbuf = 131072;
	s[n].sk.drops = 9;
	m->skmem = &s[n].sk;
	sm_proc(&s[n], 3100, 7, "postgres", ID_DB);
	sm_proc(&s[n], 3101, 9, "postgres", ID_DB);
	n++;

	/* 1: tcp6 listen, v6only 1, uid 0, bound to a device, one holder without a container */
	m = sm_init(&s[n], NSNET__V1__PROTO__TCP, AF_INET6, NSN_SS_LISTEN, SOCK_STREAM);
	m->cookie = 77;
	m->v6only = 1;
	m->send_q = 4096;
	m->uid = 0;
	m->inode = 55002;
	m->ifindex = 2;
	sm_dev(&s[n], "veth0");
	sm_addrs(&s[n], v6a, 22, NULL, 0);
	sm_proc(&s[n], 812, 3, "sshd", NULL);
	n++;

	/* 2: tcp6 time-wait: v6only 0, no owner, no inode, the largest values */
	m = sm_init(&s[n], NSNET__V1__PROTO__TCP, AF_INET6, NSN_SS_TIME_WAIT, SOCK_STREAM);
	m->cookie = UINT64_MAX;
	m->v6only = 0;
	m->uid = UINT32_MAX;
	m->recv_q = UINT32_MAX;
	m->send_q = UINT32_MAX;
	m->ifindex = UINT32_MAX;
	sm_addrs(&s[n], v6b, 65535, v6a, 1);
	n++;

	/* 3: udp6 unconnected on ::, v6only 0 */
	m = sm_init(&s[n], NSNET__V1__PROTO__UDP, AF_INET6, NSN_SS_CLOSE, SOCK_DGRAM);
	m->cookie = 79;
	m->v6only = 0;
	m->inode = 55003;
	m->uid = 101;
	sm_addrs(&s[n], v6any, 53, NULL, 0);
	n++;

	/* 4: udp4 connected, to the broadcast address, holders in two containers */
	m = sm_init(&s[n], NSNET__V1__PROTO__UDP, AF_INET, NSN_SS_ESTABLISHED, SOCK_DGRAM);
	m->cookie = 1;
	m->inode = UINT32_MAX;
	m->uid = 65534;
	sm_addrs(&s[n], v4a, 68, v4max, 67);
	sm_proc(&s[n], 4242, 0, "pause", ID_PAUSE);
	sm_proc(&s[n], 4250, 5, "api-server", ID_API);
	n++;

	/* 5, 6: raw sockets: the port is the IP protocol */
	m = sm_init(&s[n], NSNET__V1__PROTO__RAW, AF_INET, NSN_SS_CLOSE, SOCK_RAW);
	m->cookie = 80;
	m->inode = 55004;
	sm_addrs(&s[n], NULL, 1, NULL, 0); /* ICMP */
	n++;
	m = sm_init(&s[n], NSNET__V1__PROTO__RAW, AF_INET6, NSN_SS_CLOSE, SOCK_RAW);
	m->cookie = 0; /* /proc/net/raw gives none */
	m->v6only = 0;
	m->inode = 55010;
	sm_addrs(&s[n], v6any, 58, NULL, 0); /* ICMPv6 */
	n++;

	/* 7: unix stream listener with a path, held by a container process */
	m = sm_init(&s[n], NSNET__V1__PROTO__UNIX, AF_UNIX, NSN_SS_LISTEN, SOCK_STREAM);
	m->cookie = 81;
	m->inode = 55005;
	sm_path(&s[n], "/run/systemd/journal/stdout");
	sm_proc(&s[n], 1, 44, "systemd", "");
	sm_proc(&s[n], 2000, 3, "journal-proxy", ID_API);
	n++;

	/* 8: unix seqpacket, an abstract name, a peer */
	m = sm_init(&s[n], NSNET__V1__PROTO__UNIX, AF_UNIX, NSN_SS_ESTABLISHED, SOCK_SEQPACKET);
	m->cookie = 82;
	m->inode = 55006;
	m->peer_inode = 55007;
	sm_path(&s[n], "@/tmp/.X11-unix/X0");
	n++;

	/* 9: unix dgram, unnamed, the largest peer inode */
	m = sm_init(&s[n], NSNET__V1__PROTO__UNIX, AF_UNIX, NSN_SS_ESTABLISHED, SOCK_DGRAM);
	m->cookie = 83;
	m->inode = 55007;
	m->peer_inode = UINT32_MAX;
	n++;

	/* 10: a path of 107 bytes (sun_path less its NUL), 11: an abstract name as long
	 * as the kernel allows ('@' and 107 bytes) */
	m = sm_init(&s[n], NSNET__V1__PROTO__UNIX, AF_UNIX, NSN_SS_LISTEN, SOCK_STREAM);
	m->cookie = 84;
	m->inode = 55008;
	memset(s[n].path, 'p', 107);
	s[n].path[0] = '/';
	s[n].path[107] = '\0';
	m->path = s[n].path;
	n++;
	m = sm_init(&s[n], NSNET__V1__PROTO__UNIX, AF_UNIX, NSN_SS_LISTEN, SOCK_STREAM);
	m->cookie = 85;
	m->inode = 55009;
	memset(s[n].path, 'a', 108);
	s[n].path[0] = '@';
	s[n].path[108] = '\0';
	m->path = s[n].path;
	n++;

	/* 12: more container ids than the skim keeps: ten holders in ten containers, and
	 * two without one (one of them with "" spelled out) */
	m = sm_init(&s[n], NSNET__V1__PROTO__TCP, AF_INET, NSN_SS_LISTEN, SOCK_STREAM);
	m->cookie = 86;
	m->inode = 56000;
	sm_addrs(&s[n], v4a, 8080, NULL, 0);
	for (uint32_t i = 0; i < 12; i++) {
		char id[65];

		snprintf(id, sizeof(id), "%064x", 0xc0 + i);
		sm_proc(&s[n], 5000 + i, (int32_t)i, "worker", i == 3 || i == 7 ? NULL : id);
	}
	n++;

	/* 13: exactly NSN_SKIM_CTR_IDS container ids: not "more" */
	m = sm_init(&s[n], NSNET__V1__PROTO__TCP, AF_INET, NSN_SS_LISTEN, SOCK_STREAM);
	m->cookie = 87;
	m->inode = 56001;
	sm_addrs(&s[n], v4a, 8081, NULL, 0);
	for (uint32_t i = 0; i < NSN_SKIM_CTR_IDS; i++) {
		char id[65];

		snprintf(id, sizeof(id), "%064x", 0xd0 + i);
		sm_proc(&s[n], 6000 + i, (int32_t)i, "worker", id);
	}
	n++;

	/* 14: every field at its default but the family: a socket of two bytes */
	m = sm_init(&s[n], NSNET__V1__PROTO__TCP, AF_INET, 0, 0);
	m->v6only = 0;
	n++;

	/* 15: the longest path and device names the skim holds (255 and 63 bytes) */
	m = sm_init(&s[n], NSNET__V1__PROTO__UNIX, AF_UNIX, NSN_SS_ESTABLISHED, SOCK_STREAM);
	m->cookie = 88;
	m->inode = 56002;
	m->ifindex = 9;
	memset(s[n].path, 'x', 255);
	s[n].path[255] = '\0';
	m->path = s[n].path;
	memset(s[n].dev, 'd', 63);
	s[n].dev[63] = '\0';
	m->dev = s[n].dev;
	n++;

	for (size_t i = 0; i < n; i++)
		bytes[i] = pack_sock(&s[i].m, &lens[i]);
	return n;
}

static void free_all(uint8_t **bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(bytes[i]);
}

TEST(hand_built_full_and_head)
{
	struct sock_msg *s = calloc(N_CASES, sizeof(*s));
	uint8_t *bytes[N_CASES];
	size_t lens[N_CASES], n = hand_built(s, bytes, lens);
	struct nsn_skim k;

	ASSERT_EQ(n, N_CASES);
	ASSERT_EQ(skim_vs_decode(bytes, lens, n, true), N_CASES);

	/* Spot checks that do not lean on the decoder. */
	ASSERT_EQ(skim(bytes[0], lens[0], NSN_SKIM_FULL, &k), 0);
	ASSERT_TRUE(k.s.cookie == (1ull << 63) + 5);
	ASSERT_EQ(k.s.v6only, -1);
	ASSERT_EQ(k.s.local.port, 44321);
	ASSERT_TRUE(memcmp(k.s.peer.addr, "\x5d\xb8\xd8\x22\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	ASSERT_EQ(k.n_procs, 2);
	ASSERT_EQ(k.n_ctr_ids, 2);
	ASSERT_TRUE(k.ctr_id_len[1] == 64 && memcmp(k.ctr_id[1], ID_DB, 64) == 0);
	ASSERT_EQ(skim(bytes[1], lens[1], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.s.v6only, 1);
	ASSERT_STREQ(k.s.dev, "veth0");
	ASSERT_EQ(k.n_procs, 1);
	ASSERT_EQ(k.n_ctr_ids, 0);
	ASSERT_EQ(skim(bytes[2], lens[2], NSN_SKIM_HEAD, &k), 0);
	ASSERT_EQ(k.s.v6only, 0);
	ASSERT_EQ(k.s.uid, UINT32_MAX);
	ASSERT_TRUE(k.s.cookie == UINT64_MAX);
	ASSERT_EQ(skim(bytes[6], lens[6], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.s.proto, NSN_PROTO_RAW);
	ASSERT_EQ(k.s.local.port, 58);
	ASSERT_EQ(skim(bytes[8], lens[8], NSN_SKIM_FULL, &k), 0);
	ASSERT_STREQ(k.s.path, "@/tmp/.X11-unix/X0");
	ASSERT_EQ(k.s.peer_inode, 55007);
	ASSERT_EQ(skim(bytes[11], lens[11], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.s.path ? strlen(k.s.path) : 0, 108);
	ASSERT_EQ(skim(bytes[12], lens[12], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.n_procs, 12);
	ASSERT_EQ(k.n_ctr_ids, NSN_SKIM_CTR_IDS);
	ASSERT_TRUE(k.ctr_ids_more);
	ASSERT_EQ(skim(bytes[13], lens[13], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.n_ctr_ids, NSN_SKIM_CTR_IDS);
	ASSERT_TRUE(!k.ctr_ids_more);
	ASSERT_EQ(lens[14], 2);
	ASSERT_EQ(skim(bytes[14], lens[14], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.s.family, AF_INET);
	ASSERT_EQ(k.s.v6only, 0);
	ASSERT_TRUE(k.s.path == NULL && k.s.dev == NULL && k.n_procs == 0);
	ASSERT_EQ(skim(bytes[15], lens[15], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.s.path ? strlen(k.s.path) : 0, 255);
	ASSERT_EQ(k.s.dev ? strlen(k.s.dev) : 0, 63);

	/* An empty message is a socket with every field at its default. */
	ASSERT_EQ(skim(NULL, 0, NSN_SKIM_FULL, &k), 0);
	ASSERT_TRUE(k.s.cookie == 0 && k.s.family == 0 && k.s.v6only == 0 && k.n_procs == 0 &&
		    k.s.path == NULL);

	free_all(bytes, n);
	free(s);
}

/* What nsn_pb_encode_socket() makes of a model socket (tcp_info, skmem and all), with
 * no process map: the agent's own encoder feeding the skim. */
TEST(encoder_output)
{
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	struct nsn_tcp_info ti = {"bbr", 1,  2,	 3,  4,	 5,  6,	 7,  8, 9,
				  10,	 11, 12, 13, 14, 15, 16, 17, 7, 9};
	struct nsn_skmem sk = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct nsn_sock in[3] = {
	    {.proto = NSN_PROTO_TCP,
	     .family = AF_INET6,
	     .state = NSN_SS_ESTABLISHED,
	     .type = SOCK_STREAM,
	     .v6only = 0,
	     .recv_q = 1,
	     .send_q = 2,
	     .uid = 3,
	     .inode = 4,
	     .ifindex = 5,
	     .cookie = (1ull << 63) + 5,
	     .local = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, 443},
	     .peer = {{0x20, 0x01, 0x0d, 0xb8, [15] = 2}, 55555},
	     .dev = "eth0",
	     .tcp_info = &ti,
	     .skmem = &sk},
	    {.proto = NSN_PROTO_UNIX,
	     .family = AF_UNIX,
	     .state = NSN_SS_ESTABLISHED,
	     .type = SOCK_STREAM,
	     .v6only = -1,
	     .uid = UINT32_MAX,
	     .inode = 6,
	     .peer_inode = 7,
	     .cookie = 8,
	     .path = "@abstract",
	     .skmem = &sk},
	    {.proto = NSN_PROTO_RAW,
	     .family = AF_INET,
	     .state = NSN_SS_CLOSE,
	     .type = SOCK_RAW,
	     .v6only = -1,
	     .local = {{127, 0, 0, 1}, 255}},
	};
	uint8_t *bytes[3] = {0};
	size_t lens[3] = {0};

	for (size_t i = 0; i < 3; i++) {
		Nsnet__V1__Socket *m = NULL;

		ASSERT_EQ(nsn_pb_encode_socket(a, NULL, &in[i], &m), 0);
		if (m)
			bytes[i] = pack_sock(m, &lens[i]);
	}
	ASSERT_EQ(skim_vs_decode(bytes, lens, 3, true), 3);
	free_all(bytes, 3);
	nsn_pb_arena_free(a);
}

/* ---- a real scan ------------------------------------------------------------------ */

TEST(real_scan)
{
	struct nsn_gather_opts opts = {
	    .scope = NSN_SCOPE_CURRENT,
	    .flags = NSN_GATHER_PROCS | NSN_GATHER_INFO | NSN_GATHER_CONTAINERS,
	    .threads = 1,
	};
	struct nsn_scan *scan = NULL;
	struct nsn_pb_arena *a = nsn_pb_arena_new();
	Nsnet__V1__NamespaceSnapshot *m = NULL;
	uint8_t **bytes = NULL;
	size_t *lens = NULL, n = 0, with_procs = 0;
	/* Sockets of our own, so that inet, unix and the holders are there whatever the
	 * host runs. */
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int tcp6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int unx = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "nsn-test-skim-%d", (int)getpid());
	ASSERT_EQ(bind(tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ASSERT_EQ(listen(tcp, 1), 0);
	if (bind(tcp6, (struct sockaddr *)&sin6, sizeof(sin6)) == 0)
		(void)listen(tcp6, 1); /* no IPv6 in this namespace: fine */
	ASSERT_EQ(bind(udp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ASSERT_EQ(bind(unx, (struct sockaddr *)&sun,
		       offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sun.sun_path + 1)),
		  0);
	ASSERT_EQ(listen(unx, 1), 0);

	int r = nsn_gather(&opts, &scan);
	ASSERT_EQ(r, 0);
	if (r < 0 || !scan || scan->n_netns != 1)
		goto out;
	ASSERT_EQ(nsn_pb_encode_netns(a, scan, scan->netns[0], NSN_PB_SOCKETS, &m), 0);
	if (!m)
		goto out;
	n = m->n_sockets;
	ASSERT_TRUE(n >= 3);
	bytes = calloc(n ? n : 1, sizeof(*bytes));
	lens = calloc(n ? n : 1, sizeof(*lens));
	for (size_t i = 0; i < n; i++) {
		bytes[i] = pack_sock(m->sockets[i], &lens[i]);
		with_procs += m->sockets[i]->n_procs > 0;
	}
	ASSERT_TRUE(with_procs >= 3); /* ours, at least */
	ASSERT_EQ(skim_vs_decode(bytes, lens, n, true), n);
	printf("# current namespace: %zu sockets skimmed, %zu with holders\n", n, with_procs);
out:
	if (bytes)
		free_all(bytes, n);
	free(bytes);
	free(lens);
	nsn_pb_arena_free(a);
	nsn_scan_free(scan);
	close(tcp);
	close(tcp6);
	close(udp);
	close(unx);
}

/* ---- what protobuf allows ------------------------------------------------------- */

/* Fields a newer schema may add are skipped, wherever they are, of every wire type,
 * in the socket and in its processes; the decoder sees the same bytes. */
TEST(unknown_fields)
{
	struct sock_msg *s = calloc(N_CASES, sizeof(*s));
	uint8_t *bytes[N_CASES];
	size_t lens[N_CASES], n = hand_built(s, bytes, lens);
	struct wr *w = calloc(5, sizeof(*w));
	uint8_t *ub[5];
	size_t ul[5];
	struct nsn_skim k;

	/* w[0]: socket 0 with field 30 (varint) and 29 (bytes) appended. */
	w_raw(&w[0], bytes[0], lens[0]);
	w_tag(&w[0], 30, 0);
	w_varint(&w[0], 300);
	w_bytes(&w[0], 29, "xyz", 3);
	/* w[1]: socket 7 with fixed64 (25) and fixed32 (26) and a huge varint appended,
	 * and an unknown field in front (full skims only: a head skim stops at it). */
	w_tag(&w[1], 28, 5);
	w_raw(&w[1], "\1\2\3\4", 4);
	w_raw(&w[1], bytes[7], lens[7]);
	w_tag(&w[1], 25, 1);
	w_raw(&w[1], "\1\2\3\4\5\6\7\x08", 8);
	w_tag(&w[1], 26, 5);
	w_raw(&w[1], "\1\2\3\4", 4);
	w_tag(&w[1], 27, 0);
	w_varint(&w[1], UINT64_MAX);
	/* w[2]: a unix socket whose process has unknown fields around its container id,
	 * and an empty nested message of an unknown field. */
	{
		struct wr p = {0};

		w_tag(&p, 1, 0);
		w_varint(&p, 77);
		w_tag(&p, 6, 0);
		w_varint(&p, 12345);
		w_bytes(&p, 4, ID_API, 64);
		w_bytes(&p, 7, "zz", 2);
		w_tag(&p, 5, 1);
		w_raw(&p, "\0\0\0\0\0\0\0\0", 8);
		w_tag(&w[2], 2, 0);
		w_varint(&w[2], NSN_PROTO_UNIX);
		w_tag(&w[2], 3, 0);
		w_varint(&w[2], AF_UNIX);
		w_tag(&w[2], 10, 0);
		w_varint(&w[2], 4711);
		w_bytes(&w[2], 17, "/run/x.sock", 11);
		w_bytes(&w[2], 21, p.b, p.n);
		w_bytes(&w[2], 31, "", 0);
	}
	/* w[3]: socket 1 with a field of a reserved number (22: a future field) holding a
	 * nested message, where a newer sender would write it. */
	w_raw(&w[3], bytes[1], lens[1]);
	w_tag(&w[3], 22, 2);
	w_varint(&w[3], 2);
	w_raw(&w[3], "\x08\x01", 2);
	/* w[4]: what protobuf-c never writes but may read: an empty path and device and a
	 * process with an empty container id, each spelled out. */
	{
		struct wr p = {0};

		w_tag(&p, 1, 0);
		w_varint(&p, 99);
		w_bytes(&p, 4, "", 0);
		w_tag(&w[4], 3, 0);
		w_varint(&w[4], AF_UNIX);
		w_tag(&w[4], 2, 0);
		w_varint(&w[4], NSN_PROTO_UNIX);
		w_tag(&w[4], 10, 0);
		w_varint(&w[4], 4712);
		w_bytes(&w[4], 17, "", 0);
		w_bytes(&w[4], 18, "", 0);
		w_bytes(&w[4], 21, p.b, p.n);
		w_bytes(&w[4], 21, "", 0); /* a process with nothing set */
	}
	for (size_t i = 0; i < 5; i++) {
		ub[i] = w[i].b;
		ul[i] = w[i].n;
	}

	/* The full skim against the decoder; the head skim for all but w[1]. */
	struct decoded d;
	ASSERT_EQ(decode_bytes(ub, ul, 5, &d), 0);
	ASSERT_TRUE(d.scan && d.scan->n_netns == 1 && d.scan->netns[0]->n_socks == 5);
	if (d.scan && d.scan->n_netns == 1 && d.scan->netns[0]->n_socks == 5) {
		for (size_t i = 0; i < 5; i++) {
			const struct nsn_sock *ds = &d.scan->netns[0]->socks[i];

			ASSERT_EQ(skim(ub[i], ul[i], NSN_SKIM_FULL, &k), 0);
			cmp_full(&k, d.scan, ds);
			if (i == 1)
				continue;
			ASSERT_EQ(skim(ub[i], ul[i], NSN_SKIM_HEAD, &k), 0);
			cmp_head(&k, ds);
		}
	}
	decoded_free(&d);
	ASSERT_EQ(skim(ub[2], ul[2], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.s.inode, 4711);
	ASSERT_EQ(k.n_procs, 1);
	ASSERT_TRUE(k.n_ctr_ids == 1 && k.ctr_id_len[0] == 64 &&
		    memcmp(k.ctr_id[0], ID_API, 64) == 0);
	ASSERT_STREQ(k.s.path, "/run/x.sock");
	ASSERT_EQ(skim(ub[4], ul[4], NSN_SKIM_FULL, &k), 0);
	ASSERT_TRUE(k.s.path == NULL && k.s.dev == NULL);
	ASSERT_EQ(k.n_procs, 2);
	ASSERT_EQ(k.n_ctr_ids, 0);

	free(w);
	free_all(bytes, n);
	free(s);
}

/* Two messages one after the other are one merged message: scalars and strings of the
 * second win, processes add up. Only the full skim reads them so: a head skim relies on
 * fields in number order (what protobuf-c writes, and what the store keeps since it
 * packs every socket again) and stops at the first message's field 12. */
TEST(merged_messages)
{
	struct sock_msg *s = calloc(N_CASES, sizeof(*s));
	uint8_t *bytes[N_CASES];
	size_t lens[N_CASES], n = hand_built(s, bytes, lens);
	static const struct {
		size_t a, b;
	} pairs[] = {{0, 4}, {4, 0}, {7, 8}, {8, 10}, {12, 13}, {1, 2}};
	uint8_t *mb[6];
	size_t ml[6];

	for (size_t i = 0; i < 6; i++) {
		ml[i] = lens[pairs[i].a] + lens[pairs[i].b];
		mb[i] = malloc(ml[i]);
		memcpy(mb[i], bytes[pairs[i].a], lens[pairs[i].a]);
		memcpy(mb[i] + lens[pairs[i].a], bytes[pairs[i].b], lens[pairs[i].b]);
	}
	ASSERT_EQ(skim_vs_decode(mb, ml, 6, false), 6);

	struct nsn_skim k;
	ASSERT_EQ(skim(mb[4], ml[4], NSN_SKIM_FULL, &k), 0);
	ASSERT_EQ(k.n_procs, 12 + NSN_SKIM_CTR_IDS);
	ASSERT_TRUE(k.ctr_ids_more);
	ASSERT_EQ(k.s.local.port, 8081);
	free_all(mb, 6);
	free_all(bytes, n);
	free(s);
}

/* ---- malformed ------------------------------------------------------------------ */

/* The fields of an unpacked message against a skim of the same bytes (no decoder: a
 * prefix of a socket need not be one decode.c accepts). */
static void cmp_unpacked(const struct nsn_skim *k, const Nsnet__V1__Socket *m, int what)
{
	ASSERT_TRUE(k->s.cookie == m->cookie);
	ASSERT_EQ(k->s.proto, (uint8_t)m->proto);
	ASSERT_EQ(k->s.family, (uint8_t)m->family);
	ASSERT_EQ(k->s.state, (uint8_t)m->state);
	ASSERT_EQ(k->s.type, (uint8_t)m->type);
	ASSERT_EQ(k->s.v6only, (int8_t)m->v6only);
	ASSERT_EQ(k->s.recv_q, m->recv_q);
	ASSERT_EQ(k->s.send_q, m->send_q);
	ASSERT_EQ(k->s.uid, m->uid);
	ASSERT_EQ(k->s.inode, m->inode);
	ASSERT_EQ(k->s.ifindex, m->ifindex);
	if (what == NSN_SKIM_HEAD)
		return;
	ASSERT_EQ(k->s.local.port, (uint16_t)m->local_port);
	ASSERT_EQ(k->s.peer.port, (uint16_t)m->peer_port);
	ASSERT_TRUE(memcmp(k->s.local.addr, m->local_addr.data ? m->local_addr.data : (uint8_t *)"",
			   m->local_addr.len < 16 ? m->local_addr.len : 16) == 0);
	ASSERT_EQ(k->s.peer_inode, m->peer_inode);
	ASSERT_SAME_STR(k->s.path, m->path && *m->path ? m->path : NULL);
	ASSERT_SAME_STR(k->s.dev, m->dev && *m->dev ? m->dev : NULL);
	ASSERT_EQ(k->n_procs, m->n_procs);
}

/* Every prefix of every hand-built socket: 0 or -EBADMSG, never a read past the end
 * (each prefix is its own exact-size allocation), and a full skim refuses exactly the
 * prefixes protobuf-c refuses and agrees with it on the others. */
TEST(truncations)
{
	struct sock_msg *s = calloc(N_CASES, sizeof(*s));
	uint8_t *bytes[N_CASES];
	size_t lens[N_CASES], n = hand_built(s, bytes, lens), prefixes = 0, refused = 0;
	struct nsn_skim k;

	for (size_t i = 0; i < n; i++) {
		for (size_t len = 0; len < lens[i]; len++) {
			Nsnet__V1__Socket *u = nsnet__v1__socket__unpack(NULL, len, bytes[i]);
			int full = skim(bytes[i], len, NSN_SKIM_FULL, &k);

			ASSERT_TRUE(full == 0 || full == -EBADMSG);
			if ((full == 0) != (u != NULL))
				TAP_FAIL("socket %zu prefix %zu/%zu: skim %d, protobuf-c %s", i,
					 len, lens[i], full, u ? "accepts" : "refuses");
			if (full == 0 && u)
				cmp_unpacked(&k, u, NSN_SKIM_FULL);
			refused += full < 0;

			int head = skim(bytes[i], len, NSN_SKIM_HEAD, &k);
			ASSERT_TRUE(head == 0 || head == -EBADMSG);
			if (head == 0 && u)
				cmp_unpacked(&k, u, NSN_SKIM_HEAD);
			if (u)
				nsnet__v1__socket__free_unpacked(u, NULL);
			prefixes++;
		}
	}
	printf("# %zu prefixes, %zu refused by the full skim\n", prefixes, refused);
	ASSERT_TRUE(refused > 0 && refused < prefixes);
	free_all(bytes, n);
	free(s);
}

static int skim_wr(const struct wr *w, int what)
{
	struct nsn_skim k;

	return skim(w->b, w->n, what, &k);
}

TEST(malformed)
{
	struct wr w;
	char big[300];

	/* A path of 300 bytes does not fit the skim's buffer; a head skim never gets to it. */
	memset(big, 'p', sizeof(big));
	w = (struct wr){0};
	w_tag(&w, 3, 0);
	w_varint(&w, AF_UNIX);
	w_bytes(&w, 17, big, 300);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_HEAD), 0);
	/* 256 does not fit either (the NUL), 255 does. */
	w = (struct wr){0};
	w_bytes(&w, 17, big, 256);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	w = (struct wr){0};
	w_bytes(&w, 17, big, 255);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), 0);
	/* Nor a device name of 64. */
	w = (struct wr){0};
	w_bytes(&w, 18, big, 64);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);

	/* Wire types 3, 4 (groups), 6 and 7 do not exist in proto3: in a known field, in an
	 * unknown one, in a process, and (head skim) in the head. */
	for (unsigned wt = 3; wt <= 7; wt++) {
		if (wt == 5)
			continue;
		unsigned fields[] = {1, 5, 11, 12, 17, 21, 30};
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			w = (struct wr){0};
			w_tag(&w, 1, 0);
			w_varint(&w, 42);
			w_tag(&w, fields[f], wt);
			w_raw(&w, "\0\0\0\0\0\0\0\0", 8);
			ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
			if (fields[f] <= 11)
				ASSERT_EQ(skim_wr(&w, NSN_SKIM_HEAD), -EBADMSG);
		}
		struct wr p = {0};
		w_tag(&p, 3, wt);
		w = (struct wr){0};
		w_bytes(&w, 21, p.b, p.n);
		ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	}

	/* A varint of 11 bytes: as a value, as a tag, as a length, in a process. A varint
	 * of 10 (UINT64_MAX) is fine. */
	static const uint8_t v11[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t v10[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	w = (struct wr){0};
	w_tag(&w, 1, 0);
	w_raw(&w, v11, 11);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_HEAD), -EBADMSG);
	w = (struct wr){0};
	w_tag(&w, 1, 0);
	w_raw(&w, v10, 10);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), 0);
	{
		struct nsn_skim k;
		ASSERT_EQ(skim(w.b, w.n, NSN_SKIM_HEAD, &k), 0);
		ASSERT_TRUE(k.s.cookie == UINT64_MAX);
	}
	w = (struct wr){0};
	w_raw(&w, v11, 11);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_HEAD), -EBADMSG);
	w = (struct wr){0};
	w_tag(&w, 17, 2);
	w_raw(&w, v11, 11);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	w = (struct wr){0};
	w_tag(&w, 29, 2);
	w_raw(&w, v11, 11);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	{
		struct wr p = {0};
		w_tag(&p, 1, 0);
		w_raw(&p, v11, 11);
		w = (struct wr){0};
		w_bytes(&w, 21, p.b, p.n);
		ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	}

	/* Lengths one past the end: of an address, a process, a skipped sub-message, an
	 * unknown field, and of a container id inside a process. */
	unsigned lfields[] = {12, 14, 17, 18, 19, 20, 21, 29};
	for (size_t f = 0; f < sizeof(lfields) / sizeof(lfields[0]); f++) {
		w = (struct wr){0};
		w_tag(&w, lfields[f], 2);
		w_varint(&w, 5);
		w_raw(&w, "\1\2\3\4", 4);
		ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
		/* A huge length must not wrap the pointer either. */
		w = (struct wr){0};
		w_tag(&w, lfields[f], 2);
		w_varint(&w, UINT64_MAX - 1);
		w_raw(&w, "\1\2\3\4", 4);
		ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	}
	{
		struct wr p = {0};
		w_tag(&p, 4, 2);
		w_varint(&p, 64);
		w_raw(&p, ID_API, 10);
		w = (struct wr){0};
		w_bytes(&w, 21, p.b, p.n);
		ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	}
	/* Fixed-width values cut short. */
	w = (struct wr){0};
	w_tag(&w, 25, 1);
	w_raw(&w, "\1\2\3\4\5\6\7", 7);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	w = (struct wr){0};
	w_tag(&w, 26, 5);
	w_raw(&w, "\1\2\3", 3);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	/* A tag with no value. */
	w = (struct wr){0};
	w_tag(&w, 9, 0);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_FULL), -EBADMSG);
	ASSERT_EQ(skim_wr(&w, NSN_SKIM_HEAD), -EBADMSG);

	/* Garbage: every single byte, and every pair, as a whole message. Only the result
	 * codes are checked; ASan checks the reads. */
	size_t bad = 0;
	for (unsigned a = 0; a < 256; a++) {
		uint8_t one = (uint8_t)a;
		struct nsn_skim k;
		int r = skim(&one, 1, NSN_SKIM_FULL, &k);
		ASSERT_TRUE(r == 0 || r == -EBADMSG);
		for (unsigned b = 0; b < 256; b++) {
			uint8_t two[2] = {(uint8_t)a, (uint8_t)b};
			int r1 = skim(two, 2, NSN_SKIM_FULL, &k),
			    r2 = skim(two, 2, NSN_SKIM_HEAD, &k);
			if ((r1 != 0 && r1 != -EBADMSG) || (r2 != 0 && r2 != -EBADMSG))
				bad++;
		}
	}
	ASSERT_EQ(bad, 0);
}

TEST_MAIN(CASE(hand_built_full_and_head), CASE(encoder_output), CASE(real_scan),
	  CASE(unknown_fields), CASE(merged_messages), CASE(truncations), CASE(malformed))
