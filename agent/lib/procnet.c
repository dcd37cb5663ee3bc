/* SPDX-License-Identifier: MIT */
/* Raw sockets from /proc/net/raw and /proc/net/raw6, for kernels built without
 * raw_diag (CONFIG_INET_RAW_DIAG): ss falls back to the same files. The files are
 * opened by the worker while it is inside the namespace (a /proc/thread-self/net file
 * stays bound to the namespace it was opened in) and read after it has returned. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

/* Each address word is printed as the %08X of a u32 as it sits in memory: storing the
 * parsed value back in native order restores the original bytes. */
static int parse_addr(const char *hex, size_t words, uint8_t *out)
{
	for (size_t i = 0; i < words; i++) {
		unsigned int w;
		char part[9];

		memcpy(part, hex + i * 8, 8);
		part[8] = '\0';
		if (sscanf(part, "%8x", &w) != 1)
			return -EBADMSG;
		memcpy(out + i * 4, &w, 4);
	}
	return 0;
}

int nsn__procnet_raw(int fd, int family, struct nsn_netns *ns, unsigned states)
{
	size_t words = family == AF_INET ? 1 : 4;
	FILE *f = fdopen(fd, "re");
	char *line = NULL;
	size_t cap = 0;
	int r = 0, first = 1;

	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	while (getline(&line, &cap, f) > 0) {
		char local[33], peer[33];
		unsigned lport, pport, st, txq, rxq, uid;
		unsigned long inode;

		if (first) { /* the header line */
			first = 0;
			continue;
		}
		if (sscanf(line, " %*d: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %x:%x %*x:%*x %*x %u %*d %lu",
			   local, &lport, peer, &pport, &st, &txq, &rxq, &uid, &inode) != 9 ||
		    strlen(local) != words * 8 || strlen(peer) != words * 8) {
			r = -EBADMSG;
			break;
		}
		if (st >= NSN_SS_MAX || !(states & (1u << st)))
			continue;
		struct nsn_sock *s = nsn__netns_push_sock(ns);
		if (!s) {
			r = -ENOMEM;
			break;
		}
		s->proto = NSN_PROTO_RAW;
		s->family = (uint8_t)family;
		s->type = SOCK_RAW;
		s->state = (uint8_t)st;
		s->v6only = -1;
		s->recv_q = rxq;
		s->send_q = txq;
		s->uid = uid;
		s->inode = (uint32_t)inode;
		s->local.port = (uint16_t)lport;
		s->peer.port = (uint16_t)pport;
		if (parse_addr(local, words, s->local.addr) < 0 || parse_addr(peer, words, s->peer.addr) < 0) {
			r = -EBADMSG;
			break;
		}
	}
	free(line);
	fclose(f);
	return r;
}
