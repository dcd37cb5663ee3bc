/* SPDX-License-Identifier: MIT */
/* /metrics: the Prometheus text exposition (format 0.0.4) of the collector, of each
 * node's agent, and of each namespace's sockets, counters and interfaces.
 *
 * The text format wants every sample of a family together, while the store is walked
 * node by node and namespace by namespace. So one pass over the store fills three
 * tables (nodes, namespaces, interfaces), each row naming its label set by an offset
 * into one buffer of escaped labels, and the families are then printed from the tables
 * one after the other. Sockets are counted with nsn_skim_socket() on the packed bytes
 * the store holds, never unpacked; only links and container lists are unpacked, and
 * they are few.
 *
 * Cardinality stays low on purpose: nothing is labelled per socket, and socket counts
 * that are zero are left out. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "skim.h"

/* Label values of the state label: the kernel's TCP_* states as ss names them, in
 * lower case. State CLOSE is what ss prints as UNCONN for every protocol. */
static const char *const state_names[NSN_SS_MAX] = {
    [NSN_SS_UNKNOWN] = "unknown",	[NSN_SS_ESTABLISHED] = "established",
    [NSN_SS_SYN_SENT] = "syn_sent",	[NSN_SS_SYN_RECV] = "syn_recv",
    [NSN_SS_FIN_WAIT1] = "fin_wait1",	[NSN_SS_FIN_WAIT2] = "fin_wait2",
    [NSN_SS_TIME_WAIT] = "time_wait",	[NSN_SS_CLOSE] = "unconnected",
    [NSN_SS_CLOSE_WAIT] = "close_wait", [NSN_SS_LAST_ACK] = "last_ack",
    [NSN_SS_LISTEN] = "listen",		[NSN_SS_CLOSING] = "closing",
};

static const char *const proto_names[NSN_PROTO_MAX] = {
    [NSN_PROTO_TCP] = "tcp",
    [NSN_PROTO_UDP] = "udp",
    [NSN_PROTO_RAW] = "raw",
    [NSN_PROTO_UNIX] = "unix",
};

/* The interface families, indexed like link_row.v. */
enum {
	IF_RX_BYTES,
	IF_TX_BYTES,
	IF_RX_PACKETS,
	IF_TX_PACKETS,
	IF_RX_ERRORS,
	IF_TX_ERRORS,
	IF_RX_DROPS,
	IF_TX_DROPS,
	IF_MAX
};
static const struct {
	const char *name, *help;
} if_families[IF_MAX] = {
    [IF_RX_BYTES] = {"nsnet_interface_receive_bytes_total", "Bytes received by the interface."},
    [IF_TX_BYTES] = {"nsnet_interface_transmit_bytes_total", "Bytes transmitted by the interface."},
    [IF_RX_PACKETS] = {"nsnet_interface_receive_packets_total",
		       "Packets received by the interface."},
    [IF_TX_PACKETS] = {"nsnet_interface_transmit_packets_total",
		       "Packets transmitted by the interface."},
    [IF_RX_ERRORS] = {"nsnet_interface_receive_errors_total", "Receive errors of the interface."},
    [IF_TX_ERRORS] = {"nsnet_interface_transmit_errors_total", "Transmit errors of the interface."},
    [IF_RX_DROPS] = {"nsnet_interface_receive_drops_total",
		     "Received packets the interface dropped."},
    [IF_TX_DROPS] = {"nsnet_interface_transmit_drops_total",
		     "Packets to transmit the interface dropped."},
};

/* Escaped label sets, NUL-separated; rows refer to them by offset because the buffer
 * moves as it grows. */
struct labels {
	char *p;
	size_t len, cap;
	bool oom;
};

struct node_row {
	const struct cnode *n;
	struct nsn_store_node_info info;
	size_t lab;	    /* node="..." */
	size_t lab_backend; /* node="...",backend="..." when info.backend is not "" */
};

