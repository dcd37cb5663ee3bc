/* SPDX-License-Identifier: MIT */
/* Queries: nsnetstat's arguments parsed with nsnetstat's own parser, evaluated over the
 * store in place, answered in chunks.
 *
 * Nothing is unpacked that is not needed. Nodes are taken one at a time, in name
 * order; in a node, namespace-level choices (-N, the container and pod filters) come
 * first, then each packed socket is skimmed (proto/skim.h) for exactly what the
 * gatherer's selection and the filter expression look at, and the ones that pass are
 * copied as they are into the answer. The answer is packed by hand, field by field,
 * from those bytes (a QueryResponse is a node's info, then namespaces, each one a
 * NamespaceSnapshot: the store's packed parts concatenated).
 *
 * One node's chunks are built in one go, so each node's answer is one consistent state;
 * the next node waits until the client has taken most of what is queued, so a slow
 * client holds at most about one node's answer plus QUEUE_HIGH bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nsnet/containers.h>
#include <nsnet/filter.h>

#include "cli.h"
#include "collector.h"
#include "log.h"
#include "skim.h"

/* A chunk is emitted once it holds this much (a namespace larger than that is split). */
#define CHUNK_TARGET (1u << 20)
/* Build the next node's answer only while less than this is queued to the client. */
#define QUEUE_HIGH (4u << 20)

/* The tags of the fields written by hand (field << 3 | wire type). */
enum {
	TAG_FRAME_RESPONSE = 11 << 3 | 2,
	TAG_RESP_ID = 1 << 3 | 0,
	TAG_RESP_NODE = 2 << 3 | 2,
	TAG_RESP_NAMESPACES = 3 << 3 | 2,
	TAG_RESP_LAST = 4 << 3 | 0,
};

struct query {
	struct collector *c;
	struct conn *k; /* NULL: query_run() */
	query_emit_fn emit;
	void *emit_ctx;
	uint64_t id;
	int argc;
	char **argv; /* argv[0] is "nsnetstat"; the words are copies */
	struct cli_opts o;
	bool parsed;
	/* The nodes to answer, by name, in order; taken one at a time. */
	char **names;
	size_t n_names, next;
	bool sent_any, done;
	/* What a socket must pass. */
	unsigned protos, fams, states;
	bool need_full;	 /* the skim must read addresses, names, processes */
	bool cfilter;	 /* --pod/--k8s-namespace/--container/--runtime */
	unsigned parts;
	/* Per node, with cfilter: the ids of the node's containers that pass. */
	char **ctr_ok;
	size_t n_ctr_ok, cap_ctr_ok;
	/* Per namespace */
	bool ns_host, ns_match;
	struct nsn_skim skim;
	struct nsn_buf chunk, ns;
	int err;
};

