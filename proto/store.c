/* SPDX-License-Identifier: MIT */
/* The store: what agents' frames say their nodes have, kept packed.
 *
 * A namespace is never held unpacked. Each part is kept as the bytes it has inside a
 * packed NamespaceSnapshot (the header fields, the containers, routes and rules
 * fields), each socket and link as its packed message, each counter as an interned
 * name and a value. Protobuf merges concatenated encodings of one message and the
 * parts set disjoint fields, so materializing a namespace is a concatenation and one
 * unpack: no per-field conversion to keep in step with the schema, and fields a newer
 * agent adds to a socket or link survive the round trip.
 *
 * Sockets live in an ordered hash: entries in arrival order (what a snapshot sent
 * comes back in the same order, as the agent's scan had it) plus an open-addressing
 * index of positions keyed by cookie. Removal leaves a hole that a later compaction
 * closes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

/* ---- packed bytes ------------------------------------------------------------ */


static void blob_free(struct blob *b, size_t *acct)
{
	if (!b)
		return;
	*acct -= blob_size(b);
	free(b);
}

/* Pack @p m into a new blob; -ENOMEM, or -EMSGSIZE past 4 GiB. */
static int blob_pack(const ProtobufCMessage *m, size_t *acct, struct blob **ret)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	struct blob *b;

	if (n > UINT32_MAX - sizeof(*b))
		return -EMSGSIZE;
	b = malloc(sizeof(*b) + n);
	if (!b)
		return -ENOMEM;
	b->len = (uint32_t)protobuf_c_message_pack(m, b->data);
	*acct += blob_size(b);
	*ret = b;
	return 0;
}

/* ---- ordered hash -------------------------------------------------------------- */

typedef bool (*otab_eq_fn)(const void *val, const void *ctx);

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void otab_init(struct otab *t, bool unique, size_t *acct)
{
	memset(t, 0, sizeof(*t));
	t->unique = unique;
	t->acct = acct;
}

static size_t otab_bytes(const struct otab *t)
{
	return (size_t)t->cap * sizeof(*t->ents) +
	       (t->idx ? ((size_t)t->mask + 1) * sizeof(*t->idx) : 0);
}

/* Free the tables, not the values. */
static void otab_release(struct otab *t)
{
	*t->acct -= otab_bytes(t);
	free(t->ents);
	free(t->idx);
	t->ents = NULL;
	t->idx = NULL;
	t->n = t->cap = t->live = t->indexed = t->mask = 0;
}

static uint32_t otab_find(const struct otab *t, uint64_t key, otab_eq_fn eq, const void *ctx)
{
	if (!t->idx)
		return OTAB_NONE;
	for (uint32_t s = (uint32_t)mix64(key) & t->mask;; s = (s + 1) & t->mask) {
		uint32_t v = t->idx[s];

		if (!v)
			return OTAB_NONE;
		if (t->ents[v - 1].key == key && (!eq || eq(t->ents[v - 1].val, ctx)))
			return v - 1;
	}
}

static void idx_put(struct otab *t, uint32_t pos)
{
	uint32_t s = (uint32_t)mix64(t->ents[pos].key) & t->mask;

	while (t->idx[s])
		s = (s + 1) & t->mask;
	t->idx[s] = pos + 1;
	t->indexed++;
}

static bool indexable(const struct otab *t, uint32_t pos)
{
	uint64_t key = t->ents[pos].key;

	return !t->unique || (key != 0 && otab_find(t, key, NULL, NULL) == OTAB_NONE);
}

/* A load of at most 3/4 keeps linear probes short (about 2.5 on a miss) at 4 bytes a
 * slot: 1.3 to 2.7 slots per entry. */
static bool idx_full(uint64_t entries, uint64_t slots)
{
	return 4 * entries > 3 * slots;
}

static uint32_t idx_slots(uint32_t want)
{
	uint32_t n = 16;

	while (idx_full(want, n))
		n *= 2;
	return n;
}

/* Drop removed entries (when @p compact) and index the rest again in @p slots slots.
 * The new index is allocated first, so a failure changes nothing. */
static int otab_rebuild(struct otab *t, uint32_t slots, bool compact)
{
	uint32_t *idx = calloc(slots, sizeof(*idx));
	size_t before = otab_bytes(t);

	if (!idx)
		return -ENOMEM;
	if (compact) {
		uint32_t k = 0;

		for (uint32_t i = 0; i < t->n; i++)
			if (t->ents[i].val)
				t->ents[k++] = t->ents[i];
		t->n = k;
		if (t->cap > 16 && t->cap / 4 > k) {
			uint32_t cap = k < 8 ? 8 : k + k / 2;
			struct ent *e = realloc(t->ents, cap * sizeof(*e));

			if (e) {
				t->ents = e;
				t->cap = cap;
			}
		}
	}
	free(t->idx);
	t->idx = idx;
	t->mask = slots - 1;
	t->indexed = 0;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->ents[i].val && indexable(t, i))
			idx_put(t, i);
	*t->acct += otab_bytes(t);
	*t->acct -= before;
	return 0;
}

/* Room for @p want entries in all, allocated exactly (a snapshot says how many
 * sockets are coming: no doubling slack). Best effort: on ENOMEM appends grow as usual. */
