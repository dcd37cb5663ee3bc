/* SPDX-License-Identifier: MIT */
/* nsnet-collector: one libuv loop on one thread. Agents and query clients connect to
 * --listen (server.c); what agents send goes into one store (proto/store.h); queries
 * are answered from it in chunks (query.c); --http serves /metrics, /healthz and
 * /query (http.c, metrics.c). Nothing here blocks the loop for longer than one node's
 * answer or one scrape takes. */
#ifndef NSN_COLLECTOR_H
#define NSN_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include <nsnet/wire.h>

#include "codec.h"
#include "store.h"
#include "tls.h"

/* Why a connection or a frame was refused: the `reason` label of
 * nsnet_collector_frames_rejected_total and of the log line. */
enum reject_reason {
	REJECT_OVERSIZE,  /* length prefix above the frame maximum */
	REJECT_DECODE,    /* not an nsnet.v1 Frame, or no body */
	REJECT_SEQUENCE,  /* seq not the one expected */
	REJECT_UNEXPECTED, /* a frame that role may not send now (e.g. a snapshot before hello) */
	REJECT_STORE,     /* contradicts what the store holds (store -EPROTO) */
	REJECT_AUTH,      /* missing or wrong token */
	REJECT_VERSION,   /* protocol_version not spoken */
	REJECT_HELLO,     /* a hello that names no node, or the wrong role */
	REJECT_TIMEOUT,   /* no hello in time, or an idle agent */
	REJECT_QUERY,     /* a query that does not parse (answered with an Error; the
	                   * connection stays) */
	REJECT_TLS,       /* the TLS handshake failed (no, an untrusted or an expired client
	                   * certificate; a plaintext peer on a TLS listener, or a TLS one
	                   * on a plaintext listener), or a TLS record did not decrypt */
	REJECT_MAX
};
extern const char *const reject_reason_names[REJECT_MAX];

struct coll_opts {
	const char *listen;        /* as given */
	bool listen_unix;
	char listen_host[256];     /* HOST of HOST:PORT, or the unix path */
	int listen_port;
	const char *http;          /* --http HOST:PORT, or NULL */
	char http_host[256];
	int http_port;
	bool plaintext;            /* --plaintext: TCP without TLS was asked for */
	struct nsn_tls_files tls;  /* --tls-cert, --tls-key, --tls-ca */
	/* --tls-agent-any-node: a client certificate of this identity may send a Hello
	 * for any node (a DaemonSet sharing one certificate); NULL: only its own. */
	const char *tls_agent_any_node;
	const char *token_file;
	char *token;               /* the file's contents, trailing newline stripped */
	size_t token_len;
	double stale_after_s;      /* 0: 3 intervals of each node's agent */
	double forget_after_s;     /* default 3600 */
	uint32_t max_frame;        /* largest frame accepted (and announced) */
	unsigned max_conns;        /* connections held at most (agents + queries) */
};

enum conn_role { ROLE_NONE, ROLE_AGENT, ROLE_QUERY };

struct cnode;
struct query;

/* One connection on --listen. */
struct conn {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	struct collector *c;
	struct conn *prev, *next;   /* the collector's list */
	enum conn_role role;
	char peer[80];              /* address:port or "unix" */
	struct nsn_tls *tls;        /* with --tls-*: the session; frames are its plaintext */
	char identity[160];         /* once the handshake is done: the client certificate's
	                             * identity, as a log value (nsn_log_q) */
	uint64_t tls_bytes;         /* ciphertext received */
	bool plain_peer;            /* a plaintext client on the TLS listener */
	struct nsn_frame_reader rd;
	uint64_t next_seq;          /* of the peer's frames: 1, 2, 3, ... */
	uint64_t acked;             /* the last Ack sent */
	uint64_t last_rx_ms;        /* uv_now of the last frame */
	uint64_t opened_ms;
	struct cnode *node;         /* ROLE_AGENT after hello */
	struct nsn_store_node *snode;
	struct query *q;            /* ROLE_QUERY: the query being answered, or NULL */
	size_t queued;              /* bytes written but not yet completed */
	bool closing;
	bool rejected;              /* its Error is being written; closed after */
	bool reading;               /* uv_read_start active */
};

