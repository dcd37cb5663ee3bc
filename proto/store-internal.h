/* SPDX-License-Identifier: MIT */
/* The store's records, shared by store.c (applying frames) and store-read.c (reading
 * them back: snapshots and views). Not installed; nothing outside proto/store*.c uses it. */
#ifndef NSN_PROTO_STORE_INTERNAL_H
#define NSN_PROTO_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* ---- packed bytes ------------------------------------------------------------ */

struct blob {
	uint32_t len;
	uint8_t data[];
};

static inline size_t blob_size(const struct blob *b)
{
	return b ? sizeof(*b) + b->len : 0;
}

/* ---- ordered hash -------------------------------------------------------------- */

#define OTAB_NONE UINT32_MAX

struct ent {
	uint64_t key;
	void *val; /* NULL: removed */
};

/* Entries in insertion order and an index of their positions. In unique mode (sockets)
 * an entry is indexed when its key is not 0 and not indexed already, so repeated or
 * missing keys are kept but only the first of a key can be found. Otherwise (the
 * namespaces, the counter names) every entry is indexed and a key may repeat: callers
 * tell entries apart with an eq() callback. */
struct otab {
	struct ent *ents;
	uint32_t n, cap, live;
	uint32_t *idx; /* 0: empty slot, else position + 1 */
	uint32_t mask; /* slots - 1 (idx != NULL) */
	uint32_t indexed;
	bool unique;
	size_t *acct;
};

/* ---- the model ----------------------------------------------------------------- */

struct link_ent {
	uint32_t ifindex;
	struct blob *b; /* packed Link */
};

struct ctr {
	uint32_t name; /* interned */
	int64_t value;
};

struct sns {
	uint64_t cookie, dev, inode;
	bool confirmed;	   /* sent since the node's last Hello */
	bool host;	   /* of the header: the host's namespace */
	char *name;	   /* of the header: its first name, or NULL (the sort key) */
	struct blob *head; /* NamespaceSnapshot fields id, host, names, pid, nprocs, err, current */
	struct blob *containers; /* NamespaceSnapshot field containers */
	struct blob *routes;	 /* ... routes */
	struct blob *rules;	 /* ... rules */
	struct link_ent *links;	 /* by ifindex */
	size_t n_links, cap_links;
	struct ctr *ctrs; /* in the order sent; new ones appended */
	size_t n_ctrs, cap_ctrs;
	size_t ctr_hint;   /* deltas list counters in order: start looking after the last */
	struct otab socks; /* cookie -> packed Socket */
	/* A snapshot's sockets are packed into one allocation (no malloc header and
	 * rounding per socket: ~14 bytes each); the slab is freed when its last socket is
	 * removed or replaced. Sockets a delta adds have their own allocation. */
	uint8_t *slab;
	size_t slab_size;
	uint32_t slab_live, slab_count;
};

struct nsn_store_node {
	struct nsn_store *store;
	char *name, *boot_id, *agent_version;
	uint64_t session;
	uint32_t interval_ms;
	uint64_t hellos;
	bool synced;
	struct otab ns; /* key -> struct sns */
	size_t n_sockets;
	bool has_scan;
	uint64_t scan, time_ms, scan_sockets;
	uint32_t scan_ms, vanished, failed, scan_namespaces;
	char *backend; /* of the last ScanDone; NULL before */
	char **warnings;
	size_t n_warnings;
	Nsnet__V1__AgentStats stats;
};

struct nsn_store {
	struct nsn_store_node **nodes;
	size_t n_nodes, cap_nodes;
	struct otab names; /* counter names; position = id */
	size_t bytes;
};

/* The interned id of a counter name, or OTAB_NONE. */
uint32_t nsn__store_name_find(const struct nsn_store *st, const char *name);

#endif
