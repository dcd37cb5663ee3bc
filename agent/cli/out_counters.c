/* SPDX-License-Identifier: MIT */
/* -s: protocol counters per namespace, named and laid out as nstat prints them.
 * By default the non-zero ones (nstat's default; --zeros for all), never the gauges
 * nstat leaves out (they are in the JSON); in a -c loop,
 * after the first scan, the increments since the previous one, as nstat does. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Values nstat leaves out because they are settings or gauges, not counters. */
bool counter_is_gauge(const char *name)
{
	static const char *const gauges[] = {
		"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin",
		"TcpRtoMax", "TcpMaxConn", "TcpCurrEstab",
	};

	for (size_t i = 0; i < NSN_ARRAY_LEN(gauges); i++)
		if (strcmp(name, gauges[i]) == 0)
			return true;
	return false;
}

const struct nsn_netns *scan_find_netns(const struct nsn_scan *prev, const struct nsn_netns *ns)
{
	for (size_t i = 0; prev && i < prev->n_netns; i++)
		if (prev->netns[i]->inode == ns->inode && prev->netns[i]->dev == ns->dev &&
		    !prev->netns[i]->err)
			return prev->netns[i];
	return NULL;
}

/* The previous value of counter @p i of @p ns: usually at the same index. */
static bool prev_value(const struct nsn_netns *prev, const struct nsn_netns *ns, size_t i, int64_t *ret)
{
	const char *name = ns->counters[i].name;

	if (i < prev->n_counters && strcmp(prev->counters[i].name, name) == 0) {
		*ret = prev->counters[i].value;
		return true;
	}
	for (size_t k = 0; k < prev->n_counters; k++)
		if (strcmp(prev->counters[k].name, name) == 0) {
			*ret = prev->counters[k].value;
			return true;
		}
	return false;
}

size_t counters_delta(const struct nsn_netns *ns, const struct nsn_netns *prev,
		      struct counter_delta **ret)
{
	struct counter_delta *d = malloc((ns->n_counters + 1) * sizeof(*d));
	size_t n = 0;

	*ret = d;
	if (!d)
		return 0;
	for (size_t i = 0; i < ns->n_counters; i++) {
		int64_t before;
		if (counter_is_gauge(ns->counters[i].name))
			continue;
		/* A counter that appears between scans (IcmpMsgOutType3) counts from 0. */
		if (!prev_value(prev, ns, i, &before))
			before = 0;
		if (ns->counters[i].value != before)
			d[n++] = (struct counter_delta){ns->counters[i].name, ns->counters[i].value - before};
	}
	return n;
}

void out_counters(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	bool first = true;

	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan, *prev = nodes[n].prev;
		const char *node = cli_multi_node(o, n_nodes) ? cli_node_text(&nodes[n]) : NULL;

		for (size_t i = 0; i < scan->n_netns; i++) {
			const struct nsn_netns *ns = scan->netns[i];
			const struct nsn_netns *p = prev ? scan_find_netns(prev, ns) : NULL;

			if (ns->err)
				continue;
			/* A blank line between namespaces; none after the last. */
			if (!first)
				fputc('\n', f);
			first = false;
			out_netns_heading(f, node, ns);
			if (p) {
				struct counter_delta *d;
				size_t k, nd = counters_delta(ns, p, &d);
				for (k = 0; k < nd; k++)
					fprintf(f, "%-32s%lld\n", d[k].name, (long long)d[k].delta);
				free(d);
			} else {
				for (size_t k = 0; k < ns->n_counters; k++) {
					const struct nsn_counter *c = &ns->counters[k];
					if ((c->value || o->zeros) && !counter_is_gauge(c->name))
						fprintf(f, "%-32s%lld\n", c->name, (long long)c->value);
				}
			}
		}
	}
}
