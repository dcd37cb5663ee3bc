/* SPDX-License-Identifier: MIT */
/* nsnetstat's options and output writers. */
#ifndef NSN_CLI_H
#define NSN_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <nsnet/containers.h>
#include <nsnet/filter.h>
#include <nsnet/gather.h>

#define NSN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct cli_opts {
	struct nsn_gather_opts gather;
	struct nsn_filter *filter;
	bool numeric, procs, extended, info, json, summary, no_header, listening, all;
	bool continuous;
	/* netstat's other views: -r routes (--rules adds ip rule), -i interfaces, -s counters */
	bool routes, rules, links, counters, zeros;
	bool sockets; /* the socket view: the default, or asked for beside -r/-i/-s */
	double interval_s;
	bool progress; /* stderr is a terminal */
	const char *node; /* this host's name, for "nodes" */
	const char *from; /* --from FILE: render a recorded nsnet.v1 stream ("-": stdin) */
	/* Attribution: on by default beyond the current namespace (--no-containers: off);
	 * the CONTAINER and POD columns, "containers" and "container_id" in JSON. */
	bool containers;
	struct nsn_container_filter cfilter;
};

/* Parse argv. Returns 0 to run, 1 when --help/--version was printed (exit 0), or 2
 * after printing one usage line to stderr. */
int cli_parse(int argc, char **argv, struct cli_opts *o);
void cli_opts_release(struct cli_opts *o);

/* Whether a gathered socket passes the filter expression (states were applied by the
 * kernel request already). */
bool cli_sock_visible(const struct cli_opts *o, const struct nsn_sock *s);

/* One node's scan, as the renderers take them: local mode renders a list of one (this
 * host), --from one per node of the recording. With more than one node the tables get
 * a NODE column and the per-namespace headings name the node. */
struct cli_node {
	const char *name;
	struct nsn_scan *scan;
	const struct nsn_scan *prev; /* the previous scan of a -c loop (counter increments), or NULL */
};

/* Every view asked for (sockets, routes, interfaces, counters), on stdout. */
void cli_print_views(const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);
/* The stderr lines about skipped namespaces and warnings, after the output. */
void cli_print_problems(const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);
/* --from: read, apply and render the recording; returns the exit status (from.c). */
int cli_from(const struct cli_opts *o);

void out_json(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);
void out_table(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);
void out_summary_table(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);

/* -r: per namespace a heading line, then its routes exactly as `ip route show table all`
 * followed by `ip -6 route show table all` print them; with o->rules, then its rules as
 * `ip rule` and `ip -6 rule` print them (out_routes.c). */
void out_routes(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);
/* One route / rule in ip's text form, newline-terminated (multipath routes span lines). */
void out_route_line(FILE *f, const struct nsn_netns *ns, const struct nsn_route *r);
void out_rule_line(FILE *f, const struct nsn_rule *r);
/* The heading that starts each namespace's block in the -r and -s views; @p node (the
 * node's name, NULL with a single node) goes first. */
void out_netns_heading(FILE *f, const char *node, const struct nsn_netns *ns);

/* -i: netstat -i's table with NETNS first and a PEER column (out_links.c). */
void out_links(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);

/* -s: per namespace, counters as nstat names them; with a node's prev (the previous
 * scan of a -c loop) the increments since then, like nstat (out_counters.c). */
void out_counters(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes);
/* A counter's increment since the previous scan. */
struct counter_delta {
	const char *name;
	int64_t delta;
};
/* The non-gauge counters of @p ns that changed since @p prev, in @p ns's order; the
 * array (free() it) in *ret. Returns how many. */
size_t counters_delta(const struct nsn_netns *ns, const struct nsn_netns *prev,
		      struct counter_delta **ret);
/* The -r/-i/-s keys of one namespace object of the JSON document (out_json_net.c). */
struct json;
void json_netcfg(struct json *j, const struct cli_opts *o, const struct nsn_netns *ns,
		 const struct nsn_netns *prev);

/* Whether a counter is a gauge nstat leaves out (IpForwarding, TcpMaxConn, ...). */
bool counter_is_gauge(const char *name);
/* The namespace of @p prev with the same identity as @p ns (dev, inode), or NULL. */
const struct nsn_netns *scan_find_netns(const struct nsn_scan *prev, const struct nsn_netns *ns);

/* The CONTAINER and POD cells of a socket: the (first non-sandbox) container it is
 * attributed to, by name or short id with "+N" for N more, and its pod as
 * "namespace/name"; "-" where none. */
void cli_sock_container_cells(const struct nsn_scan *scan, const struct nsn_netns *ns,
			      const struct nsn_sock *s, char *ctr, size_t ctr_len, char *pod,
			      size_t pod_len);

/* Per namespace counts by (proto, state), for --summary. */
struct summary_row {
	unsigned proto, state;
	size_t count;
};
/* Fill rows (at most NSN_PROTO_MAX * NSN_SS_MAX), largest first; returns how many. */
size_t summary_count(const struct cli_opts *o, const struct nsn_netns *ns,
		     struct summary_row *rows, size_t *ret_total);

/* A small streaming JSON writer. */
struct json {
	FILE *f;
	int depth;
	bool need_comma[32];
};
void json_begin_obj(struct json *j);
void json_end_obj(struct json *j);
void json_begin_arr(struct json *j);
void json_end_arr(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, unsigned long long v);
void json_i64(struct json *j, long long v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

#endif