/* ---- packing by hand ----------------------------------------------------------- */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t k = 0;

	while (v >= 0x80) {
		p[k++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[k++] = (uint8_t)v;
	return k;
}

static int buf_varint(struct nsn_buf *b, uint64_t v)
{
	if (nsn_buf_reserve(b, 10) < 0)
		return -ENOMEM;
	b->len += put_varint(b->data + b->len, v);
	return 0;
}

static int buf_lenfield(struct nsn_buf *b, unsigned tag, const uint8_t *data, size_t len)
{
	if (nsn_buf_reserve(b, 11 + len) < 0)
		return -ENOMEM;
	b->data[b->len++] = (uint8_t)tag;
	b->len += put_varint(b->data + b->len, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/* Frame{response = <chunk's bytes>} behind its length prefix, to the client. */
static int emit_chunk(struct query *q)
{
	size_t body = 1 + varint_len(q->chunk.len) + q->chunk.len;
	size_t total = NSN_FRAME_HDR + body;
	uint8_t *buf;
	int r;

	if (body > NSN_FRAME_MAX_LIMIT)
		return -EMSGSIZE;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	nsn_frame_put_header(buf, (uint32_t)body);
	size_t off = NSN_FRAME_HDR;
	buf[off++] = TAG_FRAME_RESPONSE;
	off += put_varint(buf + off, q->chunk.len);
	memcpy(buf + off, q->chunk.data, q->chunk.len);
	q->chunk.len = 0;
	if (q->k)
		return conn_send(q->k, buf, total);
	r = q->emit(buf, total, q->emit_ctx);
	free(buf);
	return r;
}

/* Start a chunk: the query id and the node's info (full in its first chunk). */
static int chunk_begin(struct query *q, const struct cnode *n, bool first)
{
	Nsnet__V1__NodeInfo ni = NSNET__V1__NODE_INFO__INIT;
	Nsnet__V1__AgentStats stats = NSNET__V1__AGENT_STATS__INIT;
	struct nsn_store_node_info info;
	uint8_t *p;
	size_t len;
	int r;

	q->chunk.len = 0;
	if ((r = nsn_buf_reserve(&q->chunk, 12)) < 0)
		return r;
	q->chunk.data[q->chunk.len++] = TAG_RESP_ID;
	q->chunk.len += put_varint(q->chunk.data + q->chunk.len, q->id);
	if (!n)
		return 0;
	ni.node = n->name;
	if (first && n->snode) {
		nsn_store_node_info(n->snode, &info);
		ni.boot_id = (char *)info.boot_id;
		ni.stale = n->stale;
		ni.last_seen_ms = n->last_seen_ms;
		ni.agent_version = (char *)info.agent_version;
		stats = *info.stats;
		ni.stats = &stats;
		ni.connected = n->agent != NULL;
		ni.synced = info.synced;
		ni.n_warnings = info.n_warnings;
		ni.warnings = (char **)info.warnings;
		ni.vanished = info.vanished;
		ni.failed = info.failed;
		ni.scan_time_ms = info.time_ms;
	}
	len = nsnet__v1__node_info__get_packed_size(&ni);
	if (!(p = malloc(len ? len : 1)))
		return -ENOMEM;
	nsnet__v1__node_info__pack(&ni, p);
	r = buf_lenfield(&q->chunk, TAG_RESP_NODE, p, len);
	free(p);
	return r;
}

/* ---- selection ----------------------------------------------------------------- */

static const char *opt(const char *s)
{
	return s && *s ? s : NULL;
}

static void container_of_pb(const Nsnet__V1__Container *m, struct nsn_container *c)
{
	*c = (struct nsn_container){
	    .id = opt(m->id),
	    .runtime = opt(m->runtime),
	    .name = opt(m->name),
	    .sandbox = m->sandbox,
	    .sandbox_id = opt(m->sandbox_id),
	    .pod_uid = m->pod ? opt(m->pod->uid) : NULL,
	    .pod_name = m->pod ? opt(m->pod->name) : NULL,
	    .pod_namespace = m->pod ? opt(m->pod->namespace_) : NULL,
	    .bundle = opt(m->bundle),
	};
}

static bool ctr_ok(const struct query *q, const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < q->n_ctr_ok; i++)
		if (strlen(q->ctr_ok[i]) == len && memcmp(q->ctr_ok[i], id, len) == 0)
			return true;
	return false;
}

static void ctr_ok_clear(struct query *q)
{
	for (size_t i = 0; i < q->n_ctr_ok; i++)
		free(q->ctr_ok[i]);
	q->n_ctr_ok = 0;
}

static int ctr_ok_add(struct query *q, const char *id)
{
	if (ctr_ok(q, (const uint8_t *)id, strlen(id)))
		return 0;
	if (q->n_ctr_ok == q->cap_ctr_ok) {
		size_t cap = q->cap_ctr_ok ? q->cap_ctr_ok * 2 : 16;
		char **v = realloc(q->ctr_ok, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		q->ctr_ok = v;
		q->cap_ctr_ok = cap;
	}
	if (!(q->ctr_ok[q->n_ctr_ok] = strdup(id)))
		return -ENOMEM;
	q->n_ctr_ok++;
	return 0;
}

/* Whether any container of the namespace passes the container filter; with
 * @p collect, the ids of those that pass go into q->ctr_ok. */
static int ns_containers_match(struct query *q, const struct nsn_store_netns_view *v, bool collect)
{
	Nsnet__V1__NamespaceSnapshot *m;
	const uint8_t *data;
	size_t len;
	int any = 0;

	data = nsn_store_view_containers(v, &len);
	if (!data)
		return 0;
	m = nsnet__v1__namespace_snapshot__unpack(NULL, len, data);
	if (!m)
		return -ENOMEM; /* the store packed it: only memory can fail */
	for (size_t i = 0; i < m->n_containers; i++) {
		struct nsn_container c;

		if (!m->containers[i]->container || !opt(m->containers[i]->container->id))
			continue;
		container_of_pb(m->containers[i]->container, &c);
		if (!nsn_container_match(&q->o.cfilter, &c))
			continue;
		any = 1;
		if (collect && ctr_ok_add(q, c.id) < 0) {
			any = -ENOMEM;
			break;
		}
	}
	nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
	return any;
}

/* -N: whether one of the namespace's names, or its inode, is the target (as
 * nsn_scan_select_netns() decides). */
static bool ns_target_match(const struct nsn_store_netns_view *v, const char *target)
{
	Nsnet__V1__NamespaceSnapshot *m;
	const char *bare = strncmp(target, "/run/netns/", 11) == 0 ? target + 11 : NULL;
	const uint8_t *data;
	bool digits = *target != '\0', hit = false;
	size_t len;

	for (const char *s = target; *s; s++)
		digits = digits && *s >= '0' && *s <= '9';
	if (digits && strtoull(target, NULL, 10) == v->inode)
		return true;
	data = nsn_store_view_head(v, &len);
	if (!data || !(m = nsnet__v1__namespace_snapshot__unpack(NULL, len, data)))
		return false;
	for (size_t i = 0; i < m->n_names && !hit; i++)
		hit = strcmp(m->names[i], target) == 0 || (bare && strcmp(m->names[i], bare) == 0);
	nsnet__v1__namespace_snapshot__free_unpacked(m, NULL);
	return hit;
}

/* The gatherer's selection (nsn_scan_select()), the filter expression
 * (cli_sock_visible()) and the container filter (nsn_scan_filter_containers()), on
 * a packed socket. */
static bool keep_sock(const uint8_t *data, size_t len, void *ctx)
{
	struct query *q = ctx;
	struct nsn_skim *k = &q->skim;
	const struct nsn_sock *s = &k->s;

	/* The leading fields first: most sockets a query leaves out go on proto, state
	 * or family, without reading their addresses and processes. Not well-formed:
	 * let the client's decoder say so rather than hide it. */
	if (nsn_skim_socket(data, len, NSN_SKIM_HEAD, k) < 0)
		return true;
	if (s->proto >= NSN_PROTO_MAX || !(q->protos & NSN_PROTO_BIT(s->proto)))
		return false;
	if (s->state >= NSN_SS_MAX || !(q->states & (1u << s->state)))
		return false;
	if (s->proto != NSN_PROTO_UNIX &&
	    !(s->family == AF_INET ? q->fams & NSN_FAMILY_V4 : q->fams & NSN_FAMILY_V6))
		return false;
	if (!q->need_full)
		return true;
	/* Processes (the bulk of a mapped socket's bytes) only for the container filter. */
	if (nsn_skim_more(data, len, q->cfilter ? NSN_SKIM_FULL : NSN_SKIM_ADDRS, k) < 0)
		return true;
	if (q->o.filter && !nsn_filter_match(q->o.filter, s))
		return false;
	if (q->cfilter) {
		/* nsn_sock_containers(): its processes' containers; held by none in a
		 * container, the namespace's, but never the host's. */
		if (k->n_ctr_ids > 0 || k->ctr_ids_more) {
			for (size_t i = 0; i < k->n_ctr_ids; i++)
				if (ctr_ok(q, k->ctr_id[i], k->ctr_id_len[i]))
					return true;
			return k->ctr_ids_more; /* not all seen: the client decides */
		}
		return !q->ns_host && q->ns_match;
	}
	return true;
}

/* ---- one node ------------------------------------------------------------------ */

/* Append one namespace (in pieces when it is large) to the node's chunks. */
static int add_namespace(struct query *q, const struct cnode *n, const struct nsn_store_netns_view *v,
			 unsigned parts)
{
	size_t cursor = 0;
	int r;

	do {
		long kept;

		bool first = cursor == 0;

		q->ns.len = 0;
		kept = nsn_store_view_pack(v, parts, keep_sock, q, CHUNK_TARGET, &cursor, &q->ns);
		if (kept < 0)
			return (int)kept;
		if (!first && kept == 0)
			continue; /* only sockets the query does not take were left */
		if ((r = buf_lenfield(&q->chunk, TAG_RESP_NAMESPACES, q->ns.data, q->ns.len)) < 0)
			return r;
		if (q->chunk.len >= CHUNK_TARGET) {
			if ((r = emit_chunk(q)) < 0 || (r = chunk_begin(q, n, false)) < 0)
				return r;
		}
	} while (cursor != SIZE_MAX);
	return 0;
}

/* The whole answer of one node; its last chunk is the query's last when @p last. */
static int answer_node(struct query *q, struct cnode *n, bool last)
{
	struct nsn_store_netns_view *views = NULL;
	size_t n_views = 0;
	int r;

	if ((r = chunk_begin(q, n, true)) < 0)
		return r;
	if (n->snode && (r = nsn_store_node_views(n->snode, &views, &n_views)) < 0)
		return r;
	ctr_ok_clear(q);
	bool any_ctr = true;
	if (q->cfilter) {
		for (size_t i = 0; i < n_views && r >= 0; i++)
			r = ns_containers_match(q, &views[i], true);
		any_ctr = q->n_ctr_ok > 0;
	}
	for (size_t i = 0; i < n_views && r >= 0; i++) {
		const struct nsn_store_netns_view *v = &views[i];
		bool in = any_ctr;

		if (in && q->o.gather.scope == NSN_SCOPE_ONE)
			in = ns_target_match(v, q->o.gather.target);
		q->ns_host = v->host;
		q->ns_match = false;
		if (in && q->cfilter) {
			r = ns_containers_match(q, v, false);
			if (r < 0)
				break;
			q->ns_match = r > 0;
			/* Held by no container process, a socket is the namespace's: without a
			 * matching container here only container processes' sockets can pass. */
		}
		if (in)
			r = add_namespace(q, n, v, q->parts);
		else if (q->o.links)
			r = add_namespace(q, n, v, 0); /* a veth peer's name, nothing more */
	}
	free(views);
	if (r < 0)
		return r;
	if (last) {
		if ((r = buf_varint(&q->chunk, TAG_RESP_LAST)) < 0 || (r = buf_varint(&q->chunk, 1)) < 0)
			return r;
	}
	return emit_chunk(q);
}

/* ---- the query ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parse the arguments and fix what the answer holds; -EINVAL with the parser's one
 * line in @p err. */
static int query_prepare(struct query *q, const Nsnet__V1__Query *m, char *err, size_t err_len)
{
	struct collector *c = q->c;
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	int r;

	q->id = m->id;
	q->argc = (int)m->n_args + 1;
	q->argv = calloc((size_t)q->argc + 1, sizeof(*q->argv));
	if (!q->argv)
		return -ENOMEM;
	if (!(q->argv[0] = strdup("nsnetstat")))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_args; i++)
		if (!(q->argv[i + 1] = strdup(m->args[i] ? m->args[i] : "")))
			return -ENOMEM;
	for (int i = 1; i < q->argc; i++) {
		if (!strcmp(q->argv[i], "--collector") || !strncmp(q->argv[i], "--collector=", 12) ||
		    !strcmp(q->argv[i], "--from") || !strncmp(q->argv[i], "--from=", 7) ||
		    !strcmp(q->argv[i], "--host-root") || !strncmp(q->argv[i], "--host-root=", 12)) {
			snprintf(err, err_len, "%s does not apply to a collector's query", q->argv[i]);
			return -EINVAL;
		}
	}
	/* The parser permutes argv; it gets its own array of the same words. */
	char **words = calloc((size_t)q->argc + 1, sizeof(*words));
	if (!words)
		return -ENOMEM;
	memcpy(words, q->argv, (size_t)q->argc * sizeof(*words));
	f = open_memstream(&text, &text_len);
	if (!f) {
		free(words);
		return -ENOMEM;
	}
	q->o.out = q->o.err = f;
	q->o.remote = true;
	r = cli_parse(q->argc, words, &q->o);
	fclose(f);
	q->o.out = q->o.err = NULL;
	free(words);
	q->parsed = true;
	if (r != 0) {
		size_t n = text ? strcspn(text, "\n") : 0;
		snprintf(err, err_len, "%.*s", (int)n,
			 n ? text : r == 1 ? "--help and --version are not queries" : "bad arguments");
		free(text);
		return -EINVAL;
	}
	free(text);

	q->protos = q->o.gather.protos ? q->o.gather.protos : NSN_PROTOS_ALL;
	q->fams = q->o.gather.families ? q->o.gather.families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);
	q->states = (q->o.gather.states ? q->o.gather.states : NSN_STATES_ALL) & NSN_STATES_ALL;
	q->cfilter = !nsn_container_filter_empty(&q->o.cfilter);
	q->need_full = q->cfilter || nsn_filter_has_expr(q->o.filter);
	unsigned fl = q->o.gather.flags;
	q->parts = (fl & NSN_GATHER_NO_SOCKS ? 0 : NSN_STORE_PART_SOCKETS) |
		   (fl & NSN_GATHER_ROUTES ? NSN_STORE_PART_ROUTES : 0) |
		   (fl & NSN_GATHER_LINKS ? NSN_STORE_PART_LINKS : 0) |
		   (fl & NSN_GATHER_COUNTERS ? NSN_STORE_PART_COUNTERS : 0) |
		   (fl & NSN_GATHER_CONTAINERS || q->cfilter ? NSN_STORE_PART_CONTAINERS : 0);

	/* The nodes, in name order: those asked for that exist, or all. */
	size_t want = m->n_nodes ? m->n_nodes : c->n_nodes;
	q->names = calloc(want ? want : 1, sizeof(*q->names));
	if (!q->names)
		return -ENOMEM;
	for (size_t i = 0; i < want; i++) {
		const char *name = m->n_nodes ? m->nodes[i] : c->nodes[i]->name;
		bool dup = false;

		if (!name || !coll_node_find(c, name))
			continue;
		for (size_t j = 0; j < q->n_names && !dup; j++)
			dup = strcmp(q->names[j], name) == 0;
		if (dup)
			continue;
		if (!(q->names[q->n_names] = strdup(name)))
			return -ENOMEM;
		q->n_names++;
	}
	qsort(q->names, q->n_names, sizeof(*q->names), cmp_str);
	return 0;
}

void query_free(struct query *q)
{
	if (!q)
		return;
	for (int i = 0; q->argv && i < q->argc; i++)
		free(q->argv[i]);
	free(q->argv);
	if (q->parsed)
		cli_opts_release(&q->o);
	for (size_t i = 0; i < q->n_names; i++)
		free(q->names[i]);
	free(q->names);
	ctr_ok_clear(q);
	free(q->ctr_ok);
	nsn_buf_release(&q->chunk);
	nsn_buf_release(&q->ns);
	free(q);
}

/* The one chunk of a failed query. */
static int send_error(struct query *q, Nsnet__V1__Error__Code code, const char *msg)
{
	Nsnet__V1__Error e = NSNET__V1__ERROR__INIT;
	uint8_t *p;
	size_t len;
	int r;

	e.code = code;
	e.message = (char *)msg;
	if ((r = chunk_begin(q, NULL, false)) < 0)
		return r;
	len = nsnet__v1__error__get_packed_size(&e);
	if (!(p = malloc(len ? len : 1)))
		return -ENOMEM;
	nsnet__v1__error__pack(&e, p);
	r = buf_lenfield(&q->chunk, 5 << 3 | 2, p, len);
	free(p);
	if (r >= 0 && (r = buf_varint(&q->chunk, TAG_RESP_LAST)) >= 0)
		r = buf_varint(&q->chunk, 1);
	return r < 0 ? r : emit_chunk(q);
}

/* Answer nodes while the client keeps up; 1 when the answer is complete. */
static int query_step(struct query *q, bool all)
{
	int r;

	while (q->next < q->n_names) {
		if (!all && q->k && q->k->queued >= QUEUE_HIGH)
			return 0;
		const char *name = q->names[q->next++];
		struct cnode *n = coll_node_find(q->c, name);
		bool last = q->next == q->n_names;

		if (!n) { /* forgotten meanwhile */
			if (last && (r = chunk_begin(q, NULL, false)) >= 0 &&
			    (r = buf_varint(&q->chunk, TAG_RESP_LAST)) >= 0 &&
			    (r = buf_varint(&q->chunk, 1)) >= 0)
				r = emit_chunk(q);
			else
				r = 0;
		} else {
			r = answer_node(q, n, last);
		}
		if (r < 0)
			return r;
		q->sent_any = true;
	}
	if (!q->sent_any) { /* no node at all: one empty, last chunk */
		if ((r = chunk_begin(q, NULL, false)) < 0 || (r = buf_varint(&q->chunk, TAG_RESP_LAST)) < 0 ||
		    (r = buf_varint(&q->chunk, 1)) < 0 || (r = emit_chunk(q)) < 0)
			return r;
		q->sent_any = true;
	}
	return 1;
}

static struct query *query_new(struct collector *c)
{
	struct query *q = calloc(1, sizeof(*q));

	if (q)
		q->c = c;
	return q;
}

void query_continue(struct conn *k)
{
	struct query *q = k->q;
	int r;

	if (!q || k->closing)
		return;
	r = query_step(q, false);
	if (r < 0) {
		conn_close(k, REJECT_MAX, "query %llu: %s", (unsigned long long)q->id, strerror(-r));
		return;
	}
	if (r == 1) {
		k->q = NULL;
		query_free(q);
	}
}

void query_start(struct conn *k, const Nsnet__V1__Query *m)
{
	struct query *q = query_new(k->c);
	char err[256] = "";
	int r;

	if (!q) {
		conn_close(k, REJECT_MAX, "query: %s", strerror(ENOMEM));
		return;
	}
	q->k = k;
	r = query_prepare(q, m, err, sizeof(err));
	if (r == -EINVAL) {
		char qe[300];

		/* The frame is refused, with an answer: the connection stays. */
		k->c->st.query_errors++;
		k->c->st.rejected[REJECT_QUERY]++;
		nsn_log(NSN_LOG_INFO, "event=query_rejected peer=%s id=%llu error=%s", k->peer,
			(unsigned long long)m->id, nsn_log_q(err, qe, sizeof(qe)));
		r = send_error(q, NSNET__V1__ERROR__CODE__QUERY, err);
		query_free(q);
		if (r < 0)
			conn_close(k, REJECT_MAX, "query: %s", strerror(-r));
		return;
	}
	if (r < 0) {
		query_free(q);
		conn_close(k, REJECT_MAX, "query: %s", strerror(-r));
		return;
	}
	k->q = q;
	query_continue(k);
}

int query_run(struct collector *c, const Nsnet__V1__Query *m, query_emit_fn emit, void *ctx,
	      char *err, size_t err_len)
{
	struct query *q = query_new(c);
	int r;

	if (!q)
		return -ENOMEM;
	q->emit = emit;
	q->emit_ctx = ctx;
	r = query_prepare(q, m, err, err_len);
	if (r >= 0) {
		r = query_step(q, true);
		if (r < 0)
			snprintf(err, err_len, "%s", strerror(-r));
	} else if (r != -EINVAL) {
		snprintf(err, err_len, "%s", strerror(-r));
	}
	if (r == -EINVAL)
		c->st.query_errors++;
	query_free(q);
	return r < 0 ? r : 0;
}
