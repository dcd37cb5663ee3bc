/* SPDX-License-Identifier: MIT */
/**
 * @file convert.h
 * The record model (<nsnet/model.h>) to and from nsnet.v1 messages.
 *
 * Encoding builds messages whose every allocation (sub-messages, arrays, strings,
 * bytes) comes from a struct nsn_pb_arena, so a whole batch is released at once with
 * nsn_pb_arena_reset() (STYLE: outgoing messages in a per-batch arena); messages may
 * point into the scan they were made from (strings), so the scan must outlive them.
 *
 * Decoding builds a struct nsn_scan, owned by the caller (nsn_scan_free()), that the
 * CLI renders exactly as a local scan: namespaces, sockets with their processes and
 * containers (the process map), routes, rules, links (veth peers resolved by
 * namespace cookie), counters, containers.
 */
#ifndef NSN_PROTO_CONVERT_H
#define NSN_PROTO_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <nsnet/model.h>

#include "nsnet.pb-c.h"

struct nsn_pb_arena;

/** A new, empty arena; NULL on ENOMEM. */
struct nsn_pb_arena *nsn_pb_arena_new(void);
/** @p size zeroed bytes, aligned for any type, valid until the next reset; NULL on ENOMEM. */
void *nsn_pb_arena_alloc(struct nsn_pb_arena *a, size_t size);
/** Release everything allocated since the last reset; keeps one chunk for reuse. */
void nsn_pb_arena_reset(struct nsn_pb_arena *a);
/** Free the arena. NULL-safe. */
void nsn_pb_arena_free(struct nsn_pb_arena *a);
/** Bytes currently allocated from the arena (for budgets and tests). */
size_t nsn_pb_arena_used(const struct nsn_pb_arena *a);

/** Parts of a namespace to encode in nsn_pb_encode_netns(). */
enum {
	NSN_PB_SOCKETS = 1u << 0,
	NSN_PB_ROUTES = 1u << 1,   /**< routes and rules */
	NSN_PB_LINKS = 1u << 2,
	NSN_PB_COUNTERS = 1u << 3,
	NSN_PB_CONTAINERS = 1u << 4,
	NSN_PB_ALL = 0x1fu,
};

/* Every encoder returns 0 or -ENOMEM; the message is allocated in @p a. */

/** The namespace's identity (cookie, dev, inode). */
int nsn_pb_encode_id(struct nsn_pb_arena *a, const struct nsn_netns *ns, Nsnet__V1__NetnsId **ret);

/** A full snapshot of @p ns (a namespace of @p scan) with the parts in @p parts. */
int nsn_pb_encode_netns(struct nsn_pb_arena *a, const struct nsn_scan *scan, const struct nsn_netns *ns,
			unsigned parts, Nsnet__V1__NamespaceSnapshot **ret);

/** The header of @p ns without its lists (host, names, pid, nprocs, err, current). */
int nsn_pb_encode_meta(struct nsn_pb_arena *a, const struct nsn_netns *ns, Nsnet__V1__NetnsMeta **ret);

/** One socket, with its processes (from scan->procs, when mapped) and their container ids. */
int nsn_pb_encode_socket(struct nsn_pb_arena *a, const struct nsn_scan *scan, const struct nsn_sock *s,
			 Nsnet__V1__Socket **ret);

/** Every route of @p ns, in order. */
int nsn_pb_encode_routes(struct nsn_pb_arena *a, const struct nsn_netns *ns, Nsnet__V1__Routes **ret);
/** Every rule of @p ns, in order. */
int nsn_pb_encode_rules(struct nsn_pb_arena *a, const struct nsn_netns *ns, Nsnet__V1__Rules **ret);
/** One link (its peer's namespace identified by cookie/dev/inode when resolved). */
int nsn_pb_encode_link(struct nsn_pb_arena *a, const struct nsn_link *l, Nsnet__V1__Link **ret);
/** One counter. */
int nsn_pb_encode_counter(struct nsn_pb_arena *a, const struct nsn_counter *c, Nsnet__V1__Counter **ret);
/** The containers of @p ns, in order. */
int nsn_pb_encode_containers(struct nsn_pb_arena *a, const struct nsn_netns *ns,
			     Nsnet__V1__NetnsContainers **ret);

/**
 * Build a scan from namespace snapshots (e.g. what a store holds for one node), in the
 * given order; the caller sorts if it cares (host first, then named, then by inode, as
 * nsn_gather() does). The process map is rebuilt from the sockets' procs; containers
 * are de-duplicated by id across namespaces; veth peers are resolved between the
 * given namespaces by cookie (else dev+inode).
 * @return 0 and a new scan in *ret_scan, -ENOMEM, or -EBADMSG when a snapshot is not
 *         well-formed (an address that is neither 4 nor 16 bytes, no id, ...).
 */
int nsn_pb_decode_scan(const Nsnet__V1__NamespaceSnapshot *const *snaps, size_t n,
		       struct nsn_scan **ret_scan);

#endif
