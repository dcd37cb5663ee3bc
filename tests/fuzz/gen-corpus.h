/* SPDX-License-Identifier: MIT */
/* The seed writers of fuzz-gen-corpus (gen-corpus.c: frame; store-seeds.c: store). */
#ifndef NSN_FUZZ_GEN_CORPUS_H
#define NSN_FUZZ_GEN_CORPUS_H

/* Write fuzz-store's seeds into @p dir; 0, or -1 after a message on stderr. */
int store_seeds(const char *dir);

#endif
