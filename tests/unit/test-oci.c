/* SPDX-License-Identifier: MIT */
/* Unit tests for agent/lib/oci.c (OCI config.json annotations) and agent/lib/podlogs.c
 * (/var/log/pods directory names). Every buffer handed to nsn__oci_parse() is an
 * exact-size heap copy with no NUL after it, so ASan sees any read past len. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "tap.h"

#ifndef NSN_OCI_FIXTURES
#error "NSN_OCI_FIXTURES must name tests/unit/fixtures/oci"
#endif

#define SBX_CD	 "8f3c2a1e5b7d49e0a6c4f2b1d3e5a7c9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1"
#define UID_CD	 "6a1f7c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
#define SBX_CRIO "3e9d0b1f6a4c47e28b5d9f0a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c90"
#define UID_CRIO "d2b7e4c1-9f3a-4b6d-8e2f-7a1c5b9d3e0f"

static int parse_str(const char *s, struct nsn__oci_info *ret)
{
	size_t len = strlen(s);
	char *p = tap_dup_exact(s, len);
	int r = nsn__oci_parse(p, len, ret);

	free(p);
	return r;
}

static int parse_fixture(const char *name, struct nsn__oci_info *ret)
{
	size_t len = 0;
	char *p = tap_load(NSN_OCI_FIXTURES, name, &len);
	int r;

	if (!p)
		return -ENOENT;
	r = nsn__oci_parse(p, len, ret);
	free(p);
	return r;
}

static bool all_zero(const struct nsn__oci_info *i)
{
	return i->runtime == NSN_RUNTIME_NONE && !i->sandbox && !i->name[0] && !i->pod_name[0] &&
	       !i->pod_namespace[0] && !i->pod_uid[0] && !i->sandbox_id[0];
}

static void poison(struct nsn__oci_info *i)
{
	memset(i, 'x', sizeof(*i));
	i->runtime = NSN_RUNTIME_DOCKER;
}

TEST(containerd_sandbox)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_fixture("containerd-sandbox.json", &i), 1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CONTAINERD);
	ASSERT_TRUE(i.sandbox);
	ASSERT_STREQ(i.name, ""); /* containerd names no container on the sandbox */
	ASSERT_STREQ(i.pod_name, "coredns-5d78c9869d-8x2kq");
	ASSERT_STREQ(i.pod_namespace, "kube-system");
	ASSERT_STREQ(i.pod_uid, UID_CD);
	ASSERT_STREQ(i.sandbox_id, SBX_CD);
}

TEST(containerd_container)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_fixture("containerd-container.json", &i), 1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CONTAINERD);
	ASSERT_TRUE(!i.sandbox);
	ASSERT_STREQ(i.name, "coredns");
	ASSERT_STREQ(i.pod_name, "coredns-5d78c9869d-8x2kq");
	ASSERT_STREQ(i.pod_namespace, "kube-system");
	ASSERT_STREQ(i.pod_uid, UID_CD);
	ASSERT_STREQ(i.sandbox_id, SBX_CD);
}

TEST(crio_sandbox)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_fixture("crio-sandbox.json", &i), 1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CRIO);
	ASSERT_TRUE(i.sandbox);
	ASSERT_STREQ(i.name, "POD"); /* the kubelet's label on the sandbox */
	ASSERT_STREQ(i.pod_name, "nginx-7854ff8877-zq4rb");
	ASSERT_STREQ(i.pod_namespace, "default");
	ASSERT_STREQ(i.pod_uid, UID_CRIO);
	ASSERT_STREQ(i.sandbox_id, SBX_CRIO);
}

TEST(crio_container)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_fixture("crio-container.json", &i), 1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CRIO);
	ASSERT_TRUE(!i.sandbox);
	ASSERT_STREQ(i.name, "nginx");
	ASSERT_STREQ(i.pod_name, "nginx-7854ff8877-zq4rb");
	ASSERT_STREQ(i.pod_namespace, "default");
	ASSERT_STREQ(i.pod_uid, UID_CRIO);
	ASSERT_STREQ(i.sandbox_id, SBX_CRIO);
}

