/* SPDX-License-Identifier: MIT */
/* What the collector has, as fingerprints, and the frames that move it to a new scan.
 *
 * Every socket, link and list is encoded anyway to be sent, so its fingerprint is the
 * hash of its packed bytes: no field-by-field comparison to keep in step with the
 * schema, and a field added to the schema is tracked for free. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

struct fp {
	uint64_t key; /* socket cookie, or link ifindex */
	uint64_t h;
};

struct cfp {
	char *name;
	int64_t value;
};

struct sent_ns {
	uint64_t cookie, dev, inode;
	uint64_t meta_h, cont_h, routes_h, rules_h;
	struct fp *socks; /* sorted by key, then h */
	size_t n_socks;
	struct fp *links; /* sorted by key */
	size_t n_links;
	struct cfp *ctrs; /* in the scan's order */
	size_t n_ctrs;
	bool seen;
	bool weak; /* its cookies could not serve as keys (see encode_socks()) */
};

struct nsn_sync {
	struct sent_ns *ns; /* sorted by (cookie, dev, inode) */
	size_t n, cap;
	uint8_t *scratch;
	size_t scratch_cap;
	size_t bytes;
};

/* One namespace's diff in progress. */
struct work {
	struct nsn_sync *s;
	const struct nsn_scan *scan;
	const struct nsn_netns *ns;
	unsigned parts;
	struct nsn_pb_arena *a;
	nsn_sync_emit_fn emit;
	void *ud;
	struct nsn_sync_stats *st;
	Nsnet__V1__Socket **socks; /* encoded, sorted like fps */
	struct fp *fps;
	size_t n_socks;
	bool weak; /* the cookies cannot serve as keys */
};

/* What nsn_sync_memory() counts for one namespace (a counter: its name and value). */
static size_t sent_ns_bytes(const struct sent_ns *e)
{
	return (e->n_socks + e->n_links) * sizeof(struct fp) + e->n_ctrs * 32;
}

static void sent_ns_release(struct sent_ns *e)
{
	free(e->socks);
	free(e->links);
	for (size_t i = 0; i < e->n_ctrs; i++)
		free(e->ctrs[i].name);
	free(e->ctrs);
	memset(e, 0, sizeof(*e));
}

struct nsn_sync *nsn_sync_new(void)
{
	return calloc(1, sizeof(struct nsn_sync));
}

void nsn_sync_reset(struct nsn_sync *s)
{
	for (size_t i = 0; i < s->n; i++)
		sent_ns_release(&s->ns[i]);
	s->n = 0;
	s->bytes = 0;
}

void nsn_sync_free(struct nsn_sync *s)
{
	if (!s)
		return;
	nsn_sync_reset(s);
	free(s->ns);
	free(s->scratch);
	free(s);
}

int nsn_sync_is_full(const struct nsn_sync *s)
{
	return s->n == 0;
}

size_t nsn_sync_memory(const struct nsn_sync *s)
{
	return sizeof(*s) + s->cap * sizeof(*s->ns) + s->scratch_cap + s->bytes;
}

/* 64-bit hash of a byte string (FNV-1a over 8-byte words, then a murmur finalizer):
 * collisions would hide a change, so 64 bits, not 32. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static int fingerprint(struct nsn_sync *s, const ProtobufCMessage *m, uint64_t *ret)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	if (n > s->scratch_cap) {
		size_t cap = n < 4096 ? 4096 : n * 2;
		uint8_t *b = realloc(s->scratch, cap);

		if (!b)
			return -ENOMEM;
		s->scratch = b;
		s->scratch_cap = cap;
	}
	protobuf_c_message_pack(m, s->scratch);
	*ret = hash_bytes(s->scratch, n);
	return 0;
}

static int key_cmp(uint64_t c1, uint64_t d1, uint64_t i1, uint64_t c2, uint64_t d2, uint64_t i2)
{
	if (c1 != c2)
		return c1 < c2 ? -1 : 1;
	if (c1)
		return 0; /* a cookie alone identifies a namespace */
	if (d1 != d2)
		return d1 < d2 ? -1 : 1;
	return i1 < i2 ? -1 : i1 > i2;
}

static int cmp_sent(const void *x, const void *y)
{
	const struct sent_ns *a = x, *b = y;

	return key_cmp(a->cookie, a->dev, a->inode, b->cookie, b->dev, b->inode);
}

