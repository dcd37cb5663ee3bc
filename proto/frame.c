/* SPDX-License-Identifier: MIT */
/* Framing: a length prefix is checked against the maximum before a single byte of its
 * payload is buffered, so a hostile "4 GiB follows" costs four bytes. Consumed frames
 * are not moved out one by one; the buffer is compacted only when a frame has to grow
 * into the space they left. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nsnet/wire.h>

void nsn_frame_reader_init(struct nsn_frame_reader *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	nsn_frame_reader_set_max(r, max);
}

void nsn_frame_reader_set_max(struct nsn_frame_reader *r, uint32_t max)
{
	r->max = max ? max : NSN_FRAME_MAX_DEFAULT;
	if (r->max > NSN_FRAME_MAX_LIMIT)
		r->max = NSN_FRAME_MAX_LIMIT;
}

void nsn_frame_reader_release(struct nsn_frame_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	r->buf = NULL;
	r->off = r->len = r->cap = 0;
}

void nsn_frame_put_header(uint8_t hdr[NSN_FRAME_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

uint32_t nsn_frame_get_header(const uint8_t hdr[NSN_FRAME_HDR])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

size_t nsn_frame_reader_pending(const struct nsn_frame_reader *r)
{
	return r->len - r->off;
}

/* Check the prefix of the frame at the front, if complete. */
static int check_prefix(struct nsn_frame_reader *r)
{
	if (r->err == 0 && r->len - r->off >= NSN_FRAME_HDR &&
	    nsn_frame_get_header(r->buf + r->off) > r->max)
		r->err = -EMSGSIZE;
	return r->err;
}

int nsn_frame_reader_feed(struct nsn_frame_reader *r, const void *data, size_t len)
{
	if (r->err)
		return r->err;
	if (len == 0)
		return 0;
	if (r->cap - r->len < len) {
		size_t live = r->len - r->off;

		/* Compact first: the consumed frames' space is free. */
		if (r->off) {
			memmove(r->buf, r->buf + r->off, live);
			r->len = live;
			r->off = 0;
		}
		if (r->cap - r->len < len) {
			size_t need, frame = (size_t)r->max + NSN_FRAME_HDR;
			size_t want = r->cap ? r->cap : 4096;
			uint8_t *nb;

			if (len > SIZE_MAX - r->len)
				return -ENOMEM;
			need = r->len + len;
			while (want < need) {
				if (want > SIZE_MAX / 2)
					return -ENOMEM;
				want *= 2;
			}
			/* Doubling keeps byte-by-byte feeds linear, but must not overshoot the
			 * largest legal frame: a 16 MiB frame would otherwise cost 32 MiB. Past
			 * that, only this call's own bytes can make the buffer larger. */
			if (want > frame)
				want = need > frame ? need : frame;
			nb = realloc(r->buf, want);
			if (!nb)
				return -ENOMEM;
			r->buf = nb;
			r->cap = want;
		}
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->bytes += len;
	return check_prefix(r);
}

int nsn_frame_reader_next(struct nsn_frame_reader *r, const uint8_t **ret_data, size_t *ret_len)
{
	size_t live = r->len - r->off;
	uint32_t n;
	int e = check_prefix(r);

	if (e)
		return e;
	if (live < NSN_FRAME_HDR)
		return 0;
	n = nsn_frame_get_header(r->buf + r->off);
	if (live - NSN_FRAME_HDR < n)
		return 0;
	*ret_data = r->buf + r->off + NSN_FRAME_HDR;
	*ret_len = n;
	r->off += NSN_FRAME_HDR + (size_t)n;
	if (r->off == r->len)
		r->off = r->len = 0; /* the common case: nothing left, nothing to move */
	r->frames++;
	return 1;
}