TEST(not_kubernetes)
{
	static const char *const files[] = {"runc-spec.json", "nerdctl.json", "podman.json"};
	struct nsn__oci_info i;

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		poison(&i);
		ASSERT_EQ(parse_fixture(files[k], &i), 0);
		ASSERT_TRUE(all_zero(&i));
	}
	poison(&i);
	ASSERT_EQ(parse_str("{}", &i), 0);
	ASSERT_TRUE(all_zero(&i));
	ASSERT_EQ(parse_str("{\"ociVersion\":\"1.0.2\",\"annotations\":{}}", &i), 0);
	ASSERT_TRUE(all_zero(&i));
}

/* Podman writes CRI-O's key names ("sandbox" on a plain container) and io.container.manager. */
TEST(podman)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.container.manager\":\"libpod\","
			    "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
			    "\"io.kubernetes.cri-o.SandboxID\":\"abc\","
			    "\"io.kubernetes.pod.name\":\"web\","
			    "\"io.kubernetes.pod.namespace\":\"default\"}}",
			    &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_PODMAN);
	ASSERT_TRUE(!i.sandbox);
	ASSERT_STREQ(i.sandbox_id, "");
	ASSERT_STREQ(i.pod_name, "web");
	ASSERT_STREQ(i.pod_namespace, "default");
}

/* The kubelet's labels alone (dockershim's containers): names, no runtime. */
TEST(bare_labels)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.container.name\":\"app\","
			    "\"io.kubernetes.pod.name\":\"web-0\","
			    "\"io.kubernetes.pod.namespace\":\"prod\","
			    "\"io.kubernetes.pod.uid\":\"" UID_CD "\","
			    "\"io.kubernetes.docker.type\":\"container\"}}",
			    &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_NONE);
	ASSERT_TRUE(!i.sandbox);
	ASSERT_STREQ(i.name, "app");
	ASSERT_STREQ(i.pod_name, "web-0");
	ASSERT_STREQ(i.pod_namespace, "prod");
	ASSERT_STREQ(i.pod_uid, UID_CD);
	ASSERT_STREQ(i.sandbox_id, "");

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.pod.namespace\":\"prod\"}}", &i), 1);
	ASSERT_STREQ(i.pod_namespace, "prod");
}

/* containerd before 1.5 wrote only the type and the sandbox id; the labels fill in. */
TEST(containerd_old)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
			    "\"io.kubernetes.cri.sandbox-id\":\"" SBX_CD "\"}}",
			    &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CONTAINERD);
	ASSERT_TRUE(!i.sandbox);
	ASSERT_STREQ(i.sandbox_id, SBX_CD);
	ASSERT_STREQ(i.pod_name, "");

	ASSERT_EQ(
	    parse_str("{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"a\","
		      "\"io.kubernetes.pod.name\":\"b\",\"io.kubernetes.pod.namespace\":\"c\"}}",
		      &i),
	    1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CONTAINERD);
	ASSERT_STREQ(i.pod_name, "a"); /* containerd's own key first */
	ASSERT_STREQ(i.pod_namespace, "c");

	/* image-name alone still says containerd. */
	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.cri.image-name\":\"busybox\"}}", &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CONTAINERD);
}

/* CRI-O copies pod annotations into the spec; a user's io.kubernetes.cri.* must not win. */
TEST(crio_precedence)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.container.manager\":\"cri-o\","
			    "\"io.kubernetes.cri-o.ContainerType\":\"container\","
			    "\"io.kubernetes.cri-o.SandboxID\":\"" SBX_CRIO "\","
			    "\"io.kubernetes.cri.sandbox-name\":\"spoof\","
			    "\"io.kubernetes.cri.container-type\":\"sandbox\","
			    "\"io.kubernetes.cri.sandbox-id\":\"" SBX_CD "\","
			    "\"io.kubernetes.pod.name\":\"real\"}}",
			    &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CRIO);
	ASSERT_TRUE(!i.sandbox);
	ASSERT_STREQ(i.pod_name, "real");
	ASSERT_STREQ(i.sandbox_id, SBX_CRIO);
}

