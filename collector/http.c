/* SPDX-License-Identifier: MIT */
/* --http: /metrics for Prometheus and /healthz for probes. HTTP/1.1 GET and HEAD, one
 * request per connection (Connection: close). A request head must arrive whole within
 * HEAD_TIMEOUT_MS and fit in MAX_HEAD bytes. At most MAX_CONNS connections are held, so
 * a stampede of scrapers cannot make the collector hold an unbounded number of
 * multi-megabyte bodies. At the limit, a new connection takes the place of the oldest
 * one still waiting for its request head: otherwise MAX_CONNS clients that never finish
 * a request (they need no token) would lock /healthz and /metrics out, and the
 * liveness probe with them. Only when every connection is being answered is the new
 * one refused.
 *
 * A body is rendered whole into an open_memstream() buffer on the loop thread (20,000
 * namespaces with 2,000,000 sockets take about 0.2 s and tens of MB), handed to
 * uv_write() as is, and freed in the write callback. */
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector.h"
#include "log.h"
#include "util.h"

#define MAX_HEAD	8192
#define MAX_CONNS	64
#define HEAD_TIMEOUT_MS 10000
/* A scraper that stops reading a large body is dropped after this long. */
#define WRITE_TIMEOUT_MS 60000

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

/* One HTTP connection. The collector's listener keeps the list of them in its
 * handle's data field (c->http.data), so http_stop() can close those in flight. */
struct hconn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct collector *c;
	struct hconn *prev, *next;
	char head[512]; /* the response's status line and headers */
	char *body;	/* open_memstream() buffer, owned until the write completes */
	size_t body_len;
	char req[MAX_HEAD + 1];
	size_t len;
	bool responded;
	int closing; /* close callbacks still to come, + 1 once closing */
};

static struct hconn **conn_list(struct collector *c)
{
	return (struct hconn **)&c->http.data;
}

static void hconn_free(uv_handle_t *h)
{
	struct hconn *k = h->data;

	/* Two handles: free on the second close callback. */
	if (--k->closing > 1)
		return;
	struct collector *c = k->c;
	struct hconn **head = conn_list(c);

	if (k->prev)
		k->prev->next = k->next;
	else
		*head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->http_conns--;
	free(k->body);
	free(k);
}

static void hconn_close(struct hconn *k)
{
	if (k->closing)
		return;
	k->closing = 3;
	uv_close((uv_handle_t *)&k->tcp, hconn_free);
	uv_close((uv_handle_t *)&k->timer, hconn_free);
}

static void on_timeout(uv_timer_t *t)
{
	struct hconn *k = t->data;

	nsn_log(NSN_LOG_DEBUG, "event=http_timeout responded=%d", k->responded);
	hconn_close(k);
}

static void on_written(uv_write_t *req, int status)
{
	struct hconn *k = req->data;

	/* Also called with UV_ECANCELED when the connection was closed mid-write. */
	if (status < 0 && status != UV_ECANCELED)
		nsn_log(NSN_LOG_DEBUG, "event=http_write_failed error=%s", uv_err_name(status));
	free(k->body);
	k->body = NULL;
	hconn_close(k);
}

