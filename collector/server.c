/* SPDX-License-Identifier: MIT */
/* --listen: agents and query clients, one connection each.
 *
 * Every frame is checked before it reaches the store: the length prefix against
 * --max-frame (the reader refuses it before buffering), the bytes against the schema
 * (nsn_wire_unpack), the sequence (1, 2, 3, ... per connection), the role's
 * conversation (proto/nsnet.proto) and, by the store, against what the node has. The
 * first failure closes the connection with one log line and a count by reason; the
 * agent's next session resyncs in full, so nothing is lost but time.
 *
 * Memory per connection is the struct and the frame reader's partial frame (at most
 * --max-frame plus one read); reads land in one buffer shared by all connections (the
 * loop has one thread).
 *
 * With --tls-* every connection is a TLS session (tls.c, memory BIOs): what is read
 * goes into it, what it decrypts into the frame reader, and every write is encrypted
 * (queue_write()). The client must present a certificate of --tls-ca; an agent's
 * identity is its certificate's (checked against its Hello's node). A failed
 * handshake sends OpenSSL's alert, closes, and is counted as reason "tls". */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "log.h"
#include "util.h"

const char *const reject_reason_names[REJECT_MAX] = {
	[REJECT_OVERSIZE] = "oversize",     [REJECT_DECODE] = "decode",
	[REJECT_SEQUENCE] = "sequence",     [REJECT_UNEXPECTED] = "unexpected",
	[REJECT_STORE] = "store",	    [REJECT_AUTH] = "auth",
	[REJECT_VERSION] = "version",	    [REJECT_HELLO] = "hello",
	[REJECT_TIMEOUT] = "timeout",	    [REJECT_QUERY] = "query",
	[REJECT_TLS] = "tls",
};

#define HELLO_TIMEOUT_MS 10000
/* The largest frame before a Hello is accepted: a Hello is a few hundred bytes. */
#define HELLO_MAX_FRAME 65536
#define QUERY_IDLE_MS (5 * 60 * 1000)
/* An agent sends at least a ScanDone per interval; never close one sooner than this. */
#define AGENT_IDLE_MIN_MS 30000
#define AUTH_LOG_EVERY_MS 10000

struct wreq {
	uv_write_t req;
	struct conn *k;
	uint8_t *buf;
	size_t len;
	bool close_after; /* the Error before a close: close once it is out */
};

static uint8_t read_buf[1 << 16];
static uint8_t plain_buf[1 << 16]; /* what TLS decrypted from read_buf */

static const char *role_name(enum conn_role r)
{
	return r == ROLE_AGENT ? "agent" : r == ROLE_QUERY ? "query" : "none";
}

static void on_closed(uv_handle_t *h)
{
	struct conn *k = h->data;

	nsn_frame_reader_release(&k->rd);
	query_free(k->q);
	nsn_tls_free(k->tls);
	free(k);
}

/* Unlink and close now (pending writes are cancelled). */
static void conn_drop(struct conn *k)
{
	struct collector *c = k->c;

	if (k->closing)
		return;
	k->closing = true;
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->n_conns--;
	if (k->role == ROLE_AGENT)
		c->n_agents--;
	else if (k->role == ROLE_QUERY)
		c->n_queries--;
	if (k->node && k->node->agent == k)
		k->node->agent = NULL;
	uv_close((uv_handle_t *)&k->h, on_closed);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *k = w->k;

	k->queued -= w->len;
	free(w->buf);
	if (w->close_after) {
		free(w);
		conn_drop(k);
		return;
	}
	free(w);
	if (k->closing)
		return;
	if (status < 0) {
		conn_close(k, REJECT_MAX, "write: %s", uv_strerror(status));
		return;
	}
	if (k->q)
		query_continue(k);
}

