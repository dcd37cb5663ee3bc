/* SPDX-License-Identifier: MIT */
/* Command line: the flags ss and netstat users already know, then ss's filter words. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tls.h"  /* agent/daemon: the TLS flags' rules the daemons share */
#include "util.h" /* agent/daemon: the address syntax the daemons share */

enum {
	OPT_INFO = 256,
	OPT_ALL_NS,
	OPT_JSON,
	OPT_SUMMARY,
	OPT_THREADS,
	OPT_RULES,
	OPT_ZEROS,
	OPT_HOST_ROOT,
	OPT_POD,
	OPT_K8S_NS,
	OPT_CONTAINER,
	OPT_RUNTIME,
	OPT_CONTAINERS,
	OPT_NO_CONTAINERS,
	OPT_FROM,
	OPT_COLLECTOR,
	OPT_NODE,
	OPT_TOKEN_FILE,
	OPT_PLAINTEXT,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_TLS_NAME,
	OPT_BACKEND,
};

static const struct option longopts[] = {
	{"tcp", no_argument, NULL, 't'},
	{"udp", no_argument, NULL, 'u'},
	{"raw", no_argument, NULL, 'w'},
	{"unix", no_argument, NULL, 'x'},
	{"listening", no_argument, NULL, 'l'},
	{"all", no_argument, NULL, 'a'},
	{"numeric", no_argument, NULL, 'n'},
	{"processes", no_argument, NULL, 'p'},
	{"extended", no_argument, NULL, 'e'},
	{"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
	{"netns", required_argument, NULL, 'N'},
	{"continuous", optional_argument, NULL, 'c'},
	{"no-header", no_argument, NULL, 'H'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"info", no_argument, NULL, OPT_INFO},
	{"all-namespaces", no_argument, NULL, OPT_ALL_NS},
	{"json", no_argument, NULL, OPT_JSON},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"route", no_argument, NULL, 'r'},
	{"rules", no_argument, NULL, OPT_RULES},
	{"interfaces", no_argument, NULL, 'i'},
	{"statistics", no_argument, NULL, 's'},
	{"zeros", no_argument, NULL, OPT_ZEROS},
	{"host-root", required_argument, NULL, OPT_HOST_ROOT},
	{"pod", required_argument, NULL, OPT_POD},
	{"k8s-namespace", required_argument, NULL, OPT_K8S_NS},
	{"container", required_argument, NULL, OPT_CONTAINER},
	{"runtime", required_argument, NULL, OPT_RUNTIME},
	{"containers", no_argument, NULL, OPT_CONTAINERS},
	{"no-containers", no_argument, NULL, OPT_NO_CONTAINERS},
	{"from", required_argument, NULL, OPT_FROM},
	{"collector", required_argument, NULL, OPT_COLLECTOR},
	{"node", required_argument, NULL, OPT_NODE},
	{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"plaintext", no_argument, NULL, OPT_PLAINTEXT},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"tls-server-name", required_argument, NULL, OPT_TLS_NAME},
	{"backend", required_argument, NULL, OPT_BACKEND},
	{0},
};

