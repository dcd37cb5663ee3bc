/* SPDX-License-Identifier: MIT */
/* --from FILE: a recorded nsnet.v1 stream (the bytes a collector receives from agents,
 * one session after another) applied to a store, then every node's final state shown
 * with the usual views, as if it had been gathered here.
 *
 * The recording holds what the agents gathered, with their options; what this command
 * line asks for is selected afterwards (nsn_scan_select()), the same way the gatherer
 * selects at the source, so that the output is the one local mode would print. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "remote.h"
#include "store.h"

struct from {
	const struct cli_opts *o;
	struct nsn_store *store;
	struct nsn_store_node *node; /* the session in progress, NULL before the first Hello */
	uint64_t next_seq;
	uint64_t at; /* stream offset of the next frame */
};

/* The one line every --from failure prints; returns the exit status. */
__attribute__((format(printf, 3, 4))) static int fail(const struct from *x, uint64_t at,
						      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nsnetstat: --from %s: ", x->o->from);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " at byte %llu\n", (unsigned long long)at);
	return 1;
}

/* Apply one frame; 0 or the exit status. Frames of one session carry seq 1, 2, 3, ...
 * (proto/nsnet.proto); a Hello starts the next session. */
static int on_frame(struct from *x, const uint8_t *data, size_t len)
{
	struct nsn_store_error err = {{0}};
	const char *body;
	NsnFrame *f;
	int r;

	if (len == 0)
		return 0; /* legal, and means nothing */
	r = nsn_wire_unpack(data, len, NSN_FRAME_MAX_LIMIT, &f);
	if (r < 0)
		return fail(x, x->at, "bad frame (%zu bytes): not an nsnet.v1 Frame", len);
	body = nsn_wire_body_name(f);
	if (f->body_case == NSNET__V1__FRAME__BODY_HELLO) {
		r = nsn_store_hello(x->store, f->hello, &x->node, &err);
		x->next_seq = f->seq + 1;
	} else if (!x->node) {
		r = fail(x, x->at, "%s frame before any hello", body);
		goto out;
	} else if (f->seq != x->next_seq) {
		r = fail(x, x->at, "%s frame has seq %llu, expected %llu", body,
			 (unsigned long long)f->seq, (unsigned long long)x->next_seq);
		goto out;
	} else {
		r = nsn_store_apply(x->node, f, &err);
		x->next_seq++;
	}
	if (r == -EPROTO)
		r = fail(x, x->at, "%s: %s", body, err.msg);
	else if (r < 0)
		r = fail(x, x->at, "%s: %s", body, strerror(-r));
out:
	nsn_wire_free(f);
	return r;
}

/* Read the whole stream into the store; 0 or the exit status. */
static int read_stream(struct from *x, int fd)
{
	struct nsn_frame_reader rd;
	static uint8_t buf[1 << 16];
	int r = 0;

	nsn_frame_reader_init(&rd, NSN_FRAME_MAX_LIMIT);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		const uint8_t *data;
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fail(x, rd.bytes, "read: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			size_t left = nsn_frame_reader_pending(&rd);

			if (left >= NSN_FRAME_HDR)
				r = fail(x, x->at, "truncated frame (%zu of %llu bytes)", left,
					 NSN_FRAME_HDR + (unsigned long long)nsn_frame_get_header(
							     rd.buf + rd.off));
			else if (left)
				r = fail(x, x->at, "truncated frame (%zu of %u length bytes)", left,
					 NSN_FRAME_HDR);
			break;
		}
		r = nsn_frame_reader_feed(&rd, buf, (size_t)n);
		while (r >= 0 && (r = nsn_frame_reader_next(&rd, &data, &len)) > 0) {
			r = on_frame(x, data, len);
			if (r != 0)
				goto out;
			x->at += NSN_FRAME_HDR + len;
			r = 0;
		}
		if (r == -EMSGSIZE) {
			r = fail(x, x->at, "frame length %u over the %u byte maximum",
				 nsn_frame_get_header(rd.buf + rd.off), NSN_FRAME_MAX_LIMIT);
			break;
		}
		if (r < 0) {
			r = fail(x, x->at, "%s", strerror(-r));
			break;
		}
	}
out:
	nsn_frame_reader_release(&rd);
	return r;
}

/* The scan of one store node: its snapshots as cli_node_scan() takes them. */
static int node_scan(const struct cli_opts *o, const struct nsn_store_node *node,
		     struct nsn_scan **ret)
{
	Nsnet__V1__NamespaceSnapshot **snaps;
	struct nsn_store_node_info info;
	struct cli_node_meta meta;
	size_t n;
	int r;

	*ret = NULL;
	r = nsn_store_node_snapshots(node, &snaps, &n);
	if (r < 0)
		return r;
	nsn_store_node_info(node, &info);
	meta = (struct cli_node_meta){
	    .warnings = info.warnings,
	    .n_warnings = info.n_warnings,
	    .unsynced = info.synced ? NULL
				    : "the recording ends before this node's resync finished: "
				      "namespaces it has not sent again are shown as last reported",
	    .vanished = info.vanished,
	    .failed = info.failed,
	};
	r = cli_node_scan(o, (const Nsnet__V1__NamespaceSnapshot *const *)snaps, n, &meta, ret);
	nsn_store_snapshots_free(snaps, n);
	return r;
}

static int cmp_node(const void *a, const void *b)
{
	const struct cli_node *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int cli_from(const struct cli_opts *o)
{
	struct from x = {.o = o};
	struct cli_node *nodes = NULL;
	size_t n = 0, missing = 0;
	int fd, r;

	fd = strcmp(o->from, "-") == 0 ? STDIN_FILENO : open(o->from, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "nsnetstat: --from %s: %s\n", o->from, strerror(errno));
		return 1;
	}
	x.store = nsn_store_new();
	if (!x.store) {
		r = fail(&x, 0, "%s", strerror(ENOMEM));
		goto out;
	}
	r = read_stream(&x, fd);
	if (r != 0)
		goto out;

	n = nsn_store_node_count(x.store);
	nodes = calloc(n ? n : 1, sizeof(*nodes));
	if (!nodes) {
		r = fail(&x, x.at, "%s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct nsn_store_node *node = nsn_store_node_at(x.store, i);
		struct nsn_store_node_info info;

		nsn_store_node_info(node, &info);
		nodes[i].name = info.name;
		nodes[i].text = cli_text_dup(info.name);
		r = node_scan(o, node, &nodes[i].scan);
		if (r < 0) {
			fprintf(stderr, "nsnetstat: --from %s: node %s: %s\n", o->from,
				cli_node_text(&nodes[i]),
				r == -EBADMSG ? "a namespace snapshot is not well-formed"
					      : strerror(-r));
			r = 1;
			goto out;
		}
		missing += (size_t)r;
	}
	if (o->gather.scope == NSN_SCOPE_ONE && missing == n) {
		fprintf(stderr, "nsnetstat: -N %s: no such network namespace in %s\n",
			o->gather.target, o->from);
		r = 2;
		goto out;
	}
	qsort(nodes, n, sizeof(*nodes), cmp_node);
	cli_print_views(o, stdout, nodes, n);
	fflush(stdout);
	cli_print_problems(o, stderr, nodes, n);
	r = 0;
out:
	for (size_t i = 0; nodes && i < n; i++) {
		nsn_scan_free(nodes[i].scan);
		free(nodes[i].text);
	}
	free(nodes);
	nsn_store_free(x.store);
	if (fd > STDIN_FILENO)
		close(fd);
	return r;
}