/* Queue @p buf (taken over) as it is. */
static int queue_raw(struct conn *k, uint8_t *buf, size_t len, bool close_after)
{
	struct wreq *w;
	uv_buf_t b;
	int r;

	if (k->closing) {
		free(buf);
		return -EPIPE;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		free(buf);
		return -ENOMEM;
	}
	w->k = k;
	w->buf = buf;
	w->len = len;
	w->close_after = close_after;
	b = uv_buf_init((char *)buf, (unsigned)len);
	r = uv_write(&w->req, (uv_stream_t *)&k->h, &b, 1, on_write);
	if (r < 0) {
		free(buf);
		free(w);
		return r;
	}
	k->queued += len;
	return 0;
}

/* Queue what the TLS session has for the peer: handshake messages, records, an alert. */
static int flush_tls(struct conn *k, bool close_after)
{
	uint8_t *buf;
	size_t len;
	int r = nsn_tls_take_output(k->tls, &buf, &len);

	if (r < 0)
		return r;
	if (!len)
		return close_after ? -ENODATA : 0;
	return queue_raw(k, buf, len, close_after);
}

/* Queue @p buf (taken over): encrypted first on a TLS connection. */
static int queue_write(struct conn *k, uint8_t *buf, size_t len, bool close_after)
{
	int r = 0;

	if (!k->tls)
		return queue_raw(k, buf, len, close_after);
	/* Nothing is ours to say before the handshake is done (the Hello comes after). */
	if (k->closing || !nsn_tls_established(k->tls)) {
		free(buf);
		return -ENOTCONN;
	}
	/* 64 KiB at a time: a query's 1 MiB chunk is never held twice over. */
	for (size_t off = 0; off < len && r >= 0; off += NSN_TLS_CHUNK) {
		size_t n = len - off < NSN_TLS_CHUNK ? len - off : NSN_TLS_CHUNK;

		r = nsn_tls_write(k->tls, buf + off, n);
		if (r >= 0)
			r = flush_tls(k, close_after && off + n == len);
	}
	free(buf);
	return r;
}

int conn_send(struct conn *k, uint8_t *buf, size_t len)
{
	return queue_write(k, buf, len, false);
}

/* Pack and queue @p f (the collector's frames carry seq 0). */
static int send_frame(struct conn *k, NsnFrame *f, bool close_after)
{
	uint8_t *buf;
	size_t len;
	int r;

	f->seq = 0;
	r = nsn_wire_pack(f, NSN_FRAME_MAX_LIMIT, &buf, &len);
	if (r < 0)
		return r;
	return queue_write(k, buf, len, close_after);
}

void conn_close(struct conn *k, enum reject_reason why, const char *fmt, ...)
{
	struct collector *c = k->c;
	char msg[256], q[300];
	va_list ap;

	if (k->closing || k->rejected)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (why < REJECT_MAX) {
		c->st.rejected[why]++;
		/* Auth failures are logged by the caller, rate-limited. */
		if (why != REJECT_AUTH)
			nsn_log(NSN_LOG_WARN, "event=conn_rejected peer=%s role=%s node=%s reason=%s error=%s",
				k->peer, role_name(k->role), k->node ? k->node->qname : "-",
				reject_reason_names[why], nsn_log_q(msg, q, sizeof(q)));
	} else {
		nsn_log(NSN_LOG_INFO, "event=conn_closed peer=%s role=%s node=%s why=%s", k->peer,
			role_name(k->role), k->node ? k->node->qname : "-", nsn_log_q(msg, q, sizeof(q)));
	}
	if (why == REJECT_TLS && k->plain_peer) {
		/* No session, and none to be: the Error below goes in the clear. */
		nsn_tls_free(k->tls);
		k->tls = NULL;
	} else if (why == REJECT_TLS) {
		/* No frame can reach a peer without a session: OpenSSL's alert says why. */
		if (k->reading) {
			uv_read_stop((uv_stream_t *)&k->h);
			k->reading = false;
		}
		if (k->tls && flush_tls(k, true) == 0) {
			k->rejected = true;
			return;
		}
		conn_drop(k);
		return;
	}
	/* Tell the peer why, unless it is the one not reading (then there is no point). */
	if (why < REJECT_MAX && k->queued < 65536) {
		Nsnet__V1__Error e = NSNET__V1__ERROR__INIT;
		NsnFrame f = NSNET__V1__FRAME__INIT;

		e.code = why == REJECT_AUTH	 ? NSNET__V1__ERROR__CODE__AUTH
			 : why == REJECT_VERSION ? NSNET__V1__ERROR__CODE__VERSION
			 : why == REJECT_QUERY	 ? NSNET__V1__ERROR__CODE__QUERY
						 : NSNET__V1__ERROR__CODE__PROTOCOL;
		e.message = msg;
		f.body_case = NSNET__V1__FRAME__BODY_ERROR;
		f.error = &e;
		if (k->reading) {
			uv_read_stop((uv_stream_t *)&k->h);
			k->reading = false;
		}
		/* Whatever was being answered stops here. */
		query_free(k->q);
		k->q = NULL;
		if (send_frame(k, &f, true) == 0) {
			k->rejected = true;
			/* conn_drop() once it is written; meanwhile nothing more is read and
			 * the node is no longer this connection's. */
			if (k->node && k->node->agent == k)
				k->node->agent = NULL;
			k->node = NULL;
			return;
		}
	}
	conn_drop(k);
}

