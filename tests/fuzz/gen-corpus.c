/* SPDX-License-Identifier: MIT */
/* Writes the seed corpus of fuzz-frame into a directory: conversations as the agent,
 * collector and query client have them, and the streams a broken or hostile peer
 * sends. Each file starts with fuzz-frame's chunking byte (see fuzz-frame.c).
 *
 *   fuzz-gen-corpus tests/fuzz/corpus/frame
 *
 * With --store, the seeds of fuzz-store instead (store-seeds.c): agent sessions whose
 * frames the store accepts, resyncs, churn, and the frames it must refuse.
 *
 *   fuzz-gen-corpus --store tests/fuzz/corpus/store
 *
 * Deterministic: running it again rewrites the same bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "gen-corpus.h"

#define FUZZ_MAX (1u << 20) /* as in fuzz-frame.c */

struct out {
	uint8_t *buf;
	size_t len, cap;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->cap - o->len < n) {
		size_t want = o->cap ? o->cap : 1024;

		while (want - o->len < n)
			want *= 2;
		o->buf = realloc(o->buf, want);
		if (!o->buf)
			abort();
		o->cap = want;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void put_prefix(struct out *o, uint32_t len)
{
	uint8_t h[NSN_FRAME_HDR];

	nsn_frame_put_header(h, len);
	put(o, h, sizeof(h));
}

/* Append @p f with its prefix; @p keep < total bytes truncates it. */
static void put_frame_cut(struct out *o, const NsnFrame *f, size_t keep)
{
	uint8_t *buf;
	size_t len;

	if (nsn_wire_pack(f, FUZZ_MAX, &buf, &len) < 0)
		abort();
	put(o, buf, keep < len ? keep : len);
	free(buf);
}

static void put_frame(struct out *o, const NsnFrame *f)
{
	put_frame_cut(o, f, SIZE_MAX);
}

static uint32_t rng = 0x12345678u;

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (uint8_t)(rng >> 24);
}

