/* SPDX-License-Identifier: MIT */
/* nsnet-agent: scan every network namespace of the node on a timer and when
 * namespaces come and go, and stream the changes to a collector. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "util.h"

#ifndef NSN_VERSION
#define NSN_VERSION "0"
#endif

static const char usage[] =
	"Usage: nsnet-agent --collector HOST:PORT|[IPV6]:PORT|unix:PATH [options]\n"
	"       nsnet-agent --output FILE [--scans N] [options]\n"
	"Scan every network namespace of this node (sockets, routes, interfaces, counters,\n"
	"containers and pods) and stream them to an nsnet-collector as nsnet.v1 frames:\n"
	"a full snapshot on each (re)connect, then only changes.\n"
	"\n"
	"  -c, --collector ADDR     the collector: HOST:PORT, [IPV6]:PORT or unix:PATH\n"
	"  -n, --node NAME          this node's name (default: $NODE_NAME, then the hostname)\n"
	"  -i, --interval SECS      rescan period (default 10); namespaces that appear or\n"
	"                           vanish are rescanned within a second regardless\n"
	"      --token-file FILE    send the token in FILE (trailing newline stripped)\n"
	"      --tls-cert FILE      this agent's certificate (PEM), for mutual TLS with a\n"
	"                           HOST:PORT collector; its DNS name (else CN) is the node\n"
	"      --tls-key FILE       its private key (PEM)\n"
	"      --tls-ca FILE        the CA the collector's certificate must chain to (PEM)\n"
	"      --tls-server-name NAME  the name the collector's certificate must carry\n"
	"                           (default: the HOST of --collector)\n"
	"      --plaintext          talk to a HOST:PORT collector unencrypted\n"
	"      --host-root DIR      where the host's / is mounted (a DaemonSet: /host)\n"
	"      --health-listen HOST:PORT  serve GET /healthz there (port 0: any free port)\n"
	"      --max-buffer BYTES   bytes queued towards a slow collector at most before\n"
	"                           scans are coalesced (default 16777216; k, M suffixes)\n"
	"      --max-frame BYTES    largest frame sent or accepted (default 16777216)\n"
	"      --tcp-info           include tcp_info and socket memory (changes every scan:\n"
	"                           far more traffic)\n"
	"      --threads N          namespace dump threads (default: one per CPU)\n"
	"      --backend auto|bpf|netlink  where sockets come from: one BPF pass over the\n"
	"                           node's socket tables, or sock_diag in each namespace\n"
	"                           (default auto: BPF where it loads, else netlink; bpf:\n"
	"                           exit 2 at start when it cannot be loaded)\n"
	"  -o, --output FILE        write the stream to FILE ('-': stdout) instead of a collector\n"
	"      --scans N            exit 0 after N scans (default: run until SIGTERM)\n"
	"      --log-level LEVEL    error, warn, info (default) or debug\n"
	"  -h, --help               this help\n"
	"  -V, --version            print the version\n"
	"\n"
	"Signals: SIGTERM/SIGINT flush and exit 0 within 2 s; SIGHUP rescans now.\n"
	"Capabilities: keeps only CAP_SYS_ADMIN, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH;\n"
	"exits 2 without them.\n"
	"Logs: one key=value line per event on stderr.\n";

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("nsnet-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	return 2;
}

static int parse_size(const char *s, size_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

/* HOST:PORT, [IPV6]:PORT or unix:PATH; the syntax is checked here, the name resolved
 * at connect time (a collector's DNS name may not exist yet when the agent starts). */
static int parse_addr(const char *flag, const char *s, bool allow_unix, bool *ret_unix, char *host,
		      size_t host_len, char *port, size_t port_len)
{
	struct nsn_hostport a;
	char err[512];

	if (nsn_addr_parse(s, allow_unix, &a, err, sizeof(err)) < 0)
		return fail_usage("%s %s", flag, err);
	if (strlen(a.host) >= host_len)
		return fail_usage("%s '%s': host name too long", flag, s);
	*ret_unix = a.unix_path;
	snprintf(host, host_len, "%s", a.host);
	snprintf(port, port_len, "%s", a.port);
	return 0;
}