struct ns_row {
	size_t lab; /* node="...",netns="...",pod="..." */
	uint32_t socks[NSN_PROTO_MAX][NSN_SS_MAX];
	bool has_retrans;
	int64_t retrans;
};

struct link_row {
	size_t lab; /* node="...",netns="...",pod="...",interface="..." */
	uint64_t v[IF_MAX];
};

struct scrape {
	struct labels lab;
	struct node_row *nodes;
	size_t n_nodes;
	struct ns_row *ns;
	size_t n_ns, cap_ns;
	struct link_row *links;
	size_t n_links, cap_links;
	bool oom;
};

static void lab_put(struct labels *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void lab_puts(struct labels *b, const char *s)
{
	lab_put(b, s, strlen(s));
}

/* The length of the well-formed UTF-8 sequence at @p s (1 to 4), or 0 when the bytes
 * there are not one (Prometheus refuses a scrape with invalid UTF-8 in a label). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0; /* overlong, or above U+10FFFF */
		return 4;
	}
	return 0;
}

/* Append @p name="value" with the value escaped as the text format wants (\\, \", \n)
 * and bytes that are not UTF-8 replaced by U+FFFD. */
static void lab_pair(struct labels *b, const char *name, const char *value)
{
	const unsigned char *s = (const unsigned char *)(value ? value : "");

	lab_puts(b, name);
	lab_put(b, "=\"", 2);
	while (*s) {
		size_t run = 0, n;

		/* Copy the longest run that needs nothing done to it at once. */
		while (s[run] && s[run] != '\\' && s[run] != '"' && s[run] != '\n' &&
		       (n = utf8_seq(s + run)) > 0)
			run += n;
		lab_put(b, (const char *)s, run);
		s += run;
		if (!*s)
			break;
		if (*s == '\\')
			lab_put(b, "\\\\", 2);
		else if (*s == '"')
			lab_put(b, "\\\"", 2);
		else if (*s == '\n')
			lab_put(b, "\\n", 2);
		else
			lab_put(b, "\xef\xbf\xbd", 3);
		s++;
	}
	lab_put(b, "\"", 1);
}

static size_t lab_begin(struct labels *b)
{
	return b->len;
}

static void lab_end(struct labels *b)
{
	lab_put(b, "", 1);
}

static const char *lab_at(const struct scrape *s, size_t off)
{
	return s->lab.p + off;
}

/* "k8s-namespace/pod-name" when every container of the namespace that has a pod names
 * the same one; "" when none has, they disagree, or the namespace is the host's. */
static void ns_pod(const struct nsn_store_netns_view *v, char *buf, size_t len)
{
	Nsnet__V1__NamespaceSnapshot *snap;
	const Nsnet__V1__Pod *pod = NULL;
	const uint8_t *data;
	size_t n;
	bool mixed = false;

	buf[0] = 0;
	if (v->host)
		return;
	data = nsn_store_view_containers(v, &n);
	if (!data || !n)
		return;
	snap = nsnet__v1__namespace_snapshot__unpack(NULL, n, data);
	if (!snap)
		return;
	for (size_t i = 0; i < snap->n_containers && !mixed; i++) {
		const Nsnet__V1__Container *ct = snap->containers[i]->container;

		if (!ct || !ct->pod || !ct->pod->name || !*ct->pod->name)
			continue;
		if (!pod)
			pod = ct->pod;
		else if (strcmp(pod->name, ct->pod->name) ||
			 strcmp(pod->namespace_ ? pod->namespace_ : "",
				ct->pod->namespace_ ? ct->pod->namespace_ : ""))
			mixed = true;
	}
	if (pod && !mixed)
		snprintf(buf, len, "%s/%s", pod->namespace_ ? pod->namespace_ : "", pod->name);
	nsnet__v1__namespace_snapshot__free_unpacked(snap, NULL);
}

