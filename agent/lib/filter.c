/* SPDX-License-Identifier: MIT */
/*
 * ss's STATE-FILTER and EXPRESSION, parsed into a small tree and evaluated in user
 * space on struct nsn_sock.
 *
 * ss compiles most of its expression to inet_diag bytecode and runs the rest in user
 * space; we always run it in user space because one scan covers many namespaces and
 * the sockets are in memory anyway. The tree is stored as an array of nodes linked by
 * index, and "and"/"or" nodes are n-ary, so a long flat chain of conditions stays
 * shallow: only parentheses and "not" add depth, and those are capped at MAX_DEPTH.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* FNM_CASEFOLD */
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <nsnet/filter.h>

/* Deep enough for any filter a person types, shallow enough for the parser's and the
 * evaluator's recursion to stay far from the stack limit. */
#define MAX_DEPTH 64

#define STATE_BIT(s) (1u << (s))

enum node_kind { N_AND, N_OR, N_NOT, N_PORT, N_HOST, N_DEV };

enum cmp_op { OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_NONE };

struct host_spec {
	int family;     /* AF_UNSPEC (any address), AF_INET, AF_INET6, or AF_UNIX (glob) */
	unsigned bits;  /* prefix length for AF_INET/AF_INET6 */
	bool has_port;
	uint16_t port;
	uint8_t addr[16];
	char *glob;     /* AF_UNIX only */
};

struct node {
	uint8_t kind;  /* enum node_kind */
	uint8_t op;    /* N_PORT: enum cmp_op; N_HOST and N_DEV: OP_EQ or OP_NE */
	bool peer;     /* N_PORT, N_HOST: dport/dst rather than sport/src */
	int first;     /* N_AND, N_OR, N_NOT: first child, -1 if none */
	int next;      /* next sibling under an N_AND or N_OR, -1 if last */
	union {
		uint16_t port;
		struct host_spec host;
		struct {
			char *name;
			bool numeric;     /* name is all digits: also compare ifindex */
			uint32_t ifindex;
		} dev;
	} u;
};

struct nsn_filter {
	unsigned states;
	int root; /* -1 when there is no expression */
	struct node *nodes;
	size_t n_nodes, cap_nodes;
};

/* ---- states ------------------------------------------------------------------- */

static const struct {
	const char *word;
	unsigned mask;
} state_words[] = {
	{"established", STATE_BIT(NSN_SS_ESTABLISHED)},
	{"syn-sent", STATE_BIT(NSN_SS_SYN_SENT)},
	{"syn-recv", STATE_BIT(NSN_SS_SYN_RECV)},
	{"syn-rcv", STATE_BIT(NSN_SS_SYN_RECV)}, /* ss accepts this spelling too */
	{"fin-wait-1", STATE_BIT(NSN_SS_FIN_WAIT1)},
	{"fin-wait-2", STATE_BIT(NSN_SS_FIN_WAIT2)},
	{"time-wait", STATE_BIT(NSN_SS_TIME_WAIT)},
	{"closed", STATE_BIT(NSN_SS_CLOSE)},
	{"close", STATE_BIT(NSN_SS_CLOSE)},
	{"unconnected", STATE_BIT(NSN_SS_CLOSE)},
	{"close-wait", STATE_BIT(NSN_SS_CLOSE_WAIT)},
	{"last-ack", STATE_BIT(NSN_SS_LAST_ACK)},
	{"listening", STATE_BIT(NSN_SS_LISTEN)},
	{"listen", STATE_BIT(NSN_SS_LISTEN)},
	{"closing", STATE_BIT(NSN_SS_CLOSING)},
	{"all", NSN_STATES_ALL},
	{"connected", NSN_STATES_ALL & ~(STATE_BIT(NSN_SS_CLOSE) | STATE_BIT(NSN_SS_LISTEN))},
	{"synchronized", NSN_STATES_ALL & ~(STATE_BIT(NSN_SS_CLOSE) | STATE_BIT(NSN_SS_LISTEN) |
					    STATE_BIT(NSN_SS_SYN_SENT))},
	{"bucket", STATE_BIT(NSN_SS_SYN_RECV) | STATE_BIT(NSN_SS_TIME_WAIT)},
	{"big", NSN_STATES_ALL & ~(STATE_BIT(NSN_SS_SYN_RECV) | STATE_BIT(NSN_SS_TIME_WAIT))},
};