/* ---- frames ------------------------------------------------------------------ */

struct cnode *coll_node_find(const struct collector *c, const char *name)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i]->name, name) == 0)
			return c->nodes[i];
	return NULL;
}

static struct cnode *node_get(struct collector *c, const char *name)
{
	struct cnode *found = coll_node_find(c, name);

	if (found)
		return found;
	if (c->n_nodes == c->cap_nodes) {
		size_t cap = c->cap_nodes ? c->cap_nodes * 2 : 16;
		struct cnode **v = realloc(c->nodes, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->nodes = v;
		c->cap_nodes = cap;
	}
	struct cnode *n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	nsn_log_q(name, n->qname, sizeof(n->qname));
	c->nodes[c->n_nodes++] = n;
	return n;
}

void collector_auth_failure(struct collector *c, const char *peer, const char *what)
{
	uint64_t now = uv_now(c->loop);

	c->st.auth_failures++;
	if (c->auth_log_ms && now - c->auth_log_ms < AUTH_LOG_EVERY_MS) {
		c->auth_log_suppressed++;
	} else {
		nsn_log(NSN_LOG_WARN, "event=auth_failed peer=%s error=%s suppressed=%llu", peer, what,
			(unsigned long long)c->auth_log_suppressed);
		c->auth_log_ms = now ? now : 1;
		c->auth_log_suppressed = 0;
	}
}

static void auth_failed(struct conn *k, const char *what)
{
	collector_auth_failure(k->c, k->peer, what);
	conn_close(k, REJECT_AUTH, "%s", what);
}

static int send_welcome(struct conn *k)
{
	Nsnet__V1__Welcome w = NSNET__V1__WELCOME__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;

	w.protocol_version = NSN_PROTOCOL_VERSION;
	w.collector_version = k->c->version;
	w.max_frame = k->c->o.max_frame;
	f.body_case = NSNET__V1__FRAME__BODY_WELCOME;
	f.welcome = &w;
	return send_frame(k, &f, false);
}

/* Whether a client certificate of @p identity may send a Hello for @p node: its own
 * node, or any with --tls-agent-any-node naming it. */
static bool identity_may_speak_for(const struct collector *c, const char *identity, const char *node)
{
	if (!identity[0])
		return false;
	if (c->o.tls_agent_any_node && strcmp(identity, c->o.tls_agent_any_node) == 0)
		return true;
	return node && strcmp(identity, node) == 0;
}

/* Returns false when the connection was closed. */
static bool on_hello(struct conn *k, const NsnFrame *f)
{
	struct collector *c = k->c;
	const Nsnet__V1__Hello *h = f->hello;
	struct nsn_store_error err = {{0}};
	struct cnode *n;
	int r;

	if (h->protocol_version != NSN_PROTOCOL_VERSION) {
		conn_close(k, REJECT_VERSION, "protocol version %u not spoken (this collector speaks %u)",
			   h->protocol_version, NSN_PROTOCOL_VERSION);
		return false;
	}
	if (c->o.token) {
		if (!h->token.len) {
			auth_failed(k, "no token (the collector has --token-file)");
			return false;
		}
		if (!nsn_token_equal(c->o.token, c->o.token_len, h->token.data, h->token.len)) {
			auth_failed(k, "wrong token");
			return false;
		}
	}
	k->next_seq = f->seq + 1;
	if (h->role == NSNET__V1__HELLO__ROLE__QUERY) {
		k->role = ROLE_QUERY;
		nsn_frame_reader_set_max(&k->rd, c->o.max_frame);
		c->n_queries++;
		if (k->tls)
			nsn_log(NSN_LOG_INFO, "event=query_client peer=%s identity=%s", k->peer, k->identity);
	} else if (h->role == NSNET__V1__HELLO__ROLE__AGENT) {
		if (k->tls && !identity_may_speak_for(c, nsn_tls_peer_identity(k->tls), h->node)) {
			char qn[160];

			/* Logged here, every time: a certificate speaking for another node is
			 * a misconfiguration or an attack, never a typo in a token. */
			c->st.auth_failures++;
			nsn_log(NSN_LOG_WARN, "event=identity_mismatch peer=%s identity=%s node=%s", k->peer,
				k->identity, nsn_log_q(h->node ? h->node : "", qn, sizeof(qn)));
			conn_close(k, REJECT_AUTH, "the client certificate is for %s, not for node %s",
				   nsn_tls_peer_identity(k->tls), h->node ? h->node : "");
			return false;
		}
		r = nsn_store_hello(c->store, h, &k->snode, &err);
		if (r == -EPROTO) {
			conn_close(k, REJECT_HELLO, "%s", err.msg);
			return false;
		}
		if (r < 0 || !(n = node_get(c, h->node))) {
			conn_close(k, REJECT_MAX, "hello: %s", strerror(r < 0 ? -r : ENOMEM));
			return false;
		}
		if (n->agent && n->agent != k)
			conn_close(n->agent, REJECT_MAX, "replaced by a new connection of node %s from %s",
				   n->name, k->peer);
		k->role = ROLE_AGENT;
		nsn_frame_reader_set_max(&k->rd, c->o.max_frame);
		c->n_agents++;
		k->node = n;
		n->snode = k->snode;
		n->agent = k;
		n->sessions++;
		n->connected_ms = n->last_seen_ms = coll_now_ms();
		if (n->stale)
			nsn_log(NSN_LOG_INFO, "event=node_fresh node=%s", n->qname);
		n->stale = false;
		c->st.sessions++;
		char qv[96];
		nsn_log(NSN_LOG_INFO,
			"event=agent_hello node=%s peer=%s identity=%s agent_version=%s session=%llx interval_ms=%u",
			n->qname, k->peer, k->tls ? k->identity : "-",
			h->agent_version && *h->agent_version ? nsn_log_q(h->agent_version, qv, sizeof(qv)) : "-",
			(unsigned long long)h->session, h->interval_ms);
	} else {
		conn_close(k, REJECT_HELLO, "hello with role %d: expected agent (1) or query (2)",
			   (int)h->role);
		return false;
	}
	if ((r = send_welcome(k)) < 0) {
		conn_close(k, REJECT_MAX, "welcome: %s", strerror(-r));
		return false;
	}
	return true;
}

static bool on_agent_frame(struct conn *k, const NsnFrame *f, size_t len)
{
	struct nsn_store_error err = {{0}};
	struct cnode *n = k->node;
	int r;

	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_SNAPSHOT:
	case NSNET__V1__FRAME__BODY_DELTA:
	case NSNET__V1__FRAME__BODY_GONE:
	case NSNET__V1__FRAME__BODY_SCAN_DONE:
		break;
	default:
		conn_close(k, REJECT_UNEXPECTED, "frame %llu: an agent does not send %s after hello",
			   (unsigned long long)f->seq, nsn_wire_body_name(f));
		return false;
	}
	r = nsn_store_apply(k->snode, f, &err);
	if (r == -EPROTO) {
		conn_close(k, REJECT_STORE, "frame %llu (%s): %s", (unsigned long long)f->seq,
			   nsn_wire_body_name(f), err.msg);
		return false;
	}
	if (r < 0) {
		conn_close(k, REJECT_MAX, "frame %llu (%s): %s", (unsigned long long)f->seq,
			   nsn_wire_body_name(f), strerror(-r));
		return false;
	}
	n->frames++;
	n->bytes += NSN_FRAME_HDR + len;
	n->last_seen_ms = coll_now_ms();
	if (n->stale) {
		n->stale = false;
		nsn_log(NSN_LOG_INFO, "event=node_fresh node=%s", n->qname);
	}
	return true;
}