struct netns_name {
	const char *s;
	char *own;    /* a renamed label, freed with the array */
	char buf[24]; /* "host" or the inode */
	size_t i;
	bool dup;
};

static int netns_name_cmp(const void *a, const void *b)
{
	const struct netns_name *x = *(const struct netns_name *const *)a;
	const struct netns_name *y = *(const struct netns_name *const *)b;
	int r = strcmp(x->s, y->s);

	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static void netns_names_free(struct netns_name *nn, size_t n)
{
	for (size_t i = 0; nn && i < n; i++)
		free(nn[i].own);
	free(nn);
}

/* The netns label of each view: its first name, else "host" or its inode. A series
 * repeated in one scrape makes Prometheus refuse it, so labels must differ on a node.
 * Names normally do, but a name may be "host" or digits: then the namespace named so
 * keeps it and the one labelled "host" or by inode gets "@inode" appended (as do names
 * that clash among themselves). */
static struct netns_name *netns_names(const struct nsn_store_netns_view *v, size_t n)
{
	struct netns_name *nn = calloc(n ? n : 1, sizeof(*nn)), **sorted;

	if (!nn)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		nn[i].i = i;
		if (v[i].name && *v[i].name) {
			nn[i].s = v[i].name;
		} else {
			if (v[i].host)
				snprintf(nn[i].buf, sizeof(nn[i].buf), "host");
			else
				snprintf(nn[i].buf, sizeof(nn[i].buf), "%" PRIu64, v[i].inode);
			nn[i].s = nn[i].buf;
		}
	}
	if (n < 2)
		return nn;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		goto fail;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &nn[i];
	qsort(sorted, n, sizeof(*sorted), netns_name_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		size_t named = 0;

		for (j = i; j < n && !strcmp(sorted[i]->s, sorted[j]->s); j++)
			named += sorted[j]->s != sorted[j]->buf;
		if (j - i < 2)
			continue;
		for (size_t k = i; k < j; k++)
			sorted[k]->dup = sorted[k]->s == sorted[k]->buf || named > 1;
	}
	free(sorted);
	for (size_t i = 0; i < n; i++) {
		if (!nn[i].dup)
			continue;
		if (asprintf(&nn[i].own, "%s@%" PRIu64, nn[i].s, v[i].inode) < 0) {
			nn[i].own = NULL;
			goto fail;
		}
		nn[i].s = nn[i].own;
	}
	return nn;
fail:
	netns_names_free(nn, n);
	return NULL;
}

static struct ns_row *ns_row_new(struct scrape *s)
{
	if (s->n_ns == s->cap_ns) {
		size_t cap = s->cap_ns ? 2 * s->cap_ns : 256;
		struct ns_row *p = realloc(s->ns, cap * sizeof(*p));

		if (!p)
			return NULL;
		s->ns = p;
		s->cap_ns = cap;
	}
	struct ns_row *r = &s->ns[s->n_ns++];

	memset(r, 0, sizeof(*r));
	return r;
}

static struct link_row *link_row_new(struct scrape *s)
{
	if (s->n_links == s->cap_links) {
		size_t cap = s->cap_links ? 2 * s->cap_links : 256;
		struct link_row *p = realloc(s->links, cap * sizeof(*p));

		if (!p)
			return NULL;
		s->links = p;
		s->cap_links = cap;
	}
	return &s->links[s->n_links++];
}

/* The label set node,netns,pod of one namespace, left open for more pairs. */
static size_t ns_labels(struct scrape *s, const char *node, const char *netns, const char *pod)
{
	size_t off = lab_begin(&s->lab);

	lab_pair(&s->lab, "node", node);
	lab_put(&s->lab, ",", 1);
	lab_pair(&s->lab, "netns", netns);
	lab_put(&s->lab, ",", 1);
	lab_pair(&s->lab, "pod", pod);
	return off;
}

