/* SPDX-License-Identifier: MIT */
/* --summary: per namespace, sockets by (protocol, state), largest first, so one pod's
 * CLOSE-WAIT or TIME-WAIT build-up among hundreds stands out at a glance. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmp_rows(const void *a, const void *b)
{
	const struct summary_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->state < y->state ? -1 : x->state > y->state;
}

size_t summary_count(const struct cli_opts *o, const struct nsn_netns *ns,
		     struct summary_row *rows, size_t *ret_total)
{
	size_t counts[NSN_PROTO_MAX][NSN_SS_MAX] = {{0}};
	size_t n = 0, total = 0;

	for (size_t i = 0; i < ns->n_socks; i++) {
		const struct nsn_sock *s = &ns->socks[i];
		if (!cli_sock_visible(o, s))
			continue;
		counts[s->proto % NSN_PROTO_MAX][s->state % NSN_SS_MAX]++;
		total++;
	}
	for (unsigned p = 0; p < NSN_PROTO_MAX; p++)
		for (unsigned st = 0; st < NSN_SS_MAX; st++)
			if (counts[p][st])
				rows[n++] = (struct summary_row){p, st, counts[p][st]};
	qsort(rows, n, sizeof(*rows), cmp_rows);
	*ret_total = total;
	return n;
}

struct ns_total {
	const char *node;
	const struct nsn_netns *ns;
	size_t total, n_rows;
	struct summary_row rows[NSN_PROTO_MAX * NSN_SS_MAX];
};

static int cmp_total(const void *a, const void *b)
{
	const struct ns_total *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->ns->inode != y->ns->inode)
		return x->ns->inode < y->ns->inode ? -1 : 1;
	return strcmp(x->node, y->node);
}

/* Largest namespaces first across every node shown: the build-up to spot may be on any. */
void out_summary_table(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	size_t wlabel = strlen("NETNS"), wnode = strlen("NODE"), n = 0, k = 0;
	bool multi = cli_multi_node(o, n_nodes);
	struct ns_total *t;
	char buf[32];

	for (size_t i = 0; i < n_nodes; i++)
		n += nodes[i].scan->n_netns;
	t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return;
	for (size_t i = 0; i < n_nodes; i++) {
		const struct nsn_scan *scan = nodes[i].scan;

		if (strlen(cli_node_text(&nodes[i])) > wnode)
			wnode = strlen(cli_node_text(&nodes[i]));
		for (size_t j = 0; j < scan->n_netns; j++, k++) {
			t[k].node = cli_node_text(&nodes[i]);
			t[k].ns = scan->netns[j];
			t[k].n_rows = summary_count(o, t[k].ns, t[k].rows, &t[k].total);
			size_t len = strlen(nsn_netns_label(t[k].ns, buf, sizeof(buf)));
			if (len > wlabel)
				wlabel = len;
		}
	}
	qsort(t, n, sizeof(*t), cmp_total);
	if (!o->no_header) {
		if (multi)
			fprintf(f, "%-*s ", (int)wnode, "NODE");
		fprintf(f, "%-*s %7s %6s %6s %6s %6s  %s\n", (int)wlabel, "NETNS", "TOTAL", "TCP", "UDP",
			"RAW", "UNIX", "BY STATE (largest first)");
	}
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *rows = t[i].rows;
		size_t per[NSN_PROTO_MAX] = {0}, nr = t[i].n_rows;

		for (size_t r = 0; r < nr; r++)
			per[rows[r].proto] += rows[r].count;
		if (multi)
			fprintf(f, "%-*s ", (int)wnode, t[i].node);
		fprintf(f, "%-*s %7zu %6zu %6zu %6zu %6zu ", (int)wlabel,
			nsn_netns_label(t[i].ns, buf, sizeof(buf)), t[i].total, per[NSN_PROTO_TCP],
			per[NSN_PROTO_UDP], per[NSN_PROTO_RAW], per[NSN_PROTO_UNIX]);
		for (size_t r = 0; r < nr; r++)
			fprintf(f, " %s/%s=%zu", nsn_proto_name(rows[r].proto), nsn_state_name(rows[r].state),
				rows[r].count);
		fputc('\n', f);
	}
	free(t);
}