static void usage(FILE *f)
{
	fputs("Usage: nsnetstat [OPTIONS] [ FILTER ]\n"
	      "Sockets, routes, interfaces and counters of every network namespace on this host.\n"
	      "\n"
	      "Scope:\n"
	      "      --all-namespaces   every network namespace of the host\n"
	      "  -N, --netns NAME|PATH|PID  one namespace (/run/netns/NAME, an nsfs path, a pid)\n"
	      "                         (default: the current namespace, like netstat)\n"
	      "      --from FILE        not this host: the nodes of a recorded nsnet.v1 stream\n"
	      "                         (FILE or - for stdin), as their agents last reported\n"
	      "                         them; -N NAME|INODE picks a namespace of each node\n"
	      "      --collector ADDR   not this host: the nodes an nsnet-collector holds, as\n"
	      "                         their agents last reported them (HOST:PORT, [IPV6]:PORT\n"
	      "                         or unix:PATH); -N NAME|INODE picks a namespace of each\n"
	      "      --node NAME[,NAME...]  with --collector: only these nodes (repeatable)\n"
	      "      --token-file FILE  with --collector: the token the collector expects\n"
	      "      --tls-cert FILE --tls-key FILE --tls-ca FILE  with --collector HOST:PORT:\n"
	      "                         mutual TLS (a client certificate and its key, and the\n"
	      "                         CA the collector's certificate must chain to; it must\n"
	      "                         name HOST, or --tls-server-name NAME)\n"
	      "      --plaintext        with --collector HOST:PORT: talk to it unencrypted\n"
	      "Sockets:\n"
	      "  -t, --tcp  -u, --udp  -w, --raw  -x, --unix   (default: all of them)\n"
	      "  -4, --ipv4  -6, --ipv6\n"
	      "  -l, --listening        listening sockets only (and unconnected UDP/raw)\n"
	      "  -a, --all              all states (default: connected ones, like ss)\n"
	      "Other views (netstat's; sockets too only when a socket option is also given):\n"
	      "  -r, --route            routes of every table, as ip route show table all prints them\n"
	      "      --rules            with -r: the policy rules too, as ip rule prints them\n"
	      "  -i, --interfaces       interfaces with counters and veth peers, like netstat -i\n"
	      "                         (-e adds kind, bytes and addresses)\n"
	      "  -s, --statistics       protocol counters as nstat names them (non-zero ones;\n"
	      "                         --zeros for all); with -c the increments per interval\n"
	      "Containers and pods (from cgroups, runtime state and kubelet logs; no API server):\n"
	      "      --pod NAME|NS/NAME     sockets of that Kubernetes pod (hostNetwork pods: its\n"
	      "                             processes' sockets in the host namespace)\n"
	      "      --k8s-namespace NS     sockets of pods in that Kubernetes namespace\n"
	      "      --container ID|NAME    sockets of the container with that id prefix or name\n"
	      "      --runtime NAME         containerd, cri-o, docker, podman, runc or crun\n"
	      "      --no-containers        no CONTAINER/POD attribution (on with --all-namespaces,\n"
	      "                             -N and --json; --containers turns it on for the\n"
	      "                             current namespace's table)\n"
	      "      --host-root DIR        the host's / is mounted at DIR (a DaemonSet's /host):\n"
	      "                             /proc, /run, /var/log/pods, ... are read below it\n"
	      "Output:\n"
	      "  -n, --numeric          do not resolve service names\n"
	      "  -p, --processes        processes using each socket (pid, name, fd)\n"
	      "  -e, --extended         uid, inode and socket cookie\n"
	      "      --info             TCP internals (rtt, cwnd, retrans, bytes) and socket memory\n"
	      "      --json             one JSON document per scan (schema in README.md)\n"
	      "      --summary          per namespace: sockets by protocol and state, largest first\n"
	      "  -c, --continuous[=SECS]  repeat every SECS seconds (default 1; with --collector\n"
	      "                         the same connection asks again)\n"
	      "  -H, --no-header        no header line\n"
	      "      --threads N        worker threads (default: one per CPU)\n"
	      "      --backend auto|bpf|netlink  where sockets come from: one BPF pass over the\n"
	      "                         host's socket tables, or sock_diag in each namespace\n"
	      "                         (default auto: BPF for --all-namespaces where it loads)\n"
	      "  -h, --help  -V, --version\n"
	      "\n"
	      "FILTER is ss's: [state STATE | exclude STATE]... [EXPRESSION], e.g.\n"
	      "  nsnetstat --all-namespaces -tn state established '( dport = :443 or sport = :443 )'\n"
	      "  nsnetstat --all-namespaces --summary exclude listening\n"
	      "STATE: established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed\n"
	      "       close-wait last-ack listening closing, or all connected synchronized bucket big\n",
	      f);
}

static FILE *err_file(const struct cli_opts *o)
{
	return o->err ? o->err : stderr;
}

/* The one usage line (to o->err); returns the exit status 2. */
__attribute__((format(printf, 2, 3))) static int bad(const struct cli_opts *o, const char *fmt, ...)
{
	FILE *f = err_file(o);
	va_list ap;

	fputs("nsnetstat: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputs(" (see nsnetstat --help)\n", f);
	return 2;
}

static int parse_interval(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v <= 0 || v > 86400)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.')
			return false;
	return true;
}