static void otab_reserve(struct otab *t, uint32_t want)
{
	if (want <= t->cap || want >= OTAB_NONE / 2)
		return;
	struct ent *e = realloc(t->ents, want * sizeof(*e));
	if (!e)
		return;
	*t->acct += (size_t)(want - t->cap) * sizeof(*e);
	t->ents = e;
	t->cap = want;
	if (!t->idx || idx_full(want, (uint64_t)t->mask + 1))
		(void)otab_rebuild(t, idx_slots(want), false);
}

/* Append; the position in *ret_pos (if not NULL). */
static int otab_append(struct otab *t, uint64_t key, void *val, uint32_t *ret_pos)
{
	int r;

	if (t->n == t->cap) {
		/* Holes of removed entries first (churn appends as much as it removes):
		 * closing them beats growing once they are an eighth. */
		if (t->n - t->live >= t->n / 8 && t->n > t->live && t->idx) {
			r = otab_rebuild(t, t->mask + 1, true);
			if (r < 0)
				return r;
		}
		if (t->n == t->cap) {
			if (t->cap >= OTAB_NONE / 2)
				return -ENOMEM;
			uint32_t cap = t->cap ? t->cap + t->cap / 2 + 1 : 8;
			struct ent *e = realloc(t->ents, cap * sizeof(*e));

			if (!e)
				return -ENOMEM;
			*t->acct += (size_t)(cap - t->cap) * sizeof(*e);
			t->ents = e;
			t->cap = cap;
		}
	}
	if (!t->idx || idx_full((uint64_t)t->indexed + 1, (uint64_t)t->mask + 1)) {
		r = otab_rebuild(t, idx_slots(t->indexed + 1), false);
		if (r < 0)
			return r;
	}
	t->ents[t->n] = (struct ent){key, val};
	if (indexable(t, t->n))
		idx_put(t, t->n);
	if (ret_pos)
		*ret_pos = t->n;
	t->n++;
	t->live++;
	return 0;
}

/* Remove the entry at @p pos from the index (linear probing with backward shift, so
 * no tombstones), then from the entries; compact when holes outnumber entries. */
static void otab_remove_at(struct otab *t, uint32_t pos, bool may_compact)
{
	if (t->idx) {
		uint32_t i = (uint32_t)mix64(t->ents[pos].key) & t->mask;

		while (t->idx[i] && t->idx[i] != pos + 1)
			i = (i + 1) & t->mask;
		if (t->idx[i]) {
			for (uint32_t j = i;;) {
				j = (j + 1) & t->mask;
				if (!t->idx[j])
					break;
				uint32_t k = (uint32_t)mix64(t->ents[t->idx[j] - 1].key) & t->mask;
				/* Move it unless its home lies cyclically in (i, j]. */
				if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
					t->idx[i] = t->idx[j];
					i = j;
				}
			}
			t->idx[i] = 0;
			t->indexed--;
		}
	}
	t->ents[pos].val = NULL;
	t->live--;
	if (may_compact && t->n - t->live > 32 && t->n - t->live > t->live)
		(void)otab_rebuild(t, idx_slots(t->live), true); /* on ENOMEM, stay as is */
}

/* ---- the model ----------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int proto_err(struct nsn_store_error *e,
							   const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

static const char *str(const char *s)
{
	return s ? s : "";
}

/* ---- counter names ------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static bool name_eq(const void *val, const void *ctx)
{
	return strcmp(val, ctx) == 0;
}

static uint32_t name_find(const struct nsn_store *st, const char *name)
{
	return otab_find(&st->names, hash_str(name), name_eq, name);
}

uint32_t nsn__store_name_find(const struct nsn_store *st, const char *name)
{
	return name_find(st, name);
}

static int name_intern(struct nsn_store *st, const char *name, uint32_t *ret)
{
	uint32_t id = name_find(st, name);
	char *copy;
	int r;

	if (id != OTAB_NONE) {
		*ret = id;
		return 0;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	r = otab_append(&st->names, hash_str(name), copy, ret);
	if (r < 0) {
		free(copy);
		return r;
	}
	st->bytes += strlen(name) + 1;
	return 0;
}

/* ---- namespaces ---------------------------------------------------------------- */

struct nsid {
	uint64_t cookie, dev, inode;
};

/* A cookie alone identifies a namespace; without one, dev and inode do. */
static uint64_t ns_key(const struct nsid *id)
{
	return id->cookie ? id->cookie : mix64(id->dev * 0x9e3779b97f4a7c15ull ^ id->inode);
}

static bool ns_eq(const void *val, const void *ctx)
{
	const struct sns *ns = val;
	const struct nsid *id = ctx;

	if (ns->cookie || id->cookie)
		return ns->cookie == id->cookie;
	return ns->dev == id->dev && ns->inode == id->inode;
}

static struct nsid ns_id(const Nsnet__V1__NetnsId *m)
{
	return (struct nsid){m->cookie, m->dev, m->inode};
}

static const char *ns_name(const struct nsid *id, char *buf, size_t len)
{
	if (id->cookie)
		snprintf(buf, len, "netns cookie %llu", (unsigned long long)id->cookie);
	else
		snprintf(buf, len, "netns dev %llu inode %llu", (unsigned long long)id->dev,
			 (unsigned long long)id->inode);
	return buf;
}

