/* SPDX-License-Identifier: MIT */
/* A query's answer: the QueryResponse chunks a collector sends, put back together per
 * node, then decoded, selected and rendered exactly as --from renders a recording.
 *
 * The chunks are kept as the collector sent them (unpacked messages); each namespace is
 * a shallow copy of its first part's snapshot whose socket array is ours, so that a
 * namespace split over several chunks becomes one snapshot again without copying any
 * socket. nsn_pb_decode_scan() reads them in place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote.h"

/* One namespace of a node: the header, lists and first sockets of its first part, and
 * the sockets of every part (ours; the sockets themselves stay in their messages). */
struct resp_ns {
	Nsnet__V1__NamespaceSnapshot snap;
	size_t cap_sockets;
};

struct resp_node {
	const char *name;
	const Nsnet__V1__NodeInfo *info; /* its first chunk's: the full one */
	struct resp_ns **ns;
	size_t n_ns, cap_ns;
};

/* A node's scan of the previous -c round, for the -s increments. */
struct kept_scan {
	char *name;
	struct nsn_scan *scan;
};

struct cli_resp {
	Nsnet__V1__QueryResponse **msgs; /* every chunk, owned */
	size_t n_msgs, cap_msgs;
	struct resp_node *nodes; /* in the order they came (node name order) */
	size_t n_nodes, cap_nodes;
	bool done; /* the last chunk came */
	struct kept_scan *prev;
	size_t n_prev;
};

/* The array @p p (capacity *cap elements of @p size bytes) with room for @p need, or
 * NULL on ENOMEM (then @p p is unchanged). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 4;
	void *n;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	n = realloc(p, c * size);
	if (n)
		*cap = c;
	return n;
}

struct cli_resp *cli_resp_new(void)
{
	return calloc(1, sizeof(struct cli_resp));
}

void cli_resp_restart(struct cli_resp *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_nodes; i++) {
		for (size_t k = 0; k < r->nodes[i].n_ns; k++) {
			free(r->nodes[i].ns[k]->snap.sockets);
			free(r->nodes[i].ns[k]);
		}
		free(r->nodes[i].ns);
	}
	free(r->nodes);
	r->nodes = NULL;
	r->n_nodes = r->cap_nodes = 0;
	for (size_t i = 0; i < r->n_msgs; i++)
		nsnet__v1__query_response__free_unpacked(r->msgs[i], NULL);
	free(r->msgs);
	r->msgs = NULL;
	r->n_msgs = r->cap_msgs = 0;
	r->done = false;
}

static void drop_prev(struct cli_resp *r)
{
	for (size_t i = 0; i < r->n_prev; i++) {
		free(r->prev[i].name);
		nsn_scan_free(r->prev[i].scan);
	}
	free(r->prev);
	r->prev = NULL;
	r->n_prev = 0;
}

void cli_resp_free(struct cli_resp *r)
{
	if (!r)
		return;
	cli_resp_restart(r);
	drop_prev(r);
	free(r);
}

static bool same_id(const Nsnet__V1__NetnsId *a, const Nsnet__V1__NetnsId *b)
{
	return a && b && a->cookie == b->cookie && a->dev == b->dev && a->inode == b->inode;
}

/* The node of a chunk: the last one (chunks come in node order), or a new one. */
static struct resp_node *chunk_node(struct cli_resp *r, const Nsnet__V1__NodeInfo *info)
{
	struct resp_node *n;

	for (size_t i = r->n_nodes; i-- > 0;)
		if (strcmp(r->nodes[i].name, info->node) == 0)
			return &r->nodes[i];
	if (!(n = grow(r->nodes, &r->cap_nodes, r->n_nodes + 1, sizeof(*n))))
		return NULL;
	r->nodes = n;
	n = &r->nodes[r->n_nodes++];
	*n = (struct resp_node){.name = info->node, .info = info};
	return n;
}

static int add_sockets(struct resp_ns *ns, Nsnet__V1__Socket *const *s, size_t n)
{
	Nsnet__V1__Socket **v;

	if (n == 0)
		return 0;
	if (!(v = grow(ns->snap.sockets, &ns->cap_sockets, ns->snap.n_sockets + n, sizeof(*v))))
		return -ENOMEM;
	ns->snap.sockets = v;
	memcpy(ns->snap.sockets + ns->snap.n_sockets, s, n * sizeof(*s));
	ns->snap.n_sockets += n;
	return 0;
}

static int add_namespace(struct resp_node *node, const Nsnet__V1__NamespaceSnapshot *m)
{
	struct resp_ns *ns, **v;

	if (!(v = grow(node->ns, &node->cap_ns, node->n_ns + 1, sizeof(*v))))
		return -ENOMEM;
	node->ns = v;
	if (!(ns = calloc(1, sizeof(*ns))))
		return -ENOMEM;
	ns->snap = *m;
	ns->snap.sockets = NULL;
	ns->snap.n_sockets = 0;
	if (add_sockets(ns, m->sockets, m->n_sockets) < 0) {
		free(ns);
		return -ENOMEM;
	}
	node->ns[node->n_ns++] = ns;
	return 0;
}