static int scrape_ns(struct scrape *s, const char *node, const struct nsn_store_netns_view *v,
		     const char *netns)
{
	char pod[512];
	struct ns_row *r;
	size_t slots, off;

	ns_pod(v, pod, sizeof(pod));
	r = ns_row_new(s);
	if (!r)
		return -ENOMEM;
	r->lab = ns_labels(s, node, netns, pod);
	lab_end(&s->lab);

	slots = nsn_store_view_socket_slots(v);
	for (size_t i = 0; i < slots; i++) {
		struct nsn_skim k;
		const uint8_t *data;
		size_t len;

		data = nsn_store_view_socket(v, i, &len);
		if (!data || nsn_skim_socket(data, len, NSN_SKIM_HEAD, &k) < 0)
			continue;
		if (k.s.proto < NSN_PROTO_MAX && k.s.state < NSN_SS_MAX)
			r->socks[k.s.proto][k.s.state]++;
	}
	r->has_retrans = nsn_store_view_counter_find(v, "TcpRetransSegs", &r->retrans);

	for (size_t i = 0; i < v->n_links; i++) {
		Nsnet__V1__Link *l;
		const uint8_t *data;
		size_t len;

		data = nsn_store_view_link(v, i, &len);
		if (!data)
			continue;
		l = nsnet__v1__link__unpack(NULL, len, data);
		if (!l)
			continue;
		if (l->stats) {
			struct link_row *lr = link_row_new(s);

			if (!lr) {
				nsnet__v1__link__free_unpacked(l, NULL);
				return -ENOMEM;
			}
			off = ns_labels(s, node, netns, pod);
			lab_put(&s->lab, ",", 1);
			lab_pair(&s->lab, "interface", l->name);
			lab_end(&s->lab);
			lr->lab = off;
			lr->v[IF_RX_BYTES] = l->stats->rx_bytes;
			lr->v[IF_TX_BYTES] = l->stats->tx_bytes;
			lr->v[IF_RX_PACKETS] = l->stats->rx_packets;
			lr->v[IF_TX_PACKETS] = l->stats->tx_packets;
			lr->v[IF_RX_ERRORS] = l->stats->rx_errors;
			lr->v[IF_TX_ERRORS] = l->stats->tx_errors;
			lr->v[IF_RX_DROPS] = l->stats->rx_dropped;
			lr->v[IF_TX_DROPS] = l->stats->tx_dropped;
		}
		nsnet__v1__link__free_unpacked(l, NULL);
	}
	return s->lab.oom ? -ENOMEM : 0;
}

/* Fill the tables from every node the store holds. */
static int scrape(struct collector *c, struct scrape *s)
{
	s->nodes = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*s->nodes));
	if (!s->nodes)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct cnode *n = c->nodes[i];
		struct nsn_store_netns_view *views = NULL;
		struct netns_name *names;
		size_t n_views = 0;
		int r;

		if (!n->snode)
			continue;
		struct node_row *nr = &s->nodes[s->n_nodes++];

		nr->n = n;
		nsn_store_node_info(n->snode, &nr->info);
		nr->lab = lab_begin(&s->lab);
		lab_pair(&s->lab, "node", n->name);
		lab_end(&s->lab);
		if (*nr->info.backend) {
			nr->lab_backend = lab_begin(&s->lab);
			lab_pair(&s->lab, "node", n->name);
			lab_put(&s->lab, ",", 1);
			lab_pair(&s->lab, "backend", nr->info.backend);
			lab_end(&s->lab);
		}

		r = nsn_store_node_views(n->snode, &views, &n_views);
		if (r < 0)
			return r;
		names = netns_names(views, n_views);
		if (!names) {
			free(views);
			return -ENOMEM;
		}
		for (size_t j = 0; j < n_views && r >= 0; j++)
			r = scrape_ns(s, n->name, &views[j], names[j].s);
		netns_names_free(names, n_views);
		free(views);
		if (r < 0)
			return r;
	}
	return s->lab.oom ? -ENOMEM : 0;
}

