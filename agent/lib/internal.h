/* SPDX-License-Identifier: MIT */
/* Gatherer internals shared between the files of agent/lib. Not installed. */
#ifndef NSN_INTERNAL_H
#define NSN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nsnet/gather.h>

struct nl_sock; /* libnl, opaque here */
struct nsn__attr;

#define NSN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A bump allocator: many small strings and structs that live exactly as long as the
 * namespace record they belong to, freed in one go. */
struct nsn__arena {
	struct nsn__arena_chunk *head;
};
void *nsn__arena_alloc(struct nsn__arena *a, size_t size);
char *nsn__arena_strndup(struct nsn__arena *a, const char *s, size_t n);
void nsn__arena_release(struct nsn__arena *a);

/* How many paths to a namespace we remember: names first, then a few tasks. If every
 * one of them is gone by the time a worker opens it, the namespace vanished. */
#define NSN__MAX_PATHS 4

struct nsn__netns_priv {
	struct nsn__arena arena;
	const char *paths[NSN__MAX_PATHS];
	size_t n_paths;
	size_t cap_socks;
	size_t cap_counters;
	size_t cap_names;
	pid_t last_pid; /* to count thread groups, not threads */
	int vanished;   /* every path to it was gone when a worker came to enter it */
	bool bpf_done;  /* its sockets came from the BPF walk: sock_diag skips them (not RAW) */
	size_t cookie_wanted; /* after the walk: sockets without a cookie, to look up */
	size_t cookie_asked, cookie_found; /* what the lookups did */
};

static inline struct nsn__netns_priv *nsn__priv(const struct nsn_netns *ns)
{
	return (struct nsn__netns_priv *)ns->priv;
}

/* Allocate a namespace record with its private part. */
struct nsn_netns *nsn__netns_new(uint64_t dev, uint64_t inode);
void nsn__netns_free(struct nsn_netns *ns);
int nsn__netns_add_name(struct nsn_netns *ns, const char *name);
void nsn__netns_add_path(struct nsn_netns *ns, const char *path, int prefer);
/* Append one zeroed socket record; NULL on ENOMEM. */
struct nsn_sock *nsn__netns_push_sock(struct nsn_netns *ns);
/* Give back the slack of the doubling growth once a namespace is dumped. */
void nsn__netns_trim_socks(struct nsn_netns *ns);

/* snprintf for paths: a path that does not fit is cut to "" (so that it names nothing
 * rather than another file) and false is returned. */
