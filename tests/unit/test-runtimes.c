/* SPDX-License-Identifier: MIT */
/* Unit tests for agent/lib/runtimes.c (runc/crun state, containers/storage names, Docker
 * names) and nsn__podlogs_parse_link() in agent/lib/podlogs.c. Every buffer handed to a
 * JSON parser is an exact-size heap copy with no NUL after it, so ASan sees any read past
 * len. runc-state.json and storage-containers.json are real runc 1.1.5 / podman 4.3.1
 * output; crun-status.json and docker-config.v2.json are written after their sources. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "tap.h"

#ifndef NSN_RUNTIME_FIXTURES
#error "NSN_RUNTIME_FIXTURES must name tests/unit/fixtures/runtimes"
#endif

#define RUNC_ID	 "04a43f26e3d8951884a9cdbe28be7ed1d2fda2b906b4054cee6b23b05ad180db"
#define PODMAN_A "de1df48ae24415a49f4bab0a5f22bcd66b930db7010b41577c51879b31ffe5b1"
#define PODMAN_B "84cf805e6d791f5fcba507209fbd73e35125d00f6d4312ecb0ed0d001895c549"
#define CRUN_ID	 "7e1b3d5f9a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b"
#define CTR_ID	 "9c2f4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d"
#define UID_CRIO "d2b7e4c1-9f3a-4b6d-8e2f-7a1c5b9d3e0f"
#define RUNC_DIR "/tmp/rcx/bundles/" RUNC_ID
#define CRUN_DIR "/var/lib/containers/storage/overlay-containers/" CRUN_ID "/userdata"

/* The three JSON readers behind one signature, for the tables. */
enum kind { RUNC, STORAGE, DOCKER, KINDS };
static const char *const kind_name[KINDS] = {"runc", "storage", "docker"};

static int call(enum kind k, const char *p, size_t len, char *ret, size_t size)
{
	switch (k) {
	case RUNC: return nsn__runc_state_bundle(p, len, ret, size);
	case STORAGE: return nsn__storage_names(p, len, PODMAN_A, ret, size);
	default: return nsn__docker_name(p, len, ret, size);
	}
}

static int str_call(enum kind k, const char *s, char *ret, size_t size)
{
	size_t len = strlen(s);
	char *p = tap_dup_exact(s, len);
	int r = call(k, p, len, ret, size);

	free(p);
	return r;
}

static int runc_str(const char *s, char *ret, size_t size)
{
	return str_call(RUNC, s, ret, size);
}

static int docker_str(const char *s, char *ret, size_t size)
{
	return str_call(DOCKER, s, ret, size);
}

static int storage_str(const char *s, const char *id, char *ret, size_t size)
{
	size_t len = strlen(s);
	char *p = tap_dup_exact(s, len);
	int r = nsn__storage_names(p, len, id, ret, size);

	free(p);
	return r;
}

static void fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

