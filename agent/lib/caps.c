/* SPDX-License-Identifier: MIT */
/* Which capabilities a scan needs, checked up front so that a missing one is one clear
 * line instead of hundreds of per-namespace EPERMs. */
#include <errno.h>
#include <sys/capability.h>

#include "internal.h"

static int has_cap(cap_t caps, cap_value_t v)
{
	cap_flag_value_t f = CAP_CLEAR;

	return cap_get_flag(caps, v, CAP_EFFECTIVE, &f) == 0 && f == CAP_SET;
}

int nsn_gather_check_caps(enum nsn_scope scope, const char **ret_missing)
{
	static const struct {
		cap_value_t v;
		const char *name;
	} need[] = {
		/* setns(CLONE_NEWNET) into a namespace we do not own */
		{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
		/* /proc/<pid>/ns/net and /proc/<pid>/fd of other users' processes */
		{CAP_SYS_PTRACE, "CAP_SYS_PTRACE"},
	};
	cap_t caps;
	int r = 0;

	*ret_missing = NULL;
	/* The caller's own namespace needs nothing, like netstat and ss. */
	if (scope == NSN_SCOPE_CURRENT)
		return 0;
	caps = cap_get_proc();
	if (!caps)
		return -errno;
	for (size_t i = 0; i < NSN_ARRAY_SIZE(need); i++) {
		if (!has_cap(caps, need[i].v)) {
			*ret_missing = need[i].name;
			r = -EPERM;
			break;
		}
	}
	cap_free(caps);
	return r;
}

int nsn__bpf_check_caps(const char **ret_missing)
{
	cap_t caps = cap_get_proc();
	int bpf, perfmon;

	*ret_missing = NULL;
	if (!caps)
		return -errno;
	/* CAP_SYS_ADMIN stands in for both (bpf_capable(), perfmon_capable()) */
	bpf = has_cap(caps, CAP_SYS_ADMIN) || has_cap(caps, CAP_BPF);
	perfmon = has_cap(caps, CAP_SYS_ADMIN) || has_cap(caps, CAP_PERFMON);
	cap_free(caps);
	if (!bpf)
		*ret_missing = perfmon ? "CAP_BPF" : "CAP_BPF and CAP_PERFMON";
	else if (!perfmon)
		*ret_missing = "CAP_PERFMON";
	return *ret_missing ? -EPERM : 0;
}