unsigned nsn_state_mask_parse(const char *word)
{
	if (!word)
		return 0;
	for (size_t i = 0; i < sizeof(state_words) / sizeof(state_words[0]); i++)
		if (strcasecmp(word, state_words[i].word) == 0)
			return state_words[i].mask;
	return 0;
}

/* ---- lexer -------------------------------------------------------------------- */

enum tok_kind { T_END, T_LPAREN, T_RPAREN, T_SYM, T_WORD };

struct tok {
	enum tok_kind kind;
	int argi;      /* argv index, argc for T_END */
	size_t off;    /* offset inside argv[argi] */
	size_t len;
	const char *s; /* argv[argi] + off; not NUL-terminated at len */
};

struct parser {
	int argc;
	char *const *argv;
	int argi;    /* position of the next token */
	size_t off;
	int depth;
	char ctx[64]; /* what came before, for "after '...'" in messages */
	struct nsn_filter *f;
	struct nsn_filter_error *err;
};

/* Characters that end a word even when glued, so "dport>=:1024)" splits like ss users
 * expect. */
static bool is_sep(char c)
{
	return c == '\0' || isspace((unsigned char)c) || strchr("()=!<>&|", c) != NULL;
}

static bool is_path_start(const char *w)
{
	return w[0] == '/' || w[0] == '@' || strncmp(w, "unix:", 5) == 0;
}

static const char *arg(const struct parser *p, int i)
{
	return p->argv[i] ? p->argv[i] : "";
}

/*
 * Read the token at the parser's position without consuming it. In value mode a unix
 * path is read up to whitespace, because globs legitimately contain "!" ("[!a]*") and
 * other operator characters; only trailing ')' that do not close a '(' of the path
 * itself are left for the expression.
 */
static void lex(const struct parser *p, bool value, struct tok *t)
{
	int i = p->argi;
	size_t off = p->off;
	const char *w;
	size_t n = 0;

	for (; i < p->argc; i++, off = 0) {
		w = arg(p, i);
		while (w[off] && isspace((unsigned char)w[off]))
			off++;
		if (w[off])
			break;
	}
	*t = (struct tok){.kind = T_END, .argi = p->argc, .s = ""};
	if (i >= p->argc)
		return;

	w = arg(p, i) + off;
	t->argi = i;
	t->off = off;
	t->s = w;
	if (w[0] == '(' || w[0] == ')') {
		t->kind = w[0] == '(' ? T_LPAREN : T_RPAREN;
		t->len = 1;
		return;
	}
	if (strchr("=!<>&|", w[0])) {
		static const char *const two[] = {"==", "!=", ">=", "<=", "&&", "||"};

		t->kind = T_SYM;
		t->len = 1;
		for (size_t k = 0; k < sizeof(two) / sizeof(two[0]); k++)
			if (strncmp(w, two[k], 2) == 0)
				t->len = 2;
		return;
	}

	t->kind = T_WORD;
	if (value && is_path_start(w)) {
		int open = 0;

		while (w[n] && !isspace((unsigned char)w[n])) {
			open += w[n] == '(';
			open -= w[n] == ')';
			n++;
		}
		while (open < 0 && n > 1 && w[n - 1] == ')') {
			n--;
			open++;
		}
	} else {
		while (!is_sep(w[n]))
			n++;
	}
	t->len = n;
}

static void consume(struct parser *p, const struct tok *t)
{
	p->argi = t->argi;
	p->off = t->off + t->len;
	snprintf(p->ctx, sizeof(p->ctx), "%.*s", (int)t->len, t->s);
}

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);

	return (t->kind == T_WORD || t->kind == T_SYM) && t->len == n &&
	       memcmp(t->s, word, n) == 0;
}

static bool tok_is_and(const struct tok *t)
{
	return tok_is(t, "and") || tok_is(t, "&&") || tok_is(t, "&");
}

static bool tok_is_or(const struct tok *t)
{
	return tok_is(t, "or") || tok_is(t, "||") || tok_is(t, "|");
}