static struct sent_ns *sent_find(struct nsn_sync *s, const struct nsn_netns *ns)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct sent_ns *e = &s->ns[mid];
		int c = key_cmp(ns->cookie, ns->dev, ns->inode, e->cookie, e->dev, e->inode);

		if (c == 0)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static NsnFrame *frame_new(struct nsn_pb_arena *a)
{
	NsnFrame *f = nsn_pb_arena_alloc(a, sizeof(*f));

	if (f)
		nsnet__v1__frame__init(f);
	return f;
}

static Nsnet__V1__NamespaceDelta *delta_new(struct work *w, NsnFrame **ret_frame)
{
	NsnFrame *f = frame_new(w->a);
	Nsnet__V1__NamespaceDelta *d = nsn_pb_arena_alloc(w->a, sizeof(*d));

	if (!f || !d)
		return NULL;
	nsnet__v1__namespace_delta__init(d);
	if (nsn_pb_encode_id(w->a, w->ns, &d->id) < 0)
		return NULL;
	f->body_case = NSNET__V1__FRAME__BODY_DELTA;
	f->delta = d;
	*ret_frame = f;
	return d;
}

static int emit(struct work *w, NsnFrame *f)
{
	w->st->frames++;
	return w->emit(f, w->ud);
}

struct trip {
	uint64_t key, h;
	Nsnet__V1__Socket *m;
};

static int cmp_trip(const void *x, const void *y)
{
	const struct trip *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->h < b->h ? -1 : a->h > b->h;
}

/* Encode and fingerprint every socket of the namespace, sorted by (cookie, hash).
 * Returns 1 when the cookies cannot serve as keys (a socket without one, or a
 * duplicate, as a socket moving during the dump may produce), 0 otherwise, or -errno. */
static int encode_socks(struct work *w)
{
	const struct nsn_netns *ns = w->ns;
	size_t n = ns->n_socks;
	struct trip *t;
	bool weak = false;
	int r = 0;

	w->n_socks = 0;
	if (n == 0)
		return 0;
	t = malloc(n * sizeof(*t));
	w->fps = malloc(n * sizeof(*w->fps));
	w->socks = nsn_pb_arena_alloc(w->a, n * sizeof(*w->socks));
	if (!t || !w->fps || !w->socks) {
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		t[i].key = ns->socks[i].cookie;
		r = nsn_pb_encode_socket(w->a, w->scan, &ns->socks[i], &t[i].m);
		if (r >= 0)
			r = fingerprint(w->s, &t[i].m->base, &t[i].h);
	}
	if (r < 0) {
		free(t);
		return r;
	}
	qsort(t, n, sizeof(*t), cmp_trip);
	for (size_t i = 0; i < n; i++) {
		w->socks[i] = t[i].m;
		w->fps[i] = (struct fp){t[i].key, t[i].h};
		if (t[i].key == 0 || (i > 0 && t[i].key == t[i - 1].key))
			weak = true;
	}
	free(t);
	w->n_socks = n;
	return weak;
}

static bool repeats(const struct work *w, size_t i)
{
	uint64_t key = w->fps[i].key;

	return key != 0 && ((i > 0 && w->fps[i - 1].key == key) ||
			    (i + 1 < w->n_socks && w->fps[i + 1].key == key));
}

/* A delta may add sockets without a cookie, but not a cookie the peer already has: when
 * a namespace with repeated cookies is split, every socket whose cookie repeats goes in
 * the snapshot itself, ahead of the others (which makes the snapshot larger than
 * NSN_SYNC_CHUNK only if more sockets than that repeat a cookie). */
static int repeats_first(struct work *w, Nsnet__V1__Socket ***ret_socks, size_t *ret_first)
{
	Nsnet__V1__Socket **v = nsn_pb_arena_alloc(w->a, w->n_socks * sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < w->n_socks; i++)
		if (repeats(w, i))
			v[k++] = w->socks[i];
	if (k > *ret_first)
		*ret_first = k;
	for (size_t i = 0; i < w->n_socks; i++)
		if (!repeats(w, i))
			v[k++] = w->socks[i];
	*ret_socks = v;
	return 0;
}