int cli_resp_take(struct cli_resp *r, Nsnet__V1__QueryResponse *m, char *err, size_t err_len)
{
	Nsnet__V1__QueryResponse **msgs;
	struct resp_node *node;

	if (!(msgs = grow(r->msgs, &r->cap_msgs, r->n_msgs + 1, sizeof(*msgs)))) {
		nsnet__v1__query_response__free_unpacked(m, NULL);
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r->msgs = msgs;
	r->msgs[r->n_msgs++] = m;
	if (m->error) {
		const Nsnet__V1__Error *e = m->error;

		if (e->message && e->message[0])
			snprintf(err, err_len, "%s", e->message);
		else
			snprintf(err, err_len, "the query failed (error code %d)", (int)e->code);
		return e->code == NSNET__V1__ERROR__CODE__QUERY ? -EINVAL : -EREMOTEIO;
	}
	if (r->done) {
		snprintf(err, err_len, "a response chunk after the last one");
		return -EBADMSG;
	}
	if (!m->node || !m->node->node || !m->node->node[0]) {
		/* The end of an answer with no node in scope (none known, or none of those
		 * asked for) names none; namespaces need their node. */
		if (m->n_namespaces == 0) {
			r->done = m->last;
			return m->last ? 1 : 0;
		}
		snprintf(err, err_len, "a response chunk with namespaces of no node");
		return -EBADMSG;
	}
	if (!(node = chunk_node(r, m->node)))
		goto nomem;
	for (size_t i = 0; i < m->n_namespaces; i++) {
		const Nsnet__V1__NamespaceSnapshot *s = m->namespaces[i];
		int e;

		/* A namespace too large for one chunk goes on in the next one of its node. */
		if (i == 0 && node->n_ns && same_id(node->ns[node->n_ns - 1]->snap.id, s->id))
			e = add_sockets(node->ns[node->n_ns - 1], s->sockets, s->n_sockets);
		else
			e = add_namespace(node, s);
		if (e < 0)
			goto nomem;
	}
	r->done = m->last;
	return m->last ? 1 : 0;
nomem:
	snprintf(err, err_len, "%s", strerror(ENOMEM));
	return -ENOMEM;
}

int cli_resp_add(struct cli_resp *r, const Nsnet__V1__QueryResponse *m, char *err, size_t err_len)
{
	Nsnet__V1__QueryResponse *copy;
	size_t len = nsnet__v1__query_response__get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	/* protobuf-c has no deep copy: a packed round trip is one. */
	if (!buf) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	nsnet__v1__query_response__pack(m, buf);
	copy = nsnet__v1__query_response__unpack(NULL, len, buf);
	free(buf);
	if (!copy) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	return cli_resp_take(r, copy, err, err_len);
}

static const struct resp_node *find_node(const struct cli_resp *r, const char *name)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (strcmp(r->nodes[i].name, name) == 0)
			return &r->nodes[i];
	return NULL;
}

static const struct nsn_scan *find_prev(const struct cli_resp *r, const char *name)
{
	for (size_t i = 0; i < r->n_prev; i++)
		if (strcmp(r->prev[i].name, name) == 0)
			return r->prev[i].scan;
	return NULL;
}

static int cmp_node(const void *a, const void *b)
{
	const struct cli_node *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* After the output: which nodes are shown as their agents last reported them. */
static void print_stale(FILE *err, const struct cli_node *nodes, size_t n)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < n; i++) {
		const struct cli_node_info *ni = nodes[i].info;
		uint64_t ago = now > ni->last_seen_ms ? (now - ni->last_seen_ms) / 1000 : 0;

		if (!ni->stale)
			continue;
		if (ni->last_seen_ms)
			fprintf(err,
				"nsnetstat: node %s is stale: "
				"its agent was last heard from %llu s ago\n",
				cli_node_text(&nodes[i]), (unsigned long long)ago);
		else
			fprintf(err,
				"nsnetstat: node %s is stale: its agent was never heard from\n",
				cli_node_text(&nodes[i]));
	}
}

/* Keep this round's scans for the next one's -s increments (taken from @p nodes). */
static void keep_scans(struct cli_resp *r, struct cli_node *nodes, size_t n)
{
	struct kept_scan *k = calloc(n ? n : 1, sizeof(*k));

	drop_prev(r);
	if (!k)
		return; /* the next round shows totals instead of increments */
	for (size_t i = 0; i < n; i++) {
		if (!(k[r->n_prev].name = strdup(nodes[i].name)))
			continue;
		k[r->n_prev++].scan = nodes[i].scan;
		nodes[i].scan = NULL;
	}
	r->prev = k;
}