static bool tok_is_not(const struct tok *t)
{
	return tok_is(t, "not") || tok_is(t, "!");
}

static bool tok_is_cond(const struct tok *t)
{
	return tok_is(t, "sport") || tok_is(t, "dport") || tok_is(t, "src") ||
	       tok_is(t, "dst") || tok_is(t, "dev");
}

static bool tok_starts_factor(const struct tok *t)
{
	return t->kind == T_LPAREN || tok_is_not(t) || tok_is_cond(t);
}

static bool tok_is_state_kw(const struct tok *t)
{
	return tok_is(t, "state") || tok_is(t, "exclude") || tok_is(t, "excl");
}

static enum cmp_op tok_op(const struct tok *t)
{
	static const struct {
		const char *word;
		enum cmp_op op;
	} ops[] = {
		{"=", OP_EQ},  {"==", OP_EQ}, {"eq", OP_EQ},  {"!=", OP_NE}, {"ne", OP_NE},
		{"neq", OP_NE}, {">", OP_GT}, {"gt", OP_GT},  {"<", OP_LT},  {"lt", OP_LT},
		{">=", OP_GE}, {"ge", OP_GE}, {"geq", OP_GE}, {"<=", OP_LE}, {"le", OP_LE},
		{"leq", OP_LE},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (tok_is(t, ops[i].word))
			return ops[i].op;
	return OP_NONE;
}

/* ---- errors ------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int argi,
						       const char *fmt, ...)
{
	va_list ap;

	p->err->argi = argi;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int unexpected(struct parser *p, const struct tok *t, const char *expected)
{
	char what[64];

	if (t->kind == T_END)
		snprintf(what, sizeof(what), "end of input");
	else if (t->len > 40)
		snprintf(what, sizeof(what), "'%.37s...'", t->s);
	else
		snprintf(what, sizeof(what), "'%.*s'", (int)t->len, t->s);

	if (p->ctx[0])
		return fail(p, t->argi, "unexpected %s after '%s'; expected %s", what, p->ctx,
			    expected);
	return fail(p, t->argi, "unexpected %s; expected %s", what, expected);
}

static int state_too_late(struct parser *p, const struct tok *t)
{
	return fail(p, t->argi, "'%.*s' must come before the expression", (int)t->len, t->s);
}

static int out_of_memory(struct parser *p)
{
	fail(p, p->argi, "out of memory");
	return -ENOMEM;
}

/* ---- values ------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	uint64_t v = 0;

	/* Ten digits cannot overflow 64 bits, and anything longer is out of range. */
	if (!all_digits(s) || strlen(s) > 10)
		return -EINVAL;
	for (; *s; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	if (v > max)
		return -ERANGE;
	*ret = (unsigned long)v;
	return 0;
}

/* A port number or a service name; tcp is tried before udp (https is both). */
static int parse_port_word(const char *s, uint16_t *ret)
{
	unsigned long v;
	struct servent se, *res = NULL;
	char buf[1024];

	if (parse_uint(s, 65535, &v) == 0) {
		*ret = (uint16_t)v;
		return 0;
	}
	if (!*s || all_digits(s))
		return -EINVAL;
	if (getservbyname_r(s, "tcp", &se, buf, sizeof(buf), &res) != 0 || !res)
		if (getservbyname_r(s, "udp", &se, buf, sizeof(buf), &res) != 0 || !res)
			return -EINVAL;
	*ret = ntohs((uint16_t)res->s_port);
	return 0;
}

/* "1.2.3.4", or with a prefix length also ip(8)'s short forms "10/8", "10.1/16". */
static int parse_ipv4(const char *s, bool short_ok, uint8_t addr[4])
{
	unsigned n = 0;

	memset(addr, 0, 4);
	for (;;) {
		unsigned long v = 0;
		size_t k = 0;

		while (isdigit((unsigned char)s[k]) && k < 4)
			v = v * 10 + (unsigned long)(s[k++] - '0');
		if (k == 0 || v > 255 || n == 4)
			return -EINVAL;
		addr[n++] = (uint8_t)v;
		s += k;
		if (*s == '\0')
			break;
		if (*s++ != '.')
			return -EINVAL;
	}
	return n == 4 || short_ok ? 0 : -EINVAL;
}

/* ADDR["/"LEN] of one family, parsed in place. */
static int parse_prefix(char *s, int family, struct host_spec *h)
{
	unsigned max = family == AF_INET ? 32 : 128;
	char *slash = strchr(s, '/');
	unsigned long bits = max;

	if (slash) {
		*slash = '\0';
		if (parse_uint(slash + 1, max, &bits) < 0)
			return -EINVAL;
	}
	if (family == AF_INET) {
		if (parse_ipv4(s, slash != NULL, h->addr) < 0)
			return -EINVAL;
	} else if (inet_pton(AF_INET6, s, h->addr) != 1) {
		return -EINVAL;
	}
	h->family = family;
	h->bits = (unsigned)bits;
	return 0;
}

static int parse_addr_port(const char *s, struct host_spec *h)
{
	if (strcmp(s, "*") == 0)
		return 0;
	if (parse_port_word(s, &h->port) < 0)
		return -EINVAL;
	h->has_port = true;
	return 0;
}

/* One ADDRSPEC; @p s is a scratch copy the parser may cut up. */
static int parse_host(char *s, struct host_spec *h)
{
	char *colon;

	*h = (struct host_spec){.family = AF_UNSPEC};

	if (strncmp(s, "unix:", 5) == 0 || s[0] == '/' || s[0] == '@') {
		h->glob = strdup(strncmp(s, "unix:", 5) == 0 ? s + 5 : s);
		if (!h->glob)
			return -ENOMEM;
		h->family = AF_UNIX;
		return 0;
	}
	if (strcmp(s, "*") == 0)
		return 0;
	if (s[0] == '*' && s[1] == ':')
		return parse_addr_port(s + 2, h);
	if (s[0] == ':' && !strchr(s + 1, ':'))
		return parse_addr_port(s + 1, h);

	if (s[0] == '[') {
		/* "[ADDR6]/LEN:PORT" and "[ADDR6/LEN]:PORT" are both accepted. */
		char *end = strchr(s, ']'), *rest;

		if (!end)
			return -EINVAL;
		*end = '\0';
		rest = end + 1;
		if (*rest == '/') {
			char *port = strchr(rest, ':');
			char tmp[INET6_ADDRSTRLEN + 8];

			if (strchr(s + 1, '/'))
				return -EINVAL;
			if (port)
				*port = '\0';
			if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", s + 1, rest) >= sizeof(tmp))
				return -EINVAL;
			if (parse_prefix(tmp, AF_INET6, h) < 0)
				return -EINVAL;
			return port ? parse_addr_port(port + 1, h) : 0;
		}
		if (parse_prefix(s + 1, AF_INET6, h) < 0)
			return -EINVAL;
		if (*rest == '\0')
			return 0;
		if (*rest != ':')
			return -EINVAL;
		return parse_addr_port(rest + 1, h);
	}

	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
		/* A bare IPv6 address: every colon belongs to it, so it has no port. */
		return parse_prefix(s, AF_INET6, h);
	if (colon) {
		*colon = '\0';
		if (parse_prefix(s, AF_INET, h) < 0)
			return -EINVAL;
		return parse_addr_port(colon + 1, h);
	}
	return parse_prefix(s, AF_INET, h);
}

/* ---- tree --------------------------------------------------------------------- */

static int node_new(struct parser *p, enum node_kind kind)
{
	struct nsn_filter *f = p->f;

	if (f->n_nodes == f->cap_nodes) {
		size_t cap = f->cap_nodes ? f->cap_nodes * 2 : 16;
		struct node *nodes;

		if (cap > INT32_MAX)
			return out_of_memory(p);
		nodes = realloc(f->nodes, cap * sizeof(*nodes));
		if (!nodes)
			return out_of_memory(p);
		f->nodes = nodes;
		f->cap_nodes = cap;
	}
	f->nodes[f->n_nodes] = (struct node){.kind = kind, .first = -1, .next = -1};
	return (int)f->n_nodes++;
}

static char *tok_dup(const struct tok *t)
{
	return strndup(t->s, t->len);
}

static int parse_expr(struct parser *p, int *ret);

/* sport/dport OP PORTSPEC */
static int parse_port_cond(struct parser *p, const struct tok *kw, int *ret)
{
	struct tok t;
	enum cmp_op op;
	char *val;
	const char *v;
	uint16_t port;
	int r, n;

	lex(p, false, &t);
	op = tok_op(&t);
	if (op == OP_NONE)
		return unexpected(p, &t, "an operator such as =, !=, <, >=");
	consume(p, &t);
	snprintf(p->ctx, sizeof(p->ctx), "%.*s %.*s", (int)kw->len, kw->s, (int)t.len, t.s);

	lex(p, true, &t);
	if (t.kind != T_WORD)
		return unexpected(p, &t, "a port such as :443");
	val = tok_dup(&t);
	if (!val)
		return out_of_memory(p);
	v = val[0] == ':' ? val + 1 : val;
	r = parse_port_word(v, &port);
	free(val);
	if (r < 0)
		return unexpected(p, &t, "a port such as :443");
	consume(p, &t);

	n = node_new(p, N_PORT);
	if (n < 0)
		return n;
	p->f->nodes[n].op = (uint8_t)op;
	p->f->nodes[n].peer = tok_is(kw, "dport");
	p->f->nodes[n].u.port = port;
	*ret = n;
	return 0;
}

/* src/dst [OP] ADDRSPEC and dev OP IFNAME: only equality and its negation. */
static int parse_eq_cond(struct parser *p, const struct tok *kw, int *ret)
{
	bool is_dev = tok_is(kw, "dev");
	const char *expected = is_dev ? "an interface name or index"
				      : "an address such as 10.0.0.0/8, [::1]:80 or /path";
	struct tok t;
	enum cmp_op op;
	char *val;
	int r, n;

	lex(p, false, &t);
	op = tok_op(&t);
	if (op == OP_EQ || op == OP_NE) {
		consume(p, &t);
		snprintf(p->ctx, sizeof(p->ctx), "%.*s %.*s", (int)kw->len, kw->s, (int)t.len,
			 t.s);
	} else if (is_dev) {
		return unexpected(p, &t, "= or !=");
	} else {
		op = OP_EQ;
	}

	lex(p, true, &t);
	if (t.kind != T_WORD)
		return unexpected(p, &t, expected);
	val = tok_dup(&t);
	if (!val)
		return out_of_memory(p);

	n = node_new(p, is_dev ? N_DEV : N_HOST);
	if (n < 0) {
		free(val);
		return n;
	}
	struct node *nd = &p->f->nodes[n];

	nd->op = (uint8_t)op;
	nd->peer = tok_is(kw, "dst");
	if (is_dev) {
		unsigned long idx;

		nd->u.dev.name = val;
		if (parse_uint(val, UINT32_MAX, &idx) == 0) {
			nd->u.dev.numeric = true;
			nd->u.dev.ifindex = (uint32_t)idx;
		}
	} else {
		r = parse_host(val, &nd->u.host);
		free(val);
		if (r == -ENOMEM)
			return out_of_memory(p);
		if (r < 0)
			return unexpected(p, &t, expected);
	}
	consume(p, &t);
	*ret = n;
	return 0;
}

static int parse_factor(struct parser *p, int *ret)
{
	struct tok t;
	int r, n, child;

	lex(p, false, &t);
	if (tok_is_not(&t) || t.kind == T_LPAREN) {
		if (p->depth >= MAX_DEPTH)
			return fail(p, t.argi, "'%.*s' nested too deeply; at most %d levels",
				    (int)t.len, t.s, MAX_DEPTH);
		p->depth++;
		consume(p, &t);
		if (t.kind == T_LPAREN) {
			r = parse_expr(p, ret);
			if (r < 0)
				return r;
			lex(p, false, &t);
			if (t.kind != T_RPAREN)
				return unexpected(p, &t, "')'");
			consume(p, &t);
		} else {
			r = parse_factor(p, &child);
			if (r < 0)
				return r;
			n = node_new(p, N_NOT);
			if (n < 0)
				return n;
			p->f->nodes[n].first = child;
			*ret = n;
		}
		p->depth--;
		return 0;
	}
	if (tok_is_cond(&t)) {
		consume(p, &t);
		if (tok_is(&t, "sport") || tok_is(&t, "dport"))
			return parse_port_cond(p, &t, ret);
		return parse_eq_cond(p, &t, ret);
	}
	if (tok_is_state_kw(&t))
		return state_too_late(p, &t);
	return unexpected(p, &t, "a condition such as dport = :443");
}

/*
 * One level of the grammar: factors joined by "and" (or juxtaposition) when @p or is
 * false, terms joined by "or" when it is true. The children of one level hang off one
 * n-ary node.
 */
static int parse_list(struct parser *p, bool or, int *ret)
{
	int first, last, group = -1, child, r;
	struct tok t;

	r = or ? parse_list(p, false, &first) : parse_factor(p, &first);
	if (r < 0)
		return r;
	last = first;
	for (;;) {
		lex(p, false, &t);
		if (or ? tok_is_or(&t) : tok_is_and(&t))
			consume(p, &t);
		else if (or || !tok_starts_factor(&t))
			break;
		r = or ? parse_list(p, false, &child) : parse_factor(p, &child);
		if (r < 0)
			return r;
		if (group < 0) {
			group = node_new(p, or ? N_OR : N_AND);
			if (group < 0)
				return group;
			p->f->nodes[group].first = first;
		}
		p->f->nodes[last].next = child;
		last = child;
	}
	*ret = group < 0 ? first : group;
	return 0;
}

static int parse_expr(struct parser *p, int *ret)
{
	return parse_list(p, true, ret);
}

/* ---- public API --------------------------------------------------------------- */

void nsn_filter_free(struct nsn_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_nodes; i++) {
		struct node *n = &f->nodes[i];

		if (n->kind == N_HOST)
			free(n->u.host.glob);
		else if (n->kind == N_DEV)
			free(n->u.dev.name);
	}
	free(f->nodes);
	free(f);
}

