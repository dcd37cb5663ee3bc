/* SPDX-License-Identifier: MIT */
/* Reading the store back: whole namespaces as unpacked snapshots (--from), and views
 * with their packed parts read in place (the collector's queries and metrics). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

/* ---- materializing ------------------------------------------------------------- */

/* Room for a length-delimited field's tag (fields < 16: one byte) and length. */
#define FIELD_HDR_MAX 6

/* The tag and length of a length-delimited field; the bytes written. */
static size_t put_hdr(uint8_t *p, unsigned field, size_t len)
{
	size_t k = 0;

	p[k++] = (uint8_t)(field << 3 | 2);
	for (; len >= 0x80; len >>= 7)
		p[k++] = (uint8_t)(len | 0x80);
	p[k++] = (uint8_t)len;
	return k;
}

static size_t put_field(uint8_t *p, unsigned field, const struct blob *b)
{
	size_t k = put_hdr(p, field, b->len);

	memcpy(p + k, b->data, b->len);
	return k + b->len;
}

/* The field numbers of NamespaceSnapshot this file writes by hand. */
enum { F_SOCKETS = 8, F_LINKS = 11, F_COUNTERS = 12 };

static int sns_snapshot(const struct nsn_store *st, const struct sns *ns,
			Nsnet__V1__NamespaceSnapshot **ret)
{
	const struct blob *parts[] = {ns->head, ns->containers, ns->routes, ns->rules};
	Nsnet__V1__Counter c = NSNET__V1__COUNTER__INIT;
	size_t len = 0, off = 0;
	uint8_t *buf;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		len += parts[i] ? parts[i]->len : 0;
	for (size_t i = 0; i < ns->n_links; i++)
		len += FIELD_HDR_MAX + ns->links[i].b->len;
	for (uint32_t i = 0; i < ns->socks.n; i++) {
		const struct blob *b = ns->socks.ents[i].val;
		if (b)
			len += FIELD_HDR_MAX + b->len;
	}
	for (size_t i = 0; i < ns->n_ctrs; i++) {
		c.name = st->names.ents[ns->ctrs[i].name].val;
		c.value = ns->ctrs[i].value;
		len += FIELD_HDR_MAX + nsnet__v1__counter__get_packed_size(&c);
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i]) {
			memcpy(buf + off, parts[i]->data, parts[i]->len);
			off += parts[i]->len;
		}
	}
	for (size_t i = 0; i < ns->n_links; i++)
		off += put_field(buf + off, F_LINKS, ns->links[i].b);
	for (uint32_t i = 0; i < ns->socks.n; i++) {
		const struct blob *b = ns->socks.ents[i].val;
		if (b)
			off += put_field(buf + off, F_SOCKETS, b);
	}
	for (size_t i = 0; i < ns->n_ctrs; i++) {
		c.name = st->names.ents[ns->ctrs[i].name].val;
		c.value = ns->ctrs[i].value;
		off += put_hdr(buf + off, F_COUNTERS, nsnet__v1__counter__get_packed_size(&c));
		off += nsnet__v1__counter__pack(&c, buf + off);
	}
	*ret = nsnet__v1__namespace_snapshot__unpack(NULL, off, buf);
	free(buf);
	return *ret ? 0 : -ENOMEM; /* what was packed here always unpacks: only memory can fail */
}

static int cmp_snap(const void *a, const void *b)
{
	const Nsnet__V1__NamespaceSnapshot *x = *(Nsnet__V1__NamespaceSnapshot *const *)a;
	const Nsnet__V1__NamespaceSnapshot *y = *(Nsnet__V1__NamespaceSnapshot *const *)b;
	uint64_t xi = x->id ? x->id->inode : 0, yi = y->id ? y->id->inode : 0;

	/* An empty first name is no name (as the views' sort key has it). */
	bool xn = x->n_names > 0 && x->names[0][0], yn = y->n_names > 0 && y->names[0][0];

	if (x->host != y->host)
		return x->host ? -1 : 1;
	if (xn != yn)
		return xn ? -1 : 1;
	if (xn) {
		int r = strcmp(x->names[0], y->names[0]);
		if (r)
			return r;
	}
	return xi < yi ? -1 : xi > yi;
}