/* CRI-O's k8s_ name fills what the labels left out, and only a well-formed one does. */
TEST(crio_container_name)
{
	struct nsn__oci_info i;

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.cri-o.ContainerName\":"
			    "\"k8s_nginx_nginx-7854ff8877-zq4rb_default_" UID_CRIO "_3\"}}",
			    &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CRIO);
	ASSERT_STREQ(i.name, "nginx");
	ASSERT_STREQ(i.pod_name, "nginx-7854ff8877-zq4rb");
	ASSERT_STREQ(i.pod_namespace, "default");
	ASSERT_STREQ(i.pod_uid, UID_CRIO);

	ASSERT_EQ(
	    parse_str("{\"annotations\":{\"io.kubernetes.cri-o.ContainerName\":"
		      "\"k8s_nginx_pod_ns_uid_0\",\"io.kubernetes.container.name\":\"label\"}}",
		      &i),
	    1);
	ASSERT_STREQ(i.name, "label"); /* the label first */
	ASSERT_STREQ(i.pod_name, "pod");

	static const char *const bad[] = {
	    "nginx_pod_ns_uid_0",     /* no k8s_ */
	    "k8s_nginx_pod_ns_uid",   /* no attempt */
	    "k8s_nginx_pod_ns_uid_",  /* empty attempt */
	    "k8s_nginx_pod_ns_uid_x", /* attempt not a number */
	    "k8s_nginx__ns_uid_0",    /* empty pod */
	    "k8s_a_b_c_d_0_1",	      /* one field too many */
	    "k8s_",
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char buf[256];

		snprintf(buf, sizeof(buf),
			 "{\"annotations\":{\"io.kubernetes.cri-o.ContainerName\":\"%s\"}}",
			 bad[k]);
		ASSERT_EQ(parse_str(buf, &i), 1);
		ASSERT_EQ(i.runtime, NSN_RUNTIME_CRIO);
		ASSERT_STREQ(i.name, "");
		ASSERT_STREQ(i.pod_name, "");
		ASSERT_STREQ(i.pod_namespace, "");
		ASSERT_STREQ(i.pod_uid, "");
	}
}

TEST(wrong_types)
{
	static const char *const zero[] = {
	    "{\"annotations\":[]}",
	    "{\"annotations\":\"io.kubernetes.pod.name\"}",
	    "{\"annotations\":null}",
	    "{\"annotations\":42}",
	    "{\"annotations\":{\"io.kubernetes.pod.name\":7}}",
	    "{\"annotations\":{\"io.kubernetes.pod.name\":null}}",
	    "{\"annotations\":{\"io.kubernetes.pod.name\":true}}",
	    "{\"annotations\":{\"io.kubernetes.pod.name\":[\"a\"]}}",
	    "{\"annotations\":{\"io.kubernetes.pod.name\":{\"a\":\"b\"}}}",
	    "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"pod\"}}",
	    "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":1}}",
	    "{\"metadata\":{\"annotations\":{\"io.kubernetes.pod.name\":\"nested\"}}}",
	};
	struct nsn__oci_info i;

	for (size_t k = 0; k < sizeof(zero) / sizeof(zero[0]); k++) {
		poison(&i);
		ASSERT_EQ(parse_str(zero[k], &i), 0);
		ASSERT_TRUE(all_zero(&i));
	}
	/* One bad value does not spoil the others. */
	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
			    "\"io.kubernetes.cri.sandbox-name\":12,"
			    "\"io.kubernetes.cri.sandbox-namespace\":\"ns\"}}",
			    &i),
		  1);
	ASSERT_TRUE(i.sandbox);
	ASSERT_STREQ(i.pod_name, "");
	ASSERT_STREQ(i.pod_namespace, "ns");
}

static void fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