/* One frame; false when the connection was closed. */
static bool on_frame(struct conn *k, const uint8_t *data, size_t len)
{
	struct collector *c = k->c;
	NsnFrame *f;
	bool ok = true;
	int r;

	if (len == 0)
		return true; /* legal, and means nothing */
	r = nsn_wire_unpack(data, len, c->o.max_frame, &f);
	if (r < 0) {
		conn_close(k, r == -EMSGSIZE ? REJECT_OVERSIZE : REJECT_DECODE,
			   "frame %llu (%zu bytes): not an nsnet.v1 Frame",
			   (unsigned long long)(k->next_seq ? k->next_seq : 1), len);
		return false;
	}
	c->st.frames++;
	k->last_rx_ms = uv_now(c->loop);
	if (k->role == ROLE_NONE) {
		if (f->body_case != NSNET__V1__FRAME__BODY_HELLO) {
			conn_close(k, REJECT_UNEXPECTED, "%s frame before hello", nsn_wire_body_name(f));
			ok = false;
		} else {
			ok = on_hello(k, f);
		}
		goto out;
	}
	if (f->seq != k->next_seq) {
		conn_close(k, REJECT_SEQUENCE, "%s frame has seq %llu, expected %llu", nsn_wire_body_name(f),
			   (unsigned long long)f->seq, (unsigned long long)k->next_seq);
		ok = false;
		goto out;
	}
	k->next_seq++;
	if (k->role == ROLE_AGENT) {
		ok = on_agent_frame(k, f, len);
	} else if (f->body_case != NSNET__V1__FRAME__BODY_QUERY) {
		conn_close(k, REJECT_UNEXPECTED, "frame %llu: a query client does not send %s",
			   (unsigned long long)f->seq, nsn_wire_body_name(f));
		ok = false;
	} else if (k->q) {
		conn_close(k, REJECT_UNEXPECTED, "query %llu before the previous one was answered",
			   (unsigned long long)f->query->id);
		ok = false;
	} else {
		c->st.queries++;
		query_start(k, f->query);
		ok = !k->closing;
	}
out:
	nsn_wire_free(f);
	return ok;
}