static uint32_t ns_find(const struct nsn_store_node *n, const struct nsid *id)
{
	return otab_find(&n->ns, ns_key(id), ns_eq, id);
}

static void slab_release(struct nsn_store_node *n, struct sns *ns)
{
	n->store->bytes -= ns->slab_size;
	free(ns->slab);
	ns->slab = NULL;
	ns->slab_size = 0;
	ns->slab_live = ns->slab_count = 0;
}

static bool in_slab(const struct sns *ns, const struct blob *b)
{
	return ns->slab && (const uint8_t *)b >= ns->slab &&
	       (const uint8_t *)b < ns->slab + ns->slab_size;
}

/* Once most of a slab's sockets are gone (churn), its live ones move to their own
 * allocations and the slab goes: dead space stays under half a snapshot. On ENOMEM
 * the slab simply stays. */
static void slab_evacuate(struct nsn_store_node *n, struct sns *ns)
{
	for (uint32_t i = 0; i < ns->socks.n && ns->slab_live > 0; i++) {
		struct blob *b = ns->socks.ents[i].val, *c;

		if (!b || !in_slab(ns, b))
			continue;
		if (!(c = malloc(blob_size(b))))
			return; /* those moved so far are out; the rest stay in the slab */
		memcpy(c, b, blob_size(b));
		n->store->bytes += blob_size(c);
		ns->socks.ents[i].val = c;
		ns->slab_live--;
	}
	slab_release(n, ns);
}

/* Pack every live socket of the namespace into a new slab, in table order (a
 * namespace whose sockets a delta stream replaced one by one gets back to one
 * allocation). On ENOMEM nothing changes. */
static void slab_repack(struct nsn_store_node *n, struct sns *ns)
{
	size_t total = 0, off = 0;
	uint8_t *slab;

	for (uint32_t i = 0; i < ns->socks.n; i++) {
		const struct blob *b = ns->socks.ents[i].val;
		if (b)
			total += (blob_size(b) + 3) & ~(size_t)3;
	}
	if (total == 0 || !(slab = malloc(total)))
		return;
	for (uint32_t i = 0; i < ns->socks.n; i++) {
		struct blob *b = ns->socks.ents[i].val;

		if (!b)
			continue;
		memcpy(slab + off, b, blob_size(b));
		ns->socks.ents[i].val = slab + off;
		off += (blob_size(b) + 3) & ~(size_t)3;
		if (!in_slab(ns, b))
			blob_free(b, &n->store->bytes);
	}
	if (ns->slab)
		slab_release(n, ns);
	ns->slab = slab;
	ns->slab_size = total;
	ns->slab_live = ns->slab_count = ns->socks.live;
	n->store->bytes += total;
}

/* Repack when a quarter or more of the sockets (at least 32) have their own allocation. */
static void slab_maybe_repack(struct nsn_store_node *n, struct sns *ns)
{
	uint32_t own = ns->socks.live - ns->slab_live;

	if (own >= 32 && (uint64_t)own * 4 >= ns->socks.live)
		slab_repack(n, ns);
}

/* Free a socket's packed bytes, wherever they live. */
static void sock_blob_free(struct nsn_store_node *n, struct sns *ns, struct blob *b,
			   bool may_evacuate)
{
	if (!b)
		return;
	if (in_slab(ns, b)) {
		if (--ns->slab_live == 0)
			slab_release(n, ns);
		else if (may_evacuate && ns->slab_live < ns->slab_count / 2)
			slab_evacuate(n, ns);
		return;
	}
	blob_free(b, &n->store->bytes);
}

static void socks_clear(struct nsn_store_node *n, struct sns *ns)
{
	for (uint32_t i = 0; i < ns->socks.n; i++)
		sock_blob_free(n, ns, ns->socks.ents[i].val, false);
	if (ns->slab) /* sockets that never made it into the table */
		slab_release(n, ns);
	n->n_sockets -= ns->socks.live;
	otab_release(&ns->socks);
}

/* Empty a namespace's contents (not its identity). */
static void sns_clear(struct nsn_store_node *n, struct sns *ns)
{
	size_t *acct = &n->store->bytes;

	if (ns->name)
		*acct -= strlen(ns->name) + 1;
	free(ns->name);
	ns->name = NULL;
	ns->host = false;
	blob_free(ns->head, acct);
	blob_free(ns->containers, acct);
	blob_free(ns->routes, acct);
	blob_free(ns->rules, acct);
	ns->head = ns->containers = ns->routes = ns->rules = NULL;
	for (size_t i = 0; i < ns->n_links; i++)
		blob_free(ns->links[i].b, acct);
	*acct -= ns->cap_links * sizeof(*ns->links) + ns->cap_ctrs * sizeof(*ns->ctrs);
	free(ns->links);
	free(ns->ctrs);
	ns->links = NULL;
	ns->ctrs = NULL;
	ns->n_links = ns->cap_links = ns->n_ctrs = ns->cap_ctrs = ns->ctr_hint = 0;
	socks_clear(n, ns);
}

static void sns_free(struct nsn_store_node *n, struct sns *ns)
{
	sns_clear(n, ns);
	n->store->bytes -= sizeof(*ns);
	free(ns);
}

/* @p may_compact: false while the caller walks the positions. */
static void ns_remove_at(struct nsn_store_node *n, uint32_t pos, bool may_compact)
{
	struct sns *ns = n->ns.ents[pos].val;

	otab_remove_at(&n->ns, pos, may_compact);
	sns_free(n, ns);
}

