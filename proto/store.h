/* SPDX-License-Identifier: MIT */
/**
 * @file store.h
 * What a stream of nsnet.v1 agent frames says a set of nodes has: node -> namespaces
 * -> sockets, routes, rules, links, counters and containers. The collector applies
 * every connection's frames to one store; `nsnetstat --from` applies a recording.
 *
 * Memory: a namespace keeps its parts packed, as the agent sent them. Each socket is
 * its packed nsnet.v1.Socket in a hash keyed by socket cookie (~140 bytes per socket
 * in all); links are packed and sorted by ifindex; routes, rules, containers and the
 * namespace header are one packed blob each; counters are (interned name, value)
 * pairs. Nothing is unpacked until nsn_store_node_snapshots() asks for it.
 *
 * Sessions (see proto/nsnet.proto): a Hello (nsn_store_hello()) starts a session of
 * its node. A Hello with a different boot_id or session than the node's last one
 * forgets every namespace of the node at once (a reboot or a new agent process);
 * every Hello marks the node's namespaces unconfirmed, a snapshot confirms one, and
 * the next ScanDone(full=true) forgets those still unconfirmed: they vanished while
 * the agent was away.
 *
 * Not thread-safe; no libuv. Errors are -errno; a frame that contradicts what the
 * store has is -EPROTO with one line in struct nsn_store_error (the collector then
 * closes the connection; the agent's next session resyncs).
 */
#ifndef NSN_PROTO_STORE_H
#define NSN_PROTO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct nsn_store;
struct nsn_store_node;

/** Why a frame was refused: one line, e.g. "delta removes unknown socket cookie 42 in
 *  netns cookie 7". */
struct nsn_store_error {
	char msg[200];
};

/** What the store knows about a node. Pointers stay valid until the next call that
 *  changes the node (nsn_store_hello(), nsn_store_apply(), nsn_store_node_remove()). */
struct nsn_store_node_info {
	const char *name;
	const char *boot_id;	   /**< of the last Hello */
	const char *agent_version; /**< of the last Hello */
	uint64_t session;	   /**< of the last Hello */
	uint32_t interval_ms;	   /**< of the last Hello */
	uint64_t hellos;	   /**< sessions started (Hellos applied) */
	bool synced;		   /**< a ScanDone(full=true) came since the last Hello */
	size_t namespaces;	   /**< namespaces held */
	size_t sockets;		   /**< sockets held, all namespaces */
	/** The last ScanDone of the current boot and session (all zero before the first) */
	bool has_scan;
	uint64_t scan;	  /**< the agent's scan number */
	uint64_t time_ms; /**< when it finished, Unix epoch milliseconds */
	uint32_t scan_ms;
	uint32_t vanished, failed;
	uint32_t scan_namespaces; /**< what the agent said the node has now */
	uint64_t scan_sockets;
	const char *backend;   /**< where its sockets came from: "bpf", "netlink", or "" (an
				    agent too old to say, or no scan yet) */
	char *const *warnings; /**< the scan's warnings, NULL-terminated */
	size_t n_warnings;
	/** The last AgentStats (of a Hello or a ScanDone; all zero if none came). */
	const Nsnet__V1__AgentStats *stats;
};

/** A new, empty store; NULL on ENOMEM. */
struct nsn_store *nsn_store_new(void);

/** Free the store, its nodes and everything they hold. NULL-safe. */
void nsn_store_free(struct nsn_store *store);

/**
 * Apply a Hello: find or create the node named @p hello->node and start a new session
 * of it (see the file comment).
 * @return 0 with the node in *ret_node (owned by the store), -EPROTO (with
 *         @p ret_err filled in when not NULL) for a Hello that is not an agent's or
 *         names no node, or -ENOMEM.
 */
int nsn_store_hello(struct nsn_store *store, const Nsnet__V1__Hello *hello,
		    struct nsn_store_node **ret_node, struct nsn_store_error *ret_err);

/**
 * Apply one frame of @p node's session: a snapshot (replaces the namespace whole),
 * a delta (sockets added, removed and changed by cookie; header, containers, routes
 * and rules replaced when present; links replaced or added by ifindex and removed by
 * ifindex; counters set or added, and removed, by name), a gone, or a scan_done
 * (remembered; full=true also ends the resync).
 *
 * Sockets without a cookie (0) or repeating one are kept as sent in a snapshot (raw
 * sockets read from /proc/net/raw have none); a delta may add cookie-less sockets but
 * can name only cookies it can find. A delta is checked before anything is changed,
 * except for contradictions within the delta itself (a cookie added twice), which may
 * leave it half applied: the connection is closed anyway and the resync replaces it.
 *
 * @return 0, -ENOMEM, or -EPROTO with @p ret_err filled in (when not NULL): a delta
 *         for a namespace not sent in this session, a gone for an unknown one, a delta
 *         that adds a cookie already there or changes or removes one that is not, a
 *         link or counter removed that is not there, a namespace without an id, or a
 *         frame an agent does not send (hello: use nsn_store_hello(); welcome, ack,
 *         error, query, response).
 */
int nsn_store_apply(struct nsn_store_node *node, const NsnFrame *f,
		    struct nsn_store_error *ret_err);

/** The node named @p name, or NULL. */
struct nsn_store_node *nsn_store_node_find(const struct nsn_store *store, const char *name);

/** How many nodes the store has. */
size_t nsn_store_node_count(const struct nsn_store *store);

/** The @p i-th node (0 <= i < count), in the order of their first Hello; NULL past the end. */
struct nsn_store_node *nsn_store_node_at(const struct nsn_store *store, size_t i);

/** Forget a node and everything it holds. NULL-safe. */
void nsn_store_node_remove(struct nsn_store_node *node);