static const char *status_text(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Queue the status line, headers and (unless @p head_only) the body built in k->body,
 * then close once written. */
static void send_response(struct hconn *k, int code, const char *type, bool head_only)
{
	uv_buf_t b[2];
	int n;

	k->responded = true;
	n = snprintf(k->head, sizeof(k->head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
		     code, status_text(code), type, k->body_len,
		     code == 405   ? "Allow: GET, HEAD\r\n"
		     : code == 401 ? "WWW-Authenticate: Bearer realm=\"nsnet-collector\"\r\n"
				   : "");
	if (n < 0 || (size_t)n >= sizeof(k->head)) {
		hconn_close(k);
		return;
	}
	b[0] = uv_buf_init(k->head, (unsigned)n);
	b[1] = uv_buf_init(k->body ? k->body : k->head, head_only ? 0 : (unsigned)k->body_len);
	k->wreq.data = k;
	uv_timer_start(&k->timer, on_timeout, WRITE_TIMEOUT_MS, 0);
	if (uv_write(&k->wreq, (uv_stream_t *)&k->tcp, b, (head_only || !k->body_len) ? 1 : 2,
		     on_written) < 0)
		hconn_close(k);
}

/* A short text/plain answer (errors, 404). */
static void send_text(struct hconn *k, int code, bool head_only, const char *text)
{
	free(k->body);
	k->body = strdup(text);
	k->body_len = k->body ? strlen(text) : 0;
	send_response(k, code, "text/plain; charset=utf-8", head_only);
}

static void healthz(struct collector *c, FILE *f)
{
	size_t stale = 0, nodes = 0;

	for (size_t i = 0; i < c->n_nodes; i++) {
		if (!c->nodes[i]->snode)
			continue;
		nodes++;
		stale += c->nodes[i]->stale;
	}
	fprintf(f,
		"{\"status\":\"ok\",\"nodes\":%zu,\"stale_nodes\":%zu,\"agents\":%u,\"queries\":%u,"
		"\"connections\":%u,\"store_bytes\":%zu}\n",
		nodes, stale, c->n_agents, c->n_queries, c->n_conns, nsn_store_memory(c->store));
}

/* With --token-file, /query answers what the token guards on --listen: it needs
 * "Authorization: Bearer TOKEN". NULL when it has it, else why not. @p headers are the
 * lines after the request line. */
static const char *query_auth(struct collector *c, const char *headers)
{
	const char *h = headers;

	if (!c->o.token)
		return NULL;
	while (h && *h) {
		size_t n = strcspn(h, "\r\n");

		if (n > 14 && !strncasecmp(h, "authorization:", 14)) {
			const char *v = h + 14, *end = h + n;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if (end - v < 7 || strncasecmp(v, "bearer ", 7))
				return "not a bearer token";
			v += 7;
			while (v < end && *v == ' ')
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			return nsn_token_equal(c->o.token, c->o.token_len, v, (size_t)(end - v)) ? NULL
												 : "wrong token";
		}
		h += n;
		h += strspn(h, "\r\n");
	}
	return "no token (the collector has --token-file)";
}

static void http_peer(struct hconn *k, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	char ip[64];
	unsigned port = 0;

	if (uv_tcp_getpeername(&k->tcp, (struct sockaddr *)&ss, &n) < 0) {
		snprintf(buf, len, "http:?");
		return;
	}
	nsn_sockaddr_name(&ss, ip, sizeof(ip), &port);
	snprintf(buf, len, "http:%s:%u", ip, port);
}

/* The request head is complete in k->req: parse its request line and answer. */
static void respond(struct hconn *k)
{
	struct collector *c = k->c;
	char *line = k->req, *eol, *sp1, *sp2, *path_end;
	const char *type;
	bool head_only, metrics, query;
	FILE *f;

	const char *headers = "";

	eol = strpbrk(line, "\r\n");
	if (eol) {
		*eol = 0;
		headers = eol + 1;
	}
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		send_text(k, 400, false, "bad request: expected METHOD PATH HTTP/1.x\n");
		return;
	}
	*sp1 = *sp2 = 0;
	char *path = sp1 + 1, *qs = NULL;
	path_end = path + strcspn(path, "?#");
	if (*path_end == '?') {
		qs = path_end + 1;
		qs[strcspn(qs, "#")] = 0;
	}
	*path_end = 0;

	head_only = !strcmp(line, "HEAD");
	if (!head_only && strcmp(line, "GET")) {
		send_text(k, 405, false, "method not allowed: GET and HEAD only\n");
		return;
	}
	metrics = !strcmp(path, "/metrics");
	query = !strcmp(path, "/query");
	if (metrics)
		type = "text/plain; version=0.0.4; charset=utf-8";
	else if (!strcmp(path, "/healthz") || query)
		type = "application/json";
	else {
		send_text(k, 404, head_only, "not found: /metrics, /healthz and /query are served\n");
		return;
	}

	free(k->body);
	k->body = NULL;
	k->body_len = 0;
	f = open_memstream(&k->body, &k->body_len);
	if (!f) {
		send_text(k, 500, head_only, "out of memory\n");
		return;
	}
	if (metrics) {
		uint64_t t0 = uv_hrtime();

		metrics_write(c, f);
		nsn_log(NSN_LOG_DEBUG, "event=http_metrics bytes=%ld ms=%.1f", ftell(f),
			(double)(uv_hrtime() - t0) / 1e6);
	} else if (query) {
		char err[300] = "";
		const char *denied = query_auth(c, headers);
		int code;

		if (denied) {
			char peer[96];

			fclose(f);
			http_peer(k, peer, sizeof(peer));
			collector_auth_failure(c, peer, denied);
			snprintf(err, sizeof(err), "unauthorized: %s; send Authorization: Bearer TOKEN\n", denied);
			send_text(k, 401, head_only, err);
			return;
		}
		code = http_query(c, qs, f, err, sizeof(err));

		if (code != 200) {
			fclose(f);
			size_t n = strlen(err);
			snprintf(err + n, sizeof(err) - n, "\n");
			send_text(k, code, head_only, err);
			return;
		}
	} else {
		healthz(c, f);
	}
	if (ferror(f)) {
		fclose(f);
		send_text(k, 500, head_only, "out of memory\n");
		return;
	}
	/* fclose() sets body and body_len for the last time. */
	if (fclose(f) != 0) {
		send_text(k, 500, head_only, "out of memory\n");
		return;
	}
	send_response(k, 200, type, head_only);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hconn *k = h->data;

	(void)suggested;
	/* Once answered, whatever else comes is read into the same buffer and dropped:
	 * closing with unread bytes would send a reset that can destroy the response. */
	if (k->responded)
		*buf = uv_buf_init(k->req, MAX_HEAD);
	else
		*buf = uv_buf_init(k->req + k->len, (unsigned)(MAX_HEAD - k->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hconn *k = s->data;
	size_t from;

	(void)buf;
	if (k->closing)
		return;
	if (n < 0) {
		/* The client may close its side once it has sent the request: keep writing. */
		uv_read_stop(s);
		if (!k->responded)
			hconn_close(k);
		return;
	}
	if (k->responded || n == 0)
		return;
	/* Search only what is new (and the 3 bytes before it) for the end of the head. */
	from = k->len > 3 ? k->len - 3 : 0;
	k->len += (size_t)n;
	k->req[k->len] = 0;
	if (memmem(k->req + from, k->len - from, "\r\n\r\n", 4) ||
	    memmem(k->req + from, k->len - from, "\n\n", 2))
		respond(k);
	else if (k->len >= MAX_HEAD)
		send_text(k, 431, false, "request head larger than 8 KiB\n");
}

/* The oldest connection still waiting for its request head, or NULL. New connections
 * go to the front of the list, so that is the last such one. */
static struct hconn *oldest_unanswered(struct collector *c)
{
	struct hconn *found = NULL;

	for (struct hconn *k = *conn_list(c); k; k = k->next)
		if (!k->responded && !k->closing)
			found = k;
	return found;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct collector *c = container_of((uv_tcp_t *)server, struct collector, http);
	struct hconn **head = conn_list(c);
	struct hconn *k;

	if (status < 0) {
		nsn_log(NSN_LOG_WARN, "event=http_accept_failed error=%s", uv_err_name(status));
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return;
	k->c = c;
	uv_tcp_init(c->loop, &k->tcp);
	uv_timer_init(c->loop, &k->timer);
	k->tcp.data = k->timer.data = k;
	k->next = *head;
	if (k->next)
		k->next->prev = k;
	*head = k;
	c->http_conns++;
	if (uv_accept(server, (uv_stream_t *)&k->tcp) < 0) {
		hconn_close(k);
		return;
	}
	if (c->http_conns > MAX_CONNS) {
		struct hconn *old = oldest_unanswered(c);

		/* k itself (the newest) is the only one left when all others are answered. */
		if (!old || old == k) {
			nsn_log(NSN_LOG_DEBUG, "event=http_refused connections=%u",
				c->http_conns - 1);
			hconn_close(k);
			return;
		}
		nsn_log(NSN_LOG_DEBUG, "event=http_evicted connections=%u request_bytes=%zu",
			c->http_conns - 1, old->len);
		hconn_close(old);
	}
	uv_timer_start(&k->timer, on_timeout, HEAD_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *)&k->tcp, alloc_cb, on_read) < 0)
		hconn_close(k);
}

/* An IPv4 or IPv6 literal, else a name resolved once (at start-up, so blocking is
 * acceptable). */
static int resolve(const char *host, int port, struct sockaddr_storage *ret)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_ADDRCONFIG};
	struct addrinfo *res = NULL;
	int r;

	if (!*host || !strcmp(host, "*"))
		host = "0.0.0.0";
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ret) == 0 ||
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)ret) == 0)
		return 0;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r != 0)
		return r == EAI_MEMORY ? UV_ENOMEM : UV_EAI_NONAME;
	memcpy(ret, res->ai_addr, res->ai_addrlen);
	if (ret->ss_family == AF_INET)
		((struct sockaddr_in *)ret)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ret)->sin6_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

