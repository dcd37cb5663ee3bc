/* SPDX-License-Identifier: MIT */
/* The scan of one remote node (a recording's or a collector's): its namespace snapshots
 * decoded, then selected as the command line asks, the way the gatherer selects at the
 * source, so that the output is the one local mode would print (--from and --collector). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "remote.h"

/* Add the node's last reported warnings to the scan's own (NULL-terminated, freed
 * with it). */
static int add_warnings(struct nsn_scan *scan, char *const *w, size_t n)
{
	char **v = realloc(scan->warnings, (scan->n_warnings + n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	scan->warnings = v;
	v[scan->n_warnings] = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!(v[scan->n_warnings] = strdup(w[i])))
			return -ENOMEM;
		v[++scan->n_warnings] = NULL;
	}
	return 0;
}

/* The gatherer's order of protocols (ss's: unix, raw, udp, tcp). */
static int proto_rank(unsigned proto)
{
	static const int rank[NSN_PROTO_MAX] = {
	    [NSN_PROTO_UNIX] = 0, [NSN_PROTO_RAW] = 1, [NSN_PROTO_UDP] = 2, [NSN_PROTO_TCP] = 3};

	return proto < NSN_PROTO_MAX ? rank[proto] : NSN_PROTO_MAX;
}

static int cmp_sock(const void *a, const void *b)
{
	const struct nsn_sock *x = a, *y = b;
	int rx = proto_rank(x->proto), ry = proto_rank(y->proto);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	/* raw and udp are dumped one family after the other; tcp in one walk. */
	if (x->proto != NSN_PROTO_TCP && x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* A snapshot has its sockets in the agent's order (by cookie): group
 * them by protocol, as a local scan does, so that the table reads the same. */
static void sort_socks(struct nsn_scan *scan)
{
	for (size_t i = 0; i < scan->n_netns + scan->n_netns_hidden; i++)
		if (scan->netns[i]->n_socks) /* socks may be NULL when empty */
			qsort(scan->netns[i]->socks, scan->netns[i]->n_socks,
			      sizeof(struct nsn_sock), cmp_sock);
}

int cli_node_scan(const struct cli_opts *o, const Nsnet__V1__NamespaceSnapshot *const *snaps,
		  size_t n, const struct cli_node_meta *meta, struct nsn_scan **ret)
{
	struct nsn_scan *scan = NULL;
	int r;

	*ret = NULL;
	r = nsn_pb_decode_scan(snaps, n, &scan);
	if (r < 0)
		return r;
	r = add_warnings(scan, meta->warnings, meta->n_warnings);
	if (r >= 0 && meta->unsynced) {
		char *const w[] = {(char *)meta->unsynced};
		r = add_warnings(scan, w, 1);
	}
	if (r < 0)
		goto fail;
	/* What the agent counted, if it said more than the namespaces it sent show. */
	if (meta->vanished > scan->n_vanished)
		scan->n_vanished = meta->vanished;
	if (meta->failed > scan->n_failed)
		scan->n_failed = meta->failed;
	nsn_scan_select(scan, &o->gather);
	sort_socks(scan);
	if (o->gather.scope == NSN_SCOPE_ONE) {
		r = nsn_scan_select_netns(scan, o->gather.target);
		if (r < 0 && r != -ENOENT)
			goto fail;
		r = r == -ENOENT;
	}
	if (r >= 0) {
		int e = nsn_scan_filter_containers(scan, &o->cfilter);
		if (e < 0) {
			r = e;
			goto fail;
		}
	}
	*ret = scan;
	return r;
fail:
	nsn_scan_free(scan);
	return r;
}