static int read_token(struct agent_opts *o)
{
	char err[256];
	int r = nsn_token_read(o->token_file, &o->token, &o->token_len, err, sizeof(err));

	if (r == -ENOMEM)
		return 1;
	if (r < 0) {
		fprintf(stderr, "nsnet-agent: --token-file %s: %s\n", o->token_file, err);
		return 2;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct agent_opts *o, struct nsn_tls_ctx **ret_tls)
{
	enum { O_TOKEN = 256, O_ROOT, O_HEALTH, O_MAXBUF, O_MAXFRAME, O_INFO, O_THREADS, O_SCANS, O_LOG, O_PLAINTEXT,
	       O_TLS_CERT, O_TLS_KEY, O_TLS_CA, O_TLS_NAME, O_BACKEND };
	static const struct option lo[] = {
		{"collector", required_argument, NULL, 'c'},
		{"node", required_argument, NULL, 'n'},
		{"interval", required_argument, NULL, 'i'},
		{"token-file", required_argument, NULL, O_TOKEN},
		{"host-root", required_argument, NULL, O_ROOT},
		{"health-listen", required_argument, NULL, O_HEALTH},
		{"max-buffer", required_argument, NULL, O_MAXBUF},
		{"max-frame", required_argument, NULL, O_MAXFRAME},
		{"tcp-info", no_argument, NULL, O_INFO},
		{"threads", required_argument, NULL, O_THREADS},
		{"output", required_argument, NULL, 'o'},
		{"scans", required_argument, NULL, O_SCANS},
		{"log-level", required_argument, NULL, O_LOG},
		{"plaintext", no_argument, NULL, O_PLAINTEXT},
		{"tls-cert", required_argument, NULL, O_TLS_CERT},
		{"tls-key", required_argument, NULL, O_TLS_KEY},
		{"tls-ca", required_argument, NULL, O_TLS_CA},
		{"tls-server-name", required_argument, NULL, O_TLS_NAME},
		{"backend", required_argument, NULL, O_BACKEND},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	static char hostname[256];
	int c, r;

	o->interval_s = 10;
	o->max_buffer = 16u << 20;
	o->max_frame = NSN_FRAME_MAX_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:n:i:o:hV", lo, NULL)) != -1) {
		char *end;
		size_t sz;

		switch (c) {
		case 'c':
			o->collector = optarg;
			break;
		case 'n':
			if (!*optarg)
				return fail_usage("--node: empty name");
			o->node = optarg;
			break;
		case 'i':
			errno = 0;
			o->interval_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->interval_s >= 0.1 && o->interval_s <= 86400))
				return fail_usage("--interval '%s': seconds from 0.1 to 86400", optarg);
			break;
		case O_TOKEN:
			o->token_file = optarg;
			break;
		case O_ROOT:
			o->host_root = optarg;
			break;
		case O_HEALTH:
			o->health_listen = optarg;
			break;
		case O_MAXBUF:
			if (parse_size(optarg, &o->max_buffer) < 0 || o->max_buffer < 65536)
				return fail_usage("--max-buffer '%s': a size of at least 64k", optarg);
			break;
		case O_MAXFRAME:
			if (parse_size(optarg, &sz) < 0 || sz < 65536 || sz > NSN_FRAME_MAX_LIMIT)
				return fail_usage("--max-frame '%s': a size from 64k to 1G", optarg);
			o->max_frame = (uint32_t)sz;
			break;
		case O_INFO:
			o->tcp_info = true;
			break;
		case O_PLAINTEXT:
			o->plaintext = true;
			break;
		case O_TLS_CERT:
			o->tls.cert = optarg;
			break;
		case O_TLS_KEY:
			o->tls.key = optarg;
			break;
		case O_TLS_CA:
			o->tls.ca = optarg;
			break;
		case O_TLS_NAME:
			if (!*optarg)
				return fail_usage("--tls-server-name: empty name");
			o->tls_server_name = optarg;
			break;
		case O_THREADS: {
			unsigned long t = strtoul(optarg, &end, 10);

			if (*end || end == optarg || t > 256)
				return fail_usage("--threads '%s': a number from 0 to 256", optarg);
			o->threads = (unsigned)t;
			break;
		}
		case 'o':
			o->output = optarg;
			break;
		case O_SCANS: {
			unsigned long t = strtoul(optarg, &end, 10);

			if (*end || end == optarg || *optarg == '-')
				return fail_usage("--scans '%s': a number", optarg);
			o->scans = t;
			break;
		}
		case O_BACKEND:
			if (nsn_backend_parse(optarg, &o->backend) < 0)
				return fail_usage("--backend '%s': auto, bpf or netlink", optarg);
			break;
		case O_LOG:
			if ((r = nsn_log_level_parse(optarg)) < 0)
				return fail_usage("--log-level '%s': error, warn, info or debug", optarg);
			nsn_log_threshold = r;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			printf("nsnet-agent %s\n", NSN_VERSION);
			return 1;
		case ':':
			return fail_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return fail_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail_usage("unexpected argument '%s'", argv[optind]);
	if (!o->collector && !o->output)
		return fail_usage("--collector HOST:PORT|unix:PATH is required");
	if (o->collector && o->output)
		return fail_usage("--collector and --output exclude each other");
	if (o->collector &&
	    (r = parse_addr("--collector", o->collector, true, &o->unix_path, o->host, sizeof(o->host), o->port,
			    sizeof(o->port))))
		return r;
	if (o->collector && !o->unix_path && !strcmp(o->port, "0"))
		return fail_usage("--collector '%s': port 0 cannot be connected to", o->collector);
	if (o->health_listen) {
		bool ux;
		char port[8];

		if ((r = parse_addr("--health-listen", o->health_listen, false, &ux, o->health_host,
				    sizeof(o->health_host), port, sizeof(port))))
			return r;
		o->health_port = atoi(port);
	}
	if (o->host_root) {
		struct stat st;

		if (stat(o->host_root, &st) < 0 || !S_ISDIR(st.st_mode))
			return fail_usage("--host-root '%s': %s", o->host_root,
					  errno ? strerror(errno) : "not a directory");
	}
	if (o->token_file && (r = read_token(o)))
		return r;
	/* Last, so that what is wrong with the other flags is said first. */
	{
		char err[600];

		if (nsn_tls_flags_check(&o->tls, o->plaintext, "--collector", o->collector, o->unix_path,
					"send it unencrypted", err, sizeof(err)) < 0)
			return fail_usage("%s", err);
	}
	if (o->tls_server_name && !o->tls.cert)
		return fail_usage("--tls-server-name needs --tls-cert/--tls-key/--tls-ca");
	if (o->output && nsn_tls_files_any(&o->tls))
		return fail_usage("--tls-cert/--tls-key/--tls-ca are for --collector, not --output");
	if (o->collector && o->tls.cert) {
		char err[600];

		if (nsn_tls_ctx_new(NSN_TLS_CLIENT, &o->tls, ret_tls, err, sizeof(err)) < 0) {
			fprintf(stderr, "nsnet-agent: %s\n", err);
			return 2;
		}
	}
	if (!o->node) {
		const char *env = getenv("NODE_NAME");

		if (env && *env) {
			o->node = env;
		} else {
			if (gethostname(hostname, sizeof(hostname) - 1) < 0 || !hostname[0])
				snprintf(hostname, sizeof(hostname), "unknown");
			o->node = hostname;
		}
	}
	return 0;
}

void agent_fill_stats(const struct agent *a, Nsnet__V1__AgentStats *s)
{
	s->scans = a->st.scans;
	s->scans_failed = a->st.scans_failed;
	s->updates_coalesced = a->st.updates_coalesced;
	s->scans_coalesced = a->st.scans_coalesced;
	s->frames_sent = a->st.frames_sent;
	s->bytes_sent = a->st.bytes_sent;
	s->connects = a->st.connects;
	s->connect_failures = a->st.connect_failures;
	s->protocol_errors = a->st.protocol_errors;
	s->frames_oversized = a->st.frames_oversized;
	s->netns_failed = a->st.netns_failed;
	/* The sums /healthz shows, kept by on_scan_result(): one count for both. */
	s->bpf_records_dropped = a->bpf_drops;
	s->bpf_chains_capped = a->bpf_capped;
}

static void read_boot_id(struct agent *a)
{
	char path[4200];
	const char *root = a->o.host_root && strcmp(a->o.host_root, "/") ? a->o.host_root : "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/random/boot_id", root);
	f = fopen(path, "re");
	if (!f || !fgets(a->boot_id, sizeof(a->boot_id), f))
		snprintf(a->boot_id, sizeof(a->boot_id), "unknown");
	if (f)
		fclose(f);
	a->boot_id[strcspn(a->boot_id, "\n")] = 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void finish(struct agent *a)
{
	uv_timer_stop(&a->stop_timer);
	uv_stop(a->loop);
}

static void on_stop_timer(uv_timer_t *t)
{
	struct agent *a = t->data;

	/* Flushed, or out of time. */
	if (conn_queued(a) == 0 || uv_now(a->loop) >= a->stop_deadline)
		finish(a);
}

void agent_shutdown(struct agent *a, int code)
{
	if (a->stopping)
		return;
	a->stopping = true;
	a->exit_code = code;
	nsn_log(NSN_LOG_INFO, "event=stopping queued=%zu sent_seq=%llu acked_seq=%llu", conn_queued(a),
		(unsigned long long)a->seq, (unsigned long long)a->acked);
	uv_timer_stop(&a->scan_timer);
	uv_timer_stop(&a->debounce);
	uv_timer_stop(&a->reconnect_timer);
	for (int i = 0; i < NSN_AGENT_WATCHES; i++)
		if (a->watching[i])
			uv_fs_event_stop(&a->watch[i]);
	health_stop(a);
	/* Give queued frames up to 1.5 s to leave, checking every 50 ms. */
	if (conn_queued(a) == 0) {
		finish(a);
		return;
	}
	uv_timer_start(&a->stop_timer, on_stop_timer, 50, 50);
	a->stop_deadline = uv_now(a->loop) + 1500;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct agent *a = s->data;

	if (signum == SIGHUP) {
		nsn_log(NSN_LOG_INFO, "event=rescan reason=sighup");
		worker_request(&a->w);
		return;
	}
	agent_shutdown(a, 0);
}

static void on_scan_timer(uv_timer_t *t)
{
	struct agent *a = t->data;

	worker_request(&a->w);
}

static void on_debounce(uv_timer_t *t)
{
	struct agent *a = t->data;

	nsn_log(NSN_LOG_DEBUG, "event=rescan reason=netns_watch");
	worker_request(&a->w);
}

static void watch_all(struct agent *a);

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct agent *a = h->data;

	(void)filename;
	(void)events;
	if (status < 0)
		return;
	/* A burst of `ip netns add` is one rescan, 100 ms after its first event: not
	 * after its last, which a steady stream of events would put off for ever. */
	if (!uv_is_active((uv_handle_t *)&a->debounce))
		uv_timer_start(&a->debounce, on_debounce, 100, 0);
	watch_all(a);
}

