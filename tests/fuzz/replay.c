/* SPDX-License-Identifier: MIT */
/* The main() of a fuzz target's plain build: replays the files and directories given
 * (the checked-in corpus, or a reproducer a fuzzer wrote) through the target's
 * LLVMFuzzerTestOneInput(), one by one in name order, each from an exactly-sized heap
 * copy so that the sanitizer build catches a read past its end. Prints how many ran;
 * exits 1 when one cannot be read or none was found (an empty corpus tests nothing). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static const char *prog = "fuzz";

static int replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL, *exact;
	size_t len = 0, cap = 0, n;

	if (!fp)
		return -errno;
	do {
		if (cap - len < 4096) {
			uint8_t *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(fp);
				return -ENOMEM;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return -EIO;
	}
	fclose(fp);

	exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int replay_one(const char *path, size_t *ran)
{
	int e = replay_file(path);

	if (e < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-e));
		return e;
	}
	(*ran)++;
	return 0;
}

/* A file, or every regular file of a directory (sorted: a failure names the same file
 * on every machine). Counts the inputs run in *ran; reports its own errors. */
static int replay_path(const char *path, size_t *ran)
{
	struct dirent **ents = NULL;
	struct stat st;
	int n = 0, e = 0;

	if (stat(path, &st) < 0 ||
	    (S_ISDIR(st.st_mode) && (n = scandir(path, &ents, visible, alphasort)) < 0)) {
		e = -errno;
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return e;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_one(path, ran);
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (e == 0) {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
				e = replay_one(sub, ran);
		}
		free(ents[i]);
	}
	free(ents);
	return e;
}

int main(int argc, char **argv)
{
	size_t ran = 0;

	if (argc > 0 && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &ran) < 0)
			return 1;
	printf("%s: %zu inputs replayed\n", prog, ran);
	if (ran == 0) {
		fprintf(stderr, "%s: no inputs found\n", prog);
		return 1;
	}
	return 0;
}
