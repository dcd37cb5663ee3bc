/* SPDX-License-Identifier: MIT */
/* veth peers across namespaces.
 *
 * A veth reports its peer as an ifindex (IFLA_LINK) in the namespace that
 * IFLA_LINK_NETNSID designates -- an id private to the reporting namespace, which
 * no other namespace can translate. But the relation is symmetric: A's veth i with
 * peer p has, in some namespace B, a veth p whose peer is i. Matching those pairs
 * over every scanned namespace names almost every peer. Where ifindex pairs repeat
 * (two namespaces both holding a veth p with peer i), the netnsids learned from the
 * unambiguous pairs decide: every link of A with netnsid n points into the same B.
 * What stays ambiguous is left unnamed and reported in the scan's warnings. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct end {
	struct nsn_netns *ns;
	struct nsn_link *link;
};

static int cmp_end(const void *a, const void *b)
{
	const struct end *x = a, *y = b;

	if (x->link->ifindex != y->link->ifindex)
		return x->link->ifindex < y->link->ifindex ? -1 : 1;
	if (x->link->link != y->link->link)
		return x->link->link < y->link->link ? -1 : 1;
	return 0;
}

/* (namespace, netnsid) -> namespace, learned from resolved pairs. */
struct nsid_map {
	const struct nsn_netns *from, *to;
	int32_t nsid;
};

static const struct nsn_netns *nsid_lookup(const struct nsid_map *m, size_t n,
					   const struct nsn_netns *from, int32_t nsid)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].from == from && m[i].nsid == nsid)
			return m[i].to;
	return NULL;
}

static void set_peer(struct nsn_link *l, const struct nsn_netns *ns, const struct nsn_link *peer)
{
	l->peer.name = peer->name;
	l->peer.netns = ns;
}

void nsn__peers_resolve(struct nsn_scan *scan)
{
	struct end *ends = NULL;
	struct nsid_map *map = NULL;
	size_t n = 0, n_map = 0, ambiguous = 0;

	for (size_t i = 0; i < scan->n_netns; i++)
		for (size_t k = 0; k < scan->netns[i]->n_links; k++)
			n += scan->netns[i]->links[k].has_peer;
	if (!n)
		return;
	ends = malloc(n * sizeof(*ends));
	map = malloc(n * sizeof(*map));
	if (!ends || !map)
		goto out;
	n = 0;
	for (size_t i = 0; i < scan->n_netns; i++) {
		struct nsn_netns *ns = scan->netns[i];
		for (size_t k = 0; k < ns->n_links; k++) {
			struct nsn_link *l = &ns->links[k];
			if (!l->has_peer)
				continue;
			if (l->peer.netnsid < 0) {
				/* Both ends in this namespace. */
				for (size_t j = 0; j < ns->n_links; j++)
					if (ns->links[j].ifindex == l->peer.ifindex)
						set_peer(l, ns, &ns->links[j]);
				continue;
			}
			ends[n++] = (struct end){ns, l};
		}
	}
	qsort(ends, n, sizeof(*ends), cmp_end);

	/* Two passes: unique pairs first (they teach the netnsids), then the rest. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct nsn_link *l = ends[i].link;
			struct nsn_link key_link = {.ifindex = l->peer.ifindex, .link = l->ifindex};
			struct end key = {NULL, &key_link};
			const struct nsn_netns *want;
			struct end *hit, *first, *last, *pick = NULL;
			size_t count = 0;

			if (l->peer.netns)
				continue;
			hit = bsearch(&key, ends, n, sizeof(*ends), cmp_end);
			if (!hit)
				continue;
			first = last = hit;
			while (first > ends && cmp_end(first - 1, &key) == 0)
				first--;
			while (last + 1 < ends + n && cmp_end(last + 1, &key) == 0)
				last++;
			want = nsid_lookup(map, n_map, ends[i].ns, l->peer.netnsid);
			for (struct end *e = first; e <= last; e++) {
				const struct nsn_netns *back;
				if (e->ns == ends[i].ns)
					continue;
				if (want && e->ns != want)
					continue;
				back = nsid_lookup(map, n_map, e->ns, e->link->peer.netnsid);
				if (back && back != ends[i].ns)
					continue;
				count++;
				pick = e;
			}
			if (count != 1) {
				if (pass == 1 && count > 1)
					ambiguous++;
				continue;
			}
			set_peer(l, pick->ns, pick->link);
			set_peer(pick->link, ends[i].ns, l);
			if (!nsid_lookup(map, n_map, ends[i].ns, l->peer.netnsid))
				map[n_map++] = (struct nsid_map){ends[i].ns, pick->ns, l->peer.netnsid};
		}
	}
	if (ambiguous)
		nsn__scan_warn(scan, "%zu veth peers could not be told apart by ifindex; left unnamed",
			       ambiguous);
out:
	free(ends);
	free(map);
}
