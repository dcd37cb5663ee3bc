/* SPDX-License-Identifier: MIT */
/* The views of one output (sockets, routes, interfaces, counters) and the lines about
 * what went wrong with it, for local mode, --from and --collector alike. */
#include <stdio.h>

#include "cli.h"

/* Each view asked for, in netstat's order: sockets, routes, interfaces, counters. */
void cli_print_views(const struct cli_opts *o, FILE *out, const struct cli_node *nodes,
		     size_t n_nodes)
{
	bool sep = false;

	if (o->json) {
		out_json(out, o, nodes, n_nodes);
		return;
	}
	if (o->sockets) {
		if (o->summary)
			out_summary_table(out, o, nodes, n_nodes);
		else
			out_table(out, o, nodes, n_nodes);
		sep = true;
	}
	if (o->routes) {
		if (sep)
			fputc('\n', out);
		out_routes(out, o, nodes, n_nodes);
		sep = true;
	}
	if (o->links) {
		if (sep)
			fputc('\n', out);
		out_links(out, o, nodes, n_nodes);
		sep = true;
	}
	if (o->counters) {
		if (sep)
			fputc('\n', out);
		out_counters(out, o, nodes, n_nodes);
	}
}

void cli_print_problems(const struct cli_opts *o, FILE *err, const struct cli_node *nodes,
			size_t n_nodes)
{
	bool multi = cli_multi_node(o, n_nodes);

	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan;
		/* With several nodes, each line says whose it is. */
		const char *node = multi ? nodes[n].name : "";
		const char *sep = multi ? ": " : "";

		if (scan->n_vanished || scan->n_failed)
			fprintf(err,
				"nsnetstat: %s%s%zu of %zu namespaces skipped (%zu vanished during "
				"the scan, %zu failed)%s\n",
				node, sep, scan->n_vanished + scan->n_failed, scan->n_netns,
				scan->n_vanished, scan->n_failed,
				o->json ? "; see \"warnings\"" : "");
		for (size_t i = 0; !o->json && i < scan->n_warnings; i++)
			fprintf(err, "nsnetstat: warning: %s%s%s\n", node, sep, scan->warnings[i]);
	}
}