int nsn_filter_parse(int argc, char *const *argv, struct nsn_filter **ret_filter,
		     struct nsn_filter_error *ret_err)
{
	struct nsn_filter_error dummy;
	struct parser p = {.argc = argc, .argv = argv, .err = ret_err ? ret_err : &dummy};
	bool saw_states = false;
	struct tok t;
	int i = 0, r;

	memset(p.err, 0, sizeof(*p.err));
	if (!ret_filter)
		return -EINVAL;
	*ret_filter = NULL;
	if (argc < 0 || (argc > 0 && !argv)) {
		p.argc = 0;
		return fail(&p, 0, "invalid argument vector");
	}

	p.f = calloc(1, sizeof(*p.f));
	if (!p.f)
		return out_of_memory(&p);
	p.f->root = -1;

	/* Like ss, state words come first, as whole words; the first "state" starts from
	 * nothing and the first "exclude" from every state. */
	while (i < argc && argv[i]) {
		bool exclude;
		unsigned mask;

		if (strcmp(argv[i], "state") == 0)
			exclude = false;
		else if (strcmp(argv[i], "exclude") == 0 || strcmp(argv[i], "excl") == 0)
			exclude = true;
		else
			break;
		if (i + 1 >= argc || !argv[i + 1]) {
			r = fail(&p, argc,
				 "unexpected end of input after '%s'; expected a state such as "
				 "established or connected",
				 argv[i]);
			goto fail;
		}
		mask = nsn_state_mask_parse(argv[i + 1]);
		if (!mask) {
			r = fail(&p, i + 1,
				 "unknown state '%.40s' after '%s'; expected a state such as "
				 "established or a group such as connected",
				 argv[i + 1], argv[i]);
			goto fail;
		}
		if (!saw_states)
			p.f->states = exclude ? NSN_STATES_ALL : 0;
		saw_states = true;
		if (exclude)
			p.f->states &= ~mask;
		else
			p.f->states |= mask;
		snprintf(p.ctx, sizeof(p.ctx), "%.40s", argv[i + 1]);
		i += 2;
	}

