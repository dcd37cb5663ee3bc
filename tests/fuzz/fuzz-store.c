/* SPDX-License-Identifier: MIT */
/* Fuzz target for what the collector and `nsnetstat --from` do with an agent's frames
 * after the framing: each frame unpacked with its checks (proto/codec.c), applied to
 * one store (proto/store.c: sessions, snapshots, deltas, gones, scan ends and their
 * semantic checks), read back in place the way queries and metrics read it
 * (proto/store-read.c, proto/skim.c), and converted to the record model the renderers
 * take (proto/decode.c), from the store and straight from the frame.
 *
 * Input: frames, each a 4-byte big-endian length and its payload, as on the wire; a
 * length past the end takes what is left, so that every mutation still gives frames.
 * Frames are applied in order, sequence numbers unchecked (the collector checks them
 * before the store sees a frame). As in the collector, a frame the store refuses ends
 * the session: frames up to the next Hello go nowhere.
 *
 * Beyond "no crash, no leak", the promises of store.h, skim.h and convert.h abort:
 * documented errors only, a message for every refusal; a snapshot applied is held with
 * all of its sockets, counters and (distinct) links; a delta, a gone, a full scan end
 * and a Hello change the counts of sockets, links, counters and namespaces exactly as
 * they say (a Hello of another boot or session empties the node, every Hello leaves
 * its namespaces unconfirmed); what the store holds reads back as well-formed messages,
 * in one piece or in budgeted pieces with every socket exactly once; a head read
 * continued equals a full read; where the decoder accepts a socket the in-place reader
 * agrees with it field by field; and once every node is removed, the store's memory
 * account is back to its interned counter names. What the decoder
 * accepts is rendered as `nsnetstat --from` renders it, every view, table and JSON
 * (agent/cli: the renderers trust the model's promises); FUZZ_DEBUG=1 in the
 * environment shows the rendering on stderr. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "convert.h"
#include "fuzz.h"
#include "remote.h"
#include "skim.h"
#include "store-internal.h"

#define FUZZ_MAX   (1u << 20)
#define MAX_FRAMES 64

static void decode_check(const Nsnet__V1__NamespaceSnapshot *const *snaps, size_t n)
{
	struct nsn_scan *scan = NULL;
	int r = nsn_pb_decode_scan(snaps, n, &scan);

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	FUZZ_CHECK((r == 0) == (scan != NULL));
	if (scan) {
		FUZZ_CHECK(scan->n_netns == n);
		for (size_t i = 0; i < scan->n_netns; i++) {
			const struct nsn_netns *ns = scan->netns[i];

			for (size_t k = 0; k < ns->n_socks; k++) {
				FUZZ_CHECK(ns->socks[k].proto < NSN_PROTO_MAX);
				FUZZ_CHECK(ns->socks[k].state < NSN_SS_MAX);
			}
		}
	}
	nsn_scan_free(scan);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_sock(const struct nsn_sock *a, const struct nsn_sock *b, bool addrs)
{
	if (a->proto != b->proto || a->family != b->family || a->state != b->state ||
	    a->type != b->type || a->v6only != b->v6only || a->recv_q != b->recv_q ||
	    a->send_q != b->send_q || a->uid != b->uid || a->inode != b->inode ||
	    a->ifindex != b->ifindex || a->cookie != b->cookie)
		return false;
	if (!addrs)
		return true;
	return memcmp(&a->local, &b->local, sizeof(a->local)) == 0 &&
	       memcmp(&a->peer, &b->peer, sizeof(a->peer)) == 0 && a->peer_inode == b->peer_inode &&
	       same_str(a->path, b->path) && same_str(a->dev, b->dev);
}

static bool same_skim(const struct nsn_skim *a, const struct nsn_skim *b)
{
	if (!same_sock(&a->s, &b->s, true) || a->n_procs != b->n_procs ||
	    a->n_ctr_ids != b->n_ctr_ids || a->ctr_ids_more != b->ctr_ids_more)
		return false;
	for (size_t i = 0; i < a->n_ctr_ids; i++)
		if (a->ctr_id[i] != b->ctr_id[i] || a->ctr_id_len[i] != b->ctr_id_len[i])
			return false;
	return true;
}

/* One packed socket as the store holds it: every way of reading it agrees. */
static void check_socket(const uint8_t *data, size_t len)
{
	static struct nsn_skim head, full, addrs, more;
	Nsnet__V1__NamespaceSnapshot snap = NSNET__V1__NAMESPACE_SNAPSHOT__INIT;
	Nsnet__V1__NetnsId id = NSNET__V1__NETNS_ID__INIT;
	Nsnet__V1__Socket *m;
	const Nsnet__V1__NamespaceSnapshot *one[] = {&snap};
	struct nsn_scan *scan = NULL;
	int rf, r;

	/* The store packed it from an unpacked message: it unpacks. */
	m = nsnet__v1__socket__unpack(NULL, len, data);
	FUZZ_CHECK(m != NULL);

	rf = nsn_skim_socket(data, len, NSN_SKIM_FULL, &full);
	FUZZ_CHECK(rf == 0 || rf == -EBADMSG);
	r = nsn_skim_socket(data, len, NSN_SKIM_ADDRS, &addrs);
	/* ADDRS and HEAD read a prefix of what FULL reads: they fail only where it does. */
	FUZZ_CHECK(r == 0 || (r == -EBADMSG && rf < 0));
	r = nsn_skim_socket(data, len, NSN_SKIM_HEAD, &head);
	FUZZ_CHECK(r == 0 || (r == -EBADMSG && rf < 0));
	if (r == 0 && rf == 0) {
		FUZZ_CHECK(same_sock(&head.s, &full.s, false));
		more = head;
		FUZZ_CHECK(nsn_skim_more(data, len, NSN_SKIM_FULL, &more) == 0);
		FUZZ_CHECK(same_skim(&more, &full));
		more = head;
		FUZZ_CHECK(nsn_skim_more(data, len, NSN_SKIM_ADDRS, &more) == 0);
		FUZZ_CHECK(same_sock(&more.s, &addrs.s, true));
	}

	/* The decoder, on a namespace of this socket alone. */
	id.cookie = 1;
	snap.id = &id;
	snap.n_sockets = 1;
	snap.sockets = &m;
	r = nsn_pb_decode_scan(one, 1, &scan);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r == 0) {
		const struct nsn_sock *s = &scan->netns[0]->socks[0];

		if (rf == 0)
			FUZZ_CHECK(same_sock(s, &full.s, true));
		else /* only names too long for the reader's buffers */
			FUZZ_CHECK((s->path && strlen(s->path) >= sizeof(full.path)) ||
				   (s->dev && strlen(s->dev) >= sizeof(full.dev)));
	}
	nsn_scan_free(scan);
	nsnet__v1__socket__free_unpacked(m, NULL);
}