int http_start(struct collector *c)
{
	struct sockaddr_storage ss, got = {0};
	int len = sizeof(got), r;
	unsigned port;
	char ip[64];

	r = resolve(c->o.http_host, c->o.http_port, &ss);
	if (r < 0)
		return r;
	r = uv_tcp_init(c->loop, &c->http);
	if (r < 0)
		return r;
	c->http.data = NULL; /* the list of connections */
	c->http_on = true;
	c->http_conns = 0;
	r = uv_tcp_bind(&c->http, (const struct sockaddr *)&ss, 0);
	if (r >= 0)
		r = uv_listen((uv_stream_t *)&c->http, 128, on_connection);
	if (r < 0) {
		/* Closed here: the caller need not call http_stop() after a failure. */
		uv_close((uv_handle_t *)&c->http, NULL);
		c->http_on = false;
		return r;
	}
	uv_tcp_getsockname(&c->http, (struct sockaddr *)&got, &len);
	nsn_sockaddr_name(&got, ip, sizeof(ip), &port);
	nsn_log(NSN_LOG_INFO, "event=http_listening addr=%s port=%u", ip, port);
	return 0;
}

void http_stop(struct collector *c)
{
	if (!c->http_on)
		return;
	c->http_on = false;
	for (struct hconn *k = *conn_list(c); k; k = k->next)
		hconn_close(k);
	if (!uv_is_closing((uv_handle_t *)&c->http))
		uv_close((uv_handle_t *)&c->http, NULL);
}
