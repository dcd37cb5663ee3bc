/* SPDX-License-Identifier: MIT */
/* A netlink-only build: configured without clang, bpftool or libbpf (CMakeLists.txt
 * said so). Every scan uses setns + sock_diag. */
#include <errno.h>
#include <stdio.h>

#include "internal.h"

bool nsn_bpf_built(void)
{
	return false;
}

int nsn_bpf_open(struct nsn_bpf **ret, char *why, size_t why_len)
{
	*ret = NULL;
	snprintf(why, why_len, "this build has no BPF backend: configured with NSN_BPF=OFF or without clang, bpftool, libbpf-dev or kernel BTF");
	return -ENOTSUP;
}

void nsn_bpf_close(struct nsn_bpf *bpf)
{
	(void)bpf;
}

int nsn__bpf_walk(struct nsn_bpf *bpf, const struct nsn_gather_opts *opts, struct nsn_scan *scan)
{
	(void)bpf;
	(void)opts;
	(void)scan;
	return -ENOTSUP;
}
