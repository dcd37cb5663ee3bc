/* SPDX-License-Identifier: MIT */
/* Selecting from a scan that was not gathered with the caller's options (a recording,
 * a collector's store): the socket selection the gatherer makes at the source, and
 * -N's choice of a namespace. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/* Whether the gatherer, asked with @p o, would have reported @p s. The kernel request
 * carries the states and, for inet sockets, the family; unix sockets have no family. */
static bool sock_selected(unsigned protos, unsigned fams, unsigned states, const struct nsn_sock *s)
{
	if (s->proto >= NSN_PROTO_MAX || !(protos & NSN_PROTO_BIT(s->proto)))
		return false;
	if (s->state >= NSN_SS_MAX || !(states & (1u << s->state)))
		return false;
	if (s->proto != NSN_PROTO_UNIX)
		return s->family == AF_INET ? !!(fams & NSN_FAMILY_V4) : !!(fams & NSN_FAMILY_V6);
	return true;
}

void nsn_scan_select(struct nsn_scan *scan, const struct nsn_gather_opts *opts)
{
	unsigned protos = opts->protos ? opts->protos : NSN_PROTOS_ALL;
	unsigned fams = opts->families ? opts->families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);
	unsigned states = (opts->states ? opts->states : NSN_STATES_ALL) & NSN_STATES_ALL;
	unsigned fl = opts->flags;

	/* Hidden namespaces too: they are only ever shown as veth peers, but a kept
	 * namespace must look the same wherever it is reached from. */
	for (size_t i = 0; i < scan->n_netns + scan->n_netns_hidden; i++) {
		struct nsn_netns *ns = scan->netns[i];
		size_t k = 0;

		for (size_t j = 0; j < ns->n_socks; j++) {
			struct nsn_sock *s = &ns->socks[j];

			if ((fl & NSN_GATHER_NO_SOCKS) || !sock_selected(protos, fams, states, s))
				continue;
			if (!(fl & NSN_GATHER_INFO)) {
				s->tcp_info = NULL;
				s->skmem = NULL;
			}
			ns->socks[k++] = *s;
		}
		ns->n_socks = k;
		if (!(fl & NSN_GATHER_ROUTES))
			ns->n_routes = ns->n_rules = 0;
		if (!(fl & NSN_GATHER_LINKS))
			ns->n_links = 0;
		if (!(fl & NSN_GATHER_COUNTERS))
			ns->n_counters = 0;
		if (!(fl & NSN_GATHER_CONTAINERS))
			ns->n_containers = 0;
	}
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool netns_matches(const struct nsn_netns *ns, const char *target)
{
	const char *bare = strncmp(target, "/run/netns/", 11) == 0 ? target + 11 : NULL;

	for (size_t i = 0; i < ns->n_names; i++)
		if (strcmp(ns->names[i], target) == 0 || (bare && strcmp(ns->names[i], bare) == 0))
			return true;
	return all_digits(target) && strtoull(target, NULL, 10) == ns->inode;
}

int nsn_scan_select_netns(struct nsn_scan *scan, const char *target)
{
	size_t n = scan->n_netns, kept = 0, n_dropped = 0;
	struct nsn_netns **dropped;

	dropped = malloc((n ? n : 1) * sizeof(*dropped));
	if (!dropped)
		return -ENOMEM;
	/* The others move behind n_netns, as nsn_scan_filter_containers() does: a kept
	 * veth may name one of them as its peer. */
	for (size_t i = 0; i < n; i++) {
		struct nsn_netns *ns = scan->netns[i];

		if (netns_matches(ns, target))
			scan->netns[kept++] = ns;
		else
			dropped[n_dropped++] = ns;
	}
	if (n_dropped)
		memcpy(scan->netns + kept, dropped, n_dropped * sizeof(*dropped));
	free(dropped);
	scan->n_netns = kept;
	scan->n_netns_hidden += n_dropped;
	return kept ? 0 : -ENOENT;
}