/* /run/netns and /var/run/docker/netns may not exist yet; until they do, their parent
 * directories are watched so that their creation is noticed. */
static void watch_all(struct agent *a)
{
	const char *root = a->o.host_root && strcmp(a->o.host_root, "/") ? a->o.host_root : "";
	static const char *const dirs[NSN_AGENT_WATCHES] = {"/run/netns", "/var/run/docker/netns", "/run"};

	for (int i = 0; i < NSN_AGENT_WATCHES; i++) {
		char path[4096];
		struct stat st;

		if (a->watching[i])
			continue;
		snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (i == 2 && a->watching[0])
			continue; /* /run only stands in for a missing /run/netns */
		if (uv_fs_event_start(&a->watch[i], on_fs_event, path, 0) == 0) {
			a->watching[i] = true;
			snprintf(a->watch_path[i], sizeof(a->watch_path[i]), "%s", path);
			nsn_log(NSN_LOG_DEBUG, "event=watching path=%s", path);
		}
	}
	/* Once /run/netns exists, the stand-in on /run is no longer needed. */
	if (a->watching[0] && a->watching[2]) {
		uv_fs_event_stop(&a->watch[2]);
		a->watching[2] = false;
	}
}

static void on_scan_result(uv_async_t *h)
{
	struct agent *a = h->data;
	struct worker *w = &a->w;
	struct nsn_scan *scan;
	uint64_t superseded;
	int err;
	double ms;

	pthread_mutex_lock(&w->lock);
	scan = w->result;
	err = w->result_err;
	ms = w->result_ms;
	superseded = w->superseded;
	w->result = NULL;
	w->superseded = 0;
	w->result_err = 0;
	pthread_mutex_unlock(&w->lock);
	if (a->stopping) {
		nsn_scan_free(scan);
		return;
	}
	a->st.scans_coalesced += superseded;
	if (!scan) {
		if (err < 0) {
			a->st.scans_failed++;
			nsn_log(NSN_LOG_ERROR, "event=scan_failed error=\"%s\"", strerror(-err));
		}
		return;
	}
	a->scan_no++;
	a->st.scans++;
	a->last_ok_ms = uv_now(a->loop);
	a->last_scan_ms = ms;
	a->st.netns_failed += scan->n_failed;
	size_t socks = 0;
	for (size_t i = 0; i < scan->n_netns; i++)
		socks += scan->netns[i]->n_socks;
	a->last_namespaces = scan->n_netns;
	a->last_sockets = socks;
	a->last_backend = scan->backend;
	a->bpf_drops += scan->bpf.drops;
	a->bpf_capped += scan->bpf.capped;
	nsn_log(a->scan_no == 1 ? NSN_LOG_INFO : NSN_LOG_DEBUG,
		"event=scan scan=%llu namespaces=%zu sockets=%zu vanished=%zu failed=%zu ms=%.1f backend=%s "
		"bpf_drops=%zu bpf_capped=%zu",
		(unsigned long long)a->scan_no, scan->n_netns, socks, scan->n_vanished, scan->n_failed, ms,
		scan->backend ? scan->backend : "-", scan->bpf.drops, scan->bpf.capped);
	for (size_t i = 0; i < scan->n_warnings; i++) {
		char q[1024];

		nsn_log(NSN_LOG_WARN, "event=scan_warning %s", nsn_log_q(scan->warnings[i], q, sizeof(q)) ? q : "");
	}
	if (a->latest && a->pending) {
		/* Never sent: the collector was slow or away. Its namespaces' states are
		 * replaced by this scan's. */
		a->st.scans_coalesced++;
		a->st.updates_coalesced += a->latest->n_netns;
	}
	nsn_scan_free(a->latest);
	a->latest = scan;
	a->pending = true;
	if (a->o.output) {
		int r = output_send(a);

		if (r < 0) {
			nsn_log(NSN_LOG_ERROR, "event=output_failed path=%s error=\"%s\"", a->o.output, strerror(-r));
			agent_shutdown(a, 1);
			return;
		}
	} else {
		conn_try_send(a);
	}
	if (a->o.scans && a->scan_no >= a->o.scans)
		agent_shutdown(a, 0);
}