TEST(overlong)
{
	char v[400], doc[600];
	struct nsn__oci_info i;

	/* name[128] holds 127 characters: 127 is stored, 128 refused, never cut. */
	fill(v, 'a', 127);
	snprintf(doc, sizeof(doc),
		 "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"%s\"}}", v);
	ASSERT_EQ(parse_str(doc, &i), 1);
	ASSERT_EQ(strlen(i.name), 127);
	fill(v, 'a', 128);
	snprintf(doc, sizeof(doc),
		 "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"%s\"}}", v);
	ASSERT_EQ(parse_str(doc, &i), 1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CONTAINERD);
	ASSERT_STREQ(i.name, "");

	/* A 253-character pod name (the DNS subdomain limit) fits; 254 does not. */
	fill(v, 'p', 253);
	snprintf(doc, sizeof(doc), "{\"annotations\":{\"io.kubernetes.pod.name\":\"%s\"}}", v);
	ASSERT_EQ(parse_str(doc, &i), 1);
	ASSERT_EQ(strlen(i.pod_name), 253);
	fill(v, 'p', 254);
	snprintf(doc, sizeof(doc), "{\"annotations\":{\"io.kubernetes.pod.name\":\"%s\"}}", v);
	ASSERT_EQ(parse_str(doc, &i), 1); /* a Kubernetes key was there */
	ASSERT_STREQ(i.pod_name, "");

	fill(v, 'n', 254);
	snprintf(doc, sizeof(doc), "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"%s\"}}", v);
	ASSERT_EQ(parse_str(doc, &i), 1);
	ASSERT_STREQ(i.pod_namespace, "");

	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.pod.uid\":\"" UID_CD "0\"}}", &i),
		  1);
	ASSERT_STREQ(i.pod_uid, "");
	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.cri-o.SandboxID\":\"" SBX_CRIO
			    "0\"}}",
			    &i),
		  1);
	ASSERT_EQ(i.runtime, NSN_RUNTIME_CRIO);
	ASSERT_STREQ(i.sandbox_id, "");

	/* A refused value leaves the field to the next source, here the kubelet's label. */
	fill(v, 'p', 254);
	snprintf(doc, sizeof(doc),
		 "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"ns\","
		 "\"io.kubernetes.pod.name\":\"label\"}}",
		 v);
	ASSERT_EQ(parse_str(doc, &i), 1);
	ASSERT_STREQ(i.pod_name, "label");
	ASSERT_STREQ(i.pod_namespace, "ns");
}

/* An escaped NUL or control character would cut or garble the name: refused. */
TEST(control_chars)
{
	struct nsn__oci_info i;

	ASSERT_EQ(
	    parse_str("{\"annotations\":{\"io.kubernetes.pod.name\":\"web\\u0000evil\"}}", &i), 1);
	ASSERT_STREQ(i.pod_name, "");
	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.pod.name\":\"web\\nx\"}}", &i), 1);
	ASSERT_STREQ(i.pod_name, "");
	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.pod.name\":\"\"}}", &i), 1);
	ASSERT_STREQ(i.pod_name, "");
	/* UTF-8 is fine (not a valid pod name, but not ours to judge here). */
	ASSERT_EQ(parse_str("{\"annotations\":{\"io.kubernetes.pod.name\":\"caf\\u00e9\"}}", &i),
		  1);
	ASSERT_STREQ(i.pod_name, "caf\xc3\xa9");
}

TEST(malformed)
{
	static const char *const bad[] = {
	    "{\"annotations\":{\"io.kubernetes.pod.name\":\"a\",}}", /* trailing comma */
	    "{/* c */\"annotations\":{}}",			     /* comment */
	    "{\"annotations\":{}} x",				     /* trailing garbage */
	    "{}{}",						     /* two documents */
	    "{\"a\" 1}",
	    "{\"a\":tru}",
	    "{\"a\":\"\xff\xfe\"}", /* not UTF-8 */
	    "{\"a\":01}",
	    "}",
	    " ",
	    "\n\t",
	    "\xef\xbb\xbf{}", /* a byte-order mark: not JSON */
	};
	struct nsn__oci_info i;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		poison(&i);
		ASSERT_EQ(parse_str(bad[k], &i), -EINVAL);
		ASSERT_TRUE(all_zero(&i));
	}
	/* Bytes the tokener stops short of, here a NUL after the object. */
	static const char nul[] = "{}\0";
	char *p = tap_dup_exact(nul, 3);

	ASSERT_EQ(nsn__oci_parse(p, 3, &i), -EINVAL);
	ASSERT_EQ(nsn__oci_parse(p, 2, &i), 0);
	free(p);
	p = tap_dup_exact("{\0}", 3);
	ASSERT_EQ(nsn__oci_parse(p, 3, &i), -EINVAL);
	free(p);

	/* Whitespace around the object is JSON. */
	ASSERT_EQ(parse_str("\n {}\n\n", &i), 0);
}