/* The --node names the answer does not have, one line each. Returns how many. */
static size_t print_unknown(const struct cli_opts *o, const struct cli_resp *r, FILE *err)
{
	size_t n = 0;

	for (size_t i = 0; i < o->n_query_nodes; i++) {
		char buf[512];

		if (find_node(r, o->query_nodes[i]))
			continue;
		fprintf(err, "nsnetstat: --node %s: no such node at %s%s\n",
			cli_text(o->query_nodes[i], buf, sizeof(buf)),
			o->collector ? "collector " : "the collector",
			o->collector ? o->collector : "");
		n++;
	}
	return n;
}

static const char unsynced[] =
    "the collector has not received this node's full resync yet: namespaces its agent has "
    "not sent again are shown as last reported";

/* The scan of one node of the answer, as cli_node_scan() returns it, and what the
 * collector said about the node in @p ret_info. */
static int node_scan(const struct cli_opts *o, const struct resp_node *rn,
		     struct cli_node_info *ret_info, struct nsn_scan **ret)
{
	const Nsnet__V1__NodeInfo *ni = rn->info;
	const Nsnet__V1__NamespaceSnapshot **snaps;
	struct cli_node_meta meta = {
	    .warnings = ni->warnings,
	    .n_warnings = ni->n_warnings,
	    .unsynced = ni->synced ? NULL : unsynced,
	    .vanished = ni->vanished,
	    .failed = ni->failed,
	};
	int r;

	*ret = NULL;
	if (!(snaps = calloc(rn->n_ns ? rn->n_ns : 1, sizeof(*snaps))))
		return -ENOMEM;
	for (size_t k = 0; k < rn->n_ns; k++)
		snaps[k] = &rn->ns[k]->snap;
	r = cli_node_scan(o, snaps, rn->n_ns, &meta, ret);
	free(snaps);
	*ret_info = (struct cli_node_info){
	    .stale = ni->stale,
	    .connected = ni->connected,
	    .last_seen_ms = ni->last_seen_ms,
	    .agent_version = ni->agent_version,
	    .boot_id = ni->boot_id,
	};
	return r;
}

int cli_resp_render(const struct cli_opts *o, struct cli_resp *r, FILE *out, FILE *err)
{
	const char *at = o->collector ? "collector " : "the collector";
	const char *addr = o->collector ? o->collector : "";
	struct cli_node_info *info = NULL;
	struct cli_node *nodes = NULL;
	size_t n = r->n_nodes, missing = 0;
	int ret = 1;

	/* None of the nodes asked for: nothing to show. */
	if (o->n_query_nodes) {
		size_t found = 0;
		for (size_t i = 0; i < o->n_query_nodes; i++)
			found += find_node(r, o->query_nodes[i]) != NULL;
		if (!found) {
			print_unknown(o, r, err);
			return 1;
		}
	}
	nodes = calloc(n ? n : 1, sizeof(*nodes));
	info = calloc(n ? n : 1, sizeof(*info));
	if (!nodes || !info) {
		fprintf(err, "nsnetstat: %s\n", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int e = node_scan(o, &r->nodes[i], &info[i], &nodes[i].scan);

		nodes[i].name = r->nodes[i].name;
		nodes[i].text = cli_text_dup(nodes[i].name);
		if (e < 0) {
			fprintf(err, "nsnetstat: %s%s: node %s: %s\n", at, addr,
				cli_node_text(&nodes[i]),
				e == -EBADMSG ? "a namespace snapshot is not well-formed"
					      : strerror(-e));
			goto out;
		}
		missing += (size_t)e;
		nodes[i].info = &info[i];
		nodes[i].prev = find_prev(r, r->nodes[i].name);
	}
	if (o->gather.scope == NSN_SCOPE_ONE && missing == n) {
		fprintf(err, "nsnetstat: -N %s: no such network namespace on any node of %s%s\n",
			o->gather.target, at, addr);
		ret = 2;
		goto out;
	}
	qsort(nodes, n, sizeof(*nodes), cmp_node);
	cli_print_views(o, out, nodes, n);
	/* The output first, then what went wrong with it, in that order on a terminal. */
	fflush(out);
	cli_print_problems(o, err, nodes, n);
	print_unknown(o, r, err);
	print_stale(err, nodes, n);
	ret = 0;
	if (o->continuous && o->counters)
		keep_scans(r, nodes, n);
out:
	for (size_t i = 0; nodes && i < n; i++) {
		nsn_scan_free(nodes[i].scan);
		free(nodes[i].text);
	}
	free(nodes);
	free(info);
	return ret;
}