/* Validate the container options and decide whether attribution runs. */
static int containers_opts(struct cli_opts *o, int want)
{
	const struct nsn_container_filter *f = &o->cfilter;
	struct stat st;

	if (f->runtime) {
		bool known = false;
		for (size_t i = 0; nsn_runtime_names[i]; i++)
			known = known || strcmp(f->runtime, nsn_runtime_names[i]) == 0;
		if (!known)
			return bad(o, "unknown runtime '%s' for --runtime: expected containerd, cri-o, docker, podman, runc or crun",
				   f->runtime);
	}
	if ((f->pod && !f->pod[0]) || (f->k8s_namespace && !f->k8s_namespace[0]) ||
	    (f->container && !f->container[0]))
		return bad(o, "%s", "--pod, --k8s-namespace and --container need a non-empty value");
	if (!nsn_container_filter_empty(f) && want == 0)
		return bad(o, "%s", "--no-containers contradicts --pod/--k8s-namespace/--container/--runtime");
	if (o->gather.host_root) {
		if (stat(o->gather.host_root, &st) < 0) {
			fprintf(err_file(o), "nsnetstat: --host-root %s: %s\n", o->gather.host_root, strerror(errno));
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(err_file(o), "nsnetstat: --host-root %s: not a directory\n", o->gather.host_root);
			return 2;
		}
		char proc[4096];
		snprintf(proc, sizeof(proc), "%s/proc/self", o->gather.host_root);
		if (stat(proc, &st) < 0) {
			fprintf(err_file(o), "nsnetstat: --host-root %s: %s: %s (the host's /proc must be mounted there)\n",
				o->gather.host_root, proc, strerror(errno));
			return 2;
		}
	}
	/* A recording or a collector holds every namespace of its nodes, as
	 * --all-namespaces would. In the current namespace the table stays ss's, but JSON,
	 * whose fields only add, is attributed too (containers, processes' container_id). */
	o->containers = want == 1 || (want == -1 && (o->from || o->remote || o->json ||
						     o->gather.scope != NSN_SCOPE_CURRENT ||
						     !nsn_container_filter_empty(f)));
	if (o->containers)
		o->gather.flags |= NSN_GATHER_CONTAINERS;
	/* A hostNetwork pod's sockets are told from the host's only by their processes. */
	if (!nsn_container_filter_empty(f))
		o->gather.flags |= NSN_GATHER_PROCS;
	return 0;
}

/* HOST:PORT, [IPV6]:PORT or unix:PATH, as nsnet-agent takes it; the name is resolved
 * when connecting. 0 or the exit status 2. */
static int parse_addr(const struct cli_opts *o, const char *s, struct cli_addr *ret)
{
	struct nsn_hostport hp;
	char err[512];

	if (nsn_addr_parse(s, true, &hp, err, sizeof(err)) < 0)
		return bad(o, "--collector %s", err);
	if (!hp.unix_path && strcmp(hp.port, "0") == 0)
		return bad(o, "--collector '%s': port 0 cannot be connected to", s);
	_Static_assert(sizeof(hp.host) == sizeof(ret->host) && sizeof(hp.port) == sizeof(ret->port),
		       "struct cli_addr mirrors struct nsn_hostport");
	ret->is_unix = hp.unix_path;
	memcpy(ret->host, hp.host, sizeof(ret->host));
	memcpy(ret->port, hp.port, sizeof(ret->port));
	return 0;
}