static int send_snapshot(struct work *w)
{
	NsnFrame *f = frame_new(w->a);
	Nsnet__V1__NamespaceSnapshot *snap;
	Nsnet__V1__Socket **socks = w->socks;
	size_t first = w->n_socks < NSN_SYNC_CHUNK ? w->n_socks : NSN_SYNC_CHUNK;
	int r;

	if (!f)
		return -ENOMEM;
	if (w->weak && first < w->n_socks && (r = repeats_first(w, &socks, &first)) < 0)
		return r;
	r = nsn_pb_encode_netns(w->a, w->scan, w->ns, w->parts & ~(unsigned)NSN_PB_SOCKETS, &snap);
	if (r < 0)
		return r;
	if (w->parts & NSN_PB_SOCKETS) {
		snap->sockets = socks;
		snap->n_sockets = first;
	}
	f->body_case = NSNET__V1__FRAME__BODY_SNAPSHOT;
	f->snapshot = snap;
	r = emit(w, f);
	if (r < 0)
		return r;
	w->st->snapshots++;
	w->st->sockets_added += first;
	/* The rest of a large namespace follows as additions. */
	for (size_t i = first; (w->parts & NSN_PB_SOCKETS) && i < w->n_socks; i += NSN_SYNC_CHUNK) {
		Nsnet__V1__NamespaceDelta *d = delta_new(w, &f);
		size_t k = w->n_socks - i < NSN_SYNC_CHUNK ? w->n_socks - i : NSN_SYNC_CHUNK;

		if (!d)
			return -ENOMEM;
		d->added = socks + i;
		d->n_added = k;
		r = emit(w, f);
		if (r < 0)
			return r;
		w->st->sockets_added += k;
	}
	return 0;
}

/* Hashes of the lists that are replaced whole. */
struct lists {
	Nsnet__V1__NetnsMeta *meta;
	Nsnet__V1__NetnsContainers *cont;
	Nsnet__V1__Routes *routes;
	Nsnet__V1__Rules *rules;
	uint64_t meta_h, cont_h, routes_h, rules_h;
	Nsnet__V1__Link **links;
	struct fp *link_fps; /* ifindex, hash; in the scan's (ifindex) order */
	size_t n_links;
};

static int encode_lists(struct work *w, struct lists *l)
{
	const struct nsn_netns *ns = w->ns;
	int r;

	r = nsn_pb_encode_meta(w->a, ns, &l->meta);
	if (r >= 0)
		r = fingerprint(w->s, &l->meta->base, &l->meta_h);
	if (r >= 0 && (w->parts & NSN_PB_CONTAINERS)) {
		r = nsn_pb_encode_containers(w->a, ns, &l->cont);
		if (r >= 0)
			r = fingerprint(w->s, &l->cont->base, &l->cont_h);
	}
	if (r >= 0 && (w->parts & NSN_PB_ROUTES)) {
		r = nsn_pb_encode_routes(w->a, ns, &l->routes);
		if (r >= 0)
			r = fingerprint(w->s, &l->routes->base, &l->routes_h);
		if (r >= 0)
			r = nsn_pb_encode_rules(w->a, ns, &l->rules);
		if (r >= 0)
			r = fingerprint(w->s, &l->rules->base, &l->rules_h);
	}
	if (r >= 0 && (w->parts & NSN_PB_LINKS) && ns->n_links) {
		l->links = nsn_pb_arena_alloc(w->a, ns->n_links * sizeof(*l->links));
		l->link_fps = malloc(ns->n_links * sizeof(*l->link_fps));
		if (!l->links || !l->link_fps)
			return -ENOMEM;
		for (size_t i = 0; r >= 0 && i < ns->n_links; i++) {
			r = nsn_pb_encode_link(w->a, &ns->links[i], &l->links[i]);
			if (r >= 0)
				r = fingerprint(w->s, &l->links[i]->base, &l->link_fps[i].h);
			l->link_fps[i].key = ns->links[i].ifindex;
		}
		l->n_links = ns->n_links;
	}
	return r;
}

