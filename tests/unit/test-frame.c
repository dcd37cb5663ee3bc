/* SPDX-License-Identifier: MIT */
/* The nsnet.v1 framing reader (frame.c): streams cut at every offset and in random
 * chunks must give back exactly the frames that went in; an oversized length prefix
 * is refused as soon as its four bytes are there, allocates nothing for its payload,
 * and poisons the reader for good; the buffer never grows past one frame plus a feed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nsnet/wire.h>

#include "tap.h"

/* Frames drained from a reader, re-encoded with their prefixes: for a well-formed stream
 * the sink must end up byte-identical to what was fed. */
struct sink {
	uint8_t *buf;
	size_t len, cap;
	size_t frames;
	size_t empty; /* zero-length frames among them */
};

/* Append raw bytes (a bare prefix, say) without counting a frame. */
static void sink_raw(struct sink *s, const void *p, size_t n)
{
	if (s->cap - s->len < n) {
		size_t want = s->cap ? s->cap : 256;

		while (want - s->len < n)
			want *= 2;
		s->buf = realloc(s->buf, want);
		if (!s->buf)
			abort();
		s->cap = want;
	}
	if (n)
		memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void sink_put(struct sink *s, const uint8_t *p, size_t n)
{
	uint8_t h[NSN_FRAME_HDR];

	nsn_frame_put_header(h, (uint32_t)n);
	sink_raw(s, h, sizeof(h));
	sink_raw(s, p, n);
	s->frames++;
	if (n == 0)
		s->empty++;
}

/* Call next() until it has nothing more, as a connection's read callback does.
 * Returns its last result (0, or the error). */
static int drain(struct nsn_frame_reader *r, struct sink *s)
{
	const uint8_t *p;
	size_t n;
	int e;

	while ((e = nsn_frame_reader_next(r, &p, &n)) == 1) {
		if (n > r->max)
			TAP_FAIL("frame of %zu bytes > max %u", n, r->max);
		sink_put(s, p, n);
	}
	return e;
}

static void sink_free(struct sink *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64: reproducible on every platform, unlike rand(). */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Append a frame of @p n payload bytes (a pattern that depends on @p tag) to @p s. */
static void add_frame(struct sink *s, size_t n, unsigned tag)
{
	uint8_t *p = malloc(n ? n : 1);

	if (!p)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(tag * 31u + i);
	sink_put(s, p, n);
	free(p);
}

/* A small stream of five frames: short, empty, longer, empty, one byte. */
static void small_stream(struct sink *s)
{
	add_frame(s, 5, 1);
	add_frame(s, 0, 2);
	add_frame(s, 40, 3);
	add_frame(s, 0, 4);
	add_frame(s, 1, 5);
}

TEST(header_round_trip)
{
	static const uint32_t v[] = {0,		 1,	      0xff,	   0x100,
				     0x01020304, 0x80000000u, 0xfffffffeu, 0xffffffffu};
	uint8_t h[NSN_FRAME_HDR];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		nsn_frame_put_header(h, v[i]);
		ASSERT_EQ(nsn_frame_get_header(h), v[i]);
	}
	nsn_frame_put_header(h, 0x01020304);
	ASSERT_EQ(h[0], 1); /* big-endian on every host */
	ASSERT_EQ(h[1], 2);
	ASSERT_EQ(h[2], 3);
	ASSERT_EQ(h[3], 4);
	nsn_frame_put_header(h, 0xffffffffu);
	ASSERT_TRUE(h[0] == 0xff && h[1] == 0xff && h[2] == 0xff && h[3] == 0xff);
}

TEST(init_limits)
{
	struct nsn_frame_reader r;

	nsn_frame_reader_init(&r, 0);
	ASSERT_EQ(r.max, NSN_FRAME_MAX_DEFAULT);
	ASSERT_EQ(r.cap, 0);
	ASSERT_EQ(nsn_frame_reader_pending(&r), 0);
	nsn_frame_reader_release(&r);
	nsn_frame_reader_init(&r, 0xffffffffu);
	ASSERT_EQ(r.max, NSN_FRAME_MAX_LIMIT);
	nsn_frame_reader_release(&r);
	nsn_frame_reader_init(&r, 100);
	ASSERT_EQ(r.max, 100);
	nsn_frame_reader_release(&r);
	nsn_frame_reader_release(NULL);
}

TEST(whole_frame)
{
	struct nsn_frame_reader r;
	struct sink in = {0}, out = {0};
	const uint8_t *p;
	size_t n;

	add_frame(&in, 17, 9);
	nsn_frame_reader_init(&r, 0);
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 0); /* nothing fed yet */
	ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf, in.len), 0);
	ASSERT_EQ(nsn_frame_reader_feed(&r, NULL, 0), 0);
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 1);
	ASSERT_EQ(n, 17);
	ASSERT_TRUE(memcmp(p, in.buf + NSN_FRAME_HDR, 17) == 0);
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 0);
	ASSERT_EQ(nsn_frame_reader_pending(&r), 0);
	ASSERT_EQ(r.frames, 1);
	ASSERT_EQ(r.bytes, in.len);
	ASSERT_EQ(drain(&r, &out), 0);
	nsn_frame_reader_release(&r);
	sink_free(&in);
	sink_free(&out);
}

