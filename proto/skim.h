/* SPDX-License-Identifier: MIT */
/**
 * @file skim.h
 * The fields of a packed nsnet.v1.Socket that selecting and counting look at, read in
 * place: no allocation, no unpack. The collector runs every query's socket filter and
 * every metric over the packed sockets of its store with this; a full decode
 * (nsn_pb_decode_scan()) costs ten times more per socket.
 *
 * What it reads agrees with decode.c for every well-formed socket with its fields in
 * number order, as protobuf-c and the store write them (unit.skim checks both on the
 * same records); NSN_SKIM_HEAD stops at the first field past 11, so a repeated head
 * field after it is not seen. On a socket decode.c would refuse it may say anything
 * but never reads out of bounds. A path over 255 bytes or a dev over 63 is -EBADMSG
 * here (the kernel's are at most 108 and 16).
 */
#ifndef NSN_PROTO_SKIM_H
#define NSN_PROTO_SKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nsnet/model.h>

/** Container ids of a socket's processes kept at most (more are counted). */
#define NSN_SKIM_CTR_IDS 8

struct nsn_skim {
	/** proto, family, state, type, v6only, recv_q, send_q, uid, inode, ifindex, cookie;
	 *  with NSN_SKIM_FULL also local, peer, peer_inode, and path and dev (pointing into
	 *  this struct; NULL when empty). tcp_info and skmem are never set. */
	struct nsn_sock s;
	char path[256];
	char dev[64];
	/** NSN_SKIM_FULL: the non-empty container ids of its processes (not terminated;
	 *  they point into the bytes skimmed, valid as long as those are). */
	const uint8_t *ctr_id[NSN_SKIM_CTR_IDS];
	size_t ctr_id_len[NSN_SKIM_CTR_IDS];
	size_t n_ctr_ids;   /**< how many are in ctr_id */
	size_t n_procs;     /**< processes (all of them, with or without a container) */
	bool ctr_ids_more;  /**< more container ids than NSN_SKIM_CTR_IDS */
	size_t resume;      /**< where a head-only read stopped (nsn_skim_more()) */
};

enum {
	/** Only the leading scalars (fields 1 to 11): proto, family, state, ... */
	NSN_SKIM_HEAD = 0,
	/** Everything struct nsn_skim holds: addresses, ports, path, dev, processes. */
	NSN_SKIM_FULL = 1,
	/** NSN_SKIM_FULL without the processes (fields 1 to 18): what the filter
	 *  expression looks at. Stops at the first field past 18. */
	NSN_SKIM_ADDRS = 2,
};

/**
 * Read @p len bytes of a packed Socket into @p ret (zeroed first).
 * @return 0, or -EBADMSG when the bytes are not a well-formed message (a truncated
 *         field, a wire type that cannot be, a path or dev longer than the buffers).
 */
int nsn_skim_socket(const uint8_t *data, size_t len, int what, struct nsn_skim *ret);

/**
 * Go on after an NSN_SKIM_HEAD read of the same bytes into the same @p k: the fields
 * past 11 as @p what (NSN_SKIM_ADDRS or NSN_SKIM_FULL) asks, the head kept. Equal to
 * nsn_skim_socket(data, len, what, k) for a socket with its fields in number order.
 * @return as nsn_skim_socket(); -EINVAL when @p k holds no head read of @p len bytes.
 */
int nsn_skim_more(const uint8_t *data, size_t len, int what, struct nsn_skim *k);

#endif