/** Fill @p ret with what the store knows about @p node (see the struct). */
void nsn_store_node_info(const struct nsn_store_node *node, struct nsn_store_node_info *ret);

/**
 * The node's namespaces as full snapshots, in the order nsn_gather() sorts them (host
 * first, then named ones by first name, then by inode), for nsn_pb_decode_scan() or a
 * query response. Sockets keep the order they were sent in (deltas' additions after).
 * Namespaces still unconfirmed by a resync in progress are included: they are the
 * last state known.
 * @return 0 with a new array of *ret_n snapshots in *ret_snaps (free both with
 *         nsn_store_snapshots_free()), or -ENOMEM.
 */
int nsn_store_node_snapshots(const struct nsn_store_node *node,
			     Nsnet__V1__NamespaceSnapshot ***ret_snaps, size_t *ret_n);

/** Free what nsn_store_node_snapshots() returned. NULL-safe. */
void nsn_store_snapshots_free(Nsnet__V1__NamespaceSnapshot **snaps, size_t n);

/** Bytes the store holds (packed data and its tables; allocator overhead excluded). */
size_t nsn_store_memory(const struct nsn_store *store);

/* ---- reading in place ------------------------------------------------------------
 * The collector answers queries and renders metrics from what the store holds packed,
 * without unpacking whole namespaces: a view names one namespace, its parts come as
 * the packed bytes the store keeps. Views and the bytes they lead to are valid until
 * the node changes. */

/** One namespace of a node, as the store holds it. */
struct nsn_store_netns_view {
	const struct nsn_store_node *node;
	const void *ns; /**< internal */
	uint64_t cookie, dev, inode;
	bool host;
	const char *name;  /**< its first name, NULL if it has none */
	bool confirmed;    /**< sent again since the node's last Hello */
	size_t n_sockets;  /**< sockets held */
	size_t n_links;
	size_t n_counters;
};

/**
 * The node's namespaces in the order nsn_store_node_snapshots() returns them.
 * @return 0 with a new array (free()) of *ret_n views in *ret, or -ENOMEM.
 */
int nsn_store_node_views(const struct nsn_store_node *node, struct nsn_store_netns_view **ret,
			 size_t *ret_n);

/** The parts of a namespace for nsn_store_view_pack(). */
enum {
	NSN_STORE_PART_CONTAINERS = 1u << 0,
	NSN_STORE_PART_ROUTES = 1u << 1, /**< routes and rules */
	NSN_STORE_PART_LINKS = 1u << 2,
	NSN_STORE_PART_COUNTERS = 1u << 3,
	NSN_STORE_PART_SOCKETS = 1u << 4,
};

/** Which sockets nsn_store_view_pack() includes: called with each packed nsnet.v1.Socket. */
typedef bool (*nsn_store_sock_fn)(const uint8_t *sock, size_t len, void *ctx);

/** A growable byte buffer. */
struct nsn_buf {
	uint8_t *data;
	size_t len, cap;
};
/** Make room for @p more bytes after len; -ENOMEM. */
int nsn_buf_reserve(struct nsn_buf *b, size_t more);
void nsn_buf_release(struct nsn_buf *b);

/**
 * Append the namespace of @p v to @p out as the body of a packed NamespaceSnapshot (no
 * tag or length of its own): its header (id, host, names, pid, nprocs, err, current)
 * always, the @p parts asked for, and the sockets @p keep accepts (all when NULL).
 * Sockets start at slot *@p cursor; the other parts come only with the first piece
 * (*cursor == 0). Once more than @p budget bytes were appended (0: no limit) it stops
 * after the socket that crossed it and leaves the next slot in *cursor; when every
 * slot was seen, *cursor is SIZE_MAX.
 * @return the sockets included, or -ENOMEM (out may then hold a partial piece: the
 *         caller drops it).
 */
long nsn_store_view_pack(const struct nsn_store_netns_view *v, unsigned parts,
			 nsn_store_sock_fn keep, void *ctx, size_t budget, size_t *cursor,
			 struct nsn_buf *out);

/** The packed header fields of the namespace (the id, host, names, ...), as a
 *  NamespaceSnapshot body; *ret_len 0 when there is none. */
const uint8_t *nsn_store_view_head(const struct nsn_store_netns_view *v, size_t *ret_len);

/** The packed `containers` field(s) of the namespace as a NamespaceSnapshot body (unpack
 *  with nsnet__v1__namespace_snapshot__unpack()); NULL with *ret_len 0 when it has none. */
const uint8_t *nsn_store_view_containers(const struct nsn_store_netns_view *v, size_t *ret_len);

/** Socket slot @p slot (0 <= slot < nsn_store_view_socket_slots()) as a packed
 *  nsnet.v1.Socket, or NULL for an empty slot (a socket removed). */
size_t nsn_store_view_socket_slots(const struct nsn_store_netns_view *v);
const uint8_t *nsn_store_view_socket(const struct nsn_store_netns_view *v, size_t slot,
				     size_t *ret_len);

/** Link @p i (0 <= i < n_links, by ifindex) as a packed nsnet.v1.Link. */
const uint8_t *nsn_store_view_link(const struct nsn_store_netns_view *v, size_t i, size_t *ret_len);

/** Counter @p i (0 <= i < n_counters): its name and value. */
void nsn_store_view_counter(const struct nsn_store_netns_view *v, size_t i, const char **ret_name,
			    int64_t *ret_value);

/** The value of the counter named @p name; false when the namespace has none. */
bool nsn_store_view_counter_find(const struct nsn_store_netns_view *v, const char *name,
				 int64_t *ret_value);

#endif