static int write_file(const char *dir, const char *name, uint8_t chunk, const struct out *o)
{
	char path[4096];
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp) {
		fprintf(stderr, "fuzz-gen-corpus: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(&chunk, 1, 1, fp) == 1 && fwrite(o->buf, 1, o->len, fp) == o->len;
	if (fclose(fp) != 0 || !ok) {
		fprintf(stderr, "fuzz-gen-corpus: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

/* The messages the streams are made of. */
static const uint8_t token[] = {'s', 'e', 'c', 'r', 'e', 't', 0, 0xff};
static const uint8_t v4a[] = {10, 0, 0, 1}, v4b[] = {10, 0, 0, 2};
static Nsnet__V1__AgentStats stats = NSNET__V1__AGENT_STATS__INIT;
static Nsnet__V1__Hello hello = NSNET__V1__HELLO__INIT;
static Nsnet__V1__NetnsId nsid = NSNET__V1__NETNS_ID__INIT;
static Nsnet__V1__TcpInfo tcpi = NSNET__V1__TCP_INFO__INIT;
static Nsnet__V1__ProcRef proc = NSNET__V1__PROC_REF__INIT;
static Nsnet__V1__ProcRef *procs[] = {&proc};
static Nsnet__V1__Socket socks[20];
static Nsnet__V1__Socket *sockp[20];
static Nsnet__V1__Counter ctr = NSNET__V1__COUNTER__INIT;
static Nsnet__V1__Counter *ctrs[] = {&ctr};
static char *names[] = {"blue"};
static Nsnet__V1__NamespaceSnapshot snap = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;
static Nsnet__V1__NamespaceDelta delta = NSNET__V1__NAMESPACE_DELTA__INIT;
static uint64_t removed[] = {3, 4};
static Nsnet__V1__NamespaceGone gone = NSNET__V1__NAMESPACE_GONE__INIT;
static char *warnings[] = {"netns=4026532000 dump failed: Permission denied"};
static Nsnet__V1__ScanDone scan_done = NSNET__V1__SCAN_DONE__INIT;
static Nsnet__V1__Welcome welcome = NSNET__V1__WELCOME__INIT;
static Nsnet__V1__Ack ack = NSNET__V1__ACK__INIT;
static Nsnet__V1__Error error = NSNET__V1__ERROR__INIT;
static Nsnet__V1__Query query = NSNET__V1__QUERY__INIT;
static char *args[] = {"-t", "-l", "--pod", "api"};
static Nsnet__V1__NodeInfo node = NSNET__V1__NODE_INFO__INIT;
static Nsnet__V1__NamespaceSnapshot *snaps[] = {&snap};
static Nsnet__V1__QueryResponse resp = NSNET__V1__QUERY_RESPONSE__INIT;

static void build(void)
{
	stats.scans = 3;
	stats.frames_sent = 42;
	stats.netns_failed = 1;

	hello.protocol_version = NSN_PROTOCOL_VERSION;
	hello.role = NSNET__V1__HELLO__ROLE__AGENT;
	hello.node = "node-a";
	hello.agent_version = "0.1.0";
	hello.boot_id = "7d3f0c1e-0000-4000-8000-000000000001";
	hello.token.data = (uint8_t *)token;
	hello.token.len = sizeof(token);
	hello.session = 0xfeedfacecafebeefull;
	hello.interval_ms = 2000;
	hello.max_frame = FUZZ_MAX;
	hello.stats = &stats;

	nsid.cookie = 4097;
	nsid.dev = 4;
	nsid.inode = 4026532000u;
	tcpi.cong = "cubic";
	tcpi.rtt_us = 250;
	proc.pid = 4242;
	proc.fd = -1; /* a negative int32: ten bytes on the wire */
	proc.comm = "nginx";
	for (int i = 0; i < 20; i++) {
		socks[i] = (Nsnet__V1__Socket)NSNET__V1__SOCKET__INIT;
		socks[i].cookie = 1000u + (unsigned)i;
		socks[i].proto = i % 4;
		socks[i].family = i % 4 == 3 ? 1 : 2;
		socks[i].state = 10;
		socks[i].v6only = -1;
		socks[i].uid = 4294967295u;
		if (i % 4 == 3) {
			socks[i].path = "@/tmp/.X11-unix/X0";
		} else {
			socks[i].local_addr.data = (uint8_t *)v4a;
			socks[i].local_addr.len = 4;
			socks[i].local_port = 8000u + (unsigned)i;
			socks[i].peer_addr.data = (uint8_t *)v4b;
			socks[i].peer_addr.len = 4;
		}
		if (i % 4 == 0)
			socks[i].tcp_info = &tcpi;
		socks[i].n_procs = 1;
		socks[i].procs = procs;
		sockp[i] = &socks[i];
	}
	ctr.name = "TcpExtListenOverflows";
	ctr.value = 17;
	snap.id = &nsid;
	snap.n_names = 1;
	snap.names = names;
	snap.pid = 1234;
	snap.nprocs = 2;
	snap.n_sockets = 1;
	snap.sockets = sockp;
	snap.n_counters = 1;
	snap.counters = ctrs;

	delta.id = &nsid;
	delta.n_added = 1;
	delta.added = sockp + 1;
	delta.n_removed = 2;
	delta.removed = removed;
	delta.n_changed = 1;
	delta.changed = sockp + 2;
	gone.id = &nsid;

	scan_done.scan = 1;
	scan_done.time_ms = 1700000000000ull;
	scan_done.full = 1;
	scan_done.namespaces = 2;
	scan_done.sockets = 20;
	scan_done.n_warnings = 1;
	scan_done.warnings = warnings;
	scan_done.stats = &stats;

	welcome.protocol_version = 1;
	welcome.collector_version = "0.1.0";
	welcome.max_frame = FUZZ_MAX;
	ack.seq = 5;
	error.code = NSNET__V1__ERROR__CODE__AUTH;
	error.message = "token mismatch node=node-a";

	query.id = 7;
	query.n_args = 4;
	query.args = args;
	node.node = "node-a";
	node.boot_id = "b";
	node.last_seen_ms = 1700000000000ull;
	node.stats = &stats;
	resp.id = 7;
	resp.node = &node;
	resp.n_namespaces = 1;
	resp.namespaces = snaps;
}

#define FRAME(body_, field_, ptr_, seq_)                                                           \
	((NsnFrame){PROTOBUF_C_MESSAGE_INIT(&nsnet__v1__frame__descriptor),                        \
		    (seq_),                                                                        \
		    NSNET__V1__FRAME__BODY_##body_,                                                \
		    {.field_ = (ptr_)}})

static void agent_session(struct out *o)
{
	NsnFrame f;

	f = FRAME(HELLO, hello, &hello, 1);
	put_frame(o, &f);
	f = FRAME(SNAPSHOT, snapshot, &snap, 2);
	put_frame(o, &f);
	f = FRAME(SCAN_DONE, scan_done, &scan_done, 3);
	put_frame(o, &f);
	f = FRAME(DELTA, delta, &delta, 4);
	put_frame(o, &f);
	f = FRAME(GONE, gone, &gone, 5);
	put_frame(o, &f);
	scan_done.full = 0;
	f = FRAME(SCAN_DONE, scan_done, &scan_done, 6);
	put_frame(o, &f);
	scan_done.full = 1;
}

int main(int argc, char **argv)
{
	struct out o = {0};
	NsnFrame f, empty = NSNET__V1__FRAME__INIT;
	const char *dir;
	int r = 0;

	if (argc == 3 && strcmp(argv[1], "--store") == 0)
		return store_seeds(argv[2]) < 0 ? 1 : 0;
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR | --store DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	build();

#define EMIT(name, chunk)                                                                          \
	do {                                                                                       \
		r |= write_file(dir, name, chunk, &o);                                             \
		o.len = 0;                                                                         \
	} while (0)

	/* Well-formed conversations, fed whole, byte by byte and in small chunks. */
	agent_session(&o);
	EMIT("agent-session-whole", 0);
	agent_session(&o);
	EMIT("agent-session-bytes", 1);
	agent_session(&o);
	EMIT("agent-session-chunks", 13);

	f = FRAME(WELCOME, welcome, &welcome, 0);
	put_frame(&o, &f);
	f = FRAME(ACK, ack, &ack, 0);
	put_frame(&o, &f);
	ack.seq = 0; /* an Ack{0} is an empty body, still a body */
	put_frame(&o, &f);
	ack.seq = 5;
	f = FRAME(ERROR, error, &error, 0);
	put_frame(&o, &f);
	EMIT("collector-replies", 0);

	hello.role = NSNET__V1__HELLO__ROLE__QUERY;
	hello.stats = NULL;
	f = FRAME(HELLO, hello, &hello, 0);
	put_frame(&o, &f);
	hello.role = NSNET__V1__HELLO__ROLE__AGENT;
	hello.stats = &stats;
	f = FRAME(QUERY, query, &query, 0);
	put_frame(&o, &f);
	f = FRAME(RESPONSE, response, &resp, 0);
	put_frame(&o, &f);
	resp.last = 1;
	resp.n_namespaces = 0;
	error.code = NSNET__V1__ERROR__CODE__QUERY;
	resp.error = &error;
	put_frame(&o, &f);
	EMIT("query-session", 5);

	/* Frames of a few KiB in chunks of up to 200 bytes: the reader compacts around a
	 * frame cut at its buffer's end, then grows for a response larger than 4 KiB. */
	snap.n_sockets = 20;
	for (uint64_t seq = 9; seq < 13; seq++) {
		f = FRAME(SNAPSHOT, snapshot, &snap, seq);
		put_frame(&o, &f);
	}
	{
		Nsnet__V1__NamespaceSnapshot *four[] = {&snap, &snap, &snap, &snap};

		resp.n_namespaces = 4;
		resp.namespaces = four;
		f = FRAME(RESPONSE, response, &resp, 0);
		put_frame(&o, &f);
		resp.n_namespaces = 1;
		resp.namespaces = snaps;
	}
	snap.n_sockets = 1;
	EMIT("snapshots-chunked", 200);

	/* Empty frames: legal on the wire, not a message. */
	put_prefix(&o, 0);
	f = FRAME(ACK, ack, &ack, 0);
	put_frame(&o, &f);
	put_prefix(&o, 0);
	put_prefix(&o, 0);
	EMIT("empty-frames", 3);

	/* Frames without a body: a seq alone, an unknown (reserved) field alone; then a
	 * good frame behind them. */
	put_frame(&o, &(NsnFrame){PROTOBUF_C_MESSAGE_INIT(&nsnet__v1__frame__descriptor), 5});
	put_prefix(&o, 2);
	put(&o, "\x60\x01", 2);
	put_frame(&o, &empty);
	f = FRAME(ACK, ack, &ack, 6);
	put_frame(&o, &f);
	EMIT("no-body", 0);

	/* Field number 0 in two bytes inside a Welcome (found by libFuzzer: protobuf-c kept
	 * it, and packed it into a frame it could not read back); then a good frame. */
	put_prefix(&o, 15);
	put(&o,
	    "\x1a\x0d\x08\x01\x12\x05"
	    "0.1.0"
	    "\x80\x00\x80\x18",
	    15);
	f = FRAME(ACK, ack, &ack, 0);
	put_frame(&o, &f);
	EMIT("unknown-field-zero", 0);

	/* A body that does not decode between good frames. */
	f = FRAME(ACK, ack, &ack, 1);
	put_frame(&o, &f);
	put_prefix(&o, 4);
	put(&o, "\x12\x02\x1a\x05", 4);
	f = FRAME(SCAN_DONE, scan_done, &scan_done, 2);
	put_frame(&o, &f);
	EMIT("bad-body-between", 0);

	/* The stream ends inside a payload, and inside a prefix. */
	f = FRAME(HELLO, hello, &hello, 1);
	put_frame(&o, &f);
	f = FRAME(SNAPSHOT, snapshot, &snap, 2);
	put_frame_cut(&o, &f, 40);
	EMIT("truncated-payload", 0);
	f = FRAME(ACK, ack, &ack, 0);
	put_frame(&o, &f);
	put(&o, "\x00\x00", 2);
	EMIT("truncated-prefix", 2);

	/* Exactly the maximum announced, the payload never comes. */
	put_prefix(&o, FUZZ_MAX);
	for (int i = 0; i < 16; i++)
		put(&o, &(uint8_t){rnd8()}, 1);
	EMIT("max-announced-truncated", 0);

	/* One byte over the maximum behind a good frame; and "4 GiB follows". */
	f = FRAME(ACK, ack, &ack, 0);
	put_frame(&o, &f);
	put_prefix(&o, FUZZ_MAX + 1);
	put(&o, "\x08\x01", 2);
	EMIT("over-max", 0);
	put_prefix(&o, 0xffffffffu);
	EMIT("prefix-4g", 1);

	/* Noise: behind a plausible prefix, and raw. */
	put_prefix(&o, 24);
	for (int i = 0; i < 24; i++)
		put(&o, &(uint8_t){rnd8()}, 1);
	f = FRAME(ACK, ack, &ack, 0);
	put_frame(&o, &f);
	EMIT("garbage-payload", 0);
	for (int i = 0; i < 64; i++)
		put(&o, &(uint8_t){rnd8()}, 1);
	EMIT("garbage", 7);

	free(o.buf);
	return r ? 1 : 0;
}