/* Any bytes as a packed Socket: the in-place reader may say anything of what is not
 * one, but stays within the bytes and its buffers. */
static void skim_raw(const uint8_t *data, size_t len)
{
	static const int modes[] = {NSN_SKIM_HEAD, NSN_SKIM_ADDRS, NSN_SKIM_FULL};
	static struct nsn_skim k, h;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int r = nsn_skim_socket(data, len, modes[i], &k);

		FUZZ_CHECK(r == 0 || r == -EBADMSG);
		if (r < 0)
			continue;
		FUZZ_CHECK(!k.s.path ||
			   (k.s.path == k.path && memchr(k.path, '\0', sizeof(k.path))));
		FUZZ_CHECK(!k.s.dev || (k.s.dev == k.dev && memchr(k.dev, '\0', sizeof(k.dev))));
		FUZZ_CHECK(k.n_ctr_ids <= NSN_SKIM_CTR_IDS && k.n_ctr_ids <= k.n_procs);
		for (size_t c = 0; c < k.n_ctr_ids; c++)
			FUZZ_CHECK(k.ctr_id[c] >= data &&
				   k.ctr_id[c] + k.ctr_id_len[c] <= data + len);
		FUZZ_CHECK(k.resume <= len);
		if (modes[i] == NSN_SKIM_HEAD) {
			h = k;
			r = nsn_skim_more(data, len, NSN_SKIM_FULL, &h);
			FUZZ_CHECK(r == 0 || r == -EBADMSG);
		}
	}
}

