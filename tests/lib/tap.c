/* SPDX-License-Identifier: MIT */
/* The harness: assertions are macros in tap.h; fixture helpers live here. */
#include "tap.h"

char *tap_dup_exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, s, len);
	return p;
}

char *tap_load(const char *dir, const char *name, size_t *ret_len)
{
	char path[512];
	FILE *f;
	long n;
	char *p = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		TAP_FAIL("cannot open %s", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*ret_len = (size_t)n;
	}
	fclose(f);
	if (!p)
		TAP_FAIL("cannot read %s", path);
	return p;
}
