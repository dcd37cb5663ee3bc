/* SPDX-License-Identifier: MIT */
/* A synthetic world for test-sync.c: what the gatherer would find, changed between
 * scans, and the nsn_scan built from it. */
#ifndef NSN_TESTS_SYNC_WORLD_H
#define NSN_TESTS_SYNC_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nsnet/gather.h>

#define MAX_NS	  16
#define MAX_LINKS 8
#define MAX_CTRS  16
#define N_CONT	  3

struct wsock {
	uint64_t cookie; /* 0: none (a raw socket read from /proc/net/raw) */
	uint32_t inode;	 /* 0: none (TIME-WAIT) */
	uint32_t recv_q, send_q;
	uint16_t port;
	uint8_t proto, state;
	uint8_t nprocs; /* holders in the process map, 0..2 */
	uint8_t proc_v; /* moves the holders' pids */
	bool info;	/* tcp_info and skmem (TCP only) */
};

struct wlink {
	uint32_t ifindex, mtu;
	uint64_t rx_bytes;    /* 0: no stats */
	uint64_t peer_cookie; /* a veth's other namespace; 0: not a veth */
	uint8_t n_addrs;
};

struct wctr {
	const char *name;
	int64_t value;
};

struct wns {
	uint64_t cookie, dev, inode;
	bool host, current;
	char names[2][48];
	int n_names;
	int pid, npids, err;
	struct wsock *socks;
	size_t n_socks, cap_socks;
	unsigned routes_v, rules_v, cont_v; /* the lists are made from these */
	struct wlink links[MAX_LINKS];	    /* by ifindex, as the gatherer sorts them */
	size_t n_links;
	struct wctr ctrs[MAX_CTRS];
	size_t n_ctrs;
};

struct world {
	struct wns ns[MAX_NS];
	size_t n;
	uint64_t next_cookie, next_ns;
	uint32_t next_inode;
	uint64_t rng;	  /* mutations */
	uint64_t shuffle; /* the order of the namespaces in each scan */
};

/* Counter names a namespace may carry. */
extern const char *const ctr_names[MAX_CTRS];

/* A number below n from the world's mutation generator. */
unsigned pick(struct world *w, unsigned n);

/* An empty world seeded for its mutations and its scans' namespace order; w_free()
 * releases its sockets. */
void w_init(struct world *w, uint64_t seed);
void w_free(struct world *w);

/* By first name, "host" for the host; a failure (and abort) when absent. */
struct wns *w_ns(struct world *w, const char *name);
/* A namespace with lo, its default routes and rules and three counters. */
struct wns *w_add_ns(struct world *w, const char *name, bool cookie);
void w_remove_ns(struct world *w, struct wns *ns);

/* A socket of proto with the next inode (and cookie, unless !cookie). */
struct wsock *w_add_sock(struct world *w, struct wns *ns, uint8_t proto, bool cookie);
void w_remove_sock(struct wns *ns, size_t i);
/* The same socket seen twice: same cookie and inode, another state. */
void w_dup_sock(struct wns *ns, size_t i);

/* Links are kept by ifindex; peer_cookie 0: not a veth. */
struct wlink *w_add_link(struct wns *ns, uint32_t ifindex, uint64_t peer_cookie);
void w_remove_link(struct wns *ns, uint32_t ifindex);
/* The counter's index, SIZE_MAX when absent. */
size_t w_ctr_find(const struct wns *ns, const char *name);

/* A scan of the world (free with nsn_scan_free()), its namespaces in an order of the
 * world's choosing. */
struct nsn_scan *build(struct world *w);
/* What the agent skips: a namespace that vanished before it could be entered. */
bool skipped(const struct nsn_netns *ns);

/* The random walk: a random socket in ns, a random namespace, one random change. */
void random_sock(struct world *w, struct wns *ns);
void random_ns(struct world *w);
void mutate(struct world *w);

#endif