	p.argi = i;
	lex(&p, false, &t);
	if (t.kind != T_END) {
		r = parse_expr(&p, &p.f->root);
		if (r < 0)
			goto fail;
		lex(&p, false, &t);
		if (t.kind == T_RPAREN) {
			r = fail(&p, t.argi, "unexpected ')' without a matching '('");
			goto fail;
		}
		if (tok_is_state_kw(&t)) {
			r = state_too_late(&p, &t);
			goto fail;
		}
		if (t.kind != T_END) {
			r = unexpected(&p, &t, "and, or, or the end of the filter");
			goto fail;
		}
	}
	*ret_filter = p.f;
	return 0;

fail:
	nsn_filter_free(p.f);
	return r;
}

unsigned nsn_filter_states(const struct nsn_filter *f)
{
	return f ? f->states : 0;
}

bool nsn_filter_has_expr(const struct nsn_filter *f)
{
	return f && f->root >= 0;
}

/* ---- evaluation --------------------------------------------------------------- */

static bool is_inet(const struct nsn_sock *s)
{
	return s->family == AF_INET || s->family == AF_INET6;
}

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, p, bytes) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		return ((a[bytes] ^ p[bytes]) & mask) == 0;
	}
	return true;
}

static bool is_v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* Whether the socket is of the kind the spec talks about at all: an inet spec says
 * nothing about a unix socket, so neither "=" nor "!=" holds for it. */
