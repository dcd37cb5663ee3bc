/* SPDX-License-Identifier: MIT */
/* nsnetstat's options and output writers. */
#ifndef NSN_CLI_H
#define NSN_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <nsnet/containers.h>
#include <nsnet/filter.h>
#include <nsnet/gather.h>

#define NSN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A collector's address as --collector gives it: HOST:PORT, [IPV6]:PORT or unix:PATH. */
struct cli_addr {
	bool is_unix;
	char host[256]; /* the host name or address (no brackets), or the unix socket path */
	char port[8];
};

struct cli_opts {
	/* Set by the caller before cli_parse(), zero otherwise: */
	FILE *out, *err; /* where cli_parse() prints --help/--version and its one error
			  * line (NULL: stdout, stderr), e.g. a collector's open_memstream() */
	bool remote;	 /* the data will come from a collector's store (nsnet-collector
			  * parsing a Query's args): as with --collector, attribution is
			  * on by default, tables have a NODE column, --host-root is refused */
	/* Set by cli_parse(): */
	struct nsn_gather_opts gather;
	/* --backend: where a local scan's sockets come from (main.c loads the walker into
	 * gather.bpf); no effect with --from or --collector, nor in a collector's query. */
	enum nsn_backend backend;
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
	/* --collector ADDR: ask an nsnet-collector (remote.c); implies remote. */
	const char *collector;
	struct cli_addr collector_addr;
	char **query_nodes; /* --node NAME[,NAME...] (owned), only with --collector or remote */
	size_t n_query_nodes;
	const char *token_file; /* --token-file FILE, only with --collector */
	bool plaintext;         /* --plaintext: TCP to the collector without TLS was asked for */
	/* --tls-cert, --tls-key, --tls-ca, --tls-server-name: mutual TLS to the collector */
	const char *tls_cert, *tls_key, *tls_ca, *tls_server_name;
	/* With --collector, the words of argv after argv[0] in the order typed, without
	 * --collector, --node, --token-file, --plaintext, --tls-*, --backend and their
	 * values: Query.args (the array is owned, the words are argv's). */
	const char **query_args;
	size_t n_query_args;
	bool node_column; /* the tables always have a NODE column (collector mode) */
	/* Attribution: on by default beyond the current namespace (--no-containers: off);
	 * the CONTAINER and POD columns, "containers" and "container_id" in JSON. */
	bool containers;
	struct nsn_container_filter cfilter;
};

/* Parse argv (GNU getopt: the array is permuted, options first). Returns 0 to run, 1
 * when --help/--version was printed to o->out (exit 0), or 2 after printing one usage
 * line to o->err. May be called again in the same process with a fresh (zeroed, out,
 * err and remote set) struct; release each with cli_opts_release(). */
int cli_parse(int argc, char **argv, struct cli_opts *o);
/* Free what cli_parse() allocated (filter, --node names, query args). NULL-safe fields. */
void cli_opts_release(struct cli_opts *o);

/* Whether a gathered socket passes the filter expression (states were applied by the
 * kernel request already). */
bool cli_sock_visible(const struct cli_opts *o, const struct nsn_sock *s);

/* One node's scan, as the renderers take them: local mode renders a list of one (this
 * host), --from one per node of the recording. With more than one node the tables get
 * a NODE column and the per-namespace headings name the node. */
/* What a collector says about a node beyond its namespaces (collector mode only). */
struct cli_node_info {
	bool stale;		/* its agent has not been heard from for a while */
	bool connected;		/* an agent connection of the node is open */
	uint64_t last_seen_ms;	/* the last frame from its agent, Unix epoch ms */
	const char *agent_version, *boot_id;
};

struct cli_node {
	const char *name;
	struct nsn_scan *scan;
	const struct nsn_scan *prev; /* the previous scan of a -c loop (counter increments), or NULL */
	const struct cli_node_info *info; /* collector mode: the JSON keys it adds; else NULL */
	char *text; /* the name for text output if it needs escaping (cli_text_dup()), else NULL */
};

/* The name of @p n as tables and stderr lines print it (JSON prints n->name). */
static inline const char *cli_node_text(const struct cli_node *n)
{
	return n->text ? n->text : n->name;
}

/* Whether the tables have a NODE column and per-node lines name their node. */
static inline bool cli_multi_node(const struct cli_opts *o, size_t n_nodes)
{
	return o->node_column || n_nodes > 1;
}

/* A string from elsewhere (a node's name, an agent's warning) for one line of text:
 * backslashes, control characters and bytes that are not UTF-8 escaped as \\, \n, \t
 * and \xHH. Returns @p s itself when nothing needs escaping, else @p buf (truncated to
 * @p len with "..." at the end) (views.c). */
const char *cli_text(const char *s, char *buf, size_t len);
/* The same as a new string (free()), or NULL when @p s needs no escaping or on ENOMEM. */
char *cli_text_dup(const char *s);

/* Every view asked for (sockets, routes, interfaces, counters), on @p out (views.c). */
void cli_print_views(const struct cli_opts *o, FILE *out, const struct cli_node *nodes,
		     size_t n_nodes);
/* The lines about skipped namespaces and warnings, on @p err after the output. */
void cli_print_problems(const struct cli_opts *o, FILE *err, const struct cli_node *nodes,
			size_t n_nodes);
/* --from: read, apply and render the recording; returns the exit status (from.c). */
int cli_from(const struct cli_opts *o);
/* --collector: ask the collector (again every interval with -c) and render its answers
 * on stdout, problems on stderr; returns the exit status (remote.c). */
int cli_remote(const struct cli_opts *o);

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
/* Length of the well-formed UTF-8 sequence at @p s (at most @p n bytes), or 0. */
size_t json_utf8_len(const unsigned char *s, size_t n);

#endif