static void scrape_free(struct scrape *s)
{
	free(s->lab.p);
	free(s->nodes);
	free(s->ns);
	free(s->links);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "counter", help);
	sample_u64(f, name, v);
}

static void collector_families(struct collector *c, FILE *f)
{
	size_t up = 0, stale = 0;
	uint64_t sockets = 0;

	family(f, "nsnet_collector_connections", "gauge",
	       "Connections open on --listen, by the role their hello declared.");
	fprintf(f, "nsnet_collector_connections{role=\"agent\"} %u\n", c->n_agents);
	fprintf(f, "nsnet_collector_connections{role=\"query\"} %u\n", c->n_queries);
	counter(f, "nsnet_collector_connections_accepted_total",
		"Connections accepted on --listen.", c->st.accepted);
	counter(f, "nsnet_collector_connections_refused_total",
		"Connections refused on --listen because --max-connections were open.",
		c->st.refused);
	counter(f, "nsnet_collector_frames_received_total",
		"Frames received from agents and queries.", c->st.frames);
	counter(f, "nsnet_collector_received_bytes_total",
		"Bytes of frames received from agents and queries.", c->st.bytes);

	family(f, "nsnet_collector_frames_rejected_total", "counter",
	       "Connections closed because of what they sent, by reason.");
	for (int i = 0; i < REJECT_MAX; i++)
		fprintf(f, "nsnet_collector_frames_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
			reject_reason_names[i], c->st.rejected[i]);

	counter(f, "nsnet_collector_auth_failures_total",
		"Hellos and /query requests refused for a missing or wrong token.", c->st.auth_failures);
	counter(f, "nsnet_collector_queries_total", "Queries answered or attempted.",
		c->st.queries);
	counter(f, "nsnet_collector_query_errors_total", "Queries that ended in an error.",
		c->st.query_errors);

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct nsn_store_node_info info;

		if (!c->nodes[i]->snode)
			continue;
		nsn_store_node_info(c->nodes[i]->snode, &info);
		if (c->nodes[i]->stale)
			stale++;
		else
			up++;
		sockets += info.sockets;
	}
	family(f, "nsnet_collector_nodes", "gauge",
	       "Nodes held, by state: stale when their agent has sent nothing for too long.");
	fprintf(f, "nsnet_collector_nodes{state=\"up\"} %zu\n", up);
	fprintf(f, "nsnet_collector_nodes{state=\"stale\"} %zu\n", stale);
	counter(f, "nsnet_collector_nodes_forgotten_total",
		"Nodes forgotten after their agent was gone for --forget-after.",
		c->st.nodes_forgotten);

	family(f, "nsnet_collector_store_bytes", "gauge",
	       "Bytes the store holds (packed records and their tables).");
	sample_u64(f, "nsnet_collector_store_bytes", nsn_store_memory(c->store));
	family(f, "nsnet_collector_sockets", "gauge", "Sockets held, all nodes and namespaces.");
	sample_u64(f, "nsnet_collector_sockets", sockets);

	struct labels v = {0};

	lab_pair(&v, "version", c->version);
	lab_end(&v);
	family(f, "nsnet_collector_build_info", "gauge", "Always 1; the collector's version.");
	fprintf(f, "nsnet_collector_build_info{%s} 1\n", v.oom ? "" : v.p);
	free(v.p);
}