static bool host_applies(const struct host_spec *h, const struct nsn_sock *s, bool peer)
{
	if (h->family == AF_UNIX)
		/* The model has no peer names for unix sockets, so "dst" cannot match. */
		return s->family == AF_UNIX && !peer;
	return is_inet(s);
}

static bool host_match(const struct host_spec *h, const struct nsn_sock *s, bool peer)
{
	const struct nsn_endpoint *ep = peer ? &s->peer : &s->local;

	if (h->family == AF_UNIX)
		/* FNM_CASEFOLD as in ss's unix_match(). */
		return fnmatch(h->glob, s->path ? s->path : "", FNM_CASEFOLD) == 0;
	if (h->has_port && ep->port != h->port)
		return false;
	switch (h->family) {
	case AF_INET:
		/* A v4 rule also covers v4-mapped addresses on dual-stack sockets, as in
		 * ss's inet2_addr_match(); a v4-mapped rule stays IPv6-only. */
		if (s->family == AF_INET)
			return prefix_match(ep->addr, h->addr, h->bits);
		return is_v4mapped(ep->addr) && prefix_match(ep->addr + 12, h->addr, h->bits);
	case AF_INET6:
		return s->family == AF_INET6 && prefix_match(ep->addr, h->addr, h->bits);
	default:
		return true;
	}
}