static int send_delta(struct work *w, const struct sent_ns *old, const struct lists *l, bool *ret_sent)
{
	const struct nsn_netns *ns = w->ns;
	Nsnet__V1__NamespaceDelta *d;
	NsnFrame *f;
	size_t na = 0, nc = 0, nr = 0;
	Nsnet__V1__Socket **added = NULL, **changed = NULL;
	uint64_t *removed = NULL;
	bool any = false;
	int r = -ENOMEM;

	*ret_sent = false;
	d = delta_new(w, &f);
	if (!d)
		return -ENOMEM;
	if (l->meta_h != old->meta_h) {
		d->meta = l->meta;
		any = true;
	}
	if (l->cont && l->cont_h != old->cont_h) {
		d->containers = l->cont;
		any = true;
	}
	if (l->routes && l->routes_h != old->routes_h) {
		d->routes = l->routes;
		any = true;
	}
	if (l->rules && l->rules_h != old->rules_h) {
		d->rules = l->rules;
		any = true;
	}
	if (w->parts & NSN_PB_LINKS) {
		/* Links arrive sorted by ifindex from the gatherer, as they were last time. */
		size_t i = 0, j = 0, nl = 0, nrm = 0;

		d->links = nsn_pb_arena_alloc(w->a, (l->n_links + 1) * sizeof(*d->links));
		d->links_removed = nsn_pb_arena_alloc(w->a, (old->n_links + 1) * sizeof(*d->links_removed));
		if (!d->links || !d->links_removed)
			return -ENOMEM;
		while (i < l->n_links || j < old->n_links) {
			if (j == old->n_links || (i < l->n_links && l->link_fps[i].key < old->links[j].key)) {
				d->links[nl++] = l->links[i++];
			} else if (i == l->n_links || old->links[j].key < l->link_fps[i].key) {
				d->links_removed[nrm++] = (uint32_t)old->links[j++].key;
			} else {
				if (l->link_fps[i].h != old->links[j].h)
					d->links[nl++] = l->links[i];
				i++;
				j++;
			}
		}
		d->n_links = nl;
		d->n_links_removed = nrm;
		any |= nl || nrm;
	}
	if (w->parts & NSN_PB_COUNTERS) {
		size_t nch = 0, nrm = 0;

		d->counters = nsn_pb_arena_alloc(w->a, (ns->n_counters + 1) * sizeof(*d->counters));
		d->counters_removed = nsn_pb_arena_alloc(w->a, (old->n_ctrs + 1) * sizeof(char *));
		if (!d->counters || !d->counters_removed)
			return -ENOMEM;
		for (size_t i = 0; i < ns->n_counters; i++) {
			const struct nsn_counter *c = &ns->counters[i];
			/* Same file, same order: the same index almost always names it. */
			const struct cfp *o = i < old->n_ctrs && !strcmp(old->ctrs[i].name, c->name) ? &old->ctrs[i] : NULL;

			for (size_t k = 0; !o && k < old->n_ctrs; k++)
				if (!strcmp(old->ctrs[k].name, c->name))
					o = &old->ctrs[k];
			if (!o || o->value != c->value) {
				r = nsn_pb_encode_counter(w->a, c, &d->counters[nch]);
				if (r < 0)
					return r;
				nch++;
			}
		}
		for (size_t k = 0; k < old->n_ctrs; k++) {
			bool found = k < ns->n_counters && !strcmp(old->ctrs[k].name, ns->counters[k].name);

			for (size_t i = 0; !found && i < ns->n_counters; i++)
				found = !strcmp(old->ctrs[k].name, ns->counters[i].name);
			if (!found)
				d->counters_removed[nrm++] = old->ctrs[k].name;
		}
		d->n_counters = nch;
		d->n_counters_removed = nrm;
		any |= nch || nrm;
	}
	if (w->parts & NSN_PB_SOCKETS) {
		size_t i = 0, j = 0;

		added = malloc((w->n_socks + 1) * sizeof(*added));
		changed = malloc((w->n_socks + 1) * sizeof(*changed));
		removed = malloc((old->n_socks + 1) * sizeof(*removed));
		if (!added || !changed || !removed)
			goto out;
		while (i < w->n_socks || j < old->n_socks) {
			if (j == old->n_socks || (i < w->n_socks && w->fps[i].key < old->socks[j].key)) {
				added[na++] = w->socks[i++];
			} else if (i == w->n_socks || old->socks[j].key < w->fps[i].key) {
				removed[nr++] = old->socks[j++].key;
			} else {
				if (w->fps[i].h != old->socks[j].h)
					changed[nc++] = w->socks[i];
				i++;
				j++;
			}
		}
		any |= na || nc || nr;
	}
	r = 0;
	if (!any)
		goto out;
	/* The first frame carries the lists and the first chunk of socket changes; the
	 * rest follow, so that no frame grows with the namespace. */
	size_t ia = 0, ic = 0, ir = 0;
	for (bool first = true; first || ia < na || ic < nc || ir < nr; first = false) {
		size_t room = NSN_SYNC_CHUNK, k;

		if (!first) {
			d = delta_new(w, &f);
			if (!d) {
				r = -ENOMEM;
				goto out;
			}
		}
		k = na - ia < room ? na - ia : room;
		d->added = added + ia;
		d->n_added = k;
		ia += k;
		room -= k;
		k = nc - ic < room ? nc - ic : room;
		d->changed = changed + ic;
		d->n_changed = k;
		ic += k;
		room -= k;
		k = nr - ir < room ? nr - ir : room;
		d->removed = removed + ir;
		d->n_removed = k;
		ir += k;
		r = emit(w, f);
		if (r < 0)
			goto out;
	}
	w->st->deltas++;
	w->st->sockets_added += na;
	w->st->sockets_changed += nc;
	w->st->sockets_removed += nr;
	*ret_sent = true;
out:
	free(added);
	free(changed);
	free(removed);
	return r;
}

