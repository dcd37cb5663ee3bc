/* SPDX-License-Identifier: MIT */
/* Least privilege: the agent keeps CAP_SYS_ADMIN (setns into namespaces it does not
 * own), CAP_SYS_PTRACE (/proc/<pid>/ns/net and the links in /proc/<pid>/fd of other
 * users' processes) and CAP_DAC_READ_SEARCH (listing /proc/<pid>/fd, mode 0500 and
 * owned by the process's user: without it a pod running as non-root keeps its sockets
 * but loses its processes), nothing else: not in the effective, permitted or inheritable sets, not
 * in the bounding set, no ambient capabilities, and no_new_privs so that nothing it
 * could exec gains any.
 *
 * Capabilities are per thread in Linux and cap_set_proc() changes only the calling
 * thread, so this runs first in main(), before libuv or the scanner start a thread;
 * every later thread inherits the reduced sets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "agent.h"

static const struct {
	cap_value_t v;
	const char *name;
	const char *why;
} keep[] = {
	{CAP_SYS_ADMIN, "cap_sys_admin", "needed to enter other network namespaces (setns)"},
	{CAP_SYS_PTRACE, "cap_sys_ptrace", "needed to read other processes' /proc/PID/ns/net and /proc/PID/fd"},
	{CAP_DAC_READ_SEARCH, "cap_dac_read_search", "needed to list other users' /proc/PID/fd"},
};

#define N_KEEP (sizeof(keep) / sizeof(keep[0]))

static int kept(cap_value_t c)
{
	for (size_t i = 0; i < N_KEEP; i++)
		if (keep[i].v == c)
			return 1;
	return 0;
}

int privs_drop(const char **ret_missing, char *retained, size_t len)
{
	cap_t cur, want;
	cap_flag_value_t f;
	cap_value_t vals[N_KEEP];
	int r = 0, bounded = 0;
	size_t o = 0;

	*ret_missing = NULL;
	cur = cap_get_proc();
	if (!cur)
		return -errno;
	for (size_t i = 0; i < N_KEEP; i++) {
		if (cap_get_flag(cur, keep[i].v, CAP_PERMITTED, &f) < 0 || f != CAP_SET) {
			static char msg[192];

			snprintf(msg, sizeof(msg), "%s (%s)", keep[i].name, keep[i].why);
			*ret_missing = msg;
			cap_free(cur);
			return -EPERM;
		}
		vals[i] = keep[i].v;
	}
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
	if (cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &f) == 0 && f == CAP_SET) {
		for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
			if (kept(c))
				continue;
			if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) == 0)
				bounded++;
		}
	}
	cap_free(cur);
	cap_reset_ambient();
	want = cap_init();
	if (!want)
		return -errno;
	if (cap_set_flag(want, CAP_EFFECTIVE, N_KEEP, vals, CAP_SET) < 0 ||
	    cap_set_flag(want, CAP_PERMITTED, N_KEEP, vals, CAP_SET) < 0 || cap_set_proc(want) < 0)
		r = -errno;
	cap_free(want);
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	for (size_t i = 0; i < N_KEEP; i++)
		o += (size_t)snprintf(retained + o, o < len ? len - o : 0, "%s%s", i ? "," : "", keep[i].name);
	if (o < len)
		snprintf(retained + o, len - o, " bounding_dropped=%d", bounded);
	return 0;
}