/* What the collector knows of a node beyond the store: its connection and times. */
struct cnode {
	char *name;
	char qname[160];              /* the name as a log value (nsn_log_q) */
	struct nsn_store_node *snode; /* in the store; NULL once forgotten */
	struct conn *agent;           /* the connection of its current session, or NULL */
	uint64_t last_seen_ms;        /* Unix epoch ms of the last frame from its agent */
	uint64_t connected_ms;        /* Unix epoch ms of its current session's hello */
	bool stale;
	uint64_t sessions;            /* hellos accepted */
	uint64_t frames, bytes;       /* received from its agents */
};

struct collector {
	uv_loop_t *loop;
	struct coll_opts o;
	char version[32];
	struct nsn_store *store;

	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} listener;
	struct nsn_tls_ctx *tls_ctx; /* --tls-*, or NULL: --listen is plaintext */
	struct conn *conns;          /* every open connection */
	unsigned n_conns, n_agents, n_queries;

	struct cnode **nodes;        /* by first hello; forgotten ones are removed */
	size_t n_nodes, cap_nodes;

	uv_timer_t sweep;            /* staleness, forgetting, idle connections: every second */
	uv_signal_t sig_term, sig_int;

	/* /metrics */
	struct {
		uint64_t accepted, refused;          /* connections; refused: over max_conns */
		uint64_t frames, bytes;              /* frames and bytes received */
		uint64_t rejected[REJECT_MAX];       /* connections closed, by reason */
		uint64_t auth_failures;
		uint64_t queries, query_errors;
		uint64_t nodes_forgotten;
		uint64_t sessions;                   /* agent hellos accepted */
	} st;

	/* --http (http.c) */
	uv_tcp_t http;
	bool http_on;
	unsigned http_conns;

	/* Rate-limited log lines (auth failures): one per 10 s, with the count since. */
	uint64_t auth_log_ms;
	uint64_t auth_log_suppressed;

	/* The heap is trimmed after big ingests (server_sweep()): when, and at what
	 * st.bytes, it was last. */
	uint64_t trim_ms, trim_bytes;

	bool stopping;
};

/* main.c */
uint64_t coll_now_ms(void); /* Unix epoch milliseconds */
/* The node's staleness limit in ms: --stale-after, or 3 of its agent's intervals. */
uint64_t coll_stale_ms(const struct collector *c, const struct cnode *n);

/* server.c */
int server_start(struct collector *c);
/* The node named @p name, or NULL (a forgotten node is no longer there). */
struct cnode *coll_node_find(const struct collector *c, const char *name);
void server_stop(struct collector *c);
void conn_close(struct conn *k, enum reject_reason why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Queue @p len bytes (a packed frame with its prefix; the buffer is taken over and
 * freed when written). -errno when the connection cannot take it. */
int conn_send(struct conn *k, uint8_t *buf, size_t len);
/* Staleness, forgetting and idle connections; run every second. */
void server_sweep(struct collector *c);
/* A refused token (a Hello on --listen, or /query on --http): counted in
 * nsnet_collector_auth_failures_total and logged at most once per 10 s. */
void collector_auth_failure(struct collector *c, const char *peer, const char *what);

/* query.c */
/* Start answering @p q on @p k: chunks are queued while the connection's write queue
 * is short, and again from conn_written(). */
void query_start(struct conn *k, const Nsnet__V1__Query *q);
/* Called when a connection's queued bytes dropped: continue a query in progress. */
void query_continue(struct conn *k);
void query_free(struct query *q);

/* Run a query to completion in-process: every chunk's packed QueryResponse frame is
 * passed to @p emit (which takes ownership of nothing). Returns 0, or -errno with
 * a one-line error in @p err. Used by /query. */
typedef int (*query_emit_fn)(const uint8_t *frame, size_t len, void *ctx);
int query_run(struct collector *c, const Nsnet__V1__Query *q, query_emit_fn emit, void *ctx,
	      char *err, size_t err_len);

/* http.c */

int http_start(struct collector *c);
void http_stop(struct collector *c);

/* httpquery.c: GET /query's JSON document into @p out; @p qs is the query string
 * (decoded in place). Returns the HTTP status, with one line in @p err unless 200. */
int http_query(struct collector *c, char *qs, FILE *out, char *err, size_t err_len);

/* metrics.c: the Prometheus text exposition of everything, into @p f. */
void metrics_write(struct collector *c, FILE *f);

#endif