/* Remember what the peer now has of this namespace. */
static int remember(struct work *w, struct sent_ns *e, struct lists *l)
{
	const struct nsn_netns *ns = w->ns;
	struct cfp *ctrs = NULL;
	size_t n_ctrs = 0;

	if (ns->n_counters && (w->parts & NSN_PB_COUNTERS)) {
		ctrs = calloc(ns->n_counters, sizeof(*ctrs));
		if (!ctrs)
			return -ENOMEM;
		for (size_t i = 0; i < ns->n_counters; i++) {
			/* Reuse the old copy of the name when it is the same counter. */
			if (i < e->n_ctrs && e->ctrs[i].name && !strcmp(e->ctrs[i].name, ns->counters[i].name)) {
				ctrs[i].name = e->ctrs[i].name;
				e->ctrs[i].name = NULL;
			} else {
				ctrs[i].name = strdup(ns->counters[i].name);
			}
			ctrs[i].value = ns->counters[i].value;
			if (!ctrs[i].name) {
				for (size_t k = 0; k < i; k++)
					free(ctrs[k].name);
				free(ctrs);
				return -ENOMEM;
			}
			n_ctrs++;
		}
	}
	w->s->bytes -= sent_ns_bytes(e);
	sent_ns_release(e);
	e->cookie = ns->cookie;
	e->dev = ns->dev;
	e->inode = ns->inode;
	e->meta_h = l->meta_h;
	e->cont_h = l->cont_h;
	e->routes_h = l->routes_h;
	e->rules_h = l->rules_h;
	e->socks = w->fps;
	e->n_socks = w->n_socks;
	w->fps = NULL;
	e->links = l->link_fps;
	e->n_links = l->n_links;
	l->link_fps = NULL;
	e->ctrs = ctrs;
	e->n_ctrs = n_ctrs;
	e->seen = true;
	e->weak = w->weak;
	w->s->bytes += sent_ns_bytes(e);
	return 0;
}

static int push_sent(struct nsn_sync *s, struct sent_ns **ret)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct sent_ns *n = realloc(s->ns, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->ns = n;
		s->cap = cap;
	}
	*ret = &s->ns[s->n++];
	memset(*ret, 0, sizeof(**ret));
	return 0;
}

