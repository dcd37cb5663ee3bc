/* SPDX-License-Identifier: MIT */
/* Fuzz target for the JSON files attribution reads from the host (json-c under our
 * checks): an OCI bundle's config.json (agent/lib/oci.c), and the runtimes' records
 * (agent/lib/runtimes.c): runc's state.json and crun's status, containers/storage's
 * containers.json, Docker's config.v2.json. A container's owner writes much of what
 * is in them (annotations, labels, names), so none of it is trusted.
 *
 * Input: one file's bytes (not NUL-terminated), given to every reader: each must
 * refuse what is not its kind of document.
 *
 * Beyond "no crash, no leak", the promises of container.h abort: documented results
 * only; the output zeroed (or "") on every failure; values whole, NUL-terminated in
 * their field and free of control characters; a bundle absolute; and a value copied
 * into a buffer exactly its size, or one byte short, gives that value or
 * -ENAMETOOLONG, never a cut one. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "fuzz.h"

/* The first container of tests/unit/fixtures/runtimes/storage-containers.json, whose
 * copy in the corpus the fuzzer mutates. */
#define STORAGE_ID "de1df48ae24415a49f4bab0a5f22bcd66b930db7010b41577c51879b31ffe5b1"

static bool clean(const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);

	if (!nul)
		return false;
	for (const char *p = s; p < nul; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static void check_oci(const uint8_t *data, size_t size)
{
	static const struct nsn__oci_info zero;
	struct nsn__oci_info info;
	int r;

	memset(&info, 0xa5, sizeof(info));
	r = nsn__oci_parse((const char *)data, size, &info);
	FUZZ_CHECK(r == 1 || r == 0 || r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	if (r != 1) {
		FUZZ_CHECK(memcmp(&info, &zero, sizeof(zero)) == 0);
		return;
	}
	FUZZ_CHECK((unsigned)info.runtime < NSN_RUNTIME_MAX);
	FUZZ_CHECK(clean(info.name, sizeof(info.name)));
	FUZZ_CHECK(clean(info.pod_name, sizeof(info.pod_name)));
	FUZZ_CHECK(clean(info.pod_namespace, sizeof(info.pod_namespace)));
	FUZZ_CHECK(clean(info.pod_uid, sizeof(info.pod_uid)));
	FUZZ_CHECK(clean(info.sandbox_id, sizeof(info.sandbox_id)));
}

enum reader { RUNC, STORAGE, DOCKER };

static int read_value(enum reader which, const uint8_t *data, size_t size, char *ret, size_t len)
{
	switch (which) {
	case RUNC: return nsn__runc_state_bundle((const char *)data, size, ret, len);
	case STORAGE: return nsn__storage_names((const char *)data, size, STORAGE_ID, ret, len);
	default: return nsn__docker_name((const char *)data, size, ret, len);
	}
}

static void check_runtime(enum reader which, const uint8_t *data, size_t size)
{
	char big[4096], *exact;
	size_t n;
	int r;

	memset(big, 0xa5, sizeof(big));
	r = read_value(which, data, size, big, sizeof(big));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOENT || r == -ENAMETOOLONG || r == -E2BIG ||
		   r == -ENOMEM);
	if (r < 0) {
		FUZZ_CHECK(big[0] == '\0');
		return;
	}
	FUZZ_CHECK(clean(big, sizeof(big)));
	n = strlen(big);
	FUZZ_CHECK(n > 0);
	if (which == RUNC)
		FUZZ_CHECK(big[0] == '/');

	/* Exactly room for it, then one byte short: whole or not at all. */
	exact = malloc(n + 1);
	if (!exact)
		abort();
	FUZZ_CHECK(read_value(which, data, size, exact, n + 1) == 0);
	FUZZ_CHECK(strcmp(exact, big) == 0);
	FUZZ_CHECK(read_value(which, data, size, exact, n) == -ENAMETOOLONG);
	FUZZ_CHECK(exact[0] == '\0');
	free(exact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_oci(data, size);
	check_runtime(RUNC, data, size);
	check_runtime(STORAGE, data, size);
	check_runtime(DOCKER, data, size);
	return 0;
}
