/* SPDX-License-Identifier: MIT */
/* A packed nsnet.v1.Socket read in place. Field numbers are those of proto/nsnet.proto's
 * Socket and ProcRef; protobuf-c writes fields in number order, so a head-only read
 * stops at the first field past 11. Unknown fields are skipped, as protobuf does. */
#include <errno.h>
#include <string.h>

#include "skim.h"

struct rd {
	const uint8_t *p, *end;
};

static inline int varint(struct rd *r, uint64_t *ret)
{
	uint64_t v = 0;

	/* Most values and every tag here fit in one byte. */
	if (r->p < r->end && *r->p < 0x80) {
		*ret = *r->p++;
		return 0;
	}

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -EBADMSG;
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* Skip the value of a field of wire type @p wt. */
static int skip(struct rd *r, unsigned wt)
{
	uint64_t v;

	switch (wt) {
	case 0:
		return varint(r, &v);
	case 1:
		if (r->end - r->p < 8)
			return -EBADMSG;
		r->p += 8;
		return 0;
	case 2:
		if (varint(r, &v) < 0 || v > (uint64_t)(r->end - r->p))
			return -EBADMSG;
		r->p += v;
		return 0;
	case 5:
		if (r->end - r->p < 4)
			return -EBADMSG;
		r->p += 4;
		return 0;
	default:
		return -EBADMSG;
	}
}

/* A length-delimited value: its bytes. */
static int bytes(struct rd *r, const uint8_t **ret, size_t *ret_len)
{
	uint64_t n;

	if (varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
		return -EBADMSG;
	*ret = r->p;
	*ret_len = (size_t)n;
	r->p += n;
	return 0;
}

static int str_in(struct rd *r, char *buf, size_t size, const char **ret)
{
	const uint8_t *d;
	size_t n;

	if (bytes(r, &d, &n) < 0 || n >= size)
		return -EBADMSG;
	memcpy(buf, d, n);
	buf[n] = '\0';
	*ret = n ? buf : NULL;
	return 0;
}

/* An address: 4 bytes for AF_INET, 16 for AF_INET6 (decode.c refuses other lengths;
 * here they are read as far as they go). */
static int addr_in(struct rd *r, uint8_t out[16])
{
	const uint8_t *d;
	size_t n;

	if (bytes(r, &d, &n) < 0)
		return -EBADMSG;
	memset(out, 0, 16);
	memcpy(out, d, n < 16 ? n : 16);
	return 0;
}

/* A ProcRef: only its container_id (field 4) matters here. */
static int proc_in(struct rd *r, struct nsn_skim *k)
{
	struct rd m;
	const uint8_t *d;
	size_t n;

	if (bytes(r, &d, &n) < 0)
		return -EBADMSG;
	m = (struct rd){d, d + n};
	k->n_procs++;
	while (m.p < m.end) {
		uint64_t tag;

		if (varint(&m, &tag) < 0)
			return -EBADMSG;
		if (tag >> 3 == 4 && (tag & 7) == 2) {
			const uint8_t *id;
			size_t len;

			if (bytes(&m, &id, &len) < 0)
				return -EBADMSG;
			if (len == 0)
				continue;
			if (k->n_ctr_ids < NSN_SKIM_CTR_IDS) {
				k->ctr_id[k->n_ctr_ids] = id;
				k->ctr_id_len[k->n_ctr_ids++] = len;
			} else {
				k->ctr_ids_more = true;
			}
		} else if (skip(&m, (unsigned)(tag & 7)) < 0) {
			return -EBADMSG;
		}
	}
	return 0;
}

static int skim_from(const uint8_t *data, struct rd r, int what, struct nsn_skim *k)
{
	struct nsn_sock *s = &k->s;

	k->resume = (size_t)(r.end - data);
	while (r.p < r.end) {
		const uint8_t *at = r.p;
		uint64_t tag, v = 0;
		unsigned field, wt;

		if (varint(&r, &tag) < 0)
			return -EBADMSG;
		field = (unsigned)(tag >> 3);
		wt = (unsigned)(tag & 7);
		if ((field > 11 && what == NSN_SKIM_HEAD) || (field > 18 && what == NSN_SKIM_ADDRS)) {
			k->resume = (size_t)(at - data);
			break;
		}
		if (field >= 1 && field <= 16 && field != 12 && field != 14 && wt == 0) {
			if (varint(&r, &v) < 0)
				return -EBADMSG;
			switch (field) {
			case 1: s->cookie = v; break;
			case 2: s->proto = (uint8_t)v; break;
			case 3: s->family = (uint8_t)v; break;
			case 4: s->state = (uint8_t)v; break;
			case 5: s->type = (uint8_t)v; break;
			/* sint32, zigzag */
			case 6: s->v6only = (int8_t)((int64_t)(v >> 1) ^ -(int64_t)(v & 1)); break;
			case 7: s->recv_q = (uint32_t)v; break;
			case 8: s->send_q = (uint32_t)v; break;
			case 9: s->uid = (uint32_t)v; break;
			case 10: s->inode = (uint32_t)v; break;
			case 11: s->ifindex = (uint32_t)v; break;
			case 13: s->local.port = (uint16_t)v; break;
			case 15: s->peer.port = (uint16_t)v; break;
			case 16: s->peer_inode = (uint32_t)v; break;
			}
			continue;
		}
		if (wt == 2) {
			int e = 0;

			switch (field) {
			case 12: e = addr_in(&r, s->local.addr); break;
			case 14: e = addr_in(&r, s->peer.addr); break;
			case 17: e = str_in(&r, k->path, sizeof(k->path), &s->path); break;
			case 18: e = str_in(&r, k->dev, sizeof(k->dev), &s->dev); break;
			case 21: e = proc_in(&r, k); break;
			default: e = skip(&r, wt); break;
			}
			if (e < 0)
				return e;
			continue;
		}
		if (skip(&r, wt) < 0)
			return -EBADMSG;
	}
	/* The decoder maps processes by inode: a socket without one (TIME-WAIT, request
	 * sockets) has none, whatever was sent. */
	if (what == NSN_SKIM_FULL && s->inode == 0) {
		k->n_ctr_ids = k->n_procs = 0;
		k->ctr_ids_more = false;
	}
	return 0;
}

int nsn_skim_socket(const uint8_t *data, size_t len, int what, struct nsn_skim *k)
{
	memset(&k->s, 0, sizeof(k->s));
	k->n_ctr_ids = k->n_procs = 0;
	k->ctr_ids_more = false;
	return skim_from(data, (struct rd){data, data + len}, what, k);
}

int nsn_skim_more(const uint8_t *data, size_t len, int what, struct nsn_skim *k)
{
	if (k->resume > len)
		return -EINVAL;
	return skim_from(data, (struct rd){data + k->resume, data + len}, what, k);
}
