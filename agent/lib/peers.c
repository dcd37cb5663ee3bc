/* SPDX-License-Identifier: MIT */
/* veth peers across namespaces.
 *
 * A veth reports its peer as an ifindex (IFLA_LINK) in the namespace that
 * IFLA_LINK_NETNSID designates: an id private to the reporting namespace A. The
 * relation is symmetric -- A's veth i with peer p has, in some namespace B, a veth p
 * whose peer is i -- so matching mirrored (ifindex, peer ifindex) pairs over every
 * scanned namespace names most peers without a system call. Where the pair repeats
 * (fresh namespaces all number their first veth 2; two nodes of a kind cluster mirror
 * each other), A itself is asked: RTM_GETNSID with each candidate's namespace fd, on
 * a socket in A, returns the id A uses for it, and the candidate whose id equals the
 * veth's IFLA_LINK_NETNSID is the peer. That needs a thread that enters A
 * (nsn__netns_nsids()), so it is done only for the ambiguous ends. */
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

static void set_peer(struct nsn_link *l, const struct nsn_netns *ns, const struct nsn_link *peer)
{
	l->peer.name = peer->name;
	l->peer.netns = ns;
}

/* Among the candidate ends for @p me, the one in the namespace that me's namespace
 * knows by me's netnsid; NULL if none or the question could not be asked. */
static struct end *ask_nsid(const struct end *me, struct end *first, size_t n)
{
	struct nsn_netns **targets = malloc(n * sizeof(*targets));
	int32_t *nsids = malloc(n * sizeof(*nsids));
	struct end *pick = NULL;
	size_t hits = 0;

	if (targets && nsids) {
		for (size_t i = 0; i < n; i++)
			targets[i] = first[i].ns;
		if (nsn__netns_nsids(me->ns, targets, n, nsids) == 0) {
			for (size_t i = 0; i < n; i++) {
				if (first[i].ns != me->ns && !first[i].link->peer.netns &&
				    nsids[i] == me->link->peer.netnsid) {
					pick = &first[i];
					hits++;
				}
			}
		}
	}
	free(targets);
	free(nsids);
	return hits == 1 ? pick : NULL;
}

void nsn__peers_resolve(struct nsn_scan *scan)
{
	struct end *ends;
	size_t n = 0, unnamed = 0;

	for (size_t i = 0; i < scan->n_netns; i++)
		for (size_t k = 0; k < scan->netns[i]->n_links; k++)
			n += scan->netns[i]->links[k].has_peer;
	if (!n)
		return;
	ends = malloc(n * sizeof(*ends));
	if (!ends) {
		nsn__scan_warn(scan, "veth peers left unnamed: out of memory");
		return;
	}
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

	for (size_t i = 0; i < n; i++) {
		struct nsn_link *l = ends[i].link;
		struct nsn_link key_link = {.ifindex = l->peer.ifindex, .link = l->ifindex};
		struct end key = {NULL, &key_link};
		struct end *hit, *first, *last, *pick = NULL;
		size_t count = 0;

		if (l->peer.netns)
			continue;
		hit = bsearch(&key, ends, n, sizeof(*ends), cmp_end);
		if (hit) {
			first = last = hit;
			while (first > ends && cmp_end(first - 1, &key) == 0)
				first--;
			while (last + 1 < ends + n && cmp_end(last + 1, &key) == 0)
				last++;
			for (struct end *e = first; e <= last; e++) {
				if (e->ns != ends[i].ns && !e->link->peer.netns) {
					count++;
					pick = e;
				}
			}
			if (count > 1)
				pick = ask_nsid(&ends[i], first, (size_t)(last - first) + 1);
		}
		if (!pick) {
			unnamed++;
			continue;
		}
		set_peer(l, pick->ns, pick->link);
		set_peer(pick->link, ends[i].ns, l);
	}
	if (unnamed)
		nsn__scan_warn(scan, "%zu veth peers left unnamed: the other end is in none of the scanned namespaces",
			       unnamed);
	free(ends);
}