/* A packed NamespaceSnapshot body: it unpacks, and decodes or is refused. */
static void check_packed_ns(const uint8_t *data, size_t len, bool decode)
{
	Nsnet__V1__NamespaceSnapshot *m = nsnet__v1__namespace_snapshot__unpack(NULL, len, data);

	FUZZ_CHECK(m != NULL);
	if (decode)
		decode_check((const Nsnet__V1__NamespaceSnapshot *const *)&m, 1);
	nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
}

/* The command lines the node is rendered with: every view, as tables and as JSON. */
static struct cli_opts render_opts[2];

static void render_init(void)
{
	static bool done;
	static char *table[] = {"nsnetstat", "--from", "-",  "-tuwxanpe", "--info", "-r",
				"--rules",   "-i",     "-s", "--zeros",	  NULL};
	static char *json[] = {"nsnetstat", "--from", "-",  "-tuwxanpe", "--info", "-r",
			       "--rules",   "-i",     "-s", "--json",	 NULL};

	if (done)
		return;
	done = true;
	FUZZ_CHECK(cli_parse(10, table, &render_opts[0]) == 0);
	FUZZ_CHECK(cli_parse(10, json, &render_opts[1]) == 0);
}

/* What `nsnetstat --from` and the collector's JSON endpoint make of the node's
 * snapshots: decoded, selected, rendered (to /dev/null: only what it touches matters). */
static void render(const struct nsn_store_node *node, Nsnet__V1__NamespaceSnapshot **snaps,
		   size_t n)
{
	struct nsn_store_node_info info;
	struct cli_node_meta meta;
	/* FUZZ_DEBUG=1 shows it on stderr instead. */
	FILE *null = getenv("FUZZ_DEBUG") ? fdopen(dup(2), "w") : fopen("/dev/null", "w");

	if (!null)
		abort();
	render_init();
	nsn_store_node_info(node, &info);
	meta = (struct cli_node_meta){.warnings = info.warnings,
				      .n_warnings = info.n_warnings,
				      .unsynced = info.synced ? NULL : "resync unfinished",
				      .vanished = info.vanished,
				      .failed = info.failed};
	for (size_t i = 0; i < NSN_ARRAY_LEN(render_opts); i++) {
		struct cli_node cn = {.name = info.name};
		int r = cli_node_scan(&render_opts[i],
				      (const Nsnet__V1__NamespaceSnapshot *const *)snaps, n, &meta,
				      &cn.scan);

		FUZZ_CHECK(r == 0 || r == 1 || r == -EBADMSG || r == -ENOMEM);
		if (r >= 0 && cn.scan) {
			cn.text = cli_text_dup(cn.name);
			cli_print_views(&render_opts[i], null, &cn, 1);
			cli_print_problems(&render_opts[i], null, &cn, 1);
			free(cn.text);
		}
		nsn_scan_free(cn.scan);
	}
	fclose(null);
}

