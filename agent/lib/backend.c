/* SPDX-License-Identifier: MIT */
/* --backend: which one a scan uses, and why not BPF when it cannot be. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const names[] = {
	[NSN_BACKEND_AUTO] = "auto",
	[NSN_BACKEND_NETLINK] = "netlink",
	[NSN_BACKEND_BPF] = "bpf",
};

const char *nsn_backend_name(enum nsn_backend b)
{
	return (unsigned)b < NSN_ARRAY_SIZE(names) ? names[b] : "?";
}

int nsn_backend_parse(const char *name, enum nsn_backend *ret)
{
	for (size_t i = 0; i < NSN_ARRAY_SIZE(names); i++) {
		if (name && !strcmp(name, names[i])) {
			*ret = (enum nsn_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

int nsn_backend_open(enum nsn_backend want, const struct nsn_gather_opts *opts, struct nsn_bpf **ret_bpf,
		     char *why, size_t why_len)
{
	char reason[256] = "";
	int r;

	*ret_bpf = NULL;
	if (why_len)
		why[0] = '\0';
	if (want == NSN_BACKEND_NETLINK)
		return 0;
	if (want == NSN_BACKEND_AUTO) {
		/* For one namespace a sock_diag dump costs less than loading the program
		 * (about 30 ms); tcp_info and socket memory only sock_diag reports. Neither is
		 * a fallback: nothing to say. */
		if (opts->scope != NSN_SCOPE_ALL || (opts->flags & NSN_GATHER_INFO) ||
		    (opts->flags & NSN_GATHER_NO_SOCKS))
			return 0;
	} else if (opts->flags & NSN_GATHER_INFO) {
		snprintf(why, why_len, "the BPF backend does not report tcp_info or socket memory (nsnetstat --info, nsnet-agent --tcp-info): "
				       "use --backend netlink or auto");
		return -ENOTSUP;
	}
	/* A netlink-only build said so at configure time: auto has nothing to add. */
	if (want == NSN_BACKEND_AUTO && !nsn_bpf_built())
		return 0;
	r = nsn_bpf_open(ret_bpf, reason, sizeof(reason));
	if (r < 0) {
		*ret_bpf = NULL;
		if (want == NSN_BACKEND_AUTO) {
			snprintf(why, why_len, "BPF backend unavailable: %s; using netlink (setns + sock_diag per namespace)",
				 reason);
			return 0;
		}
		snprintf(why, why_len, "BPF backend unavailable: %s", reason);
		return r;
	}
	return 0;
}
