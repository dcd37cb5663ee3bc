/* SPDX-License-Identifier: MIT */
/* GET /query?arg=WORD&arg=WORD...&node=NAME: the JSON document `nsnetstat --collector
 * ADDR --json WORD... --node NAME` prints, made by the same code: the query runs as a
 * client's would (query_run()), its chunks are assembled and rendered by nsnetstat's
 * own library (agent/cli/remote.h). Blocks the loop for the whole answer: meant for
 * filtered questions and tools, not for dumping a cluster (use nsnetstat for that). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "remote.h"

#define MAX_WORDS 256

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
					      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode a form value in place ('+' is a space, %XX a byte); -EINVAL on a bad escape. */
static int url_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '+') {
			*w++ = ' ';
		} else if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
	return 0;
}

struct collect {
	struct cli_resp *resp;
	char err[256];
	int r;
};

static int on_chunk(const uint8_t *frame, size_t len, void *ctx)
{
	struct collect *x = ctx;
	NsnFrame *f;
	int r;

	if (x->r != 0)
		return 0;
	r = nsn_wire_unpack(frame + NSN_FRAME_HDR, len - NSN_FRAME_HDR, NSN_FRAME_MAX_LIMIT, &f);
	if (r < 0 || f->body_case != NSNET__V1__FRAME__BODY_RESPONSE) {
		if (r >= 0)
			nsn_wire_free(f);
		snprintf(x->err, sizeof(x->err), "internal: a chunk does not decode");
		return x->r = -EBADMSG;
	}
	/* The answer takes the response over: no second copy of the chunk. */
	Nsnet__V1__QueryResponse *m = f->response;
	f->response = NULL;
	f->body_case = NSNET__V1__FRAME__BODY__NOT_SET;
	nsn_wire_free(f);
	r = cli_resp_take(x->resp, m, x->err, sizeof(x->err));
	if (r < 0)
		x->r = r;
	return 0;
}

int http_query(struct collector *c, char *qs, FILE *out, char *err, size_t err_len)
{
	char *args[MAX_WORDS + 2], *nodes[MAX_WORDS];
	size_t n_args = 0, n_nodes = 0;
	struct collect x = {0};
	int status = 500, r;

	args[n_args++] = "nsnetstat";
	args[n_args++] = "--json";
	for (char *save = NULL, *kv = qs ? strtok_r(qs, "&", &save) : NULL; kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq) {
			snprintf(err, err_len, "bad query parameter '%s': expected arg=WORD or node=NAME", kv);
			return 400;
		}
		*eq = 0;
		if (url_decode(eq + 1) < 0) {
			snprintf(err, err_len, "bad escape in the value of '%s'", kv);
			return 400;
		}
		if (!strcmp(kv, "arg") && n_args < MAX_WORDS + 2) {
			args[n_args++] = eq + 1;
		} else if (!strcmp(kv, "node") && n_nodes < MAX_WORDS) {
			nodes[n_nodes++] = eq + 1;
		} else {
			snprintf(err, err_len, "bad query parameter '%s': expected arg=WORD or node=NAME (at most %d)",
				 kv, MAX_WORDS);
			return 400;
		}
	}

	Nsnet__V1__Query q = NSNET__V1__QUERY__INIT;
	q.id = 1;
	q.n_args = n_args - 1;
	q.args = args + 1;
	q.n_nodes = n_nodes;
	q.nodes = nodes;

	/* The rendering options: the same words through the same parser, with the nodes
	 * as --node words so that names the answer lacks are reported as nsnetstat does. */
	struct cli_opts o = {0};
	char *text = NULL, *words[MAX_WORDS * 3 + 2];
	size_t text_len = 0, n_words = n_args;
	FILE *ef = open_memstream(&text, &text_len);

	if (!ef) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return 500;
	}
	memcpy(words, args, n_args * sizeof(*words));
	/* Options before the filter words: after a filter word getopt would stop. */
	memmove(words + 1 + 2 * n_nodes, words + 1, (n_args - 1) * sizeof(*words));
	for (size_t i = 0; i < n_nodes; i++) {
		words[1 + 2 * i] = "--node";
		words[2 + 2 * i] = nodes[i];
	}
	n_words += 2 * n_nodes;
	o.out = o.err = ef;
	o.remote = true;
	r = cli_parse((int)n_words, words, &o);
	fclose(ef);
	o.out = o.err = NULL;
	if (r != 0) {
		size_t n = text ? strcspn(text, "\n") : 0;
		snprintf(err, err_len, "%.*s", (int)n, n ? text : "--help and --version are not queries");
		free(text);
		cli_opts_release(&o);
		return 400;
	}
	free(text);
	o.json = true;
	o.node_column = true;

	x.resp = cli_resp_new();
	if (!x.resp) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		goto out;
	}
	r = query_run(c, &q, on_chunk, &x, err, err_len);
	if (r == -EINVAL) {
		status = 400;
		goto out;
	}
	if (r < 0)
		goto out;
	if (x.r < 0) {
		snprintf(err, err_len, "%s", x.err);
		goto out;
	}
	char *problems = NULL;
	size_t problems_len = 0;
	FILE *pf = open_memstream(&problems, &problems_len);
	if (!pf) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		goto out;
	}
	r = cli_resp_render(&o, x.resp, out, pf);
	fclose(pf);
	free(problems); /* stale nodes and warnings are in the document already */
	status = 200;
	if (r == 2) {
		snprintf(err, err_len, "-N matched no namespace on any node");
		status = 404;
	} else if (r == 1) {
		snprintf(err, err_len, "no such node");
		status = 404;
	}
	c->st.queries++;
out:
	cli_resp_free(x.resp);
	cli_opts_release(&o);
	return status;
}