/* Everything a query or a metric reads of @p node. */
static void check_node(const struct nsn_store_node *node)
{
	struct nsn_store_node_info info;
	struct nsn_store_netns_view *views = NULL;
	Nsnet__V1__NamespaceSnapshot **snaps = NULL;
	struct nsn_buf out = {0};
	size_t n_views = 0, n_snaps = 0, socks = 0;
	int r;

	nsn_store_node_info(node, &info);
	FUZZ_CHECK(info.name && info.name[0]);
	FUZZ_CHECK(info.warnings && info.warnings[info.n_warnings] == NULL);

	r = nsn_store_node_views(node, &views, &n_views);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r < 0)
		return;
	FUZZ_CHECK(n_views == info.namespaces);
	for (size_t i = 0; i < n_views; i++) {
		const struct nsn_store_netns_view *v = &views[i];
		const uint8_t *p;
		size_t len, cursor = 0, pieces_socks = 0, live = 0;
		long kept;

		socks += v->n_sockets;
		p = nsn_store_view_head(v, &len);
		if (p)
			check_packed_ns(p, len, false);
		p = nsn_store_view_containers(v, &len);
		if (p)
			check_packed_ns(p, len, false);
		for (size_t s = 0; s < nsn_store_view_socket_slots(v); s++) {
			p = nsn_store_view_socket(v, s, &len);
			if (!p)
				continue;
			live++;
			check_socket(p, len);
		}
		FUZZ_CHECK(live == v->n_sockets);
		for (size_t k = 0; k < v->n_links; k++) {
			Nsnet__V1__Link *l;

			p = nsn_store_view_link(v, k, &len);
			FUZZ_CHECK(p && (l = nsnet__v1__link__unpack(NULL, len, p)));
			nsnet__v1__link__free_unpacked(l, NULL);
		}
		for (size_t k = 0; k < v->n_counters; k++) {
			const char *name;
			int64_t value, found;

			nsn_store_view_counter(v, k, &name, &value);
			FUZZ_CHECK(name && nsn_store_view_counter_find(v, name, &found));
		}

		/* All of it in one piece, then in pieces of about 64 bytes. */
		out.len = 0;
		kept = nsn_store_view_pack(v, ~0u, NULL, NULL, 0, &cursor, &out);
		FUZZ_CHECK(kept >= 0 && (size_t)kept == v->n_sockets && cursor == SIZE_MAX);
		check_packed_ns(out.data, out.len, true);
		cursor = 0;
		do {
			out.len = 0;
			kept = nsn_store_view_pack(v, ~0u, NULL, NULL, 64, &cursor, &out);
			FUZZ_CHECK(kept >= 0);
			pieces_socks += (size_t)kept;
			check_packed_ns(out.data, out.len, false);
		} while (cursor != SIZE_MAX);
		FUZZ_CHECK(pieces_socks == v->n_sockets);
	}
	FUZZ_CHECK(socks == info.sockets);
	nsn_buf_release(&out);
	free(views);

	r = nsn_store_node_snapshots(node, &snaps, &n_snaps);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r == 0) {
		FUZZ_CHECK(n_snaps == info.namespaces);
		decode_check((const Nsnet__V1__NamespaceSnapshot *const *)snaps, n_snaps);
		render(node, snaps, n_snaps);
	}
	nsn_store_snapshots_free(snaps, n_snaps);
}

/* The view of the namespace @p id names, as the store matches them: by cookie when
 * either has one, else by dev and inode. */
static const struct nsn_store_netns_view *find_view(const struct nsn_store_netns_view *v, size_t n,
						    const Nsnet__V1__NetnsId *id)
{
	for (size_t i = 0; i < n; i++) {
		bool cookie = v[i].cookie || id->cookie;

		if (cookie ? v[i].cookie == id->cookie
			   : v[i].dev == id->dev && v[i].inode == id->inode)
			return &v[i];
	}
	return NULL;
}

/* After a snapshot was applied, the store holds it whole. */
static void check_applied(const struct nsn_store_node *node, const Nsnet__V1__NamespaceSnapshot *m)
{
	struct nsn_store_netns_view *views = NULL;
	const struct nsn_store_netns_view *v;
	size_t n = 0, links = 0;

	if (nsn_store_node_views(node, &views, &n) < 0)
		return;
	v = find_view(views, n, m->id);
	FUZZ_CHECK(v != NULL);
	FUZZ_CHECK(v->confirmed);
	FUZZ_CHECK(v->n_sockets == m->n_sockets);
	FUZZ_CHECK(v->n_counters == m->n_counters);
	for (size_t i = 0; i < m->n_links; i++) {
		bool dup = false;

		for (size_t k = 0; k < i && !dup; k++)
			dup = m->links[k]->ifindex == m->links[i]->ifindex;
		links += !dup;
	}
	FUZZ_CHECK(v->n_links == links);
	free(views);
}