static void agent_families(const struct scrape *s, uint64_t now_ms, FILE *f)
{
	static const char *const dropped[] = {"updates_coalesced", "scans_coalesced",
					      "frames_oversized", "bpf_ring_full"};
	size_t i;

	family(f, "nsnet_agent_up", "gauge",
	       "1 while the node's agent is connected and not stale, else 0.");
	for (i = 0; i < s->n_nodes; i++)
		fprintf(f, "nsnet_agent_up{%s} %d\n", lab_at(s, s->nodes[i].lab),
			s->nodes[i].n->agent && !s->nodes[i].n->stale);

	family(f, "nsnet_agent_last_seen_timestamp_seconds", "gauge",
	       "When the node's agent last sent a frame (Unix time).");
	for (i = 0; i < s->n_nodes; i++) {
		uint64_t ms = s->nodes[i].n->last_seen_ms;

		if (ms)
			fprintf(f, "nsnet_agent_last_seen_timestamp_seconds{%s} %" PRIu64 ".%03u\n",
				lab_at(s, s->nodes[i].lab), ms / 1000, (unsigned)(ms % 1000));
	}

	family(f, "nsnet_agent_lag_seconds", "gauge",
	       "Age of the node's newest complete scan (collector clock minus the agent's).");
	for (i = 0; i < s->n_nodes; i++) {
		const struct nsn_store_node_info *in = &s->nodes[i].info;

		if (in->has_scan && in->time_ms) /* an agent that gave no time says nothing of its lag */
			fprintf(f, "nsnet_agent_lag_seconds{%s} %.3f\n", lab_at(s, s->nodes[i].lab),
				((double)now_ms - (double)in->time_ms) / 1000.0);
	}

	family(f, "nsnet_agent_records_dropped_total", "counter",
	       "Records the node's agent could not send, by reason (as its agent reports).");
	for (i = 0; i < s->n_nodes; i++) {
		const Nsnet__V1__AgentStats *st = s->nodes[i].info.stats;
		uint64_t v[] = {st ? st->updates_coalesced : 0, st ? st->scans_coalesced : 0,
				st ? st->frames_oversized : 0, st ? st->bpf_records_dropped : 0};

		_Static_assert(sizeof(v) / sizeof(v[0]) == sizeof(dropped) / sizeof(dropped[0]),
			       "a value per reason");
		for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++)
			fprintf(f,
				"nsnet_agent_records_dropped_total{%s,reason=\"%s\"} %" PRIu64 "\n",
				lab_at(s, s->nodes[i].lab), dropped[j], v[j]);
	}

	/* Sockets a cut chain hid are not records the agent dropped: they were never read,
	 * so they have a family of their own. */
	family(f, "nsnet_agent_bpf_chains_capped_total", "counter",
	       "Hash chains the node's agent's BPF walk cut at the length cap (sockets missed).");
	for (i = 0; i < s->n_nodes; i++) {
		const Nsnet__V1__AgentStats *st = s->nodes[i].info.stats;

		fprintf(f, "nsnet_agent_bpf_chains_capped_total{%s} %" PRIu64 "\n",
			lab_at(s, s->nodes[i].lab), st ? st->bpf_chains_capped : 0);
	}

	family(f, "nsnet_agent_backend_info", "gauge",
	       "Always 1; where the node's newest scan took its sockets from: bpf or netlink.");
	for (i = 0; i < s->n_nodes; i++)
		if (*s->nodes[i].info.backend)
			fprintf(f, "nsnet_agent_backend_info{%s} 1\n",
				lab_at(s, s->nodes[i].lab_backend));

	family(f, "nsnet_agent_sessions_total", "counter",
	       "Sessions (accepted hellos) of the node's agents.");
	for (i = 0; i < s->n_nodes; i++)
		fprintf(f, "nsnet_agent_sessions_total{%s} %" PRIu64 "\n",
			lab_at(s, s->nodes[i].lab), s->nodes[i].n->sessions);

	family(f, "nsnet_agent_scan_duration_seconds", "gauge",
	       "How long the node's newest complete scan took.");
	for (i = 0; i < s->n_nodes; i++) {
		const struct nsn_store_node_info *in = &s->nodes[i].info;

		if (in->has_scan)
			fprintf(f, "nsnet_agent_scan_duration_seconds{%s} %u.%03u\n",
				lab_at(s, s->nodes[i].lab), in->scan_ms / 1000, in->scan_ms % 1000);
	}

	family(f, "nsnet_agent_namespaces", "gauge", "Network namespaces held for the node.");
	for (i = 0; i < s->n_nodes; i++)
		fprintf(f, "nsnet_agent_namespaces{%s} %zu\n", lab_at(s, s->nodes[i].lab),
			s->nodes[i].info.namespaces);

	family(f, "nsnet_agent_synced", "gauge",
	       "1 once a full scan came in the agent's current session, else 0 (resyncing).");
	for (i = 0; i < s->n_nodes; i++)
		fprintf(f, "nsnet_agent_synced{%s} %d\n", lab_at(s, s->nodes[i].lab),
			s->nodes[i].info.synced);
}