TEST(byte_by_byte)
{
	struct nsn_frame_reader r;
	struct sink in = {0}, out = {0};

	small_stream(&in);
	nsn_frame_reader_init(&r, 64);
	for (size_t i = 0; i < in.len; i++) {
		ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf + i, 1), 0);
		ASSERT_EQ(drain(&r, &out), 0);
	}
	ASSERT_EQ(out.frames, 5);
	ASSERT_EQ(out.empty, 2);
	ASSERT_EQ(out.len, in.len);
	ASSERT_TRUE(out.len == in.len && memcmp(out.buf, in.buf, in.len) == 0);
	ASSERT_EQ(r.frames, 5);
	ASSERT_EQ(r.bytes, in.len);
	ASSERT_EQ(nsn_frame_reader_pending(&r), 0);
	nsn_frame_reader_release(&r);
	sink_free(&in);
	sink_free(&out);
}

/* Every single cut and every pair of cuts of the small stream. */
TEST(split_everywhere)
{
	struct sink in = {0};
	size_t bad = 0, runs = 0;

	small_stream(&in);
	for (size_t i = 0; i <= in.len; i++) {
		for (size_t j = i; j <= in.len; j++) {
			struct nsn_frame_reader r;
			struct sink out = {0};
			int e = 0;

			nsn_frame_reader_init(&r, 64);
			e |= nsn_frame_reader_feed(&r, in.buf, i);
			e |= drain(&r, &out);
			e |= nsn_frame_reader_feed(&r, in.buf + i, j - i);
			e |= drain(&r, &out);
			e |= nsn_frame_reader_feed(&r, in.buf + j, in.len - j);
			e |= drain(&r, &out);
			if (e || out.frames != 5 || out.len != in.len ||
			    memcmp(out.buf, in.buf, in.len) || nsn_frame_reader_pending(&r) != 0) {
				if (bad++ < 5)
					TAP_FAIL("cuts at %zu,%zu: e=%d frames=%zu len=%zu", i, j,
						 e, out.frames, out.len);
			}
			runs++;
			nsn_frame_reader_release(&r);
			sink_free(&out);
		}
	}
	ASSERT_EQ(bad, 0);
	ASSERT_EQ(runs, (in.len + 1) * (in.len + 2) / 2);
	sink_free(&in);
}

TEST(many_in_one_feed)
{
	struct nsn_frame_reader r;
	struct sink in = {0}, out = {0};

	for (unsigned i = 0; i < 2000; i++)
		add_frame(&in, i % 7 == 0 ? 0 : i % 97, i);
	nsn_frame_reader_init(&r, 100);
	ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf, in.len), 0);
	ASSERT_EQ(drain(&r, &out), 0);
	ASSERT_EQ(out.frames, 2000);
	ASSERT_EQ(out.empty, 304); /* 286 multiples of 7, 21 of 97, 3 of both */
	ASSERT_TRUE(out.len == in.len && memcmp(out.buf, in.buf, in.len) == 0);
	ASSERT_EQ(r.frames, 2000);
	ASSERT_EQ(nsn_frame_reader_pending(&r), 0);
	nsn_frame_reader_release(&r);
	sink_free(&in);
	sink_free(&out);
}

TEST(zero_length_frames)
{
	struct nsn_frame_reader r;
	uint8_t zeros[3 * NSN_FRAME_HDR] = {0};
	const uint8_t *p = NULL;
	size_t n = 99;

	nsn_frame_reader_init(&r, 0);
	ASSERT_EQ(nsn_frame_reader_feed(&r, zeros, 3), 0);
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 0);
	ASSERT_EQ(nsn_frame_reader_feed(&r, zeros + 3, sizeof(zeros) - 3), 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 1);
		ASSERT_EQ(n, 0);
		ASSERT_TRUE(p != NULL);
	}
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 0);
	ASSERT_EQ(r.frames, 3);
	nsn_frame_reader_release(&r);
}