bool nsn__pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append a formatted warning line to the scan (caller's thread only). */
int nsn__scan_warn(struct nsn_scan *scan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Discovery (netns.c): fill scan->netns per opts->scope; with @p attr, every process
 * of the host is also handed to attribution (whatever the scope), and the namespaces
 * in scope are noted. opts->proc_root and run_root must be
 * resolved (not NULL). */
int nsn__discover(const struct nsn_gather_opts *opts, struct nsn__attr *attr, struct nsn_scan *scan);

/* sock_diag (sockdiag.c): a dumper holds one worker's receive buffer; it dumps every
 * socket the options ask for through @p fd, a NETLINK_SOCK_DIAG socket opened inside
 * the namespace. Returns 0 or the kernel's -errno. */
struct nsn__dumper;
struct nsn__dumper *nsn__dumper_new(void);
void nsn__dumper_free(struct nsn__dumper *d);

/* The descriptors a worker opens inside a namespace; -1 where not needed. The raw
 * ones are /proc/thread-self/net/raw{,6}, used when the kernel has no raw_diag. */
struct nsn__nsfds {
	int diag, raw4, raw6;
	int snmp, netstat, snmp6;
	struct nl_sock *rtnl;
};
int nsn__sockdiag_dump(struct nsn__dumper *d, struct nsn__nsfds *fds, struct nsn_netns *ns,
		       const struct nsn_gather_opts *opts);
/* A dump's parse step on a plain buffer (the fuzz target's way in): the messages of one
 * received datagram (@p len bytes at @p buf, aligned for struct nlmsghdr) that answer
 * request @p seq of a dump of @p proto (enum nsn_proto), added to @p ns as
 * nsn__sockdiag_dump() adds them under @p opts; interface names stay unresolved (no
 * socket to ask). Returns 1 at the end of the answer, 0 when more is to come, or -errno
 * (the kernel's error as sent, -EBADMSG, -ENOMEM; -EINVAL for an unknown @p proto). */
int nsn__sockdiag_parse(struct nsn__dumper *d, struct nsn_netns *ns,
			const struct nsn_gather_opts *opts, unsigned proto, uint32_t seq,
			const void *buf, size_t len);
/* The protocols a dump will really ask for: opts->protos less those that cannot hold a
 * socket in any wanted state. */
unsigned nsn__sockdiag_protos(const struct nsn_gather_opts *opts);
/* Cookies for the sockets of @p ns that have none (cookie 0: the BPF walk reads
 * cookies, it cannot make them), by one exact sock_diag lookup each through @p fd, a
 * NETLINK_SOCK_DIAG socket inside @p ns. *ret_asked: lookups sent; *ret_found: cookies
 * filled in (the rest were gone by then). 0 or -errno. */
int nsn__sockdiag_cookies(struct nsn__dumper *d, int fd, struct nsn_netns *ns, size_t *ret_asked,
			  size_t *ret_found);
/* How many sockets of @p ns nsn__sockdiag_cookies() would look up. */
size_t nsn__sockdiag_cookies_wanted(const struct nsn_netns *ns);
/* A NETLINK_SOCK_DIAG socket in the calling thread's namespace, or -errno. */
int nsn__sockdiag_open(void);
/* 1 if the kernel answers raw sock_diag requests, 0 if not (no raw_diag), or -errno. */
int nsn__sockdiag_has_raw(void);

/* rtnetlink through libnl-route-3 (rtnl.c). nsn__rtnl_open() connects a NETLINK_ROUTE
 * socket in the calling thread's namespace (NULL and -errno in *ret_err on failure);
 * nsn__rtnl_dump() fills ns->links (with addresses), ns->routes and ns->rules as
 * opts->flags ask, from any thread. */
struct nl_sock *nsn__rtnl_open(int *ret_err);
void nsn__rtnl_close(struct nl_sock *sk);
int nsn__rtnl_dump(struct nl_sock *sk, struct nsn_netns *ns, const struct nsn_gather_opts *opts);
/* The netnsid the socket's namespace uses for the namespace of @p netns_fd
 * (RTM_GETNSID), -1 (NETNSA_NSID_NOT_ASSIGNED) if it has none. 0 or -errno. */
int nsn__rtnl_nsid(struct nl_sock *sk, int netns_fd, int32_t *ret_nsid);
/* The same, asked of namespace @p from for each of @p targets, on a thread of its own
 * (only such threads ever setns). ret_nsids[i] is -1 where none or on failure. */
int nsn__netns_nsids(const struct nsn_netns *from, struct nsn_netns *const *targets, size_t n,
		     int32_t *ret_nsids);
/* libnl's -NLE_* code as -errno: the one place they are translated. */
int nsn__nl_errno(int nle);

/* Protocol counters (snmp.c): parse /proc/<thread>/net/{snmp,netstat,snmp6} opened
 * inside the namespace; takes ownership of the descriptors (-1: absent). */
int nsn__snmp_read(int fd_snmp, int fd_netstat, int fd_snmp6, struct nsn_netns *ns);
/* The same parser on a buffer: "Prefix: names" / "Prefix: values" line pairs when
 * @p paired, else "Name value" lines (snmp6). Exposed for the unit test. */
int nsn__snmp_parse(const char *buf, size_t len, bool paired, struct nsn_netns *ns);

/* veth peers (peers.c): name each veth's other end among the scanned namespaces. */
void nsn__peers_resolve(struct nsn_scan *scan);

/* /proc/net/raw{,6} parser (procnet.c); takes ownership of @p fd. */
int nsn__procnet_raw(int fd, int family, struct nsn_netns *ns, unsigned states);

/* Attribution (attrib.c), one context per scan on the caller's thread:
 *   begin; for every process nsn__attr_proc() once, then nsn__attr_note() for each
 *   namespace it has tasks in; nsn__attr_finish() fills scan->containers and each
 *   namespace's containers; nsn__attr_lookup() then maps a pid to its container (for
 *   the process map); nsn__attr_end() hands what was learned to the cache.
 * @p proc is the /proc to read, @p run_root the prefix of /run. */
struct nsn__attr;
struct nsn__attr_proc; /* opaque: a process's container in the cache, NULL for none */
int nsn__attr_begin(const struct nsn_gather_opts *opts, const char *proc, const char *run_root,
		    struct nsn__attr **ret);
struct nsn__attr_proc *nsn__attr_proc(struct nsn__attr *a, pid_t pid);
int nsn__attr_note(struct nsn__attr *a, struct nsn__attr_proc *proc, struct nsn_netns *ns, pid_t pid);
int nsn__attr_finish(struct nsn__attr *a, struct nsn_scan *scan);
const struct nsn_container *nsn__attr_lookup(const struct nsn__attr *a, pid_t pid);
void nsn__attr_end(struct nsn__attr *a);

/* The processes whose sockets attribution cannot place by namespace alone: container
 * processes in the host namespace (hostNetwork pods) and in namespaces shared by
 * several (non-sandbox) containers. A sorted array (free() it) in *ret; how many. */
size_t nsn__attr_ambiguous_pids(const struct nsn__attr *a, pid_t **ret);

/* Process map (procmap.c): one pass over <proc_root>/<pid>/fd for every process, or
 * only for @p pids when not NULL; with @p attr, each entry also gets its process's
 * container. */
int nsn__procmap_build(const char *proc_root, const struct nsn__attr *attr, const pid_t *pids,
		       size_t n_pids, struct nsn_procmap **ret_map);
void nsn__procmap_free(struct nsn_procmap *map);
/* How many processes' /proc/<pid>/fd could not be listed (EACCES: another user's,
 * without CAP_DAC_READ_SEARCH): their sockets have no process. */
size_t nsn__procmap_denied(const struct nsn_procmap *map);
/* A map built by hand (from a peer's messages): nsn__procmap_new(), then
 * nsn__procmap_add() per (socket inode, process, fd), then nsn__procmap_seal() sorts it
 * and drops repeated (inode, pid, fd) entries; lookups are valid only after the seal.
 * new returns NULL on ENOMEM; add and seal return 0 or -ENOMEM. @p comm is truncated to
 * 15 bytes; @p container is not owned by the map. */
struct nsn_procmap *nsn__procmap_new(void);
int nsn__procmap_add(struct nsn_procmap *map, uint32_t inode, pid_t pid, int fd, const char *comm,
		     const struct nsn_container *container);
int nsn__procmap_seal(struct nsn_procmap *map);

/* The BPF backend (bpfwalk.c, or nobpf.c in a netlink-only build): one pass over the
 * host's TCP, UDP and UNIX tables adds the sockets of every namespace of @p scan that
 * the walk covers, and marks them (nsn__netns_priv.bpf_done); namespaces with private
 * hash tables are left to sock_diag; those the kernel no longer has are marked
 * vanished. Counts go to scan->bpf, drops and caps to the warnings. 0 or -errno (then
 * nothing was added: the caller falls back to sock_diag for every namespace). */
int nsn__bpf_walk(struct nsn_bpf *bpf, const struct nsn_gather_opts *opts, struct nsn_scan *scan);

/* Put @p ns's sockets in the order sock_diag dumps them (sockdiag.c): unix, raw, udp
 * (IPv4, then IPv6), tcp; stable within each. 0 or -ENOMEM (order unchanged). */
int nsn__socks_sort_ss(struct nsn_netns *ns);

/* What loading the BPF walker needs (caps.c): CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN.
 * 0, or -EPERM with what is missing in *ret_missing (static), or -errno. */
int nsn__bpf_check_caps(const char **ret_missing);

/* Monotonic milliseconds. */
double nsn__now_ms(void);

#endif