TEST(non_object)
{
	static const char *const bad[] = {
	    "[]", "[{\"annotations\":{}}]", "\"str\"", "123", "null", "true", "1.5e3"};
	struct nsn__oci_info i;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		ASSERT_EQ(parse_str(bad[k], &i), -EINVAL);
}

TEST(bad_args)
{
	struct nsn__oci_info i;
	char *p = tap_dup_exact("{}", 2);

	ASSERT_EQ(nsn__oci_parse(p, 2, NULL), -EINVAL);
	ASSERT_EQ(nsn__oci_parse(NULL, 0, &i), -EINVAL);
	ASSERT_EQ(nsn__oci_parse(NULL, 2, &i), -EINVAL);
	ASSERT_EQ(nsn__oci_parse(p, 0, &i), -EINVAL);
	free(p);
}

/* Every prefix of every fixture, in an exact-size buffer: truncated, never a crash. */
TEST(truncated)
{
	static const char *const files[] = {"containerd-sandbox.json",
					    "containerd-container.json",
					    "crio-sandbox.json",
					    "crio-container.json",
					    "runc-spec.json",
					    "nerdctl.json",
					    "podman.json"};

	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		size_t len = 0, end, wrong = 0;
		char *doc = tap_load(NSN_OCI_FIXTURES, files[k], &len);
		struct nsn__oci_info i;
		int full;

		if (!doc)
			continue;
		full = nsn__oci_parse(doc, len, &i);
		ASSERT_TRUE(full >= 0);
		end = len;
		while (end > 0 && doc[end - 1] != '}')
			end--;
		for (size_t n = 1; n < len; n++) {
			char *p = tap_dup_exact(doc, n);
			int r = nsn__oci_parse(p, n, &i);

			if (r != (n < end ? -EINVAL : full)) {
				if (wrong++ == 0)
					TAP_FAIL("%s cut at %zu: %d", files[k], n, r);
			}
			free(p);
		}
		ASSERT_EQ(wrong, 0);
		free(doc);
	}
}

static char *nest(size_t depth, size_t *ret_len)
{
	/* {"annotations":{"io.kubernetes.pod.name":"x","d":[[[...]]]}} */
	static const char head[] = "{\"annotations\":{\"io.kubernetes.pod.name\":\"x\",\"d\":";
	static const char tail[] = "}}";
	size_t len = sizeof(head) - 1 + 2 * depth + sizeof(tail) - 1;
	char *p = malloc(len), *q = p;

	memcpy(q, head, sizeof(head) - 1);
	q += sizeof(head) - 1;
	memset(q, '[', depth);
	q += depth;
	memset(q, ']', depth);
	q += depth;
	memcpy(q, tail, sizeof(tail) - 1);
	*ret_len = len;
	return p;
}

TEST(deep_nesting)
{
	struct nsn__oci_info i;
	size_t len;
	char *p;

	/* Deeper than any real bundle (about ten levels), still accepted. */
	p = nest(20, &len);
	ASSERT_EQ(nsn__oci_parse(p, len, &i), 1);
	ASSERT_STREQ(i.pod_name, "x");
	free(p);
	p = nest(100, &len);
	ASSERT_EQ(nsn__oci_parse(p, len, &i), -EINVAL);
	ASSERT_TRUE(all_zero(&i));
	free(p);
	p = nest(200000, &len);
	ASSERT_EQ(nsn__oci_parse(p, len, &i), -EINVAL);
	free(p);
}