static void send_ack(struct conn *k)
{
	Nsnet__V1__Ack a = NSNET__V1__ACK__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	uint64_t seq = k->next_seq - 1;
	int r;

	if (k->role != ROLE_AGENT || seq <= k->acked)
		return;
	a.seq = seq;
	f.body_case = NSNET__V1__FRAME__BODY_ACK;
	f.ack = &a;
	r = send_frame(k, &f, false);
	if (r < 0)
		conn_close(k, REJECT_MAX, "ack: %s", strerror(-r));
	else
		k->acked = seq;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	*buf = uv_buf_init((char *)read_buf, sizeof(read_buf));
}

/* Plaintext from the peer: frames. False when the connection was closed. */
static bool take_bytes(struct conn *k, const uint8_t *data, size_t n)
{
	struct collector *c = k->c;
	const uint8_t *frame;
	size_t len;
	int r;

	/* A TLS ClientHello where a frame's length should be: say so rather than "oversize". */
	if (!k->tls && k->rd.bytes == 0 && n >= 2 && data[0] == 0x16 && data[1] == 0x03) {
		conn_close(k, REJECT_TLS, "a TLS handshake on a plaintext listener (the collector runs without "
					  "--tls-cert/--tls-key/--tls-ca)");
		return false;
	}
	c->st.bytes += (uint64_t)n;
	r = nsn_frame_reader_feed(&k->rd, data, n);
	while (r >= 0 && (r = nsn_frame_reader_next(&k->rd, &frame, &len)) > 0)
		if (!on_frame(k, frame, len))
			return false;
	if (r == -EMSGSIZE) {
		conn_close(k, REJECT_OVERSIZE, "frame %llu: length %u over the %u byte maximum%s",
			   (unsigned long long)(k->next_seq ? k->next_seq : 1), nsn_frame_get_header(k->rd.buf + k->rd.off),
			   k->rd.max, k->role == ROLE_NONE ? " before a Hello" : "");
		return false;
	}
	if (r < 0) {
		conn_close(k, REJECT_MAX, "%s", strerror(-r));
		return false;
	}
	return true;
}