static void netns_families(const struct scrape *s, FILE *f)
{
	size_t i;

	family(f, "nsnet_sockets", "gauge",
	       "Sockets by protocol and state (as ss names them; unconnected is UNCONN).");
	for (i = 0; i < s->n_ns; i++) {
		const struct ns_row *r = &s->ns[i];

		for (int p = 0; p < NSN_PROTO_MAX; p++)
			for (int st = 0; st < NSN_SS_MAX; st++)
				if (r->socks[p][st])
					fprintf(f,
						"nsnet_sockets{%s,proto=\"%s\",state=\"%s\"} %u\n",
						lab_at(s, r->lab), proto_names[p], state_names[st],
						r->socks[p][st]);
	}

	/* What ss -l lists, with its TCP sockets in CLOSE left out: they are not waiting
	 * for anyone. */
	family(f, "nsnet_listening_sockets", "gauge",
	       "Listening sockets: TCP and UNIX in LISTEN, UDP and RAW unconnected.");
	for (i = 0; i < s->n_ns; i++) {
		const struct ns_row *r = &s->ns[i];
		uint32_t v[NSN_PROTO_MAX] = {
		    [NSN_PROTO_TCP] = r->socks[NSN_PROTO_TCP][NSN_SS_LISTEN],
		    [NSN_PROTO_UDP] = r->socks[NSN_PROTO_UDP][NSN_SS_CLOSE],
		    [NSN_PROTO_RAW] = r->socks[NSN_PROTO_RAW][NSN_SS_CLOSE],
		    [NSN_PROTO_UNIX] = r->socks[NSN_PROTO_UNIX][NSN_SS_LISTEN],
		};

		for (int p = 0; p < NSN_PROTO_MAX; p++)
			if (v[p])
				fprintf(f, "nsnet_listening_sockets{%s,proto=\"%s\"} %u\n",
					lab_at(s, r->lab), proto_names[p], v[p]);
	}

	family(f, "nsnet_tcp_retransmitted_segments_total", "counter",
	       "TCP segments retransmitted in the namespace (TcpRetransSegs).");
	for (i = 0; i < s->n_ns; i++)
		if (s->ns[i].has_retrans)
			fprintf(f, "nsnet_tcp_retransmitted_segments_total{%s} %" PRId64 "\n",
				lab_at(s, s->ns[i].lab), s->ns[i].retrans);

	for (int k = 0; k < IF_MAX; k++) {
		family(f, if_families[k].name, "counter", if_families[k].help);
		for (i = 0; i < s->n_links; i++)
			fprintf(f, "%s{%s} %" PRIu64 "\n", if_families[k].name,
				lab_at(s, s->links[i].lab), s->links[i].v[k]);
	}
}

void metrics_write(struct collector *c, FILE *f)
{
	struct scrape s = {0};
	int r;

	collector_families(c, f);
	r = scrape(c, &s);
	/* Without memory for the tables, node and namespace families are left out rather
	 * than shown incomplete (a sum over a partial scrape would silently be wrong). */
	if (r >= 0) {
		agent_families(&s, coll_now_ms(), f);
		netns_families(&s, f);
	} else {
		fprintf(f, "# nsnet: node and namespace metrics left out: %s\n", strerror(-r));
	}
	scrape_free(&s);
}