TEST(size_limit)
{
	static const char head[] =
	    "{\"annotations\":{\"io.kubernetes.pod.name\":\"big\"},\"pad\":\"";
	size_t max = NSN_OCI_CONFIG_MAX;
	char *p = malloc(max + 1);
	struct nsn__oci_info i;

	if (!p) {
		TAP_FAIL("malloc");
		return;
	}
	/* Exactly NSN_OCI_CONFIG_MAX bytes is still parsed ... */
	memcpy(p, head, sizeof(head) - 1);
	memset(p + sizeof(head) - 1, 'x', max - (sizeof(head) - 1) - 2);
	memcpy(p + max - 2, "\"}", 2);
	ASSERT_EQ(nsn__oci_parse(p, max, &i), 1);
	ASSERT_STREQ(i.pod_name, "big");
	/* ... one more is refused before a byte is read. */
	p[max] = ' ';
	poison(&i);
	ASSERT_EQ(nsn__oci_parse(p, max + 1, &i), -E2BIG);
	ASSERT_TRUE(all_zero(&i));
	ASSERT_EQ(nsn__oci_parse(p, (size_t)-1, &i), -E2BIG);
	free(p);
}

/* The kubelet's /var/log/pods/<namespace>_<pod>_<uid>. */
TEST(podlogs_valid)
{
	char ns[64], pod[254], uid[37];

	ASSERT_EQ(nsn__podlogs_parse_dir("kube-system_coredns-5d78c9869d-8x2kq_" UID_CD, ns,
					 sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  0);
	ASSERT_STREQ(ns, "kube-system");
	ASSERT_STREQ(pod, "coredns-5d78c9869d-8x2kq");
	ASSERT_STREQ(uid, UID_CD);

	/* Static pods: a dotted name (name + node name) and the manifest's MD5 as the UID. */
	ASSERT_EQ(nsn__podlogs_parse_dir("kube-system_kube-apiserver-cp1.example.com_"
					 "b3d5f0e1a7c9428e6d4b2a0f8c6e4d2a",
					 ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  0);
	ASSERT_STREQ(pod, "kube-apiserver-cp1.example.com");
	ASSERT_STREQ(uid, "b3d5f0e1a7c9428e6d4b2a0f8c6e4d2a");

	ASSERT_EQ(nsn__podlogs_parse_dir("a_0_" UID_CRIO, ns, sizeof(ns), pod, sizeof(pod), uid,
					 sizeof(uid)),
		  0);
	ASSERT_STREQ(ns, "a");
	ASSERT_STREQ(pod, "0");
}

TEST(podlogs_limits)
{
	char name[400], ns[64], pod[254], uid[37], v63[64], v64[65], p253[254], p254[255];

	fill(v63, 'n', 63);
	fill(v64, 'n', 64);
	/* A subdomain of 63-character labels, 253 in all. */
	for (size_t k = 0; k < 253; k++)
		p253[k] = (k % 64 == 63) ? '.' : 'p';
	p253[253] = '\0';
	memcpy(p254, p253, 253);
	p254[253] = 'p';
	p254[254] = '\0';

	snprintf(name, sizeof(name), "%s_%s_%s", v63, p253, UID_CD);
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  0);
	ASSERT_STREQ(ns, v63);
	ASSERT_STREQ(pod, p253);
	/* One byte too small anywhere: refused, and the outputs are empty. */
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, 63, pod, sizeof(pod), uid, sizeof(uid)),
		  -EINVAL);
	ASSERT_STREQ(ns, "");
	ASSERT_STREQ(pod, "");
	ASSERT_STREQ(uid, "");
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, sizeof(ns), pod, 253, uid, sizeof(uid)),
		  -EINVAL);
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, sizeof(ns), pod, sizeof(pod), uid, 36), -EINVAL);
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, 0, pod, sizeof(pod), uid, sizeof(uid)), -EINVAL);

	snprintf(name, sizeof(name), "%s_pod_%s", v64, UID_CD);
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  -EINVAL);
	snprintf(name, sizeof(name), "ns_%s_%s", p254, UID_CD);
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  -EINVAL);
	/* A 64-character label inside a pod name. */
	fill(p254, 'q', 64);
	snprintf(name, sizeof(name), "ns_a.%s_%s", p254, UID_CD);
	ASSERT_EQ(nsn__podlogs_parse_dir(name, ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  -EINVAL);
}