static void tls_established(struct conn *k)
{
	char desc[128];

	nsn_log_q(nsn_tls_peer_identity(k->tls), k->identity, sizeof(k->identity));
	if (!k->identity[0])
		snprintf(k->identity, sizeof(k->identity), "\"\"");
	nsn_log(NSN_LOG_DEBUG, "event=tls_established peer=%s identity=%s tls=%s", k->peer, k->identity,
		nsn_tls_describe(k->tls, desc, sizeof(desc)));
}

/* Ciphertext from the peer: through the session, then frames. False when closed. */
static bool take_tls(struct conn *k, const uint8_t *data, size_t n)
{
	bool was = nsn_tls_established(k->tls);
	ssize_t m;
	int r;

	/* Not a handshake record first: a plaintext client (OpenSSL would close without
	 * an alert, saying "wrong version number"). If it is one of ours, it reads this
	 * Error frame, in the clear since it speaks nothing else, and says why. */
	if (k->tls_bytes == 0 && n >= 1 && data[0] != 0x16) {
		k->plain_peer = true;
		conn_close(k, REJECT_TLS, "this collector requires TLS: a plaintext client on a TLS listener "
					  "(give it --tls-cert/--tls-key/--tls-ca)");
		return false;
	}
	k->tls_bytes += n;
	r = nsn_tls_feed(k->tls, data, n);
	if (r < 0) {
		conn_close(k, REJECT_MAX, "TLS: %s", strerror(-r));
		return false;
	}
	while ((m = nsn_tls_read(k->tls, plain_buf, sizeof(plain_buf))) >= 0) {
		if (!was && nsn_tls_established(k->tls)) {
			was = true;
			tls_established(k);
		}
		if (m == 0)
			break;
		if (!take_bytes(k, plain_buf, (size_t)m))
			return false;
	}
	if (m == -EPROTO) {
		conn_close(k, REJECT_TLS, "%s", nsn_tls_error(k->tls));
		return false;
	}
	if (m == -EPIPE) {
		conn_close(k, REJECT_MAX, "closed by peer (TLS close_notify)");
		return false;
	}
	if (m < 0 || (r = flush_tls(k, false)) < 0) {
		conn_close(k, REJECT_MAX, "TLS: %s", strerror(m < 0 ? (int)-m : -r));
		return false;
	}
	return true;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *k = s->data;

	(void)buf;
	if (n == 0 || k->closing || k->rejected)
		return;
	if (n < 0) {
		size_t left = nsn_frame_reader_pending(&k->rd);

		if (n == UV_EOF && k->tls && k->tls_bytes && !nsn_tls_established(k->tls))
			conn_close(k, REJECT_TLS, "closed by peer during the TLS handshake");
		else if (n == UV_EOF && left == 0)
			conn_close(k, REJECT_MAX, "closed by peer");
		else if (n == UV_EOF)
			conn_close(k, REJECT_DECODE, "closed by peer inside a frame (%zu bytes of it)", left);
		else
			conn_close(k, REJECT_MAX, "read: %s", uv_strerror((int)n));
		return;
	}
	if (!(k->tls ? take_tls(k, read_buf, (size_t)n) : take_bytes(k, read_buf, (size_t)n)))
		return;
	send_ack(k);
}

