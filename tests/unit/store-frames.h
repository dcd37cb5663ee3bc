/* SPDX-License-Identifier: MIT */
/* Frames built by hand for the store's tests (test-store.c, test-store-read.c). */
#ifndef NSNT_STORE_FRAMES_H
#define NSNT_STORE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "store.h"
#include "tap.h"

#define MAX_SOCKS 8

/* One namespace's messages, built in place (no allocation to free). */
struct ns_msg {
	Nsnet__V1__NetnsId id;
	Nsnet__V1__Socket socks[MAX_SOCKS];
	Nsnet__V1__Socket *sockp[MAX_SOCKS];
	uint8_t addr[MAX_SOCKS][4];
	Nsnet__V1__Route route;
	Nsnet__V1__Route *routep[1];
	Nsnet__V1__Link links[2];
	Nsnet__V1__Link *linkp[2];
	Nsnet__V1__Counter ctrs[3];
	Nsnet__V1__Counter *ctrp[3];
	char *names[1];
	Nsnet__V1__NamespaceSnapshot snap;
};

/* The node's namespaces, materialized. */
struct view {
	Nsnet__V1__NamespaceSnapshot **s;
	size_t n;
};

/* A view's name is the snapshot's first name, NULL when it has none. */
#define ASSERT_SAME_NAME(name, snap)                                                               \
	do {                                                                                       \
		const char *n_ = (name);                                                           \
		const Nsnet__V1__NamespaceSnapshot *s_ = (snap);                                   \
		const char *w_ = s_->n_names > 0 && s_->names[0][0] ? s_->names[0] : NULL;         \
		tap_asserts++;                                                                     \
		if (!n_ != !w_ || (n_ && strcmp(n_, w_) != 0))                                     \
			TAP_FAIL("view name \"%s\" != snapshot name \"%s\"", n_ ? n_ : "(null)",   \
				 w_ ? w_ : "(null)");                                              \
	} while (0)

/* Socket @p i of @p m: a TCP listener on 127.0.0.1:@p port with cookie @p cookie. */
void mk_sock(struct ns_msg *m, size_t i, uint64_t cookie, uint32_t port);
/* A namespace named @p name with @p n sockets (cookies 1..n, ports 8000+cookie), one
 * route, links 1 (lo) and 2 (eth0), and three counters. */
Nsnet__V1__NamespaceSnapshot *mk_ns(struct ns_msg *m, uint64_t cookie, const char *name, size_t n);
/* An agent's hello for @p node applied to @p st; the node. */
struct nsn_store_node *hello(struct nsn_store *st, const char *node, const char *boot,
			     uint64_t session);
/* One frame of each kind applied to @p n: nsn_store_apply()'s result. */
int apply_snap(struct nsn_store_node *n, Nsnet__V1__NamespaceSnapshot *s,
	       struct nsn_store_error *err);
int apply_delta(struct nsn_store_node *n, Nsnet__V1__NamespaceDelta *d,
		struct nsn_store_error *err);
int apply_gone(struct nsn_store_node *n, Nsnet__V1__NetnsId *id, struct nsn_store_error *err);
/* ScanDone{scan=3, backend="bpf", a warning, stats{scans=3, bpf_records_dropped=4,
 * bpf_chains_capped=2}}. */
int scan_done(struct nsn_store_node *n, bool full);
/* The node's namespaces, materialized (view_free() them). */
struct view view_of(const struct nsn_store_node *n);
void view_free(struct view *v);
const Nsnet__V1__NamespaceSnapshot *view_find(const struct view *v, uint64_t cookie);
/* The snapshot's socket cookies as "c1,c2,..." (a static buffer). */
const char *cookies(const Nsnet__V1__NamespaceSnapshot *s);

#endif