static void ns_remove_all(struct nsn_store_node *n)
{
	for (uint32_t i = 0; i < n->ns.n; i++)
		if (n->ns.ents[i].val)
			sns_free(n, n->ns.ents[i].val);
	otab_release(&n->ns);
}

/* Grow an array of @p size-byte elements to hold one more. */
static int grow(void **arr, size_t n, size_t *cap, size_t size, size_t *acct)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, c * size);

	if (!p)
		return -ENOMEM;
	*acct += (c - *cap) * size;
	*arr = p;
	*cap = c;
	return 0;
}

/* ---- parts of a namespace ------------------------------------------------------ */

static int pack_head(struct nsn_store_node *n, struct sns *ns,
		     const Nsnet__V1__NamespaceSnapshot *from, const Nsnet__V1__NetnsMeta *meta)
{
	Nsnet__V1__NamespaceSnapshot h = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;
	Nsnet__V1__NetnsId id = NSNET__V1__NETNS_ID__INIT;
	struct blob *b;
	int r;

	id.cookie = ns->cookie;
	id.dev = ns->dev;
	id.inode = ns->inode;
	h.id = &id;
	if (from) {
		h.host = from->host;
		h.n_names = from->n_names;
		h.names = from->names;
		h.pid = from->pid;
		h.nprocs = from->nprocs;
		h.err = from->err;
		h.current = from->current;
		/* Fields of a newer schema are the header's by definition: keep them. */
		h.base.n_unknown_fields = from->base.n_unknown_fields;
		h.base.unknown_fields = from->base.unknown_fields;
	} else if (meta) {
		h.host = meta->host;
		h.n_names = meta->n_names;
		h.names = meta->names;
		h.pid = meta->pid;
		h.nprocs = meta->nprocs;
		h.err = meta->err;
		h.current = meta->current;
	}
	char *name = NULL;
	if (h.n_names > 0 && h.names[0] && h.names[0][0] && !(name = strdup(h.names[0])))
		return -ENOMEM;
	r = blob_pack(&h.base, &n->store->bytes, &b);
	if (r < 0) {
		free(name);
		return r;
	}
	blob_free(ns->head, &n->store->bytes);
	ns->head = b;
	if (ns->name)
		n->store->bytes -= strlen(ns->name) + 1;
	free(ns->name);
	ns->name = name;
	if (name)
		n->store->bytes += strlen(name) + 1;
	ns->host = h.host;
	return 0;
}

/* One list field of a snapshot, packed alone; NULL for an empty list. */
static int pack_list(struct nsn_store_node *n, struct blob **slot, Nsnet__V1__NamespaceSnapshot *h)
{
	struct blob *b = NULL;
	int r;

	if (h->n_containers || h->n_routes || h->n_rules) {
		r = blob_pack(&h->base, &n->store->bytes, &b);
		if (r < 0)
			return r;
	}
	blob_free(*slot, &n->store->bytes);
	*slot = b;
	return 0;
}

static int pack_containers(struct nsn_store_node *n, struct sns *ns, size_t count,
			   Nsnet__V1__NetnsContainer **list)
{
	Nsnet__V1__NamespaceSnapshot h = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;

	h.n_containers = count;
	h.containers = list;
	return pack_list(n, &ns->containers, &h);
}

static int pack_routes(struct nsn_store_node *n, struct sns *ns, size_t count,
		       Nsnet__V1__Route **list)
{
	Nsnet__V1__NamespaceSnapshot h = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;

	h.n_routes = count;
	h.routes = list;
	return pack_list(n, &ns->routes, &h);
}

static int pack_rules(struct nsn_store_node *n, struct sns *ns, size_t count,
		      Nsnet__V1__Rule **list)
{
	Nsnet__V1__NamespaceSnapshot h = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;

	h.n_rules = count;
	h.rules = list;
	return pack_list(n, &ns->rules, &h);
}