static void describe_peer(struct conn *k)
{
	struct sockaddr_storage ss = {0};
	int len = sizeof(ss);
	char ip[64];
	unsigned port;

	if (k->c->o.listen_unix) {
		snprintf(k->peer, sizeof(k->peer), "unix");
		return;
	}
	uv_tcp_getpeername(&k->h.tcp, (struct sockaddr *)&ss, &len);
	nsn_sockaddr_name(&ss, ip, sizeof(ip), &port);
	snprintf(k->peer, sizeof(k->peer), ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct collector *c = server->data;
	struct conn *k;

	if (status < 0) {
		nsn_log(NSN_LOG_WARN, "event=accept_failed error=%s", uv_err_name(status));
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return;
	k->c = c;
	if (c->o.listen_unix)
		uv_pipe_init(c->loop, &k->h.pipe, 0);
	else
		uv_tcp_init(c->loop, &k->h.tcp);
	k->h.tcp.data = k;
	/* Until its Hello is accepted a peer is nobody: it may make us buffer no more than
	 * a Hello needs, not --max-frame (16 MiB by default) per connection. */
	nsn_frame_reader_init(&k->rd, HELLO_MAX_FRAME < c->o.max_frame ? HELLO_MAX_FRAME : c->o.max_frame);
	k->opened_ms = k->last_rx_ms = uv_now(c->loop);
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&k->h) < 0) {
		conn_drop(k);
		return;
	}
	describe_peer(k);
	if (c->n_conns > c->o.max_conns) {
		c->st.refused++;
		nsn_log(NSN_LOG_WARN, "event=conn_refused peer=%s connections=%u max=%u", k->peer,
			c->n_conns - 1, c->o.max_conns);
		conn_drop(k);
		return;
	}
	c->st.accepted++;
	if (!c->o.listen_unix) {
		uv_tcp_nodelay(&k->h.tcp, 1);
		uv_tcp_keepalive(&k->h.tcp, 1, 60);
	}
	if (c->tls_ctx && nsn_tls_new(c->tls_ctx, NULL, &k->tls) < 0) {
		nsn_log(NSN_LOG_WARN, "event=conn_closed peer=%s why=\"TLS: out of memory\"", k->peer);
		conn_drop(k);
		return;
	}
	if (uv_read_start((uv_stream_t *)&k->h, alloc_cb, on_read) < 0) {
		conn_drop(k);
		return;
	}
	k->reading = true;
	nsn_log(NSN_LOG_DEBUG, "event=conn_accepted peer=%s connections=%u", k->peer, c->n_conns);
}

static int listen_tcp(struct collector *c)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char port[8];
	int r;

	snprintf(port, sizeof(port), "%d", c->o.listen_port);
	r = getaddrinfo(c->o.listen_host, port, &hints, &ai);
	if (r != 0)
		return r == EAI_NONAME ? UV_EAI_NONAME : UV_EAI_FAIL;
	uv_tcp_init(c->loop, &c->listener.tcp);
	r = uv_tcp_bind(&c->listener.tcp, ai->ai_addr, 0);
	freeaddrinfo(ai);
	if (r < 0)
		return r;
	r = uv_listen((uv_stream_t *)&c->listener.tcp, 1024, on_connection);
	if (r < 0)
		return r;

	struct sockaddr_storage got = {0};
	int len = sizeof(got);
	char ip[64];
	unsigned p;

	uv_tcp_getsockname(&c->listener.tcp, (struct sockaddr *)&got, &len);
	nsn_sockaddr_name(&got, ip, sizeof(ip), &p);
	nsn_log(NSN_LOG_INFO, "event=listening addr=%s port=%u", ip, p);
	return 0;
}