TEST(podlogs_invalid)
{
	static const char *const bad[] = {
	    "",
	    UID_CD,			/* the pre-1.14 layout: the uid alone */
	    "default_web_",		/* no uid */
	    "default__" UID_CD,		/* no pod */
	    "_web_" UID_CD,		/* no namespace */
	    "default_web",		/* no uid at all */
	    "default_web_" UID_CD "_x", /* a fourth field */
	    "default_web_x_" UID_CD,	/* '_' in a name */
	    "Default_web_" UID_CD,	/* uppercase */
	    "default_Web_" UID_CD,
	    "default_web_6A1F7C2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B",
	    "default_-web_" UID_CD, /* label starts with '-' */
	    "default_web-_" UID_CD, /* ends with '-' */
	    "default_web._" UID_CD, /* ends with '.' */
	    "default_.web_" UID_CD,
	    "default_we..b_" UID_CD,				 /* empty label */
	    "default_we-.b_" UID_CD,				 /* label ends with '-' */
	    "de.fault_web_" UID_CD,				 /* '.' in a namespace */
	    "default_web_6a1f7c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5",	 /* 35 */
	    "default_web_6a1f7c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b0", /* 37 */
	    "default_web_6a1f7c2e3b4d-4e5f-8a9b-0c1d2e3f4a5b-",	 /* dash moved */
	    "default_web_6a1f7c2g-3b4d-4e5f-8a9b-0c1d2e3f4a5b",	 /* not hex */
	    "default_web_b3d5f0e1a7c9428e6d4b2a0f8c6e4d2",	 /* 31 hex */
	    "default_web_b3d5f0e1a7c9428e6d4b2a0f8c6e4d2a0",	 /* 33 hex */
	    "default_web_" UID_CD "/",
	    "default_web_" UID_CD ".log",
	    "default_w b_" UID_CD,
	    "default_web_ " UID_CD,
	    ".._web_" UID_CD,
	};
	char ns[64], pod[254], uid[37];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int r;

		memset(ns, 'x', sizeof(ns));
		memset(pod, 'x', sizeof(pod));
		memset(uid, 'x', sizeof(uid));
		r = nsn__podlogs_parse_dir(bad[k], ns, sizeof(ns), pod, sizeof(pod), uid,
					   sizeof(uid));
		if (r != -EINVAL)
			TAP_FAIL("\"%s\" gave %d", bad[k], r);
		tap_asserts++;
		ASSERT_TRUE(ns[0] == '\0' && pod[0] == '\0' && uid[0] == '\0');
	}
	memset(ns, 'x', sizeof(ns));
	ASSERT_EQ(nsn__podlogs_parse_dir(NULL, ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  -EINVAL);
	ASSERT_STREQ(ns, "");
	ASSERT_EQ(
	    nsn__podlogs_parse_dir("a_b_" UID_CD, NULL, 0, pod, sizeof(pod), uid, sizeof(uid)),
	    -EINVAL);
	ASSERT_TRUE(pod[0] == '\0' && uid[0] == '\0');

	/* A name far longer than any valid one is refused without reading it all. */
	char *big = malloc(100001);

	memset(big, 'a', 100000);
	big[100000] = '\0';
	big[3] = '_';
	big[7] = '_';
	ASSERT_EQ(nsn__podlogs_parse_dir(big, ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		  -EINVAL);
	free(big);
}

TEST_MAIN(CASE(containerd_sandbox), CASE(containerd_container), CASE(crio_sandbox),
	  CASE(crio_container), CASE(not_kubernetes), CASE(podman), CASE(bare_labels),
	  CASE(containerd_old), CASE(crio_precedence), CASE(crio_container_name), CASE(wrong_types),
	  CASE(overlong), CASE(control_chars), CASE(malformed), CASE(non_object), CASE(bad_args),
	  CASE(truncated), CASE(deep_nesting), CASE(size_limit), CASE(podlogs_valid),
	  CASE(podlogs_limits), CASE(podlogs_invalid))
