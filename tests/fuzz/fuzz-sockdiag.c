/* SPDX-License-Identifier: MIT */
/* Fuzz target for the sock_diag reply parser (agent/lib/sockdiag.c): netlink messages
 * (inet_diag_msg or unix_diag_msg with their attributes: tcp_info, congestion control,
 * meminfo, v6only, unix names, peers, queues, uids) into the socket model, through
 * nsn__sockdiag_parse(), the parse step of a dump on a plain buffer.
 *
 * The kernel is the only peer this parser has, but what it reads comes from one
 * receive of at most 64 KiB whose lengths it must check itself, and the attributes'
 * sizes change between kernel versions (a shorter tcp_info, a meminfo with more
 * fields), so every length is treated as untrusted.
 *
 * Input: a 3-byte header, then the datagram as received:
 *   byte 0   bits 0-1: the dump (enum nsn_proto: tcp, udp, raw, unix);
 *            bit 2: --info (tcp_info, congestion, meminfo asked for);
 *            bits 3-4: families (0: both, as no -4/-6; 1: -4; 2: -6; 3: both)
 *   byte 1-2 the states asked for, little endian (0: all)
 * Messages must carry sequence number 1 (the first request of a dump) to be read.
 *
 * Beyond "no crash, no leak", the model's promises abort: sockets only of the dump's
 * protocol, a family it asked for, a state it asked for within the known ones,
 * internals only with --info (tcp_info only for TCP), v6only -1, 0 or 1, names
 * terminated. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "internal.h"

#define HDR 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nsn__dumper *d;
	struct nsn_gather_opts opts = {0};
	struct nsn_netns *ns;
	unsigned proto, fams, states;
	uint8_t *buf;
	size_t len;
	int r;

	if (size < HDR)
		return 0;
	if (!d && !(d = nsn__dumper_new()))
		abort();
	proto = data[0] & 3;
	if (data[0] & 4)
		opts.flags |= NSN_GATHER_INFO;
	opts.families = (data[0] >> 3) & 3;
	opts.states = (unsigned)data[1] | (unsigned)data[2] << 8;
	fams = opts.families ? opts.families : NSN_FAMILY_V4 | NSN_FAMILY_V6;
	states = (opts.states ? opts.states : NSN_STATES_ALL) & NSN_STATES_ALL;

	/* An exactly-sized copy, aligned as a receive buffer is. */
	len = size - HDR;
	buf = malloc(len ? len : 1);
	ns = nsn__netns_new(4, 4026531840u);
	if (!buf || !ns)
		abort();
	memcpy(buf, data + HDR, len);

	r = nsn__sockdiag_parse(d, ns, &opts, proto, 1, buf, len);
	FUZZ_CHECK(r <= 1);
	for (size_t i = 0; i < ns->n_socks; i++) {
		const struct nsn_sock *s = &ns->socks[i];

		FUZZ_CHECK(s->proto == proto);
		if (proto == NSN_PROTO_UNIX) {
			FUZZ_CHECK(s->family == AF_UNIX && s->v6only == -1);
		} else {
			FUZZ_CHECK(s->family == AF_INET || s->family == AF_INET6);
			FUZZ_CHECK(fams & (s->family == AF_INET ? NSN_FAMILY_V4 : NSN_FAMILY_V6));
			FUZZ_CHECK(s->v6only >= -1 && s->v6only <= 1);
			FUZZ_CHECK(s->path == NULL);
		}
		FUZZ_CHECK(s->state < NSN_SS_MAX && (states & (1u << s->state)));
		FUZZ_CHECK(s->dev == NULL);
		if (s->tcp_info) {
			FUZZ_CHECK(proto == NSN_PROTO_TCP && (opts.flags & NSN_GATHER_INFO));
			FUZZ_CHECK(memchr(s->tcp_info->cong, '\0', sizeof(s->tcp_info->cong)));
		}
		if (s->skmem)
			FUZZ_CHECK(opts.flags & NSN_GATHER_INFO);
		if (s->path)
			FUZZ_CHECK(strlen(s->path) < len);
	}
	nsn__netns_free(ns);
	free(buf);
	return 0;
}