static int listen_unix(struct collector *c)
{
	struct stat st;
	int r;

	/* A socket left by a previous run is replaced; anything else is not ours. */
	if (lstat(c->o.listen_host, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return UV_EEXIST;
		unlink(c->o.listen_host);
	}
	uv_pipe_init(c->loop, &c->listener.pipe, 0);
	r = uv_pipe_bind(&c->listener.pipe, c->o.listen_host);
	if (r < 0)
		return r;
	r = uv_listen((uv_stream_t *)&c->listener.pipe, 1024, on_connection);
	if (r < 0)
		return r;
	nsn_log(NSN_LOG_INFO, "event=listening path=%s", c->o.listen_host);
	return 0;
}

int server_start(struct collector *c)
{
	int r = c->o.listen_unix ? listen_unix(c) : listen_tcp(c);

	c->listener.tcp.data = c;
	if (r < 0 && uv_is_active((uv_handle_t *)&c->listener) == 0 && c->listener.tcp.loop &&
	    !uv_is_closing((uv_handle_t *)&c->listener))
		uv_close((uv_handle_t *)&c->listener, NULL);
	return r;
}

void server_stop(struct collector *c)
{
	if (c->listener.tcp.loop && !uv_is_closing((uv_handle_t *)&c->listener))
		uv_close((uv_handle_t *)&c->listener, NULL);
	while (c->conns) {
		if (c->conns->rejected)
			conn_drop(c->conns); /* its Error is cancelled: we are going */
		else
			conn_close(c->conns, REJECT_MAX, "collector stopping");
	}
	if (c->o.listen_unix)
		unlink(c->o.listen_host);
}

/* ---- the sweep ----------------------------------------------------------------- */

static void forget(struct collector *c, size_t i)
{
	struct cnode *n = c->nodes[i];

	nsn_log(NSN_LOG_INFO, "event=node_forgotten node=%s last_seen_s=%.1f", n->qname,
		(double)(coll_now_ms() - n->last_seen_ms) / 1000.0);
	nsn_store_node_remove(n->snode);
	memmove(c->nodes + i, c->nodes + i + 1, (c->n_nodes - i - 1) * sizeof(*c->nodes));
	c->n_nodes--;
	c->st.nodes_forgotten++;
	free(n->name);
	free(n);
}

/* Unpacking a 16 MiB frame leaves its many small blocks free in the heap; give
 * them back after big ingests (a resync of many nodes), at most every 10 s. */
static void trim_heap(struct collector *c, uint64_t now)
{
	if (c->st.bytes - c->trim_bytes < (32u << 20) || now - c->trim_ms < 10000)
		return;
	c->trim_ms = now;
	c->trim_bytes = c->st.bytes;
	malloc_trim(0);
}

void server_sweep(struct collector *c)
{
	uint64_t now = uv_now(c->loop), wall = coll_now_ms();

	trim_heap(c, now);

	for (struct conn *k = c->conns, *next; k; k = next) {
		next = k->next;
		if (k->closing || k->rejected)
			continue;
		if (k->role == ROLE_NONE && now - k->opened_ms > HELLO_TIMEOUT_MS) {
			conn_close(k, REJECT_TIMEOUT, "no hello within %d s", HELLO_TIMEOUT_MS / 1000);
		} else if (k->role == ROLE_AGENT) {
			uint64_t limit = coll_stale_ms(c, k->node);
			if (limit < AGENT_IDLE_MIN_MS)
				limit = AGENT_IDLE_MIN_MS;
			if (now - k->last_rx_ms > limit)
				conn_close(k, REJECT_TIMEOUT, "agent sent nothing for %.1f s",
					   (double)(now - k->last_rx_ms) / 1000.0);
		} else if (k->role == ROLE_QUERY && !k->q && now - k->last_rx_ms > QUERY_IDLE_MS) {
			conn_close(k, REJECT_MAX, "query connection idle");
		}
	}
	for (size_t i = 0; i < c->n_nodes;) {
		struct cnode *n = c->nodes[i];
		uint64_t age = wall > n->last_seen_ms ? wall - n->last_seen_ms : 0;

		if (!n->agent && age > (uint64_t)(c->o.forget_after_s * 1000)) {
			forget(c, i);
			continue;
		}
		if (!n->stale && age > coll_stale_ms(c, n)) {
			n->stale = true;
			nsn_log(NSN_LOG_WARN, "event=node_stale node=%s last_seen_s=%.1f connected=%s", n->qname,
				(double)age / 1000.0, n->agent ? "true" : "false");
		}
		i++;
	}
}
