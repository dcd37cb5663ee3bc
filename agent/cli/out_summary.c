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
	const struct nsn_netns *ns;
	size_t total, n_rows;
	struct summary_row rows[NSN_PROTO_MAX * NSN_SS_MAX];
};

static int cmp_total(const void *a, const void *b)
{
	const struct ns_total *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->ns->inode < y->ns->inode ? -1 : x->ns->inode > y->ns->inode;
}

void out_summary_table(FILE *f, const struct cli_opts *o, const struct nsn_scan *scan)
{
	struct ns_total *t = calloc(scan->n_netns ? scan->n_netns : 1, sizeof(*t));
	size_t wlabel = strlen("NETNS");
	char buf[32];

	if (!t)
		return;
	for (size_t i = 0; i < scan->n_netns; i++) {
		t[i].ns = scan->netns[i];
		t[i].n_rows = summary_count(o, t[i].ns, t[i].rows, &t[i].total);
		size_t n = strlen(nsn_netns_label(t[i].ns, buf, sizeof(buf)));
		if (n > wlabel)
			wlabel = n;
	}
	qsort(t, scan->n_netns, sizeof(*t), cmp_total);
	if (!o->no_header)
		fprintf(f, "%-*s %7s %6s %6s %6s %6s  %s\n", (int)wlabel, "NETNS", "TOTAL", "TCP", "UDP",
			"RAW", "UNIX", "BY STATE (largest first)");
	for (size_t i = 0; i < scan->n_netns; i++) {
		const struct summary_row *rows = t[i].rows;
		size_t per[NSN_PROTO_MAX] = {0}, n = t[i].n_rows;

		for (size_t k = 0; k < n; k++)
			per[rows[k].proto] += rows[k].count;
		fprintf(f, "%-*s %7zu %6zu %6zu %6zu %6zu ", (int)wlabel,
			nsn_netns_label(t[i].ns, buf, sizeof(buf)), t[i].total, per[NSN_PROTO_TCP],
			per[NSN_PROTO_UDP], per[NSN_PROTO_RAW], per[NSN_PROTO_UNIX]);
		for (size_t k = 0; k < n; k++)
			fprintf(f, " %s/%s=%zu", nsn_proto_name(rows[k].proto), nsn_state_name(rows[k].state),
				rows[k].count);
		fputc('\n', f);
	}
	free(t);
}