static bool has_link(const struct nsn_store_netns_view *v, uint32_t ifindex)
{
	for (size_t i = 0; i < v->n_links; i++) {
		size_t len;
		const uint8_t *p = nsn_store_view_link(v, i, &len);
		Nsnet__V1__Link *l = nsnet__v1__link__unpack(NULL, len, p);
		bool hit;

		FUZZ_CHECK(l != NULL);
		hit = l->ifindex == ifindex;
		nsnet__v1__link__free_unpacked(l, NULL);
		if (hit)
			return true;
	}
	return false;
}

/* What a frame must do to a node's counts, worked out before it is applied. */
struct expect {
	bool known;
	size_t namespaces, sockets, links, counters;
};

static struct expect expect(const struct nsn_store_node *node, const NsnFrame *f)
{
	struct nsn_store_netns_view *views = NULL;
	const struct nsn_store_netns_view *v;
	struct expect e = {0};
	size_t n = 0;

	if (nsn_store_node_views(node, &views, &n) < 0)
		return e;
	e.namespaces = n;
	if (f->body_case == NSNET__V1__FRAME__BODY_GONE) {
		e.known = true;
		e.namespaces = n - 1;
	} else if (f->body_case == NSNET__V1__FRAME__BODY_SCAN_DONE) {
		e.known = true;
		if (f->scan_done->full) {
			e.namespaces = 0;
			for (size_t i = 0; i < n; i++)
				e.namespaces += views[i].confirmed;
		}
	} else if (f->body_case == NSNET__V1__FRAME__BODY_DELTA && f->delta->id &&
		   (v = find_view(views, n, f->delta->id))) {
		const Nsnet__V1__NamespaceDelta *d = f->delta;

		e.known = true;
		e.sockets = v->n_sockets - d->n_removed + d->n_added;
		e.links = v->n_links - d->n_links_removed;
		for (size_t i = 0; i < d->n_links; i++) {
			bool dup = false;

			for (size_t k = 0; k < i && !dup; k++)
				dup = d->links[k]->ifindex == d->links[i]->ifindex;
			e.links += !dup && !has_link(v, d->links[i]->ifindex);
		}
		e.counters = v->n_counters - d->n_counters_removed;
		for (size_t i = 0; i < d->n_counters; i++) {
			const char *name = d->counters[i]->name ? d->counters[i]->name : "";
			bool dup = false;
			int64_t value;

			for (size_t k = 0; k < i && !dup; k++)
				dup =
				    !strcmp(d->counters[k]->name ? d->counters[k]->name : "", name);
			e.counters += !dup && !nsn_store_view_counter_find(v, name, &value);
		}
	}
	free(views);
	return e;
}