/* --node NAME[,NAME...]: add each name once. 0, the exit status 2, or -ENOMEM. */
static int add_nodes(struct cli_opts *o, const char *arg)
{
	const char *p = arg;

	for (;;) {
		size_t len = strcspn(p, ",");
		char **v;
		bool dup = false;

		if (len == 0)
			return bad(o, "--node '%s': expected node names separated by commas", arg);
		for (size_t i = 0; i < o->n_query_nodes; i++)
			dup = dup || (strlen(o->query_nodes[i]) == len &&
				      strncmp(o->query_nodes[i], p, len) == 0);
		if (!dup) {
			v = realloc(o->query_nodes, (o->n_query_nodes + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			o->query_nodes = v;
			if (!(v[o->n_query_nodes] = strndup(p, len)))
				return -ENOMEM;
			o->n_query_nodes++;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* The words of argv that --collector, --node, --token-file, ... consumed, by address (GNU
 * getopt permutes the array, never the strings): Query.args is argv without them. */
struct consumed {
	const char **words;
	size_t n;
};

/* Right after getopt_long() returned such an option: its word, and its value's word
 * when the value was given separately ("--node x" rather than "--node=x"). */
static int consume(struct consumed *c, int argc, char **argv)
{
	const char **v = realloc(c->words, (c->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->words = v;
	if (optind >= 2 && optind - 1 < argc && optarg == argv[optind - 1])
		v[c->n++] = argv[optind - 2];
	if (optind >= 1 && optind - 1 < argc)
		v[c->n++] = argv[optind - 1];
	return 0;
}

static int parse(int argc, char **argv, struct cli_opts *o, struct consumed *used)
{
	struct nsn_filter_error ferr;
	unsigned protos = 0, families = 0;
	bool sock_opts = false;
	int want_containers = -1; /* -1: by scope */
	int c, r;

	o->interval_s = 1;
	opterr = 0;
	/* A caller may parse several command lines in one process (the collector parses
	 * every Query's): 0, not 1, makes glibc's getopt start over completely. */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":tuwxlanpe46N:c::HhVris", longopts, NULL)) != -1) {
		switch (c) {
		case 't': protos |= NSN_PROTO_BIT(NSN_PROTO_TCP); break;
		case 'u': protos |= NSN_PROTO_BIT(NSN_PROTO_UDP); break;
		case 'w': protos |= NSN_PROTO_BIT(NSN_PROTO_RAW); break;
		case 'x': protos |= NSN_PROTO_BIT(NSN_PROTO_UNIX); break;
		case '4': families |= NSN_FAMILY_V4; break;
		case '6': families |= NSN_FAMILY_V6; break;
		case 'l': o->listening = true; sock_opts = true; break;
		case 'a': o->all = true; sock_opts = true; break;
		case 'r': o->routes = true; break;
		case OPT_RULES: o->routes = o->rules = true; break;
		case 'i': o->links = true; break;
		case 's': o->counters = true; break;
		case OPT_ZEROS: o->zeros = true; break;
		case OPT_HOST_ROOT: o->gather.host_root = optarg; break;
		case OPT_POD: o->cfilter.pod = optarg; break;
		case OPT_K8S_NS: o->cfilter.k8s_namespace = optarg; break;
		case OPT_CONTAINER: o->cfilter.container = optarg; break;
		case OPT_RUNTIME: o->cfilter.runtime = optarg; break;
		case OPT_CONTAINERS: want_containers = 1; break;
		case OPT_NO_CONTAINERS: want_containers = 0; break;
		case OPT_FROM: o->from = optarg; break;
		case OPT_BACKEND:
			/* Not part of a collector's query: it says how this host is scanned. */
			if (consume(used, argc, argv) < 0)
				return bad(o, "%s", strerror(ENOMEM));
			if (nsn_backend_parse(optarg, &o->backend) < 0)
				return bad(o, "unknown backend '%s' for --backend: expected auto, bpf or netlink",
					   optarg);
			break;
		case OPT_COLLECTOR:
		case OPT_NODE:
		case OPT_TOKEN_FILE:
		case OPT_PLAINTEXT:
		case OPT_TLS_CERT:
		case OPT_TLS_KEY:
		case OPT_TLS_CA:
		case OPT_TLS_NAME:
			if (consume(used, argc, argv) < 0)
				return bad(o, "%s", strerror(ENOMEM));
			if (c == OPT_COLLECTOR) {
				o->collector = optarg;
				r = parse_addr(o, optarg, &o->collector_addr);
			} else if (c == OPT_NODE) {
				r = add_nodes(o, optarg);
			} else if (c == OPT_PLAINTEXT) {
				o->plaintext = true;
				r = 0;
			} else if (c != OPT_TOKEN_FILE) {
				const char **v = c == OPT_TLS_CERT ? &o->tls_cert
						 : c == OPT_TLS_KEY ? &o->tls_key
						 : c == OPT_TLS_CA  ? &o->tls_ca
								    : &o->tls_server_name;
				*v = optarg;
				r = optarg[0] ? 0 : bad(o, "%s needs a value", argv[optind - 1]);
			} else {
				o->token_file = optarg;
				r = optarg[0] ? 0 : bad(o, "%s", "--token-file needs a file name");
			}
			if (r == -ENOMEM)
				return bad(o, "%s", strerror(ENOMEM));
			if (r)
				return r;
			break;
		case 'n': o->numeric = true; break;
		case 'p': o->procs = true; break;
		case 'e': o->extended = true; break;
		case 'H': o->no_header = true; break;
		case OPT_INFO: o->info = true; sock_opts = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_SUMMARY: o->summary = true; sock_opts = true; break;
		case OPT_ALL_NS:
			o->gather.scope = NSN_SCOPE_ALL;
			break;
		case 'N':
			o->gather.scope = NSN_SCOPE_ONE;
			o->gather.target = optarg;
			break;
		case 'c':
			o->continuous = true;
			/* "-c 2" as well as "-c2"/"--continuous=2": a filter never starts with a number. */
			if (!optarg && optind < argc && is_number(argv[optind]))
				optarg = argv[optind++];
			if (optarg && parse_interval(optarg, &o->interval_s) < 0)
				return bad(o, "bad interval '%s' for -c: expected seconds > 0", optarg);
			break;
		case OPT_THREADS: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || n == 0 || n > 64)
				return bad(o, "bad --threads '%s': expected 1..64", optarg);
			o->gather.threads = (unsigned)n;
			break;
		}
		case 'h':
			usage(o->out ? o->out : stdout);
			return 1;
		case 'V':
			fputs("nsnetstat " NSN_VERSION "\n", o->out ? o->out : stdout);
			return 1;
		case ':':
			return bad(o, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 256) {
				char s[3] = {'-', (char)optopt, '\0'};
				return bad(o, "unknown option '%s'", s);
			}
			return bad(o, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->gather.scope == NSN_SCOPE_ONE && o->gather.target[0] == '\0')
		return bad(o, "%s: -N needs a namespace name, path or pid", "");
	if (o->from && !o->from[0])
		return bad(o, "%s", "--from needs a file name, or - for stdin");
	if (o->from && o->continuous)
		return bad(o, "%s", "--from reads a recording once: -c does not apply");
	if (o->from && o->gather.host_root)
		return bad(o, "%s", "--from reads no host: --host-root does not apply");
	if (o->collector && o->from)
		return bad(o, "%s", "--collector and --from exclude each other");
	if (o->collector)
		o->remote = true;
	if (o->remote && o->from)
		return bad(o, "%s",
			   "a collector's nodes are not a recording: --from does not apply");
	if (o->remote && o->gather.host_root)
		return bad(o, "%s",
			   "a collector's nodes are not this host: --host-root does not apply");
	/* A collector parsing a query (remote) may pass its node names as --node too, so
	 * that cli_resp_render() reports the unknown ones. */
	if (!o->remote && o->n_query_nodes)
		return bad(o, "%s", "--node picks nodes of a collector: it needs --collector");
	if (!o->collector && o->token_file)
		return bad(o, "%s", "--token-file is for a collector: it needs --collector");
	if (!o->collector && o->plaintext)
		return bad(o, "%s", "--plaintext is for a collector: it needs --collector");
	if (!o->collector && (o->tls_cert || o->tls_key || o->tls_ca || o->tls_server_name))
		return bad(o, "%s", "--tls-cert/--tls-key/--tls-ca are for a collector: they need --collector");
	o->node_column = o->remote;
	r = containers_opts(o, want_containers);
	if (r)
		return r;

	r = nsn_filter_parse(argc - optind, argv + optind, &o->filter, &ferr);
	if (r == -EINVAL) {
		fprintf(err_file(o), "nsnetstat: bad filter at '%s': %s\n",
			ferr.argi < argc - optind ? argv[optind + ferr.argi] : "(end)", ferr.msg);
		return 2;
	}
	if (r < 0) {
		fprintf(err_file(o), "nsnetstat: %s\n", strerror(-r));
		return 2;
	}

	/* netstat -r/-i/-s show only their view; a socket option or filter adds sockets. */
	o->sockets = !(o->routes || o->links || o->counters) || sock_opts || protos ||
		     (o->filter && (nsn_filter_states(o->filter) || nsn_filter_has_expr(o->filter)));
	if (!o->sockets)
		o->gather.flags |= NSN_GATHER_NO_SOCKS;
	if (o->routes)
		o->gather.flags |= NSN_GATHER_ROUTES;
	if (o->links)
		o->gather.flags |= NSN_GATHER_LINKS;
	if (o->counters)
		o->gather.flags |= NSN_GATHER_COUNTERS;

	/* As with ss, -4/-6 alone mean the inet protocols: unix sockets have no family. */
	if (families && !protos)
		protos = NSN_PROTOS_ALL & ~NSN_PROTO_BIT(NSN_PROTO_UNIX);
	o->gather.protos = protos;
	o->gather.families = families;
	/* ss's default states: connected ones; -l listening (and unconnected datagram
	 * sockets); -a all; explicit state words win. A summary counts every state unless
	 * told otherwise, or it would hide exactly the TIME-WAIT build-up it is for. */
	unsigned states = nsn_filter_states(o->filter);
	if (!states) {
		if (o->all || (o->summary && !o->listening))
			states = NSN_STATES_ALL;
		else if (o->listening)
			states = (1u << NSN_SS_LISTEN) | (1u << NSN_SS_CLOSE);
		else
			states = NSN_STATES_ALL & ~((1u << NSN_SS_LISTEN) | (1u << NSN_SS_CLOSE) |
						    (1u << NSN_SS_TIME_WAIT) | (1u << NSN_SS_SYN_RECV));
	}
	o->gather.states = states;
	if (o->procs)
		o->gather.flags |= NSN_GATHER_PROCS;
	if (o->info)
		o->gather.flags |= NSN_GATHER_INFO;
	/* Last, so that what is wrong with the other arguments is said first. */
	if (o->collector) {
		struct nsn_tls_files f = {o->tls_cert, o->tls_key, o->tls_ca};
		char err[600];

		if (nsn_tls_flags_check(&f, o->plaintext, "--collector", o->collector, o->collector_addr.is_unix,
					"send it unencrypted", err, sizeof(err)) < 0)
			return bad(o, "%s", err);
		if (o->tls_server_name && !o->tls_cert)
			return bad(o, "%s", "--tls-server-name needs --tls-cert/--tls-key/--tls-ca");
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o)
{
	struct consumed used = {0};
	const char **words = NULL;
	size_t n = 0;
	int r;

	/* The words as typed, before getopt permutes them. */
	if (argc > 1 && !(words = malloc((size_t)(argc - 1) * sizeof(*words))))
		return bad(o, "%s", strerror(ENOMEM));
	for (int i = 1; i < argc; i++)
		words[i - 1] = argv[i];
	r = parse(argc, argv, o, &used);
	if (r == 0 && o->collector) {
		for (int i = 0; i < argc - 1; i++) {
			bool skip = false;
			for (size_t k = 0; k < used.n && !skip; k++)
				skip = words[i] == used.words[k];
			if (!skip)
				words[n++] = words[i];
		}
		o->query_args = words;
		o->n_query_args = n;
		words = NULL;
	}
	free(words);
	free(used.words);
	return r;
}

void cli_opts_release(struct cli_opts *o)
{
	nsn_filter_free(o->filter);
	o->filter = NULL;
	for (size_t i = 0; i < o->n_query_nodes; i++)
		free(o->query_nodes[i]);
	free(o->query_nodes);
	o->query_nodes = NULL;
	o->n_query_nodes = 0;
	free(o->query_args);
	o->query_args = NULL;
	o->n_query_args = 0;
}

bool cli_sock_visible(const struct cli_opts *o, const struct nsn_sock *s)
{
	return !o->filter || nsn_filter_match(o->filter, s);
}