/* A frame of exactly max bytes passes, whole and byte by byte. */
TEST(exactly_max_accepted)
{
	struct nsn_frame_reader r;
	struct sink in = {0}, out = {0};

	add_frame(&in, 100, 7);
	nsn_frame_reader_init(&r, 100);
	ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf, in.len), 0);
	ASSERT_EQ(drain(&r, &out), 0);
	ASSERT_EQ(out.frames, 1);
	nsn_frame_reader_release(&r);

	nsn_frame_reader_init(&r, 100);
	for (size_t i = 0; i < in.len; i++)
		ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf + i, 1), 0);
	ASSERT_EQ(drain(&r, &out), 0);
	ASSERT_EQ(out.frames, 2);
	ASSERT_TRUE(r.cap <= 100 + NSN_FRAME_HDR);
	nsn_frame_reader_release(&r);

	/* The default maximum, announced alone: accepted, waiting, nothing reserved for it. */
	{
		uint8_t h[NSN_FRAME_HDR];
		const uint8_t *p;
		size_t n;

		nsn_frame_put_header(h, NSN_FRAME_MAX_DEFAULT);
		nsn_frame_reader_init(&r, 0);
		ASSERT_EQ(nsn_frame_reader_feed(&r, h, sizeof(h)), 0);
		ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 0);
		ASSERT_EQ(nsn_frame_reader_pending(&r), NSN_FRAME_HDR);
		ASSERT_TRUE(r.cap <= 4096);
		nsn_frame_reader_release(&r);
	}
	sink_free(&in);
	sink_free(&out);
}

/* max + 1 is refused by the feed that completes the prefix: alone, before any payload. */
TEST(max_plus_one_rejected_at_prefix)
{
	static const uint32_t maxes[] = {0 /* default */, 100, 1};
	struct nsn_frame_reader r;
	uint8_t h[NSN_FRAME_HDR];
	const uint8_t *p;
	size_t n;

	for (size_t k = 0; k < sizeof(maxes) / sizeof(maxes[0]); k++) {
		nsn_frame_reader_init(&r, maxes[k]);
		nsn_frame_put_header(h, r.max + 1);
		ASSERT_EQ(nsn_frame_reader_feed(&r, h, sizeof(h)), -EMSGSIZE);
		ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), -EMSGSIZE);
		ASSERT_TRUE(r.cap <= 4096);
		ASSERT_TRUE(r.cap <= (size_t)r.max + NSN_FRAME_HDR);
		nsn_frame_reader_release(&r);

		/* Prefix byte by byte: silent until the fourth. */
		nsn_frame_reader_init(&r, maxes[k]);
		nsn_frame_put_header(h, r.max + 1);
		for (size_t i = 0; i < 3; i++) {
			ASSERT_EQ(nsn_frame_reader_feed(&r, h + i, 1), 0);
			ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 0);
		}
		ASSERT_EQ(nsn_frame_reader_feed(&r, h + 3, 1), -EMSGSIZE);
		ASSERT_TRUE(r.cap <= 4096);
		nsn_frame_reader_release(&r);
	}

	/* "4 GiB follows" costs four bytes. */
	nsn_frame_reader_init(&r, 0);
	nsn_frame_put_header(h, 0xffffffffu);
	ASSERT_EQ(nsn_frame_reader_feed(&r, h, sizeof(h)), -EMSGSIZE);
	ASSERT_TRUE(r.cap <= 4096);
	ASSERT_EQ(r.frames, 0);
	nsn_frame_reader_release(&r);
}

TEST(sticky_error)
{
	struct nsn_frame_reader r;
	struct sink in = {0}, good = {0}, out = {0};
	uint8_t h[NSN_FRAME_HDR];
	const uint8_t *p;
	size_t n;

	/* A good frame, then an oversized prefix, in one feed: the good one is still
	 * delivered, the bad one stops the stream. */
	add_frame(&in, 10, 1);
	nsn_frame_put_header(h, 65);
	sink_raw(&in, h, sizeof(h));
	add_frame(&good, 3, 2);

	nsn_frame_reader_init(&r, 64);
	ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf, in.len), 0);
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), 1);
	ASSERT_EQ(n, 10);
	ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), -EMSGSIZE);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(nsn_frame_reader_feed(&r, good.buf, good.len), -EMSGSIZE);
		ASSERT_EQ(nsn_frame_reader_next(&r, &p, &n), -EMSGSIZE);
	}
	ASSERT_EQ(drain(&r, &out), -EMSGSIZE);
	ASSERT_EQ(out.frames, 0);
	ASSERT_EQ(r.frames, 1);
	ASSERT_EQ(r.err, -EMSGSIZE);

	/* Release and init again: a fresh reader. */
	nsn_frame_reader_release(&r);
	nsn_frame_reader_init(&r, 64);
	ASSERT_EQ(nsn_frame_reader_feed(&r, good.buf, good.len), 0);
	ASSERT_EQ(drain(&r, &out), 0);
	ASSERT_EQ(out.frames, 1);
	nsn_frame_reader_release(&r);
	sink_free(&in);
	sink_free(&good);
	sink_free(&out);
}