/* The position of @p ifindex in the sorted links, or where it would go. */
static size_t link_pos(const struct sns *ns, uint32_t ifindex, bool *ret_found)
{
	size_t lo = 0, hi = ns->n_links;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ns->links[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_found = lo < ns->n_links && ns->links[lo].ifindex == ifindex;
	return lo;
}

static int link_put(struct nsn_store_node *n, struct sns *ns, const Nsnet__V1__Link *l)
{
	struct blob *b;
	bool found;
	size_t pos = link_pos(ns, l->ifindex, &found);
	int r;

	if (!found) {
		r = grow((void **)&ns->links, ns->n_links, &ns->cap_links, sizeof(*ns->links),
			 &n->store->bytes);
		if (r < 0)
			return r;
	}
	r = blob_pack(&l->base, &n->store->bytes, &b);
	if (r < 0)
		return r;
	if (found) {
		blob_free(ns->links[pos].b, &n->store->bytes);
	} else {
		memmove(ns->links + pos + 1, ns->links + pos,
			(ns->n_links - pos) * sizeof(*ns->links));
		ns->n_links++;
	}
	ns->links[pos] = (struct link_ent){l->ifindex, b};
	return 0;
}

static void link_remove(struct nsn_store_node *n, struct sns *ns, size_t pos)
{
	blob_free(ns->links[pos].b, &n->store->bytes);
	memmove(ns->links + pos, ns->links + pos + 1, (ns->n_links - pos - 1) * sizeof(*ns->links));
	ns->n_links--;
}

/* The position of the counter with interned name @p id, or SIZE_MAX. */
static size_t ctr_pos(struct sns *ns, uint32_t id)
{
	for (size_t k = 0; k < ns->n_ctrs; k++) {
		size_t i = (ns->ctr_hint + k) % ns->n_ctrs;

		if (ns->ctrs[i].name == id) {
			ns->ctr_hint = i + 1;
			return i;
		}
	}
	return SIZE_MAX;
}

static int ctr_append(struct nsn_store_node *n, struct sns *ns, uint32_t id, int64_t value)
{
	int r = grow((void **)&ns->ctrs, ns->n_ctrs, &ns->cap_ctrs, sizeof(*ns->ctrs),
		     &n->store->bytes);

	if (r < 0)
		return r;
	ns->ctrs[ns->n_ctrs++] = (struct ctr){id, value};
	return 0;
}

/* Add one socket; @p unique: a cookie already there is an error (a delta's addition). */
static int sock_add(struct nsn_store_node *n, struct sns *ns, const Nsnet__V1__Socket *s,
		    bool unique, struct nsn_store_error *err)
{
	struct blob *b;
	int r;

	if (unique && s->cookie && otab_find(&ns->socks, s->cookie, NULL, NULL) != OTAB_NONE)
		return proto_err(err, "delta adds socket cookie %llu twice",
				 (unsigned long long)s->cookie);
	r = blob_pack(&s->base, &n->store->bytes, &b);
	if (r < 0)
		return r;
	r = otab_append(&ns->socks, s->cookie, b, NULL);
	if (r < 0) {
		blob_free(b, &n->store->bytes);
		return r;
	}
	n->n_sockets++;
	return 0;
}

/* A snapshot's sockets, packed one after the other into one slab. */
static int socks_add_slab(struct nsn_store_node *n, struct sns *ns,
			  const Nsnet__V1__NamespaceSnapshot *m)
{
	size_t total = 0, off = 0;
	int r = 0;

	for (size_t i = 0; i < m->n_sockets; i++) {
		size_t len = protobuf_c_message_get_packed_size(&m->sockets[i]->base);
		if (len > UINT32_MAX - sizeof(struct blob))
			return -EMSGSIZE;
		total += (sizeof(struct blob) + len + 3) & ~(size_t)3;
	}
	if (total == 0)
		return 0;
	ns->slab = malloc(total);
	if (!ns->slab)
		return -ENOMEM;
	ns->slab_size = total;
	n->store->bytes += total;
	for (size_t i = 0; i < m->n_sockets; i++) {
		struct blob *b = (struct blob *)(ns->slab + off);

		b->len = (uint32_t)protobuf_c_message_pack(&m->sockets[i]->base, b->data);
		off += (sizeof(*b) + b->len + 3) & ~(size_t)3;
		r = otab_append(&ns->socks, m->sockets[i]->cookie, b, NULL);
		if (r < 0)
			break;
		ns->slab_live++;
		n->n_sockets++;
	}
	ns->slab_count = ns->slab_live;
	if (ns->slab_live == 0)
		slab_release(n, ns);
	return r;
}

/* ---- frames -------------------------------------------------------------------- */

static int apply_snapshot(struct nsn_store_node *n, const Nsnet__V1__NamespaceSnapshot *m,
			  struct nsn_store_error *err)
{
	struct nsid id;
	struct sns *ns;
	uint32_t pos;
	int r;

	if (!m->id)
		return proto_err(err, "snapshot without a namespace id");
	id = ns_id(m->id);
	pos = ns_find(n, &id);
	if (pos != OTAB_NONE) {
		ns = n->ns.ents[pos].val;
		sns_clear(n, ns);
	} else {
		ns = calloc(1, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		n->store->bytes += sizeof(*ns);
		ns->cookie = id.cookie;
		r = otab_append(&n->ns, ns_key(&id), ns, NULL);
		if (r < 0) {
			n->store->bytes -= sizeof(*ns);
			free(ns);
			return r;
		}
	}
	/* The dev and inode may be those of a namespace the cookie names anew. */
	ns->dev = id.dev;
	ns->inode = id.inode;
	otab_init(&ns->socks, true, &n->store->bytes);
	ns->confirmed = true;
	r = pack_head(n, ns, m, NULL);
	if (r >= 0)
		r = pack_containers(n, ns, m->n_containers, m->containers);
	if (r >= 0)
		r = pack_routes(n, ns, m->n_routes, m->routes);
	if (r >= 0)
		r = pack_rules(n, ns, m->n_rules, m->rules);
	for (size_t i = 0; r >= 0 && i < m->n_links; i++)
		r = link_put(n, ns, m->links[i]);
	for (size_t i = 0; r >= 0 && i < m->n_counters; i++) {
		uint32_t name;

		r = name_intern(n->store, str(m->counters[i]->name), &name);
		if (r >= 0)
			r = ctr_append(n, ns, name, m->counters[i]->value);
	}
	if (m->n_sockets < OTAB_NONE / 2)
		otab_reserve(&ns->socks, (uint32_t)m->n_sockets);
	if (r >= 0)
		r = socks_add_slab(n, ns, m);
	return r;
}

/* Everything a delta names must be there (and what it adds must not), before anything
 * changes. */
static int check_delta(const struct nsn_store *st, struct sns *ns,
		       const Nsnet__V1__NamespaceDelta *d, const char *where,
		       struct nsn_store_error *err)
{
	bool found;

	for (size_t i = 0; i < d->n_removed; i++)
		if (!d->removed[i] || otab_find(&ns->socks, d->removed[i], NULL, NULL) == OTAB_NONE)
			return proto_err(err, "delta removes unknown socket cookie %llu in %s",
					 (unsigned long long)d->removed[i], where);
	for (size_t i = 0; i < d->n_changed; i++) {
		uint64_t c = d->changed[i]->cookie;
		if (!c || otab_find(&ns->socks, c, NULL, NULL) == OTAB_NONE)
			return proto_err(err, "delta changes unknown socket cookie %llu in %s",
					 (unsigned long long)c, where);
	}
	for (size_t i = 0; i < d->n_added; i++) {
		uint64_t c = d->added[i]->cookie;
		if (c && otab_find(&ns->socks, c, NULL, NULL) != OTAB_NONE)
			return proto_err(err, "delta adds socket cookie %llu already in %s",
					 (unsigned long long)c, where);
	}
	for (size_t i = 0; i < d->n_links_removed; i++) {
		(void)link_pos(ns, d->links_removed[i], &found);
		if (!found)
			return proto_err(err, "delta removes unknown link ifindex %u in %s",
					 d->links_removed[i], where);
	}
	for (size_t i = 0; i < d->n_counters_removed; i++) {
		uint32_t id = name_find(st, str(d->counters_removed[i]));
		if (id == OTAB_NONE || ctr_pos(ns, id) == SIZE_MAX)
			return proto_err(err, "delta removes unknown counter %s in %s",
					 str(d->counters_removed[i]), where);
	}
	return 0;
}

static int apply_delta(struct nsn_store_node *n, const Nsnet__V1__NamespaceDelta *d,
		       struct nsn_store_error *err)
{
	size_t *acct = &n->store->bytes;
	char where[64];
	struct nsid id;
	struct sns *ns;
	uint32_t pos;
	int r;

	if (!d->id)
		return proto_err(err, "delta without a namespace id");
	id = ns_id(d->id);
	ns_name(&id, where, sizeof(where));
	pos = ns_find(n, &id);
	if (pos == OTAB_NONE)
		return proto_err(err, "delta for unknown %s", where);
	ns = n->ns.ents[pos].val;
	if (!ns->confirmed)
		return proto_err(err, "delta for %s, not sent since the hello", where);
	r = check_delta(n->store, ns, d, where, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < d->n_removed; i++) {
		pos = otab_find(&ns->socks, d->removed[i], NULL, NULL);
		if (pos == OTAB_NONE) /* removed twice in this delta */
			return proto_err(err, "delta removes socket cookie %llu twice in %s",
					 (unsigned long long)d->removed[i], where);
		struct blob *gone = ns->socks.ents[pos].val;

		/* Out of the table first: an evacuation of the slab must not see it. */
		otab_remove_at(&ns->socks, pos, true);
		sock_blob_free(n, ns, gone, true);
		n->n_sockets--;
	}
	for (size_t i = 0; i < d->n_changed; i++) {
		struct blob *b;

		pos = otab_find(&ns->socks, d->changed[i]->cookie, NULL, NULL);
		if (pos == OTAB_NONE)
			return proto_err(err, "delta changes socket cookie %llu it removes in %s",
					 (unsigned long long)d->changed[i]->cookie, where);
		r = blob_pack(&d->changed[i]->base, acct, &b);
		if (r < 0)
			return r;
		struct blob *was = ns->socks.ents[pos].val;

		ns->socks.ents[pos].val = b;
		sock_blob_free(n, ns, was, true);
	}
	for (size_t i = 0; i < d->n_added; i++) {
		r = sock_add(n, ns, d->added[i], true, err);
		if (r < 0)
			return r;
	}
	slab_maybe_repack(n, ns);
	if (d->meta && (r = pack_head(n, ns, NULL, d->meta)) < 0)
		return r;
	if (d->containers && (r = pack_containers(n, ns, d->containers->n_containers,
						  d->containers->containers)) < 0)
		return r;
	if (d->routes && (r = pack_routes(n, ns, d->routes->n_routes, d->routes->routes)) < 0)
		return r;
	if (d->rules && (r = pack_rules(n, ns, d->rules->n_rules, d->rules->rules)) < 0)
		return r;
	for (size_t i = 0; i < d->n_links; i++) {
		r = link_put(n, ns, d->links[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_links_removed; i++) {
		bool found;
		size_t at = link_pos(ns, d->links_removed[i], &found);

		if (!found)
			return proto_err(err, "delta removes link ifindex %u twice in %s",
					 d->links_removed[i], where);
		link_remove(n, ns, at);
	}
	for (size_t i = 0; i < d->n_counters; i++) {
		uint32_t name;
		size_t at;

		r = name_intern(n->store, str(d->counters[i]->name), &name);
		if (r < 0)
			return r;
		at = ctr_pos(ns, name);
		if (at != SIZE_MAX)
			ns->ctrs[at].value = d->counters[i]->value;
		else if ((r = ctr_append(n, ns, name, d->counters[i]->value)) < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_counters_removed; i++) {
		uint32_t name = name_find(n->store, str(d->counters_removed[i]));
		size_t at = name == OTAB_NONE ? SIZE_MAX : ctr_pos(ns, name);

		if (at == SIZE_MAX)
			return proto_err(err, "delta removes counter %s twice in %s",
					 str(d->counters_removed[i]), where);
		memmove(ns->ctrs + at, ns->ctrs + at + 1,
			(ns->n_ctrs - at - 1) * sizeof(*ns->ctrs));
		ns->n_ctrs--;
		ns->ctr_hint = at;
	}
	return 0;
}

static int apply_gone(struct nsn_store_node *n, const Nsnet__V1__NamespaceGone *g,
		      struct nsn_store_error *err)
{
	char where[64];
	struct nsid id;
	uint32_t pos;

	if (!g->id)
		return proto_err(err, "gone without a namespace id");
	id = ns_id(g->id);
	pos = ns_find(n, &id);
	if (pos == OTAB_NONE)
		return proto_err(err, "gone for unknown %s", ns_name(&id, where, sizeof(where)));
	ns_remove_at(n, pos, true);
	return 0;
}

static void stats_set(Nsnet__V1__AgentStats *dst, const Nsnet__V1__AgentStats *src)
{
	if (!src)
		return;
	*dst = *src;
	/* Unknown fields point into the frame, which does not outlive the call. */
	dst->base.n_unknown_fields = 0;
	dst->base.unknown_fields = NULL;
}

static void warnings_free(struct nsn_store_node *n)
{
	for (size_t i = 0; i < n->n_warnings; i++) {
		n->store->bytes -= strlen(n->warnings[i]) + 1;
		free(n->warnings[i]);
	}
	free(n->warnings);
	n->warnings = NULL;
	n->n_warnings = 0;
}

/* Replace the node's backend by @p backend (taken; NULL: none), counted in the store's
 * bytes as the warnings are. */
static void backend_set(struct nsn_store_node *n, char *backend)
{
	if (n->backend)
		n->store->bytes -= strlen(n->backend) + 1;
	free(n->backend);
	n->backend = backend;
	if (backend)
		n->store->bytes += strlen(backend) + 1;
}

static int apply_scan_done(struct nsn_store_node *n, const Nsnet__V1__ScanDone *d)
{
	char **w = calloc(d->n_warnings + 1, sizeof(*w));
	char *backend;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_warnings; i++) {
		w[i] = strdup(str(d->warnings[i]));
		if (!w[i]) {
			while (i--)
				free(w[i]);
			free(w);
			return -ENOMEM;
		}
	}
	backend = strdup(str(d->backend));
	if (!backend) {
		for (size_t i = 0; i < d->n_warnings; i++)
			free(w[i]);
		free(w);
		return -ENOMEM;
	}
	backend_set(n, backend);
	warnings_free(n);
	n->warnings = w;
	n->n_warnings = d->n_warnings;
	for (size_t i = 0; i < n->n_warnings; i++)
		n->store->bytes += strlen(w[i]) + 1;
	n->has_scan = true;
	n->scan = d->scan;
	n->time_ms = d->time_ms;
	n->scan_ms = d->scan_ms;
	n->vanished = d->vanished;
	n->failed = d->failed;
	n->scan_namespaces = d->namespaces;
	n->scan_sockets = d->sockets;
	stats_set(&n->stats, d->stats);
	if (d->full) {
		/* The full resync sent every namespace the node has: the rest are gone. */
		for (uint32_t i = 0; i < n->ns.n; i++) {
			const struct sns *ns = n->ns.ents[i].val;
			if (ns && !ns->confirmed)
				ns_remove_at(n, i, false);
		}
		if (n->ns.n - n->ns.live > n->ns.live)
			(void)otab_rebuild(&n->ns, idx_slots(n->ns.live),
					   true); /* on ENOMEM, stay as is */
		n->synced = true;
	}
	return 0;
}

int nsn_store_apply(struct nsn_store_node *node, const NsnFrame *f, struct nsn_store_error *ret_err)
{
	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_SNAPSHOT: return apply_snapshot(node, f->snapshot, ret_err);
	case NSNET__V1__FRAME__BODY_DELTA: return apply_delta(node, f->delta, ret_err);
	case NSNET__V1__FRAME__BODY_GONE: return apply_gone(node, f->gone, ret_err);
	case NSNET__V1__FRAME__BODY_SCAN_DONE: return apply_scan_done(node, f->scan_done);
	case NSNET__V1__FRAME__BODY_HELLO:
		return proto_err(ret_err, "hello in the middle of a session");
	default:
		return proto_err(ret_err, "unexpected %s frame from an agent",
				 nsn_wire_body_name(f));
	}
}

/* ---- nodes --------------------------------------------------------------------- */

struct nsn_store *nsn_store_new(void)
{
	struct nsn_store *st = calloc(1, sizeof(*st));

	if (st)
		otab_init(&st->names, false, &st->bytes);
	return st;
}

static void node_free(struct nsn_store_node *n)
{
	ns_remove_all(n);
	warnings_free(n);
	backend_set(n, NULL);
	n->store->bytes -= sizeof(*n);
	free(n->name);
	free(n->boot_id);
	free(n->agent_version);
	free(n);
}

void nsn_store_free(struct nsn_store *store)
{
	if (!store)
		return;
	for (size_t i = 0; i < store->n_nodes; i++)
		node_free(store->nodes[i]);
	free(store->nodes);
	for (uint32_t i = 0; i < store->names.n; i++)
		free(store->names.ents[i].val);
	otab_release(&store->names);
	free(store);
}

struct nsn_store_node *nsn_store_node_find(const struct nsn_store *store, const char *name)
{
	for (size_t i = 0; i < store->n_nodes; i++)
		if (strcmp(store->nodes[i]->name, name) == 0)
			return store->nodes[i];
	return NULL;
}

size_t nsn_store_node_count(const struct nsn_store *store)
{
	return store->n_nodes;
}

struct nsn_store_node *nsn_store_node_at(const struct nsn_store *store, size_t i)
{
	return i < store->n_nodes ? store->nodes[i] : NULL;
}

void nsn_store_node_remove(struct nsn_store_node *node)
{
	struct nsn_store *st;

	if (!node)
		return;
	st = node->store;
	for (size_t i = 0; i < st->n_nodes; i++) {
		if (st->nodes[i] == node) {
			memmove(st->nodes + i, st->nodes + i + 1,
				(st->n_nodes - i - 1) * sizeof(*st->nodes));
			st->n_nodes--;
			break;
		}
	}
	node_free(node);
}

/* Replace *@p slot by a copy of @p s; false on ENOMEM (*slot unchanged). */
static bool set_str(char **slot, const char *s)
{
	char *c = strdup(str(s));

	if (!c)
		return false;
	free(*slot);
	*slot = c;
	return true;
}

int nsn_store_hello(struct nsn_store *store, const Nsnet__V1__Hello *hello,
		    struct nsn_store_node **ret_node, struct nsn_store_error *ret_err)
{
	struct nsn_store_node *n;
	bool fresh = false;

	*ret_node = NULL;
	if (hello->role != NSNET__V1__HELLO__ROLE__AGENT)
		return proto_err(ret_err, "hello with role %d, not an agent's", (int)hello->role);
	if (!hello->node || !hello->node[0])
		return proto_err(ret_err, "hello without a node name");
	n = nsn_store_node_find(store, hello->node);
	if (!n) {
		size_t cap = store->cap_nodes;
		if (store->n_nodes == cap) {
			void *p =
			    realloc(store->nodes, (cap ? cap * 2 : 8) * sizeof(*store->nodes));
			if (!p)
				return -ENOMEM;
			store->nodes = p;
			store->cap_nodes = cap ? cap * 2 : 8;
		}
		n = calloc(1, sizeof(*n));
		if (!n || !(n->name = strdup(hello->node))) {
			free(n);
			return -ENOMEM;
		}
		n->store = store;
		store->bytes += sizeof(*n);
		otab_init(&n->ns, false, &store->bytes);
		nsnet__v1__agent_stats__init(&n->stats);
		store->nodes[store->n_nodes++] = n;
		fresh = true;
	}
	if (!fresh &&
	    (strcmp(str(n->boot_id), str(hello->boot_id)) != 0 || n->session != hello->session)) {
		/* A reboot or a new agent process: nothing it says builds on what we have. */
		ns_remove_all(n);
		warnings_free(n);
		backend_set(n, NULL);
		n->has_scan = false;
		n->scan = n->time_ms = n->scan_sockets = 0;
		n->scan_ms = n->vanished = n->failed = n->scan_namespaces = 0;
	}
	if (!set_str(&n->boot_id, hello->boot_id) ||
	    !set_str(&n->agent_version, hello->agent_version))
		return -ENOMEM;
	n->session = hello->session;
	n->interval_ms = hello->interval_ms;
	stats_set(&n->stats, hello->stats);
	n->hellos++;
	n->synced = false;
	for (uint32_t i = 0; i < n->ns.n; i++) {
		struct sns *ns = n->ns.ents[i].val;
		if (ns)
			ns->confirmed = false;
	}
	*ret_node = n;
	return 0;
}

void nsn_store_node_info(const struct nsn_store_node *n, struct nsn_store_node_info *ret)
{
	static char *const none[] = {NULL};

	*ret = (struct nsn_store_node_info){
	    .name = n->name,
	    .boot_id = str(n->boot_id),
	    .agent_version = str(n->agent_version),
	    .session = n->session,
	    .interval_ms = n->interval_ms,
	    .hellos = n->hellos,
	    .synced = n->synced,
	    .namespaces = n->ns.live,
	    .sockets = n->n_sockets,
	    .has_scan = n->has_scan,
	    .scan = n->scan,
	    .time_ms = n->time_ms,
	    .scan_ms = n->scan_ms,
	    .vanished = n->vanished,
	    .failed = n->failed,
	    .scan_namespaces = n->scan_namespaces,
	    .scan_sockets = n->scan_sockets,
	    .backend = str(n->backend),
	    .warnings = n->warnings ? n->warnings : none,
	    .n_warnings = n->n_warnings,
	    .stats = &n->stats,
	};
}

size_t nsn_store_memory(const struct nsn_store *store)
{
	return sizeof(*store) + store->cap_nodes * sizeof(*store->nodes) + store->bytes;
}
