/* SPDX-License-Identifier: MIT */
/**
 * @file sync.h
 * The agent's side of the stream: what the collector has been sent, per namespace,
 * and the frames that bring it from there to a new scan.
 *
 * Only fingerprints are kept (a 64-bit hash of each socket's, link's and list's
 * packed encoding, and each counter's value), not the messages: a node with 100,000
 * sockets costs ~1.6 MB here. A namespace unknown to the peer goes out as a
 * NamespaceSnapshot, a known one as a NamespaceDelta when anything changed, a
 * vanished one as NamespaceGone. Large namespaces are split: a snapshot carries at
 * most NSN_SYNC_CHUNK sockets and the rest follows in deltas, so no frame grows with
 * the size of a namespace.
 */
#ifndef NSN_PROTO_SYNC_H
#define NSN_PROTO_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <nsnet/model.h>

#include "codec.h"
#include "convert.h"

/** Sockets per frame at most. ~100 bytes each: ~2 MB frames, far below the maximum. */
#define NSN_SYNC_CHUNK 20000u

struct nsn_sync;

/** What one nsn_sync_diff() sent. */
struct nsn_sync_stats {
	size_t frames;
	size_t snapshots;   /**< namespaces sent whole */
	size_t deltas;      /**< namespaces sent as changes */
	size_t gone;
	size_t unchanged;   /**< namespaces with nothing to send */
	size_t sockets_added, sockets_removed, sockets_changed;
	size_t namespaces;  /**< namespaces the peer has afterwards */
	size_t sockets;     /**< sockets the peer has afterwards */
};

/**
 * Called once per frame, in order. The frame and everything it points to live in
 * the arena given to nsn_sync_diff() and are released after the call returns: pack
 * or copy it now. The callee sets f->seq. Return 0, or -errno to stop the diff (the
 * sync state then no longer matches the peer: call nsn_sync_reset()).
 */
typedef int (*nsn_sync_emit_fn)(NsnFrame *f, void *userdata);

/** @return a new sync state that assumes the peer has nothing; NULL on ENOMEM. */
struct nsn_sync *nsn_sync_new(void);

/** Free. NULL-safe. */
void nsn_sync_free(struct nsn_sync *s);

/** Forget what the peer has (a new connection): the next diff sends every namespace whole. */
void nsn_sync_reset(struct nsn_sync *s);

/** Whether the next diff is a full resync (nothing sent since the last reset). */
int nsn_sync_is_full(const struct nsn_sync *s);

/**
 * Emit the frames (snapshot, delta, gone; not ScanDone, whose statistics the caller
 * owns) that bring the peer from what it was sent to @p scan, and remember @p scan as
 * what it has. Namespaces are keyed by cookie (dev+inode where the kernel has no
 * cookie), sockets by cookie; a namespace holding sockets without a cookie (raw
 * sockets read from /proc/net/raw) is sent whole when it changes.
 *
 * @param parts  NSN_PB_* parts of each namespace to send.
 * @return 0 with @p ret_stats filled, -ENOMEM, or the emitter's error.
 */
int nsn_sync_diff(struct nsn_sync *s, const struct nsn_scan *scan, unsigned parts, struct nsn_pb_arena *a,
		  nsn_sync_emit_fn emit, void *userdata, struct nsn_sync_stats *ret_stats);

/** Bytes held by the sync state (for the agent's memory budget). */
size_t nsn_sync_memory(const struct nsn_sync *s);

#endif