/* A truncated tail stays pending, whatever byte the stream stops at. */
TEST(pending_tail)
{
	struct sink in = {0};

	add_frame(&in, 8, 1);
	add_frame(&in, 20, 2);
	for (size_t cut = 12; cut <= in.len; cut++) {
		struct nsn_frame_reader r;
		struct sink out = {0};

		nsn_frame_reader_init(&r, 64);
		ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf, cut), 0);
		ASSERT_EQ(drain(&r, &out), 0);
		ASSERT_EQ(out.frames, cut == in.len ? 2 : 1);
		ASSERT_EQ(nsn_frame_reader_pending(&r), cut == in.len ? 0 : cut - 12);
		nsn_frame_reader_release(&r);
		sink_free(&out);
	}
	for (size_t cut = 0; cut < 12; cut++) {
		struct nsn_frame_reader r;
		struct sink out = {0};

		nsn_frame_reader_init(&r, 64);
		ASSERT_EQ(nsn_frame_reader_feed(&r, in.buf, cut), 0);
		ASSERT_EQ(drain(&r, &out), 0);
		ASSERT_EQ(out.frames, 0);
		ASSERT_EQ(nsn_frame_reader_pending(&r), cut);
		nsn_frame_reader_release(&r);
	}
	sink_free(&in);
}

/* A long stream of random-sized frames (0..max, max itself included) fed in random
 * chunks: every frame comes back, and the buffer never exceeds one largest frame plus
 * the largest feed, whatever the doubling would have liked. */
static void bounded_run(uint32_t max, unsigned nframes, size_t maxchunk)
{
	struct nsn_frame_reader r;
	struct sink in = {0}, out = {0};
	size_t largest = 0, peak = 0, over = 0;

	for (unsigned i = 0; i < nframes; i++) {
		size_t n = rnd() % 8 == 0 ? max : (size_t)(rnd() % (max + 1u));

		add_frame(&in, n, i);
	}
	nsn_frame_reader_init(&r, max);
	for (size_t off = 0; off < in.len;) {
		size_t c = 1 + (size_t)(rnd() % maxchunk);
		int e;

		if (c > in.len - off)
			c = in.len - off;
		if (c > largest)
			largest = c;
		e = nsn_frame_reader_feed(&r, in.buf + off, c);
		if (e) {
			TAP_FAIL("feed at %zu: %d", off, e);
			break;
		}
		if (r.cap > peak)
			peak = r.cap;
		if (r.cap > (size_t)max + NSN_FRAME_HDR + largest && over++ < 3)
			TAP_FAIL("max=%u: cap %zu > %u + %u + largest feed %zu", max, r.cap, max,
				 NSN_FRAME_HDR, largest);
		ASSERT_EQ(drain(&r, &out), 0);
		off += c;
	}
	ASSERT_EQ(over, 0);
	ASSERT_EQ(out.frames, nframes);
	ASSERT_TRUE(out.len == in.len && memcmp(out.buf, in.buf, in.len) == 0);
	ASSERT_EQ(r.frames, nframes);
	ASSERT_EQ(r.bytes, in.len);
	ASSERT_EQ(nsn_frame_reader_pending(&r), 0);
	ASSERT_TRUE(peak > 0);
	printf("# max=%u frames=%u bytes=%zu largest feed=%zu peak cap=%zu\n", max, nframes, in.len,
	       largest, peak);
	nsn_frame_reader_release(&r);
	sink_free(&in);
	sink_free(&out);
}

TEST(buffer_bounded)
{
	bounded_run(1000, 5000, 3000); /* feeds larger than frames */
	bounded_run(16, 2000, 7);      /* a max far below the first allocation */
	bounded_run(65536, 200, 4096); /* frames larger than feeds */
	bounded_run(3000, 2000, 1);    /* byte by byte */
}

TEST_MAIN(CASE(header_round_trip), CASE(init_limits), CASE(whole_frame), CASE(byte_by_byte),
	  CASE(split_everywhere), CASE(many_in_one_feed), CASE(zero_length_frames),
	  CASE(exactly_max_accepted), CASE(max_plus_one_rejected_at_prefix), CASE(sticky_error),
	  CASE(pending_tail), CASE(buffer_bounded))
