/* SPDX-License-Identifier: MIT */
/* Fuzz target for the nsnet.v1 receive path: bytes off a socket through the framing
 * reader (frame.c) and every frame through nsn_wire_unpack() (codec.c), as a collector
 * or a query client does with what a peer sent.
 *
 * Input: the first byte chooses how the rest is fed to the reader, the way reads of a
 * socket happen to split it: 0 feeds it whole, n > 0 feeds chunks of 1..n bytes whose
 * sizes come from a generator seeded by that byte. Everything after it is the stream.
 *
 * Beyond "no crash, no leak", the invariants the code promises abort, so a fuzzer
 * records them: no frame over the maximum, the buffer within one frame plus a feed,
 * errors only of the documented kinds, every byte either a frame or pending, and an
 * unpacked frame packs to bytes that unpack and pack to the same bytes again.
 *
 * Built with -DNSN_LIBFUZZER it is a libFuzzer target; otherwise replay.c's main()
 * replays the files and directories given as arguments (the checked-in corpus, or a
 * crash file). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"

/* Small, so that the fuzzer can reach it: exactly-max and max+1 are both nearby. */
#define FUZZ_MAX (1u << 20)

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz-frame: %s:%d: invariant broken: %s\n", __FILE__,     \
				__LINE__, #c);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Pack an unpacked frame, unpack that and pack it again: protobuf-c's canonical output
 * must be stable (a peer relaying frames must not change them on every hop). */
static void repack(const NsnFrame *f)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	NsnFrame *g = NULL;
	int e;

	/* Canonical encoding may be longer than what came in (a negative int32 is ten
	 * bytes), so a frame close to the limit may legitimately no longer fit. */
	e = nsn_wire_pack(f, FUZZ_MAX, &a, &alen);
	CHECK(e == 0 || e == -EMSGSIZE);
	if (e)
		return;
	CHECK(alen >= NSN_FRAME_HDR && nsn_frame_get_header(a) == alen - NSN_FRAME_HDR);
	e = nsn_wire_unpack(a + NSN_FRAME_HDR, alen - NSN_FRAME_HDR, FUZZ_MAX, &g);
	CHECK(e == 0);
	CHECK(g->body_case == f->body_case);
	CHECK(g->seq == f->seq);
	CHECK(nsn_wire_pack(g, FUZZ_MAX, &b, &blen) == 0);
	CHECK(blen == alen && memcmp(a, b, alen) == 0);
	nsn_wire_free(g);
	free(a);
	free(b);
}

/* Take every complete frame; add their wire size to *consumed. Returns next()'s last
 * result: 0, or the reader's sticky error. */
static int drain(struct nsn_frame_reader *r, size_t *consumed)
{
	const uint8_t *p;
	size_t n;
	int e;

	while ((e = nsn_frame_reader_next(r, &p, &n)) == 1) {
		NsnFrame *f = NULL;
		int u;

		CHECK(n <= FUZZ_MAX);
		*consumed += NSN_FRAME_HDR + n;
		u = nsn_wire_unpack(p, n, FUZZ_MAX, &f);
		CHECK(u == 0 || u == -EBADMSG);
		CHECK((u == 0) == (f != NULL));
		if (u == 0) {
			CHECK(f->body_case != NSNET__V1__FRAME__BODY__NOT_SET);
			CHECK(strcmp(nsn_wire_body_name(f), "none") != 0);
			repack(f);
		}
		nsn_wire_free(f);
	}
	CHECK(e == 0 || e == -EMSGSIZE);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nsn_frame_reader r;
	size_t off = 0, largest = 0, consumed = 0;
	unsigned chunk;
	uint32_t rng;
	int e = 0;

	if (size == 0)
		return 0;
	chunk = data[0];
	rng = 0x9e3779b9u ^ chunk;
	data++;
	size--;

	nsn_frame_reader_init(&r, FUZZ_MAX);
	while (off < size) {
		size_t c = size - off;
		int d;

		if (chunk) {
			/* xorshift32: the same split on every run of the same input. */
			rng ^= rng << 13;
			rng ^= rng >> 17;
			rng ^= rng << 5;
			if (c > 1 + rng % chunk)
				c = 1 + rng % chunk;
		}
		if (c > largest)
			largest = c;
		e = nsn_frame_reader_feed(&r, data + off, c);
		CHECK(e == 0 || e == -EMSGSIZE);
		CHECK(r.cap <= (size_t)FUZZ_MAX + NSN_FRAME_HDR + largest);
		off += c;
		d = drain(&r, &consumed);
		CHECK(e == 0 || d == e); /* a failed feed leaves no frame in front of it */
		if (d) {
			e = d;
			break;
		}
	}
	if (e == 0) {
		/* Every byte fed is a frame taken or waiting for the rest of its frame. */
		CHECK(consumed + nsn_frame_reader_pending(&r) == size);
		CHECK(r.bytes == size);
	} else {
		CHECK(e == -EMSGSIZE && r.err == -EMSGSIZE);
		CHECK(nsn_frame_reader_feed(&r, data, size) == -EMSGSIZE); /* sticky */
	}
	nsn_frame_reader_release(&r);
	return 0;
}