TEST(runc_fixture)
{
	size_t len = 0;
	char *doc = tap_load(NSN_RUNTIME_FIXTURES, "runc-state.json", &len);
	char ret[256];

	if (!doc)
		return;
	ASSERT_EQ(nsn__runc_state_bundle(doc, len, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, RUNC_DIR);
	/* The path and its NUL exactly fit; one byte less does not, and nothing is cut. */
	ASSERT_EQ(nsn__runc_state_bundle(doc, len, ret, sizeof(RUNC_DIR)), 0);
	ASSERT_STREQ(ret, RUNC_DIR);
	ASSERT_EQ(nsn__runc_state_bundle(doc, len, ret, sizeof(RUNC_DIR) - 1), -ENAMETOOLONG);
	ASSERT_STREQ(ret, "");
	ASSERT_EQ(nsn__runc_state_bundle(doc, len, ret, 1), -ENAMETOOLONG);
	free(doc);
}

TEST(crun_fixture)
{
	size_t len = 0;
	char *doc = tap_load(NSN_RUNTIME_FIXTURES, "crun-status.json", &len);
	char ret[256];

	if (!doc)
		return;
	ASSERT_EQ(nsn__runc_state_bundle(doc, len, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, CRUN_DIR);
	free(doc);
}

/* runc appends its own label last; a "bundle" annotation before it must not win. */
TEST(runc_labels)
{
	char ret[64];

	ASSERT_EQ(runc_str("{\"config\":{\"labels\":[\"bundle=/evil\",\"a=b\",\"bundle=/real\"]}}",
			   ret, sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "/real");
	/* Not labels: other types, other keys, a key without '='. */
	ASSERT_EQ(runc_str("{\"config\":{\"labels\":[\"bundle=/real\",7,null,[\"bundle=/x\"],"
			   "\"bundlex=/y\",\"bundle\",\"xbundle=/z\",\"Bundle=/w\"]}}",
			   ret, sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "/real");
	/* The value is everything after the first '='. */
	ASSERT_EQ(runc_str("{\"config\":{\"labels\":[\"bundle=/a=b c\"]}}", ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "/a=b c");
	/* runc's label before crun's key; crun's key when runc has no label. */
	ASSERT_EQ(runc_str("{\"bundle\":\"/crun\",\"config\":{\"labels\":[\"bundle=/runc\"]}}", ret,
			   sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "/runc");
	ASSERT_EQ(
	    runc_str("{\"bundle\":\"/crun\",\"config\":{\"labels\":[\"x=y\"]}}", ret, sizeof(ret)),
	    0);
	ASSERT_STREQ(ret, "/crun");
	/* UTF-8 is a path like any other. */
	ASSERT_EQ(runc_str("{\"bundle\":\"/caf\\u00e9\"}", ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "/caf\xc3\xa9");
}

TEST(runc_missing)
{
	static const char *const none[] = {
	    "{}",
	    "{\"config\":{}}",
	    "{\"config\":null}",
	    "{\"config\":[]}",
	    "{\"config\":\"bundle=/x\"}",
	    "{\"config\":{\"labels\":[]}}",
	    "{\"config\":{\"labels\":null}}",
	    "{\"config\":{\"labels\":\"bundle=/x\"}}",
	    "{\"config\":{\"labels\":{\"bundle\":\"/x\"}}}",
	    "{\"config\":{\"labels\":[42,true,{}]}}",
	    "{\"config\":{\"labels\":[\"io.kubernetes.pod.name=web\"]}}",
	    "{\"labels\":[\"bundle=/x\"]}", /* not under config */
	    "{\"bundle\":42}",
	    "{\"bundle\":null}",
	    "{\"bundle\":[\"/x\"]}",
	    "{\"id\":\"x\",\"status\":{\"bundle\":\"/x\"}}",
	};
	char ret[64];

	for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++) {
		int r;

		memset(ret, 'x', sizeof(ret));
		r = runc_str(none[k], ret, sizeof(ret));
		if (r != -ENOENT)
			TAP_FAIL("%s gave %d", none[k], r);
		tap_asserts++;
		ASSERT_STREQ(ret, "");
	}
}

/* A bundle that runc or crun did not write: relative, empty, or with control characters. */
TEST(runc_bad_value)
{
	static const char *const bad[] = {
	    "{\"config\":{\"labels\":[\"bundle=\"]}}",
	    "{\"config\":{\"labels\":[\"bundle=rel/dir\"]}}",
	    "{\"config\":{\"labels\":[\"bundle=./dir\"]}}",
	    "{\"config\":{\"labels\":[\"bundle= /dir\"]}}",
	    "{\"config\":{\"labels\":[\"bundle=/a\\u0000b\"]}}",
	    "{\"config\":{\"labels\":[\"bundle=/a\\nb\"]}}",
	    "{\"config\":{\"labels\":[\"bundle=/a\\u007fb\"]}}",
	    "{\"config\":{\"labels\":[\"bundle=/a\\u001bb\"]}}",
	    /* The last label decides, even when an earlier one was fine. */
	    "{\"config\":{\"labels\":[\"bundle=/ok\",\"bundle=rel\"]}}",
	    "{\"bundle\":\"\"}",
	    "{\"bundle\":\"rootfs\"}",
	};
	char ret[64];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int r;

		memset(ret, 'x', sizeof(ret));
		r = runc_str(bad[k], ret, sizeof(ret));
		if (r != -EINVAL)
			TAP_FAIL("%s gave %d", bad[k], r);
		tap_asserts++;
		ASSERT_STREQ(ret, "");
	}
}

TEST(runc_long_path)
{
	char path[5000], doc[5100], ret[4097];

	/* PATH_MAX-sized paths are fine when the caller's buffer is. */
	path[0] = '/';
	fill(path + 1, 'd', 4095);
	snprintf(doc, sizeof(doc), "{\"config\":{\"labels\":[\"bundle=%s\"]}}", path);
	ASSERT_EQ(runc_str(doc, ret, sizeof(ret)), 0);
	ASSERT_EQ(strlen(ret), 4096);
	fill(path + 1, 'd', 4096);
	snprintf(doc, sizeof(doc), "{\"config\":{\"labels\":[\"bundle=%s\"]}}", path);
	memset(ret, 'x', sizeof(ret));
	ASSERT_EQ(runc_str(doc, ret, sizeof(ret)), -ENAMETOOLONG);
	ASSERT_STREQ(ret, "");
}

TEST(storage_fixture)
{
	size_t len = 0;
	char *doc = tap_load(NSN_RUNTIME_FIXTURES, "storage-containers.json", &len);
	char ret[64];

	if (!doc)
		return;
	ASSERT_EQ(nsn__storage_names(doc, len, PODMAN_A, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "rcfx-20002");
	ASSERT_EQ(nsn__storage_names(doc, len, PODMAN_B, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "rcfx-20005");
	/* An id that is not there, a prefix of one, one with a byte more, another case. */
	memset(ret, 'x', sizeof(ret));
	ASSERT_EQ(nsn__storage_names(doc, len, RUNC_ID, ret, sizeof(ret)), -ENOENT);
	ASSERT_STREQ(ret, "");
	ASSERT_EQ(nsn__storage_names(doc, len, "de1df48ae244", ret, sizeof(ret)), -ENOENT);
	ASSERT_EQ(nsn__storage_names(doc, len, PODMAN_A "0", ret, sizeof(ret)), -ENOENT);
	ASSERT_EQ(nsn__storage_names(
		      doc, len, "DE1DF48AE24415A49F4BAB0A5F22BCD66B930DB7010B41577C51879B31FFE5B1",
		      ret, sizeof(ret)),
		  -ENOENT);
	/* The layer and image ids are not container ids. */
	ASSERT_EQ(nsn__storage_names(
		      doc, len, "49e3d7ee07b2332605ea15e3f0c410c55d66027d814529f183c7dd0d6622154d",
		      ret, sizeof(ret)),
		  -ENOENT);
	/* "rcfx-20002" and its NUL take 11 bytes. */
	ASSERT_EQ(nsn__storage_names(doc, len, PODMAN_A, ret, 11), 0);
	ASSERT_STREQ(ret, "rcfx-20002");
	ASSERT_EQ(nsn__storage_names(doc, len, PODMAN_A, ret, 10), -ENAMETOOLONG);
	ASSERT_STREQ(ret, "");
	free(doc);
}

TEST(storage_entries)
{
	char ret[128];

	/* CRI-O's names are the kubelet's; the first of several is the one shown. */
	ASSERT_EQ(storage_str("[{\"id\":\"" PODMAN_A "\",\"names\":[\"k8s_nginx_nginx-7854ff8877-"
			      "zq4rb_default_" UID_CRIO "_0\",\"alias\"]}]",
			      PODMAN_A, ret, sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "k8s_nginx_nginx-7854ff8877-zq4rb_default_" UID_CRIO "_0");
	/* Entries that are not objects, or carry no string id, are passed over. */
	ASSERT_EQ(storage_str("[1,null,\"" PODMAN_A "\",[],{\"id\":7,\"names\":[\"bad\"]},"
			      "{\"names\":[\"noid\"]},{\"id\":\"" PODMAN_A
			      "\",\"names\":[\"web\"]}]",
			      PODMAN_A, ret, sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "web");
	/* The first entry with the id counts, whatever it holds. */
	ASSERT_EQ(storage_str("[{\"id\":\"" PODMAN_A "\",\"names\":[\"one\"]},"
			      "{\"id\":\"" PODMAN_A "\",\"names\":[\"two\"]}]",
			      PODMAN_A, ret, sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "one");
	ASSERT_EQ(storage_str("[{\"id\":\"" PODMAN_A "\",\"names\":[]},"
			      "{\"id\":\"" PODMAN_A "\",\"names\":[\"two\"]}]",
			      PODMAN_A, ret, sizeof(ret)),
		  -ENOENT);
	/* Any id string is matched exactly, not only 64 hex. */
	ASSERT_EQ(storage_str("[{\"id\":\"abc\",\"names\":[\"short\"]}]", "abc", ret, sizeof(ret)),
		  0);
	ASSERT_STREQ(ret, "short");
	/* An escaped NUL in the id does not let a prefix match. */
	ASSERT_EQ(
	    storage_str("[{\"id\":\"abc\\u0000def\",\"names\":[\"x\"]}]", "abc", ret, sizeof(ret)),
	    -ENOENT);
	ASSERT_EQ(storage_str("[]", PODMAN_A, ret, sizeof(ret)), -ENOENT);
}

TEST(storage_missing)
{
	static const char *const none[] = {
	    "[{\"id\":\"" PODMAN_A "\"}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[]}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":null}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":\"web\"}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":{\"0\":\"web\"}}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[42,\"web\"]}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[null]}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[[\"web\"]]}]",
	    "[{\"ID\":\"" PODMAN_A "\",\"names\":[\"web\"]}]",
	    "[{\"id\":[\"" PODMAN_A "\"],\"names\":[\"web\"]}]",
	    "[{\"id\":\"" PODMAN_B "\",\"names\":[\"web\"]}]",
	    "[[{\"id\":\"" PODMAN_A "\",\"names\":[\"web\"]}]]",
	};
	char ret[64];

	for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++) {
		int r;

		memset(ret, 'x', sizeof(ret));
		r = storage_str(none[k], PODMAN_A, ret, sizeof(ret));
		if (r != -ENOENT)
			TAP_FAIL("%s gave %d", none[k], r);
		tap_asserts++;
		ASSERT_STREQ(ret, "");
	}
	static const char *const bad[] = {
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[\"\"]}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[\"we\\u0000b\"]}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[\"we\\tb\"]}]",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[\"\",\"web\"]}]", /* the first decides */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int r;

		memset(ret, 'x', sizeof(ret));
		r = storage_str(bad[k], PODMAN_A, ret, sizeof(ret));
		if (r != -EINVAL)
			TAP_FAIL("%s gave %d", bad[k], r);
		tap_asserts++;
		ASSERT_STREQ(ret, "");
	}
}

TEST(docker_fixture)
{
	size_t len = 0;
	char *doc = tap_load(NSN_RUNTIME_FIXTURES, "docker-config.v2.json", &len);
	char ret[64];

	if (!doc)
		return;
	ASSERT_EQ(nsn__docker_name(doc, len, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "shop-web-1");
	/* The name without its '/' and a NUL: 11 bytes. */
	ASSERT_EQ(nsn__docker_name(doc, len, ret, 11), 0);
	ASSERT_STREQ(ret, "shop-web-1");
	ASSERT_EQ(nsn__docker_name(doc, len, ret, 10), -ENAMETOOLONG);
	ASSERT_STREQ(ret, "");
	free(doc);
}

TEST(docker_values)
{
	static const char *const none[] = {
	    "{}",
	    "{\"Name\":null}",
	    "{\"Name\":42}",
	    "{\"Name\":[\"/web\"]}",
	    "{\"Name\":{\"Name\":\"/web\"}}",
	    "{\"name\":\"/web\"}",
	    "{\"Config\":{\"Name\":\"/web\",\"Hostname\":\"web\"}}",
	};
	static const char *const bad[] = {
	    "{\"Name\":\"\"}",
	    "{\"Name\":\"/\"}",
	    "{\"Name\":\"/we\\u0000b\"}",
	    "{\"Name\":\"/we\\rb\"}",
	};
	char ret[64];

	for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++) {
		int r;

		memset(ret, 'x', sizeof(ret));
		r = docker_str(none[k], ret, sizeof(ret));
		if (r != -ENOENT)
			TAP_FAIL("%s gave %d", none[k], r);
		tap_asserts++;
		ASSERT_STREQ(ret, "");
	}
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int r;

		memset(ret, 'x', sizeof(ret));
		r = docker_str(bad[k], ret, sizeof(ret));
		if (r != -EINVAL)
			TAP_FAIL("%s gave %d", bad[k], r);
		tap_asserts++;
		ASSERT_STREQ(ret, "");
	}
	/* Only one '/' is the daemon's; a name without one is taken as it is. */
	ASSERT_EQ(docker_str("{\"Name\":\"web\"}", ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "web");
	ASSERT_EQ(docker_str("{\"Name\":\"//web\"}", ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "/web");
	/* The top-level key, not the first one met. */
	ASSERT_EQ(
	    docker_str("{\"Config\":{\"Name\":\"/inner\"},\"Name\":\"/outer\"}", ret, sizeof(ret)),
	    0);
	ASSERT_STREQ(ret, "outer");
}

/* Documents each parser refuses whole: -EINVAL and an empty output. */
TEST(malformed)
{
	static const char *const bad[] = {
	    "{\"Name\":\"/a\",}",	/* trailing comma */
	    "[{\"id\":\"a\"},]",	/* trailing comma */
	    "{/* c */\"Name\":\"/a\"}", /* comment */
	    "{\"Name\":\"/a\"} x",	/* trailing garbage */
	    "[] x",
	    "{}{}", /* two documents */
	    "[][]",
	    "{} []",
	    "{\"a\" 1}",
	    "{\"a\":tru}",
	    "{\"Name\":\"\xff\xfe\"}", /* not UTF-8 */
	    "{\"a\":01}",
	    "}",
	    "]",
	    " ",
	    "\n\t",
	    "\xef\xbb\xbf{}", /* a byte-order mark: not JSON */
	    "{\"Name\":'/a'}",
	    "{Name:\"/a\"}",
	    "{\"Name\":\"/a\"",
	    "[{\"id\":\"a\"}",
	    "{\"Name\":\"/a",
	    "\"/a\"",
	    "123",
	    "null",
	    "true",
	};
	char ret[32];

	for (int k = 0; k < KINDS; k++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int r;

			memset(ret, 'x', sizeof(ret));
			r = str_call((enum kind)k, bad[i], ret, sizeof(ret));
			if (r != -EINVAL)
				TAP_FAIL("%s: \"%s\" gave %d", kind_name[k], bad[i], r);
			tap_asserts++;
			ASSERT_STREQ(ret, "");
		}
	}
	/* The wrong top-level type: an array where an object belongs, and the reverse. */
	ASSERT_EQ(runc_str("[{\"config\":{\"labels\":[\"bundle=/x\"]}}]", ret, sizeof(ret)),
		  -EINVAL);
	ASSERT_EQ(docker_str("[{\"Name\":\"/x\"}]", ret, sizeof(ret)), -EINVAL);
	ASSERT_EQ(storage_str("{\"id\":\"" PODMAN_A "\",\"names\":[\"web\"]}", PODMAN_A, ret,
			      sizeof(ret)),
		  -EINVAL);

	/* Bytes the tokener stops short of, here a NUL after the value. */
	char *p = tap_dup_exact("{\"Name\":\"/a\"}\0", 14);

	ASSERT_EQ(nsn__docker_name(p, 14, ret, sizeof(ret)), -EINVAL);
	ASSERT_STREQ(ret, "");
	ASSERT_EQ(nsn__docker_name(p, 13, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "a");
	free(p);
	p = tap_dup_exact("[]\0", 3);
	ASSERT_EQ(nsn__storage_names(p, 3, PODMAN_A, ret, sizeof(ret)), -EINVAL);
	ASSERT_EQ(nsn__storage_names(p, 2, PODMAN_A, ret, sizeof(ret)), -ENOENT);
	free(p);

	/* Whitespace around the value is JSON. */
	ASSERT_EQ(docker_str("\n {\"Name\":\"/a\"}\n\n", ret, sizeof(ret)), 0);
	ASSERT_EQ(storage_str(" [ ] \n", PODMAN_A, ret, sizeof(ret)), -ENOENT);
}

/* Every prefix of every fixture, in an exact-size buffer: truncated, never a crash. */
TEST(truncated)
{
	static const struct {
		const char *file;
		enum kind kind;
	} fx[] = {
	    {"runc-state.json", RUNC},
	    {"crun-status.json", RUNC},
	    {"storage-containers.json", STORAGE},
	    {"docker-config.v2.json", DOCKER},
	};

	for (size_t k = 0; k < sizeof(fx) / sizeof(fx[0]); k++) {
		size_t len = 0, end, wrong = 0;
		char *doc = tap_load(NSN_RUNTIME_FIXTURES, fx[k].file, &len);
		char ret[256];
		int full;

		if (!doc)
			continue;
		full = call(fx[k].kind, doc, len, ret, sizeof(ret));
		ASSERT_EQ(full, 0);
		end = len;
		while (end > 0 && doc[end - 1] != '}' && doc[end - 1] != ']')
			end--;
		for (size_t n = 1; n < len; n++) {
			char *p = tap_dup_exact(doc, n);
			int r;

			memset(ret, 'x', sizeof(ret));
			r = call(fx[k].kind, p, n, ret, sizeof(ret));
			if (r != (n < end ? -EINVAL : full) || (r < 0 && ret[0] != '\0')) {
				if (wrong++ == 0)
					TAP_FAIL("%s cut at %zu: %d", fx[k].file, n, r);
			}
			free(p);
		}
		ASSERT_EQ(wrong, 0);
		free(doc);
	}
}

/* A document with the wanted value and @depth nested arrays beside it. */
static char *nest(enum kind k, size_t depth, size_t *ret_len)
{
	static const char *const head[KINDS] = {
	    "{\"config\":{\"labels\":[\"bundle=/b\"]},\"d\":",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[\"n\"]},",
	    "{\"Name\":\"/n\",\"d\":",
	};
	static const char *const tail[KINDS] = {"}", "]", "}"};
	size_t hl = strlen(head[k]), tl = strlen(tail[k]);
	size_t len = hl + 2 * depth + tl;
	char *p = malloc(len), *q = p;

	memcpy(q, head[k], hl);
	q += hl;
	memset(q, '[', depth);
	q += depth;
	memset(q, ']', depth);
	q += depth;
	memcpy(q, tail[k], tl);
	*ret_len = len;
	return p;
}

TEST(deep_nesting)
{
	for (int k = 0; k < KINDS; k++) {
		char ret[32];
		size_t len;
		char *p;

		/* Far deeper than any real file (state.json: under ten levels), accepted. */
		p = nest((enum kind)k, 50, &len);
		ASSERT_EQ(call((enum kind)k, p, len, ret, sizeof(ret)), 0);
		ASSERT_STREQ(ret, k == RUNC ? "/b" : "n");
		free(p);
		p = nest((enum kind)k, 100, &len);
		memset(ret, 'x', sizeof(ret));
		ASSERT_EQ(call((enum kind)k, p, len, ret, sizeof(ret)), -EINVAL);
		ASSERT_STREQ(ret, "");
		free(p);
		p = nest((enum kind)k, 200000, &len);
		ASSERT_EQ(call((enum kind)k, p, len, ret, sizeof(ret)), -EINVAL);
		free(p);
	}
}

TEST(size_limit)
{
	static const char *const head[KINDS] = {
	    "{\"config\":{\"labels\":[\"bundle=/big\"]},\"pad\":\"",
	    "[{\"id\":\"" PODMAN_A "\",\"names\":[\"big\"]},\"",
	    "{\"Name\":\"/big\",\"pad\":\"",
	};
	static const char *const tail[KINDS] = {"\"}", "\"]", "\"}"};
	size_t max = NSN_RUNTIME_JSON_MAX;
	/* Every length handed in below is backed by this many bytes. */
	char *p = malloc(max + 1);

	if (!p) {
		TAP_FAIL("malloc");
		return;
	}
	for (int k = 0; k < KINDS; k++) {
		size_t hl = strlen(head[k]), tl = strlen(tail[k]);
		char ret[32];

		/* Exactly NSN_RUNTIME_JSON_MAX bytes is still parsed ... */
		memcpy(p, head[k], hl);
		memset(p + hl, 'x', max - hl - tl);
		memcpy(p + max - tl, tail[k], tl);
		ASSERT_EQ(call((enum kind)k, p, max, ret, sizeof(ret)), 0);
		ASSERT_STREQ(ret, k == RUNC ? "/big" : "big");
		/* ... one more (valid JSON: a trailing space) is refused before a byte is read. */
		p[max] = ' ';
		memset(ret, 'x', sizeof(ret));
		ASSERT_EQ(call((enum kind)k, p, max + 1, ret, sizeof(ret)), -E2BIG);
		ASSERT_STREQ(ret, "");
	}
	free(p);
}

TEST(bad_args)
{
	char *p = tap_dup_exact("{\"Name\":\"/a\",\"bundle\":\"/b\"}", 27);
	char *a = tap_dup_exact("[{\"id\":\"x\",\"names\":[\"n\"]}]", 26);
	char ret[16];

	for (int k = 0; k < KINDS; k++) {
		const char *doc = k == STORAGE ? a : p;
		size_t len = k == STORAGE ? 26 : 27;

		ASSERT_EQ(call((enum kind)k, doc, len, NULL, 16), -EINVAL);
		memset(ret, 'x', sizeof(ret));
		ASSERT_EQ(call((enum kind)k, doc, len, ret, 0), -EINVAL);
		ASSERT_EQ(ret[0], 'x'); /* size 0: not a byte written */
		ASSERT_EQ(call((enum kind)k, NULL, 0, ret, sizeof(ret)), -EINVAL);
		ASSERT_STREQ(ret, "");
		memset(ret, 'x', sizeof(ret));
		ASSERT_EQ(call((enum kind)k, NULL, 2, ret, sizeof(ret)), -EINVAL);
		ASSERT_STREQ(ret, "");
		ASSERT_EQ(call((enum kind)k, doc, 0, ret, sizeof(ret)), -EINVAL);
	}
	ASSERT_EQ(nsn__runc_state_bundle(p, 27, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "/b");
	ASSERT_EQ(nsn__docker_name(p, 27, ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "a");
	ASSERT_EQ(nsn__storage_names(a, 26, "x", ret, sizeof(ret)), 0);
	ASSERT_STREQ(ret, "n");
	memset(ret, 'x', sizeof(ret));
	ASSERT_EQ(nsn__storage_names(a, 26, NULL, ret, sizeof(ret)), -EINVAL);
	ASSERT_STREQ(ret, "");
	ASSERT_EQ(nsn__storage_names(a, 26, "", ret, sizeof(ret)), -EINVAL);
	free(p);
	free(a);
}

/* The kubelet's /var/log/containers/<pod>_<namespace>_<container>-<id>.log. */
#define LINK_PARSE(name)                                                                           \
	nsn__podlogs_parse_link(name, pod, sizeof(pod), ns, sizeof(ns), ctr, sizeof(ctr), id,      \
				sizeof(id))

TEST(link_valid)
{
	char pod[254], ns[64], ctr[64], id[65];

	ASSERT_EQ(LINK_PARSE("coredns-5d78c9869d-8x2kq_kube-system_coredns-" CTR_ID ".log"), 0);
	ASSERT_STREQ(pod, "coredns-5d78c9869d-8x2kq");
	ASSERT_STREQ(ns, "kube-system");
	ASSERT_STREQ(ctr, "coredns");
	ASSERT_STREQ(id, CTR_ID);

	/* Dashes in the container name stay with it; the id is what follows the last. */
	ASSERT_EQ(LINK_PARSE("web-0_shop_istio-proxy-" CTR_ID ".log"), 0);
	ASSERT_STREQ(pod, "web-0");
	ASSERT_STREQ(ns, "shop");
	ASSERT_STREQ(ctr, "istio-proxy");
	ASSERT_EQ(LINK_PARSE("p_n_a-b-c-d-" CTR_ID ".log"), 0);
	ASSERT_STREQ(ctr, "a-b-c-d");

	/* Static pods: a dotted pod name (name + node). */
	ASSERT_EQ(
	    LINK_PARSE("kube-apiserver-cp1.example.com_kube-system_kube-apiserver-" CTR_ID ".log"),
	    0);
	ASSERT_STREQ(pod, "kube-apiserver-cp1.example.com");
	ASSERT_STREQ(ns, "kube-system");
	ASSERT_STREQ(ctr, "kube-apiserver");

	/* A container name that itself looks like an id's tail. */
	ASSERT_EQ(LINK_PARSE("a_b_c0ffee-" CTR_ID ".log"), 0);
	ASSERT_STREQ(pod, "a");
	ASSERT_STREQ(ns, "b");
	ASSERT_STREQ(ctr, "c0ffee");
}

TEST(link_limits)
{
	char name[400], pod[254], ns[64], ctr[64], id[65], v63[64], p120[121];

	/* 63-character labels and the longest name the kubelet leaves whole (255 bytes). */
	fill(v63, 'n', 63);
	fill(p120, 'p', 120);
	p120[60] = '.';
	snprintf(name, sizeof(name), "%s_%s_%s-%s.log", p120, v63, "c", CTR_ID);
	ASSERT_EQ(strlen(name), 255);
	ASSERT_EQ(LINK_PARSE(name), 0);
	ASSERT_STREQ(pod, p120);
	ASSERT_STREQ(ns, v63);
	ASSERT_STREQ(ctr, "c");
	snprintf(name, sizeof(name), "p_n_%s-%s.log", v63, CTR_ID);
	ASSERT_EQ(LINK_PARSE(name), 0);
	ASSERT_STREQ(ctr, v63);

	/* One byte too small anywhere: refused, and the outputs are empty. */
	snprintf(name, sizeof(name), "pod_%s_%s-%s.log", v63, v63, CTR_ID);
	ASSERT_EQ(nsn__podlogs_parse_link(name, pod, 4, ns, 64, ctr, 64, id, 65), 0);
	ASSERT_EQ(nsn__podlogs_parse_link(name, pod, 3, ns, 64, ctr, 64, id, 65), -EINVAL);
	ASSERT_STREQ(pod, "");
	ASSERT_STREQ(ns, "");
	ASSERT_STREQ(ctr, "");
	ASSERT_STREQ(id, "");
	ASSERT_EQ(nsn__podlogs_parse_link(name, pod, 4, ns, 63, ctr, 64, id, 65), -EINVAL);
	ASSERT_EQ(nsn__podlogs_parse_link(name, pod, 4, ns, 64, ctr, 63, id, 65), -EINVAL);
	ASSERT_EQ(nsn__podlogs_parse_link(name, pod, 4, ns, 64, ctr, 64, id, 64), -EINVAL);
	ASSERT_STREQ(ns, "");
	ASSERT_EQ(nsn__podlogs_parse_link(name, pod, 0, ns, 64, ctr, 64, id, 65), -EINVAL);

	/* 64-character labels. */
	snprintf(name, sizeof(name), "p_%sn_c-%s.log", v63, CTR_ID);
	ASSERT_EQ(LINK_PARSE(name), -EINVAL);
	snprintf(name, sizeof(name), "p_n_%sc-%s.log", v63, CTR_ID);
	ASSERT_EQ(LINK_PARSE(name), -EINVAL);
	snprintf(name, sizeof(name), "%sp_n_c-%s.log", v63, CTR_ID);
	ASSERT_EQ(LINK_PARSE(name), -EINVAL);

	/* 256 bytes is past ext4's limit: the kubelet would have cut it. */
	snprintf(name, sizeof(name), "%s_%s_%s-%s.log", p120, v63, "cc", CTR_ID);
	ASSERT_EQ(strlen(name), 256);
	ASSERT_EQ(LINK_PARSE(name), -EINVAL);
	/* ... and cut, as it does, the id is lost and so is the name. */
	memcpy(name + 251, ".log", 5);
	ASSERT_EQ(LINK_PARSE(name), -EINVAL);
	for (size_t cut = 70; cut < 255; cut++) {
		char full[400];

		snprintf(full, sizeof(full), "%s_%s_%s-%s", p120, v63, "cc", CTR_ID);
		if (cut > strlen(full))
			break;
		memcpy(name, full, cut);
		memcpy(name + cut, ".log", 5);
		if (cut != strlen(full) && LINK_PARSE(name) != -EINVAL)
			TAP_FAIL("cut at %zu parsed", cut);
		tap_asserts++;
	}
}

TEST(link_invalid)
{
	static const char *const bad[] = {
	    "",
	    ".log",
	    CTR_ID ".log",		   /* the id alone */
	    "-" CTR_ID ".log",		   /* nothing before it */
	    "pod_ns_ctr-" CTR_ID,	   /* no .log */
	    "pod_ns_ctr-" CTR_ID ".LOG",   /* uppercase suffix */
	    "pod_ns_ctr-" CTR_ID ".log.1", /* rotated */
	    "pod_ns_ctr-" CTR_ID ".log ",
	    "pod_ns_ctr-" CTR_ID ".lo",
	    "pod_ns_ctr-9c2f4e1a7b3d.log", /* a short id */
	    "pod_ns_ctr-" CTR_ID "0.log",  /* 65 hex */
	    "pod_ns_ctr-0" CTR_ID ".log",  /* 65 hex, the other end */
	    "pod_ns_ctr" CTR_ID ".log",	   /* no '-' before the id */
	    "pod_ns_ctr_" CTR_ID ".log",   /* '_' before the id */
	    "pod_ns_ctr-9C2F4E1A7B3D5F60812A4C6E8B0D2F4A6C8E0B2D4F6A8C0E2B4D6F8A0C2E4B6D.log",
	    "pod_ns_ctr-9c2f4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6g.log",
	    "Pod_ns_ctr-" CTR_ID ".log", /* uppercase */
	    "pod_Ns_ctr-" CTR_ID ".log",
	    "pod_ns_Ctr-" CTR_ID ".log",
	    "pod_ns_ctr_x-" CTR_ID ".log", /* a fourth field */
	    "pod_ns_x_ctr-" CTR_ID ".log",
	    "pod__ns_ctr-" CTR_ID ".log",
	    "pod_ns-" CTR_ID ".log",   /* no container */
	    "pod_ns_-" CTR_ID ".log",  /* empty container */
	    "pod__ctr-" CTR_ID ".log", /* empty namespace */
	    "_ns_ctr-" CTR_ID ".log",  /* empty pod */
	    "__-" CTR_ID ".log",
	    "pod_ns_ctr--" CTR_ID ".log", /* container ends with '-' */
	    "pod_ns_-ctr-" CTR_ID ".log", /* container starts with '-' */
	    "pod_n.s_ctr-" CTR_ID ".log", /* '.' in a namespace */
	    "pod_ns_c.tr-" CTR_ID ".log", /* '.' in a container */
	    "pod._ns_ctr-" CTR_ID ".log", /* pod ends with '.' */
	    "po..d_ns_ctr-" CTR_ID ".log",
	    "-pod_ns_ctr-" CTR_ID ".log",
	    "pod-_ns_ctr-" CTR_ID ".log",
	    "p d_ns_ctr-" CTR_ID ".log",
	    "pod_ns_ctr-" CTR_ID ".log/",
	    "../pod_ns_ctr-" CTR_ID ".log",
	    "pod/ns_x_ctr-" CTR_ID ".log",
	};
	char pod[254], ns[64], ctr[64], id[65];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int r;

		memset(pod, 'x', sizeof(pod));
		memset(ns, 'x', sizeof(ns));
		memset(ctr, 'x', sizeof(ctr));
		memset(id, 'x', sizeof(id));
		r = LINK_PARSE(bad[k]);
		if (r != -EINVAL)
			TAP_FAIL("\"%s\" gave %d", bad[k], r);
		tap_asserts++;
		ASSERT_TRUE(!pod[0] && !ns[0] && !ctr[0] && !id[0]);
	}
	memset(pod, 'x', sizeof(pod));
	ASSERT_EQ(LINK_PARSE(NULL), -EINVAL);
	ASSERT_STREQ(pod, "");
	memset(pod, 'x', sizeof(pod));
	ASSERT_EQ(nsn__podlogs_parse_link("p_n_c-" CTR_ID ".log", pod, sizeof(pod), ns, sizeof(ns),
					  ctr, sizeof(ctr), NULL, 0),
		  -EINVAL);
	ASSERT_TRUE(!pod[0] && !ns[0] && !ctr[0]);
	ASSERT_EQ(nsn__podlogs_parse_link("p_n_c-" CTR_ID ".log", NULL, 0, ns, sizeof(ns), ctr,
					  sizeof(ctr), id, sizeof(id)),
		  -EINVAL);

	/* A name far longer than any valid one is refused without reading it all. */
	char *big = malloc(100001);

	memset(big, 'a', 100000);
	big[100000] = '\0';
	big[3] = '_';
	big[7] = '_';
	ASSERT_EQ(LINK_PARSE(big), -EINVAL);
	free(big);
}

TEST_MAIN(CASE(runc_fixture), CASE(crun_fixture), CASE(runc_labels), CASE(runc_missing),
	  CASE(runc_bad_value), CASE(runc_long_path), CASE(storage_fixture), CASE(storage_entries),
	  CASE(storage_missing), CASE(docker_fixture), CASE(docker_values), CASE(malformed),
	  CASE(truncated), CASE(deep_nesting), CASE(size_limit), CASE(bad_args), CASE(link_valid),
	  CASE(link_limits), CASE(link_invalid))
