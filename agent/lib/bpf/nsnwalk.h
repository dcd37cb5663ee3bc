/* SPDX-License-Identifier: MIT */
/* nsnwalk.h - the records the BPF walker (nsnwalk.bpf.c) writes into its ring buffer and
 * the gatherer (bpfwalk.c) reads. Included by both sides: the BPF side with vmlinux.h's
 * __u8..__u64, user space with <linux/types.h>. tests/unit/test-bpfrec.c pins the layout
 * against the BTF that clang wrote into nsnwalk.bpf.o.
 *
 * One record per socket, in the order the walk meets them; a record of kind NSNW_NET
 * for every network namespace the kernel has. Sizes differ by kind (the ring carries
 * the length): an inet socket is NSNW_INET_SIZE bytes, a unix socket NSNW_UNIX_SIZE
 * plus its name, a namespace NSNW_NET_SIZE. Ports in host byte order; addresses as the
 * kernel holds them (network byte order), IPv4 in the first 4 bytes. */
#ifndef NSNWALK_H
#define NSNWALK_H

enum nsnw_kind {
	NSNW_FULL = 0, /* a full TCP or UDP socket */
	NSNW_TW = 1,   /* a TCP TIME-WAIT socket (inet_timewait_sock) */
	NSNW_REQ = 2,  /* a TCP request socket (SYN-RECV) */
	NSNW_UNIX = 3, /* a unix socket */
	NSNW_NET = 4,  /* a network namespace: netns = its inode, cookie = its cookie */
};

/* NSNW_NET flags: the namespace has hash tables of its own, which the walk does not read. */
#define NSNW_NET_PRIVATE_TCP 1u
#define NSNW_NET_PRIVATE_UDP 2u

/* What to walk (nsnw_want). */
#define NSNW_WANT_TCP 1u
#define NSNW_WANT_UDP 2u
#define NSNW_WANT_UNIX 4u

#define NSNW_PATH_MAX 108 /* sizeof(sun_path) */

struct nsnw_rec {
	__u64 key;     /* kernel address of the socket: with the cookie, the duplicate key */
	__u64 cookie;  /* sk_cookie (0 if nothing ever asked for it); NSNW_NET: net_cookie */
	__u64 ino;     /* sockfs inode, 0 for TIME-WAIT and request sockets */
	__u32 netns;   /* inode of the socket's network namespace */
	__u32 uid;     /* sk_uid */
	__u32 rxq;     /* Recv-Q as sock_diag reports it */
	__u32 txq;     /* Send-Q as sock_diag reports it */
	__u8 kind;     /* enum nsnw_kind */
	__u8 family;   /* AF_INET, AF_INET6, AF_UNIX */
	__u8 proto;    /* IPPROTO_TCP or IPPROTO_UDP; unix: sk_type */
	__u8 state;    /* TCP_* as sock_diag reports it (tw_substate; SYN-RECV for requests) */
	__s8 v6only;   /* AF_INET6 full sockets: IPV6_V6ONLY; else -1 */
	__u8 flags;    /* NSNW_NET: NSNW_NET_PRIVATE_* */
	__u16 len;     /* unix: bytes of sun_path bound (0: unnamed) */
	union {
		struct {
			__u16 sport;   /* local port */
			__u16 dport;   /* remote port */
			__u32 ifindex; /* bound device, 0 if none */
			__u8 src[16];
			__u8 dst[16];
			char dev[16];  /* name of ifindex in the socket's namespace */
		} in;
		struct {
			__u64 peer;    /* inode of the peer, 0 if none */
			char path[NSNW_PATH_MAX];
		} un;
	};
};

#define NSNW_NET_SIZE 48u   /* up to the union */
#define NSNW_INET_SIZE 104u /* up to in.dev's end */
#define NSNW_UNIX_SIZE 56u  /* up to un.path */
#define NSNW_REC_MAX 168u   /* sizeof(struct nsnw_rec) */

/* Where the walk is, kept in the program's .bss between runs: a run stops when the ring
 * is nearly full and the next one resumes here once user space has emptied it. */
enum nsnw_phase {
	NSNW_PH_START = 0,
	NSNW_PH_LHASH,  /* TCP listeners (first, as sock_diag dumps them) */
	NSNW_PH_EHASH,  /* TCP established, TIME-WAIT and request sockets */
	NSNW_PH_UDP,    /* UDP, by port */
	NSNW_PH_NETS,   /* every namespace: its record, then its unix table */
	NSNW_PH_DONE,
};

/* The walk's working state (nsnwalk.bpf.c), in .bss; user space only clears it. */
struct nsnw_walk {
	__u64 base;      /* the current table's bucket array */
	__u64 node;      /* the current list node (in_chain) */
	__u64 tcp_hinfo; /* the global tables, as numbers */
	__u64 udp_table;
	__u64 net_head;  /* &net_namespace_list */
	__u64 net_cur;   /* the current namespace's struct list_head * (NETS) */
	__u32 list_off;  /* offsetof(struct net, list) */
	__u32 phase;     /* enum nsnw_phase */
	__u32 kind;      /* KIND_* of the current table */
	__u32 stride;    /* bucket size */
	__u32 off;       /* offset of the list head inside a bucket */
	__u32 node_off;  /* offset of the list node inside a socket */
	__u32 bucket;    /* the current bucket */
	__u32 nbuckets;
	__u32 in_chain;  /* node is valid */
	__u32 chain_len;
	__u32 attempts;  /* walks of this TCP bucket that went astray */
	__u32 net_inum;  /* NETS: the current namespace */
	__u32 stopped;   /* stopped for room */
	__u32 net_pending; /* stopped before the namespace's record could be written */
	__u32 done;
};

#endif