static bool port_cmp(enum cmp_op op, uint16_t v, uint16_t want)
{
	switch (op) {
	case OP_EQ: return v == want;
	case OP_NE: return v != want;
	case OP_GT: return v > want;
	case OP_LT: return v < want;
	case OP_GE: return v >= want;
	case OP_LE: return v <= want;
	default: return false;
	}
}

static bool dev_match(const struct node *n, const struct nsn_sock *s)
{
	if (n->u.dev.numeric && s->ifindex == n->u.dev.ifindex)
		return true;
	return s->dev && strcmp(s->dev, n->u.dev.name) == 0;
}

static bool eval(const struct nsn_filter *f, int i, const struct nsn_sock *s)
{
	const struct node *n = &f->nodes[i];
	bool m;

	switch (n->kind) {
	case N_AND:
		for (int c = n->first; c >= 0; c = f->nodes[c].next)
			if (!eval(f, c, s))
				return false;
		return true;
	case N_OR:
		for (int c = n->first; c >= 0; c = f->nodes[c].next)
			if (eval(f, c, s))
				return true;
		return false;
	case N_NOT:
		return !eval(f, n->first, s);
	case N_PORT:
		if (!is_inet(s))
			return false;
		return port_cmp(n->op, n->peer ? s->peer.port : s->local.port, n->u.port);
	case N_HOST:
		if (!host_applies(&n->u.host, s, n->peer))
			return false;
		m = host_match(&n->u.host, s, n->peer);
		return n->op == OP_NE ? !m : m;
	case N_DEV:
		if (!is_inet(s))
			return false;
		m = dev_match(n, s);
		return n->op == OP_NE ? !m : m;
	default:
		return false;
	}
}

bool nsn_filter_match(const struct nsn_filter *f, const struct nsn_sock *s)
{
	if (!f || f->root < 0)
		return true;
	if (!s)
		return false;
	return eval(f, f->root, s);
}
