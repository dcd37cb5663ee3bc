/* SPDX-License-Identifier: MIT */
/* Fuzz target for the /proc/<pid>/cgroup parser (agent/lib/cgroup.c), the first thing
 * attribution reads of every process on the host: a container's process chooses its
 * cgroup names (nested runtimes, systemd units), so the text is not trusted.
 *
 * Input: the file's text, as read (not NUL-terminated).
 *
 * Beyond "no crash, no leak", the promises of container.h abort: the result is 1, 0 or
 * -EINVAL with the ident zeroed unless 1; a recognised id is 64 lowercase hex with a
 * runtime, a pod UID 8-4-4-4-12 or 32 lowercase hex, the QoS one of the four words,
 * conmon only with a container; and the choice between lines is stable: the text
 * repeated after itself gives the same answer (the best line is the first of its kind). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "fuzz.h"

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool pod_uid_ok(const char *u)
{
	size_t n = strnlen(u, NSN_POD_UID_MAX + 1);

	if (n == 32)
		return lower_hex(u, n);
	if (n != NSN_POD_UID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !lower_hex(u + i, 1))
			return false;
	}
	return true;
}

static void check_ident(int r, const struct nsn__cgroup_ident *id)
{
	static const struct nsn__cgroup_ident zero;

	FUZZ_CHECK(r == 1 || r == 0 || r == -EINVAL);
	if (r != 1) {
		/* Zeroed with memset, padding included. */
		FUZZ_CHECK(memcmp(id, &zero, sizeof(zero)) == 0);
		return;
	}
	FUZZ_CHECK((unsigned)id->runtime < NSN_RUNTIME_MAX);
	FUZZ_CHECK(id->id[NSN_CONTAINER_ID_MAX] == '\0');
	FUZZ_CHECK(id->pod_uid[NSN_POD_UID_MAX] == '\0');
	FUZZ_CHECK(memchr(id->qos, '\0', sizeof(id->qos)) != NULL);
	if (id->runtime == NSN_RUNTIME_NONE) {
		/* A pod alone. */
		FUZZ_CHECK(id->id[0] == '\0' && !id->conmon && id->pod_uid[0]);
	} else {
		FUZZ_CHECK(strlen(id->id) == 64 && lower_hex(id->id, 64));
		FUZZ_CHECK(nsn__runtime_name(id->runtime) != NULL);
	}
	if (id->pod_uid[0])
		FUZZ_CHECK(pod_uid_ok(id->pod_uid));
	FUZZ_CHECK(!strcmp(id->qos, "") || !strcmp(id->qos, "guaranteed") ||
		   !strcmp(id->qos, "burstable") || !strcmp(id->qos, "besteffort"));
	if (id->qos[0])
		FUZZ_CHECK(id->pod_uid[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nsn__cgroup_ident a, b;
	char *twice;
	int r, r2;

	memset(&a, 0xa5, sizeof(a)); /* nothing stale may survive */
	r = nsn__cgroup_parse((const char *)data, size, &a);
	check_ident(r, &a);

	/* The same text twice (a newline between, so that the last line of the first copy
	 * stays what it was): the same lines in the same order of preference. */
	twice = malloc(2 * size + 1);
	if (!twice)
		abort();
	memcpy(twice, data, size);
	twice[size] = '\n';
	memcpy(twice + size + 1, data, size);
	memset(&b, 0x5a, sizeof(b));
	r2 = nsn__cgroup_parse(twice, 2 * size + 1, &b);
	check_ident(r2, &b);
	FUZZ_CHECK(r2 == r);
	FUZZ_CHECK(a.runtime == b.runtime && a.conmon == b.conmon && !strcmp(a.id, b.id) &&
		   !strcmp(a.pod_uid, b.pod_uid) && !strcmp(a.qos, b.qos));
	free(twice);

	FUZZ_CHECK(nsn__cgroup_parse((const char *)data, size, NULL) == -EINVAL);
	return 0;
}
