/* SPDX-License-Identifier: MIT */
/* nsnet-agent: one libuv loop on the main thread (connection, timers, watches,
 * health, signals) and one scan thread that owns every setns(2) (worker.c). */
#ifndef NSN_AGENT_H
#define NSN_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include <nsnet/gather.h>
#include <nsnet/wire.h>

#include "codec.h"
#include "convert.h"
#include "sync.h"
#include "tls.h"

#define NSN_AGENT_WATCHES 3

struct agent_opts {
	const char *collector;   /* as given */
	bool unix_path;          /* collector is unix:PATH */
	char host[256];          /* HOST of HOST:PORT, or the unix path */
	char port[8];
	const char *node;
	double interval_s;
	bool plaintext;          /* --plaintext: TCP without TLS was asked for */
	struct nsn_tls_files tls; /* --tls-cert, --tls-key, --tls-ca */
	const char *tls_server_name; /* --tls-server-name: the collector's certificate names
				      * this (default: the HOST of --collector) */
	const char *token_file;
	char *token;             /* the file's contents, trailing newline stripped */
	size_t token_len;
	const char *host_root;
	const char *health_listen;
	char health_host[64];
	int health_port;
	const char *output;      /* --output FILE: write the stream there instead */
	unsigned long scans;     /* --scans N: exit after N scans (0: never) */
	size_t max_buffer;       /* bytes queued towards the collector at most */
	uint32_t max_frame;
	bool tcp_info;
	unsigned threads;
	enum nsn_backend backend; /* --backend */
};

/* The scan thread (worker.c). */
struct worker {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool want_scan, stop, busy;
	/* Handed to the loop through async: the newest finished scan (older ones that
	 * the loop did not take yet are replaced and counted). */
	struct nsn_scan *result;
	int result_err;
	double result_ms;
	uint64_t superseded;
	uv_async_t async;
	struct nsn_gather_opts gather;
	struct nsn_cache *cache;
	uint64_t probe_fp;       /* fingerprint of the namespace set at the last scan */
	char proc[4096], run_netns[4096];
	uint64_t probe_triggers; /* rescans caused by the process scan */
};

enum conn_state { CONN_IDLE, CONN_RESOLVING, CONN_CONNECTING, CONN_HELLO, CONN_READY, CONN_CLOSING };

struct agent {
	uv_loop_t *loop;
	struct agent_opts o;
	char boot_id[64];
	uint64_t session;
	char version[32];

	struct worker w;
	/* The BPF walker, loaded once at start (--backend), or NULL: netlink. Only the scan
	 * thread uses it, through w.gather.bpf. */
	struct nsn_bpf *bpf;
	uv_timer_t scan_timer;
	uv_timer_t debounce;         /* namespace watch events, coalesced */
	uv_fs_event_t watch[NSN_AGENT_WATCHES];
	bool watching[NSN_AGENT_WATCHES];
	char watch_path[NSN_AGENT_WATCHES][4096];
	uv_signal_t sig_term, sig_int, sig_hup;

	/* The newest scan, kept to resync a new connection in full; pending: not sent yet. */
	struct nsn_scan *latest;
	bool pending;
	uint64_t scan_no;
	uint64_t last_ok_ms;         /* uv_now of the last successful scan; 0 before */
	double last_scan_ms;
	size_t last_namespaces, last_sockets;
	const char *last_backend;    /* the last scan's: "bpf" or "netlink"; NULL before */
	/* Records lost to a full ring, chains cut, summed over every scan (/healthz, and
	 * AgentStats.bpf_records_dropped and bpf_chains_capped). */
	uint64_t bpf_drops, bpf_capped;

	/* The collector connection. */
	enum conn_state state;
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	uv_stream_t *stream;
	uv_connect_t connect_req;
	uv_getaddrinfo_t gai_req;
	uv_timer_t reconnect_timer;
	uv_timer_t stall_timer;
	unsigned attempt;
	struct nsn_frame_reader reader;
	struct nsn_tls_ctx *tls_ctx; /* the --tls-* files, or NULL: plaintext */
	struct nsn_tls *tls;         /* this connection's session (with tls_ctx) */
	uint64_t seq, acked, ack_progress_ms;
	uint32_t peer_max_frame;
	bool connected_once;

	struct nsn_sync *sync;
	struct nsn_pb_arena *arena;
	int out_fd;                  /* --output */

	/* AgentStats, reported in Hello and ScanDone and /healthz. */
	struct {
		uint64_t scans, scans_failed, updates_coalesced, scans_coalesced;
		uint64_t frames_sent, bytes_sent, connects, connect_failures, protocol_errors;
		uint64_t frames_oversized, netns_failed;
	} st;

	/* /healthz */
	uv_tcp_t health;
	bool health_on;
	unsigned health_conns;

	bool stopping;
	uv_timer_t stop_timer;
	uint64_t stop_deadline;
	int exit_code;
};

/* worker.c */
/* What every scan asks of the gatherer (scope, flags, host root): worker_start() and
 * the --backend choice at start-up use the same. */
void worker_gather_opts(const struct agent *a, struct nsn_gather_opts *g);
int worker_start(struct agent *a);
void worker_request(struct worker *w);
/* Returns true when the thread was mid-scan and left detached. */
bool worker_stop(struct worker *w);

/* conn.c */
void conn_start(struct agent *a);
void conn_try_send(struct agent *a);
void conn_close(struct agent *a, const char *why);
size_t conn_queued(const struct agent *a);
int output_send(struct agent *a);

/* health.c */
int health_start(struct agent *a);
void health_stop(struct agent *a);

/* privs.c */
int privs_drop(const char **ret_missing, char *retained, size_t len);

/* main.c */
void agent_fill_stats(const struct agent *a, Nsnet__V1__AgentStats *s);
void agent_shutdown(struct agent *a, int code);

#endif