/* Leave before the loop ran: free what was made so far (nothing is running yet). */
static int early_exit(struct agent *a, int code)
{
	nsn_sync_free(a->sync);
	nsn_pb_arena_free(a->arena);
	nsn_tls_ctx_free(a->tls_ctx);
	nsn_bpf_close(a->bpf);
	free(a->o.token);
	if (a->out_fd > STDERR_FILENO)
		close(a->out_fd);
	return code;
}

/* Load the BPF walker once, for every scan (--backend). With auto, why a walker could
 * not be loaded is left in @p why (netlink then); with bpf it is the exit status 2. */
static int backend_open(struct agent *a, char *why, size_t why_len)
{
	struct nsn_gather_opts g = {0};
	int r;

	worker_gather_opts(a, &g);

	r = nsn_backend_open(a->o.backend, &g, &a->bpf, why, why_len);
	if (r < 0) {
		fprintf(stderr, "nsnet-agent: --backend %s: %s\n", nsn_backend_name(a->o.backend),
			why[0] ? why : strerror(-r));
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Static: the early exits below have nothing to free but the token. */
	static struct agent agent;
	struct agent *a = &agent;
	const char *missing;
	char retained[256], q[600], why[512];
	int r;

	r = parse_opts(argc, argv, &a->o, &a->tls_ctx);
	if (r)
		return early_exit(a, r == 1 ? 0 : r);
	/* Before any thread exists: capabilities are per thread. */
	r = privs_drop(&missing, retained, sizeof(retained));
	if (r == -EPERM && missing) {
		fprintf(stderr, "nsnet-agent: missing capability %s; run as root or grant it\n", missing);
		return early_exit(a, 2);
	}
	if (r < 0) {
		fprintf(stderr, "nsnet-agent: dropping capabilities failed: %s\n", strerror(-r));
		return early_exit(a, 2);
	}
	/* After the drop: the walker needs what the agent keeps (CAP_SYS_ADMIN covers
	 * bpf(2) and perf's helpers), and nothing more is granted to load it. */
	r = backend_open(a, why, sizeof(why));
	if (r)
		return early_exit(a, r);
	signal(SIGPIPE, SIG_IGN);
	snprintf(a->version, sizeof(a->version), "%s", NSN_VERSION);
	read_boot_id(a);
	if (getrandom(&a->session, sizeof(a->session), 0) != sizeof(a->session))
		a->session = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	srandom((unsigned)a->session);
	nsn_log(NSN_LOG_INFO,
		"event=start version=%s node=%s collector=%s tls=%s interval_s=%g host_root=%s capabilities=%s "
		"no_new_privs=1 backend=%s",
		a->version, nsn_log_q(a->o.node, q, sizeof(q)), a->o.collector ? a->o.collector : "-",
		a->tls_ctx ? "mutual" : "off", a->o.interval_s, a->o.host_root ? a->o.host_root : "/", retained,
		a->bpf ? "bpf" : "netlink");
	if (why[0])
		nsn_log(NSN_LOG_WARN, "event=backend_fallback backend=netlink reason=%s", nsn_log_q(why, q, sizeof(q)));

	a->loop = uv_default_loop();
	a->sync = nsn_sync_new();
	a->arena = nsn_pb_arena_new();
	if (!a->sync || !a->arena)
		return early_exit(a, 1);
	a->out_fd = -1;
	if (a->o.output) {
		a->out_fd = !strcmp(a->o.output, "-") ? STDOUT_FILENO
						     : open(a->o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (a->out_fd < 0) {
			fprintf(stderr, "nsnet-agent: --output %s: %s\n", a->o.output, strerror(errno));
			return early_exit(a, 2);
		}
	}
	uv_timer_init(a->loop, &a->scan_timer);
	uv_timer_init(a->loop, &a->debounce);
	uv_timer_init(a->loop, &a->reconnect_timer);
	uv_timer_init(a->loop, &a->stall_timer);
	uv_timer_init(a->loop, &a->stop_timer);
	a->scan_timer.data = a->debounce.data = a->reconnect_timer.data = a->stall_timer.data = a;
	a->stop_timer.data = a;
	for (int i = 0; i < NSN_AGENT_WATCHES; i++) {
		uv_fs_event_init(a->loop, &a->watch[i]);
		a->watch[i].data = a;
	}
	uv_signal_init(a->loop, &a->sig_term);
	uv_signal_init(a->loop, &a->sig_int);
	uv_signal_init(a->loop, &a->sig_hup);
	a->sig_term.data = a->sig_int.data = a->sig_hup.data = a;
	if ((r = uv_signal_start(&a->sig_term, on_signal, SIGTERM)) < 0 ||
	    (r = uv_signal_start(&a->sig_int, on_signal, SIGINT)) < 0 ||
	    (r = uv_signal_start(&a->sig_hup, on_signal, SIGHUP)) < 0) {
		fprintf(stderr, "nsnet-agent: installing signal handlers: %s\n", uv_strerror(r));
		return early_exit(a, 1);
	}
	uv_async_init(a->loop, &a->w.async, on_scan_result);
	a->w.async.data = a;
	if (a->o.health_listen) {
		r = health_start(a);
		if (r < 0) {
			fprintf(stderr, "nsnet-agent: --health-listen %s: %s\n", a->o.health_listen, uv_strerror(r));
			return early_exit(a, 2);
		}
	}
	r = worker_start(a);
	if (r < 0) {
		fprintf(stderr, "nsnet-agent: starting the scan thread: %s\n", strerror(-r));
		return early_exit(a, 1);
	}
	watch_all(a);
	worker_request(&a->w);
	uv_timer_start(&a->scan_timer, on_scan_timer, (uint64_t)(a->o.interval_s * 1000),
		       (uint64_t)(a->o.interval_s * 1000));
	if (a->o.collector)
		conn_start(a);

	uv_run(a->loop, UV_RUN_DEFAULT);

	r = a->exit_code;
	nsn_log(NSN_LOG_INFO, "event=stopped exit=%d scans=%llu frames_sent=%llu bytes_sent=%llu", r,
		(unsigned long long)a->st.scans, (unsigned long long)a->st.frames_sent,
		(unsigned long long)a->st.bytes_sent);
	if (worker_stop(&a->w)) {
		/* The scan thread is mid-scan and detached: leave without tearing down what
		 * it may still touch (the walker too: the kernel unloads it at exit). */
		fflush(stdout);
		_exit(r);
	}
	nsn_bpf_close(a->bpf);
	a->bpf = NULL;
	/* Close every handle, let the close callbacks run, then free. */
	uv_walk(a->loop, walk_close, NULL);
	uv_run(a->loop, UV_RUN_DEFAULT);
	uv_loop_close(a->loop);
	nsn_scan_free(a->latest);
	nsn_sync_free(a->sync);
	nsn_pb_arena_free(a->arena);
	nsn_frame_reader_release(&a->reader);
	nsn_tls_free(a->tls);
	nsn_tls_ctx_free(a->tls_ctx);
	if (a->out_fd > STDERR_FILENO)
		close(a->out_fd);
	free(a->o.token);
	return r;
}