static int diff_one(struct work *w, size_t n_old)
{
	struct lists l = {0};
	struct sent_ns *old = NULL, *e;
	bool sent = false;
	int weak, r;

	/* Look only among the entries that existed before this diff (sorted). */
	{
		size_t keep = w->s->n;

		w->s->n = n_old;
		old = sent_find(w->s, w->ns);
		w->s->n = keep;
	}
	weak = encode_socks(w);
	if (weak < 0) {
		r = weak;
		goto out;
	}
	w->weak = weak > 0;
	r = encode_lists(w, &l);
	if (r < 0)
		goto out;
	if (old && old->seen) {
		/* The same namespace twice in one scan cannot happen (discovery de-duplicates). */
		r = 0;
		goto out;
	}
	if (old && (weak || old->weak)) {
		/* Without usable socket keys, changed sockets cannot be named in a delta:
		 * the namespace goes whole. Its other parts still go as a delta. That holds
		 * as well when only the peer's copy lacks keys: a delta cannot remove a
		 * socket without a cookie, and would remove or change whichever of those
		 * sharing a cookie the peer finds first. */
		bool same = old->n_socks == w->n_socks;

		for (size_t i = 0; same && i < w->n_socks; i++)
			same = old->socks[i].key == w->fps[i].key && old->socks[i].h == w->fps[i].h;
		if (same) {
			r = send_delta(w, old, &l, &sent);
			if (r >= 0 && !sent)
				w->st->unchanged++;
		} else {
			r = send_snapshot(w);
		}
		e = old;
	} else if (old) {
		r = send_delta(w, old, &l, &sent);
		if (r >= 0 && !sent)
			w->st->unchanged++;
		e = old;
	} else {
		r = send_snapshot(w);
		if (r >= 0)
			r = push_sent(w->s, &e);
	}
	if (r >= 0)
		r = remember(w, e, &l);
out:
	free(w->fps);
	w->fps = NULL;
	free(l.link_fps);
	return r;
}

int nsn_sync_diff(struct nsn_sync *s, const struct nsn_scan *scan, unsigned parts, struct nsn_pb_arena *a,
		  nsn_sync_emit_fn emit_fn, void *userdata, struct nsn_sync_stats *ret_stats)
{
	struct work w = {.s = s, .scan = scan, .parts = parts, .a = a, .emit = emit_fn, .ud = userdata,
			 .st = ret_stats};
	size_t n_old = s->n;
	int r = 0;

	memset(ret_stats, 0, sizeof(*ret_stats));
	for (size_t i = 0; i < s->n; i++)
		s->ns[i].seen = false;
	for (size_t i = 0; i < scan->n_netns && r >= 0; i++) {
		const struct nsn_netns *ns = scan->netns[i];

		/* One that vanished before it could be entered has no identity to send: it
		 * is gone (below) if the peer knew it. */
		if (ns->err == -ENOENT && ns->cookie == 0)
			continue;
		w.ns = ns;
		/* Entries pushed during the loop sit after n_old and are not searched:
		 * the entries before n_old stay sorted until the end. */
		r = diff_one(&w, n_old);
		nsn_pb_arena_reset(a);
	}
	if (r < 0)
		return r;
	/* What the peer has but the scan no longer shows is gone. */
	for (size_t i = 0; i < n_old && r >= 0; i++) {
		struct sent_ns *e = &s->ns[i];
		NsnFrame *f;
		Nsnet__V1__NamespaceGone *g;
		Nsnet__V1__NetnsId *id;

		if (e->seen)
			continue;
		f = frame_new(a);
		g = nsn_pb_arena_alloc(a, sizeof(*g));
		id = nsn_pb_arena_alloc(a, sizeof(*id));
		if (!f || !g || !id)
			return -ENOMEM;
		nsnet__v1__namespace_gone__init(g);
		nsnet__v1__netns_id__init(id);
		id->cookie = e->cookie;
		id->dev = e->dev;
		id->inode = e->inode;
		g->id = id;
		f->body_case = NSNET__V1__FRAME__BODY_GONE;
		f->gone = g;
		ret_stats->frames++;
		r = emit_fn(f, userdata);
		nsn_pb_arena_reset(a);
		ret_stats->gone++;
	}
	if (r < 0)
		return r;
	/* Drop the gone ones and sort again for the next diff's lookups. */
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->ns[i].seen) {
			s->bytes -= sent_ns_bytes(&s->ns[i]);
			sent_ns_release(&s->ns[i]);
			continue;
		}
		s->ns[k++] = s->ns[i];
	}
	s->n = k;
	if (s->n)
		qsort(s->ns, s->n, sizeof(*s->ns), cmp_sent);
	ret_stats->namespaces = s->n;
	for (size_t i = 0; i < s->n; i++)
		ret_stats->sockets += s->ns[i].n_socks;
	return 0;
}
