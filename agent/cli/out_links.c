/* SPDX-License-Identifier: MIT */
/* -i: netstat -i's interface table, NETNS first and the veth's other end last.
 * The columns mean what they mean in /proc/net/dev, which netstat reads: RX-DRP is
 * rx_dropped + rx_missed_errors, RX-OVR and TX-OVR the FIFO overruns. -e adds the
 * kind, byte counters and addresses. Widths from a first pass, as in out_table.c. */
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include <nsnet/format.h>

#include "cli.h"

enum {
	C_NODE, C_NETNS, C_IFACE, C_MTU, C_RXOK, C_RXERR, C_RXDRP, C_RXOVR,
	C_TXOK, C_TXERR, C_TXDRP, C_TXOVR, C_FLG, C_KIND, C_RXB, C_TXB, C_PEER, C_ADDRS, C_MAX
};

static const char *const headers[C_MAX] = {
	"NODE", "NETNS", "Iface", "MTU", "RX-OK", "RX-ERR", "RX-DRP", "RX-OVR", "TX-OK", "TX-ERR",
	"TX-DRP", "TX-OVR", "Flg", "Kind", "RX-Bytes", "TX-Bytes", "Peer", "Addresses",
};

struct cells {
	char c[C_MAX][256];
};

static bool numeric_col(int c)
{
	return (c >= C_MTU && c <= C_TXOVR) || c == C_RXB || c == C_TXB;
}

static bool shown(const struct cli_opts *o, bool multi, int c)
{
	if (c == C_NODE)
		return multi;
	return o->extended || (c != C_KIND && c != C_RXB && c != C_TXB && c != C_ADDRS);
}

/* netstat's flag letters, in netstat's order. */
static void flags(char *out, size_t len, uint32_t f)
{
	static const struct {
		uint32_t bit;
		char ch;
	} tab[] = {
		{IFF_ALLMULTI, 'A'}, {IFF_BROADCAST, 'B'}, {IFF_DEBUG, 'D'}, {IFF_LOOPBACK, 'L'},
		{IFF_MASTER, 'm'}, {IFF_MULTICAST, 'M'}, {IFF_NOARP, 'O'}, {IFF_POINTOPOINT, 'P'},
		{IFF_PROMISC, 'p'}, {IFF_RUNNING, 'R'}, {IFF_SLAVE, 's'}, {IFF_UP, 'U'},
	};
	size_t n = 0;

	for (size_t i = 0; i < NSN_ARRAY_LEN(tab) && n + 1 < len; i++)
		if (f & tab[i].bit)
			out[n++] = tab[i].ch;
	out[n] = '\0';
}

static void peer(char *out, size_t len, const struct nsn_netns *ns, const struct nsn_link *l)
{
	char buf[32];

	if (!l->has_peer)
		snprintf(out, len, "-");
	else if (!l->peer.netns)
		snprintf(out, len, "if%u@?", l->peer.ifindex);
	else if (l->peer.netns == ns)
		snprintf(out, len, "%s", l->peer.name);
	else
		snprintf(out, len, "%s@%s", l->peer.name, nsn_netns_label(l->peer.netns, buf, sizeof(buf)));
}

static void addrs(char *out, size_t len, const struct nsn_link *l)
{
	size_t n = 0;

	snprintf(out, len, "-");
	for (size_t i = 0; i < l->n_addrs && n + 1 < len; i++) {
		char a[64];
		int k = snprintf(out + n, len - n, "%s%s/%u", i ? "," : "",
				 nsn_fmt_addr(a, sizeof(a), l->addrs[i].family, l->addrs[i].local),
				 l->addrs[i].prefixlen);
		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
}

static void fill(struct cells *x, const char *node, const char *label, const struct nsn_netns *ns,
		 const struct nsn_link *l)
{
	const struct nsn_link_stats *s = &l->stats;
	const size_t L = sizeof(x->c[0]);

	snprintf(x->c[C_NODE], L, "%s", node);
	snprintf(x->c[C_NETNS], L, "%s", label);
	snprintf(x->c[C_IFACE], L, "%s", l->name ? l->name : "?");
	snprintf(x->c[C_MTU], L, "%u", l->mtu);
	snprintf(x->c[C_RXOK], L, "%llu", (unsigned long long)s->rx_packets);
	snprintf(x->c[C_RXERR], L, "%llu", (unsigned long long)s->rx_errors);
	snprintf(x->c[C_RXDRP], L, "%llu", (unsigned long long)(s->rx_dropped + s->rx_missed_errors));
	snprintf(x->c[C_RXOVR], L, "%llu", (unsigned long long)s->rx_fifo_errors);
	snprintf(x->c[C_TXOK], L, "%llu", (unsigned long long)s->tx_packets);
	snprintf(x->c[C_TXERR], L, "%llu", (unsigned long long)s->tx_errors);
	snprintf(x->c[C_TXDRP], L, "%llu", (unsigned long long)s->tx_dropped);
	snprintf(x->c[C_TXOVR], L, "%llu", (unsigned long long)s->tx_fifo_errors);
	flags(x->c[C_FLG], L, l->flags);
	snprintf(x->c[C_KIND], L, "%s", l->kind ? l->kind : "-");
	snprintf(x->c[C_RXB], L, "%llu", (unsigned long long)s->rx_bytes);
	snprintf(x->c[C_TXB], L, "%llu", (unsigned long long)s->tx_bytes);
	peer(x->c[C_PEER], L, ns, l);
	addrs(x->c[C_ADDRS], L, l);
}

void out_links(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	size_t w[C_MAX];
	struct cells x;
	char buf[32];
	int last = o->extended ? C_ADDRS : C_PEER;
	bool multi = cli_multi_node(o, n_nodes);

	for (int c = 0; c < C_MAX; c++)
		w[c] = o->no_header ? 0 : strlen(headers[c]);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !o->no_header) {
			for (int c = 0; c <= last; c++)
				if (shown(o, multi, c))
					fprintf(f, numeric_col(c) ? "%*s%s" : "%-*s%s", c == last ? 0 : (int)w[c],
						headers[c], c == last ? "\n" : " ");
		}
		for (size_t n = 0; n < n_nodes; n++) {
			const struct nsn_scan *scan = nodes[n].scan;
			const char *node = cli_node_text(&nodes[n]);

			for (size_t i = 0; i < scan->n_netns; i++) {
				const struct nsn_netns *ns = scan->netns[i];
				const char *label = nsn_netns_label(ns, buf, sizeof(buf));
				for (size_t k = 0; k < ns->n_links; k++) {
					fill(&x, node, label, ns, &ns->links[k]);
					for (int c = 0; c <= last; c++) {
						if (!shown(o, multi, c))
							continue;
						if (pass == 0) {
							size_t len = strlen(x.c[c]);
							if (len > w[c])
								w[c] = len;
							continue;
						}
						fprintf(f, numeric_col(c) ? "%*s%s" : "%-*s%s",
							c == last ? 0 : (int)w[c], x.c[c], c == last ? "\n" : " ");
					}
				}
			}
		}
	}
}
