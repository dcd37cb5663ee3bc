/* SPDX-License-Identifier: MIT */
/**
 * @file remote.h
 * The CLI's side of nsnet.v1 (proto/nsnet.proto): a query's answer assembled from its
 * QueryResponse chunks and rendered as nsnetstat renders a local scan. Used by
 * `nsnetstat --collector` (remote.c) and by nsnet-collector's JSON endpoint, so that
 * both print the same thing. Unlike cli.h, this header exposes protobuf-c types.
 */
#ifndef NSN_CLI_REMOTE_H
#define NSN_CLI_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "nsnet.pb-c.h"

/** One query's answer, chunk by chunk; then its rendering. */
struct cli_resp;

/** A new, empty answer; NULL on ENOMEM. */
struct cli_resp *cli_resp_new(void);

/** Free @p r and everything it holds (copies of the chunks, kept scans). NULL-safe. */
void cli_resp_free(struct cli_resp *r);

/**
 * Add one chunk of the answer. @p m is copied: the caller keeps it. Chunks come in
 * node name order; the first chunk of a node carries its full NodeInfo, later ones
 * only its name; a chunk whose first namespace has the id of the node's previous
 * namespace continues it (its sockets are appended).
 * @return 1 when @p m was the last chunk (m->last), 0 when more are to come, or
 *         -errno with one line (no prefix, no newline) in @p err: -EINVAL when the
 *         collector reports an Error of code QUERY (the query is wrong: exit 2),
 *         -EREMOTEIO for an Error of another code (exit 1), -EBADMSG for a chunk that
 *         is not well-formed (namespaces without their node, a chunk after the
 *         last), -ENOMEM. A chunk without a node and without namespaces is legal: the
 *         end of an answer that has no node in scope.
 */
int cli_resp_add(struct cli_resp *r, const Nsnet__V1__QueryResponse *m, char *err, size_t err_len);

/**
 * As cli_resp_add(), but takes @p m over (a message that nsnet__v1__query_response__unpack()
 * made, or one detached from an unpacked Frame): it is freed with @p r, or at once on
 * error.
 */
int cli_resp_take(struct cli_resp *r, Nsnet__V1__QueryResponse *m, char *err, size_t err_len);

/**
 * Decode every node of the complete answer, select and filter as @p o asks (protocols,
 * states, filter expression, -N, container filters: what local mode would show), and
 * render it to @p out (JSON or tables per @p o, always with the NODE column when
 * o->node_column). Lines about problems go to @p err after the output: skipped
 * namespaces and warnings, stale nodes, --node names the answer does not have.
 * With o->continuous && o->counters the scans are kept for the next answer's -s
 * increments (per node name): call cli_resp_restart() before adding its chunks.
 * @return the exit status: 0; 1 when none of the --node names exists or a snapshot is
 *         not well-formed; 2 when -N matched no namespace on any node.
 */
int cli_resp_render(const struct cli_opts *o, struct cli_resp *r, FILE *out, FILE *err);

/**
 * Forget the chunks of the answer rendered last, keeping the scans it kept for the
 * next -c round, so that @p r takes the next answer.
 */
void cli_resp_restart(struct cli_resp *r);

/** What a node's scan adds to its snapshots (from a store's node or a NodeInfo). */
struct cli_node_meta {
	char *const *warnings; /**< the warnings of its agent's last scan */
	size_t n_warnings;
	const char *unsynced; /**< a warning to add when its resync has not finished, else NULL */
	unsigned vanished, failed; /**< of its agent's last scan */
};

/**
 * The scan of one node, as the renderers take it: @p snaps decoded, the node's
 * warnings and counts added, then selected as @p o asks (nsn_scan_select(), -N,
 * container filters) with the sockets in a local scan's order.
 * @return 0, 1 when -N matched nothing on this node (the scan shows no namespace), or
 *         -errno (-EBADMSG: a snapshot is not well-formed), with *ret the new scan on
 *         success (free with nsn_scan_free()).
 */
int cli_node_scan(const struct cli_opts *o, const Nsnet__V1__NamespaceSnapshot *const *snaps,
		  size_t n, const struct cli_node_meta *meta, struct nsn_scan **ret);

#endif