static void check_expect(const struct nsn_store_node *node, const NsnFrame *f,
			 const struct expect *e)
{
	struct nsn_store_netns_view *views = NULL;
	const struct nsn_store_netns_view *v;
	size_t n = 0;

	if (!e->known || nsn_store_node_views(node, &views, &n) < 0)
		return;
	FUZZ_CHECK(n == e->namespaces);
	if (f->body_case == NSNET__V1__FRAME__BODY_DELTA) {
		v = find_view(views, n, f->delta->id);
		FUZZ_CHECK(v && v->confirmed);
		FUZZ_CHECK(v->n_sockets == e->sockets);
		FUZZ_CHECK(v->n_links == e->links);
		FUZZ_CHECK(v->n_counters == e->counters);
	}
	free(views);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nsn_store *st = nsn_store_new();
	struct nsn_store_node *node = NULL;
	size_t off = 0, names_bytes;
	int frames = 0;

	if (!st)
		abort();
	while (off < size && frames++ < MAX_FRAMES) {
		struct nsn_store_error err;
		size_t len = 0;
		NsnFrame *f = NULL;
		int r;

		for (int i = 0; i < 4; i++)
			len = len << 8 | (off + (size_t)i < size ? data[off + (size_t)i] : 0);
		off += 4;
		if (off > size)
			break;
		if (len > size - off)
			len = size - off;
		skim_raw(data + off, len);
		r = nsn_wire_unpack(data + off, len, FUZZ_MAX, &f);
		off += len;
		FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE);
		if (r < 0) {
			node = NULL; /* the collector closes the connection */
			continue;
		}

		/* What a query client decodes, and what a snapshot says before any store. */
		if (f->body_case == NSNET__V1__FRAME__BODY_SNAPSHOT)
			decode_check((const Nsnet__V1__NamespaceSnapshot *const *)&f->snapshot, 1);
		else if (f->body_case == NSNET__V1__FRAME__BODY_RESPONSE)
			decode_check(
			    (const Nsnet__V1__NamespaceSnapshot *const *)f->response->namespaces,
			    f->response->n_namespaces);

		memset(err.msg, 0, sizeof(err.msg));
		if (f->body_case == NSNET__V1__FRAME__BODY_HELLO) {
			const Nsnet__V1__Hello *h = f->hello;
			struct nsn_store_node *was =
			    h->node ? nsn_store_node_find(st, h->node) : NULL;
			struct nsn_store_node_info before = {0};
			bool same;

			if (was)
				nsn_store_node_info(was, &before);
			same = was && before.session == h->session &&
			       !strcmp(before.boot_id, h->boot_id ? h->boot_id : "");
			r = nsn_store_hello(st, h, &node, &err);
			FUZZ_CHECK((r == 0) == (node != NULL));
			if (r == 0) {
				struct nsn_store_netns_view *views = NULL;
				size_t n = 0;

				/* The same session goes on unconfirmed; another starts empty. */
				FUZZ_CHECK(!was || node == was);
				if (nsn_store_node_views(node, &views, &n) == 0) {
					FUZZ_CHECK(n == (same ? before.namespaces : 0));
					for (size_t i = 0; i < n; i++)
						FUZZ_CHECK(!views[i].confirmed);
				}
				free(views);
			}
		} else if (node) {
			struct expect e = expect(node, f);

			r = nsn_store_apply(node, f, &err);
			if (r == 0 && f->body_case == NSNET__V1__FRAME__BODY_SNAPSHOT)
				check_applied(node, f->snapshot);
			if (r == 0)
				check_expect(node, f, &e);
		} else {
			r = 0; /* no session: the collector would have refused it earlier */
		}
		FUZZ_CHECK(r == 0 || r == -EPROTO || r == -ENOMEM);
		if (r == -EPROTO)
			FUZZ_CHECK(err.msg[0] && memchr(err.msg, '\0', sizeof(err.msg)));
		if (r < 0)
			node = NULL;
		nsn_wire_free(f);
	}

	for (size_t i = 0; i < nsn_store_node_count(st); i++)
		check_node(nsn_store_node_at(st, i));

	/* Every node gone: what is left is the interned counter names and their table. */
	while (nsn_store_node_count(st))
		nsn_store_node_remove(nsn_store_node_at(st, 0));
	names_bytes = (size_t)st->names.cap * sizeof(*st->names.ents) +
		      (st->names.idx ? ((size_t)st->names.mask + 1) * sizeof(*st->names.idx) : 0);
	for (uint32_t i = 0; i < st->names.n; i++)
		names_bytes += strlen(st->names.ents[i].val) + 1;
	FUZZ_CHECK(st->bytes == names_bytes);
	nsn_store_free(st);
	return 0;
}
