/* SPDX-License-Identifier: MIT */
/* The views of one output (sockets, routes, interfaces, counters) and the lines about
 * what went wrong with it, for local mode, --from and --collector alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		const char *node = multi ? cli_node_text(&nodes[n]) : "";
		const char *sep = multi ? ": " : "";
		char buf[1024];

		if (scan->n_vanished || scan->n_failed)
			fprintf(err,
				"nsnetstat: %s%s%zu of %zu namespaces skipped (%zu vanished during "
				"the scan, %zu failed)%s\n",
				node, sep, scan->n_vanished + scan->n_failed, scan->n_netns,
				scan->n_vanished, scan->n_failed,
				o->json ? "; see \"warnings\"" : "");
		for (size_t i = 0; !o->json && i < scan->n_warnings; i++)
			fprintf(err, "nsnetstat: warning: %s%s%s\n", node, sep,
				cli_text(scan->warnings[i], buf, sizeof(buf)));
	}
}

/* Escape @p s into @p out (at most @p cap bytes with the NUL); returns the length the
 * whole escaped string needs, without the NUL. */
static size_t escape(char *out, size_t cap, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), need = 0;

	for (size_t i = 0; i < n;) {
		char piece[8];
		size_t len = json_utf8_len(u + i, n - i), k;

		if (len > 0) {
			memcpy(piece, u + i, len);
			k = len;
		} else if (u[i] == '\\') {
			k = (size_t)snprintf(piece, sizeof(piece), "\\\\");
		} else if (u[i] == '\n') {
			k = (size_t)snprintf(piece, sizeof(piece), "\\n");
		} else if (u[i] == '\t') {
			k = (size_t)snprintf(piece, sizeof(piece), "\\t");
		} else if (u[i] < 0x20 || u[i] >= 0x7f) {
			k = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", u[i]);
		} else {
			piece[0] = (char)u[i];
			k = 1;
		}
		i += len > 0 ? len : 1;
		if (out && need + k < cap)
			memcpy(out + need, piece, k);
		else if (out && need < cap)
			cap = need + 1; /* no partial sequence: stop here */
		need += k;
	}
	if (out && cap)
		out[need < cap ? need : cap - 1] = '\0';
	return need;
}

static bool clean(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		size_t len = json_utf8_len(u + i, n - i);

		if (len > 0)
			i += len - 1;
		else if (u[i] < 0x20 || u[i] >= 0x7f || u[i] == '\\')
			return false;
	}
	return true;
}

const char *cli_text(const char *s, char *buf, size_t len)
{
	if (clean(s) || len == 0)
		return s;
	if (escape(buf, len, s) >= len && len >= 4) {
		size_t at = strlen(buf) > len - 4 ? len - 4 : strlen(buf);

		while (at > 0 && ((unsigned char)buf[at] & 0xc0) == 0x80)
			at--; /* not inside a UTF-8 sequence */
		memcpy(buf + at, "...", 4);
	}
	return buf;
}

char *cli_text_dup(const char *s)
{
	size_t need;
	char *t;

	if (clean(s))
		return NULL;
	need = escape(NULL, 0, s);
	if (!(t = malloc(need + 1)))
		return NULL;
	escape(t, need + 1, s);
	return t;
}