int nsn_store_node_snapshots(const struct nsn_store_node *node,
			     Nsnet__V1__NamespaceSnapshot ***ret_snaps, size_t *ret_n)
{
	Nsnet__V1__NamespaceSnapshot **v = calloc(node->ns.live ? node->ns.live : 1, sizeof(*v));
	size_t k = 0;
	int r = 0;

	*ret_snaps = NULL;
	*ret_n = 0;
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < node->ns.n && r >= 0; i++) {
		const struct sns *ns = node->ns.ents[i].val;
		if (ns && (r = sns_snapshot(node->store, ns, &v[k])) >= 0)
			k++;
	}
	if (r < 0) {
		nsn_store_snapshots_free(v, k);
		return r;
	}
	qsort(v, k, sizeof(*v), cmp_snap);
	*ret_snaps = v;
	*ret_n = k;
	return 0;
}

void nsn_store_snapshots_free(Nsnet__V1__NamespaceSnapshot **snaps, size_t n)
{
	if (!snaps)
		return;
	for (size_t i = 0; i < n; i++)
		nsnet__v1__namespace_snapshot__free_unpacked(snaps[i], NULL);
	free(snaps);
}

/* ---- reading in place ---------------------------------------------------------- */

int nsn_buf_reserve(struct nsn_buf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void nsn_buf_release(struct nsn_buf *b)
{
	free(b->data);
	*b = (struct nsn_buf){0};
}

/* nsn_gather()'s order, as cmp_snap() has it for unpacked snapshots. */
static int cmp_view(const void *a, const void *b)
{
	const struct nsn_store_netns_view *x = a, *y = b;

	if (x->host != y->host)
		return x->host ? -1 : 1;
	if (!x->name != !y->name)
		return x->name ? -1 : 1;
	if (x->name) {
		int r = strcmp(x->name, y->name);
		if (r)
			return r;
	}
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

int nsn_store_node_views(const struct nsn_store_node *node, struct nsn_store_netns_view **ret,
			 size_t *ret_n)
{
	struct nsn_store_netns_view *v = calloc(node->ns.live ? node->ns.live : 1, sizeof(*v));
	size_t k = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < node->ns.n; i++) {
		const struct sns *ns = node->ns.ents[i].val;

		if (!ns)
			continue;
		v[k++] = (struct nsn_store_netns_view){
		    .node = node,
		    .ns = ns,
		    .cookie = ns->cookie,
		    .dev = ns->dev,
		    .inode = ns->inode,
		    .host = ns->host,
		    .name = ns->name,
		    .confirmed = ns->confirmed,
		    .n_sockets = ns->socks.live,
		    .n_links = ns->n_links,
		    .n_counters = ns->n_ctrs,
		};
	}
	qsort(v, k, sizeof(*v), cmp_view);
	*ret = v;
	*ret_n = k;
	return 0;
}

static int buf_put(struct nsn_buf *out, const struct blob *b)
{
	if (!b)
		return 0;
	if (nsn_buf_reserve(out, b->len) < 0)
		return -ENOMEM;
	memcpy(out->data + out->len, b->data, b->len);
	out->len += b->len;
	return 0;
}

static int buf_field(struct nsn_buf *out, unsigned field, const uint8_t *data, size_t len)
{
	if (nsn_buf_reserve(out, FIELD_HDR_MAX + len) < 0)
		return -ENOMEM;
	out->len += put_hdr(out->data + out->len, field, len);
	memcpy(out->data + out->len, data, len);
	out->len += len;
	return 0;
}

long nsn_store_view_pack(const struct nsn_store_netns_view *v, unsigned parts,
			 nsn_store_sock_fn keep, void *ctx, size_t budget, size_t *cursor,
			 struct nsn_buf *out)
{
	const struct sns *ns = v->ns;
	const struct nsn_store *st = v->node->store;
	size_t start = out->len;
	long kept = 0;

	if (buf_put(out, ns->head) < 0)
		return -ENOMEM;
	if (*cursor == 0) {
		if ((parts & NSN_STORE_PART_CONTAINERS) && buf_put(out, ns->containers) < 0)
			return -ENOMEM;
		if ((parts & NSN_STORE_PART_ROUTES) &&
		    (buf_put(out, ns->routes) < 0 || buf_put(out, ns->rules) < 0))
			return -ENOMEM;
		for (size_t i = 0; (parts & NSN_STORE_PART_LINKS) && i < ns->n_links; i++)
			if (buf_field(out, F_LINKS, ns->links[i].b->data, ns->links[i].b->len) < 0)
				return -ENOMEM;
		for (size_t i = 0; (parts & NSN_STORE_PART_COUNTERS) && i < ns->n_ctrs; i++) {
			Nsnet__V1__Counter c = NSNET__V1__COUNTER__INIT;
			size_t n;

			c.name = st->names.ents[ns->ctrs[i].name].val;
			c.value = ns->ctrs[i].value;
			n = nsnet__v1__counter__get_packed_size(&c);
			if (nsn_buf_reserve(out, FIELD_HDR_MAX + n) < 0)
				return -ENOMEM;
			out->len += put_hdr(out->data + out->len, F_COUNTERS, n);
			out->len += nsnet__v1__counter__pack(&c, out->data + out->len);
		}
	}
	size_t i = *cursor;
	if (parts & NSN_STORE_PART_SOCKETS) {
		for (; i < ns->socks.n; i++) {
			const struct blob *b = ns->socks.ents[i].val;

			if (budget && out->len - start > budget && kept > 0)
				break;
			if (!b || (keep && !keep(b->data, b->len, ctx)))
				continue;
			if (buf_field(out, F_SOCKETS, b->data, b->len) < 0)
				return -ENOMEM;
			kept++;
		}
	} else {
		i = ns->socks.n;
	}
	/* Removed slots after the last socket taken are no reason for another piece. */
	while (i < ns->socks.n && !ns->socks.ents[i].val)
		i++;
	*cursor = i < ns->socks.n ? i : SIZE_MAX;
	return kept;
}

const uint8_t *nsn_store_view_head(const struct nsn_store_netns_view *v, size_t *ret_len)
{
	const struct sns *ns = v->ns;

	*ret_len = ns->head ? ns->head->len : 0;
	return ns->head ? ns->head->data : NULL;
}

const uint8_t *nsn_store_view_containers(const struct nsn_store_netns_view *v, size_t *ret_len)
{
	const struct sns *ns = v->ns;

	*ret_len = ns->containers ? ns->containers->len : 0;
	return ns->containers ? ns->containers->data : NULL;
}

size_t nsn_store_view_socket_slots(const struct nsn_store_netns_view *v)
{
	const struct sns *ns = v->ns;

	return ns->socks.n;
}

const uint8_t *nsn_store_view_socket(const struct nsn_store_netns_view *v, size_t slot,
				     size_t *ret_len)
{
	const struct sns *ns = v->ns;
	const struct blob *b = slot < ns->socks.n ? ns->socks.ents[slot].val : NULL;

	*ret_len = b ? b->len : 0;
	return b ? b->data : NULL;
}

const uint8_t *nsn_store_view_link(const struct nsn_store_netns_view *v, size_t i, size_t *ret_len)
{
	const struct sns *ns = v->ns;

	if (i >= ns->n_links) {
		*ret_len = 0;
		return NULL;
	}
	*ret_len = ns->links[i].b->len;
	return ns->links[i].b->data;
}

void nsn_store_view_counter(const struct nsn_store_netns_view *v, size_t i, const char **ret_name,
			    int64_t *ret_value)
{
	const struct sns *ns = v->ns;

	if (i >= ns->n_ctrs) {
		*ret_name = NULL;
		*ret_value = 0;
		return;
	}
	*ret_name = v->node->store->names.ents[ns->ctrs[i].name].val;
	*ret_value = ns->ctrs[i].value;
}

bool nsn_store_view_counter_find(const struct nsn_store_netns_view *v, const char *name,
				 int64_t *ret_value)
{
	const struct sns *ns = v->ns;
	uint32_t id = nsn__store_name_find(v->node->store, name);

	*ret_value = 0;
	if (id == OTAB_NONE)
		return false;
	for (size_t i = 0; i < ns->n_ctrs; i++) {
		if (ns->ctrs[i].name == id) {
			*ret_value = ns->ctrs[i].value;
			return true;
		}
	}
	return false;
}
