/* SPDX-License-Identifier: MIT */
/* Unit tests for agent/lib/cgroup.c: whole /proc/<pid>/cgroup texts (v1, v2, hybrid) as
 * containerd, CRI-O, Docker and podman leave them, and what must not be taken from them.
 *
 * Every text is parsed from an exactly-sized heap copy without a NUL terminator, so the
 * sanitizer build reports any read past the length given. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "tap.h"

/* Container ids and pod UIDs, random; U*_ are the systemd-escaped spellings. */
#define ID_A	   "bffa882e538e096c99482f7702938d57a0d6c87a993833ed87af3eea78d6461e"
#define ID_B	   "2a0e760cf1abb1dfab73b67aa7eb2dfa8b6681e8767018278f9f49f7c3900bb9"
#define ID_C	   "c37cbe1477280d2dbd45dea0f18c414152290cea1c32fe1280dfc77c90387abb"
#define ID_D	   "f59334c51a8883605fc6515a41ce93e24b745cf76ca52a0cf9e337db72316362"
#define ID_A_UPPER "BFFA882E538E096C99482F7702938D57A0D6C87A993833ED87AF3EEA78D6461E"
#define U1	   "9a50e2f3-3472-4769-9d51-a757cec74782"
#define U1_	   "9a50e2f3_3472_4769_9d51_a757cec74782"
#define U2	   "589b0e72-3b49-46c6-a6b0-616e4d994179"
#define U2_	   "589b0e72_3b49_46c6_a6b0_616e4d994179"
#define U3	   "39d92f23-df23-4b23-b99f-6765fea75b07"
#define U3_	   "39d92f23_df23_4b23_b99f_6765fea75b07"
#define USTATIC	   "23cf4a3f95c91537152b98f9f4113eb5" /* a static pod: md5 of its manifest */

/* A cgroup v1 host: every controller's line, rdma left at the root as systemd does. */
#define V1(path)                                                                                   \
	"12:pids:" path "\n"                                                                       \
	"11:hugetlb:" path "\n"                                                                    \
	"10:net_cls,net_prio:" path "\n"                                                           \
	"9:perf_event:" path "\n"                                                                  \
	"8:cpuset:" path "\n"                                                                      \
	"7:memory:" path "\n"                                                                      \
	"6:freezer:" path "\n"                                                                     \
	"5:devices:" path "\n"                                                                     \
	"4:blkio:" path "\n"                                                                       \
	"3:cpu,cpuacct:" path "\n"                                                                 \
	"2:rdma:/\n"                                                                               \
	"1:name=systemd:" path "\n"
/* A hybrid host: the same plus the unified hierarchy's line. */
#define HYBRID(path) V1(path) "0::" path "\n"
#define V2(path)     "0::" path "\n"

#define SD_BURSTABLE(u_)                                                                           \
	"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" u_ ".slice"
#define SD_BESTEFFORT(u_)                                                                          \
	"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" u_ ".slice"
#define SD_GUARANTEED(u_) "/kubepods.slice/kubepods-pod" u_ ".slice"

static int parse_n(const char *s, size_t n, struct nsn__cgroup_ident *ret)
{
	char *buf = calloc(n ? n : 1, 1); /* zeroed: n == 0 passes an empty buffer */
	int r;

	if (!buf)
		abort();
	memcpy(buf, s, n);
	memset(ret, 0xa5, sizeof(*ret)); /* whatever the result, nothing stale may survive */
	r = nsn__cgroup_parse(buf, n, ret);
	free(buf);
	return r;
}
#define PARSE(lit, ret) parse_n((lit), sizeof(lit) - 1, (ret))

static bool zeroed(const struct nsn__cgroup_ident *id)
{
	static const struct nsn__cgroup_ident zero;

	return memcmp(id, &zero, sizeof(zero)) == 0;
}

#define ASSERT_IDENT(text, rt, cid, uid, q, mon)                                                   \
	do {                                                                                       \
		struct nsn__cgroup_ident i_;                                                       \
		ASSERT_EQ(PARSE(text, &i_), 1);                                                    \
		ASSERT_EQ(i_.runtime, rt);                                                         \
		ASSERT_STREQ(i_.id, cid);                                                          \
		ASSERT_STREQ(i_.pod_uid, uid);                                                     \
		ASSERT_STREQ(i_.qos, q);                                                           \
		ASSERT_EQ(i_.conmon, mon);                                                         \
	} while (0)
#define ASSERT_CTR(text, rt, cid, uid, q) ASSERT_IDENT(text, rt, cid, uid, q, false)
#define ASSERT_POD(text, uid, q)	  ASSERT_IDENT(text, NSN_RUNTIME_NONE, "", uid, q, false)
#define ASSERT_NOTHING(text)                                                                       \
	do {                                                                                       \
		struct nsn__cgroup_ident i_;                                                       \
		ASSERT_EQ(PARSE(text, &i_), 0);                                                    \
		ASSERT_TRUE(zeroed(&i_));                                                          \
	} while (0)
#define ASSERT_INVALID(text)                                                                       \
	do {                                                                                       \
		struct nsn__cgroup_ident i_;                                                       \
		ASSERT_EQ(PARSE(text, &i_), -EINVAL);                                              \
		ASSERT_TRUE(zeroed(&i_));                                                          \
	} while (0)

#define CD     NSN_RUNTIME_CONTAINERD
#define CRIO   NSN_RUNTIME_CRIO
#define DOCKER NSN_RUNTIME_DOCKER
#define PODMAN NSN_RUNTIME_PODMAN

TEST(containerd_systemd_driver)
{
	/* The systemd cgroup driver on a cgroup v2 node: one line. */
	ASSERT_CTR(V2(SD_BURSTABLE(U1_) "/cri-containerd-" ID_A ".scope"), CD, ID_A, U1,
		   "burstable");
	ASSERT_CTR(V2(SD_BESTEFFORT(U2_) "/cri-containerd-" ID_B ".scope"), CD, ID_B, U2,
		   "besteffort");
	/* Guaranteed pods sit directly in kubepods.slice. */
	ASSERT_CTR(V2(SD_GUARANTEED(U3_) "/cri-containerd-" ID_C ".scope"), CD, ID_C, U3,
		   "guaranteed");
	/* The same on a hybrid host, and on a v1 host. */
	ASSERT_CTR(HYBRID(SD_BURSTABLE(U1_) "/cri-containerd-" ID_A ".scope"), CD, ID_A, U1,
		   "burstable");
	ASSERT_CTR(V1(SD_GUARANTEED(U3_) "/cri-containerd-" ID_C ".scope"), CD, ID_C, U3,
		   "guaranteed");
	/* No trailing newline on the last line. */
	ASSERT_CTR("0::" SD_BESTEFFORT(U2_) "/cri-containerd-" ID_B ".scope", CD, ID_B, U2,
		   "besteffort");
}

TEST(containerd_cgroupfs_driver)
{
	ASSERT_CTR(V1("/kubepods/burstable/pod" U1 "/" ID_A), CD, ID_A, U1, "burstable");
	ASSERT_CTR(V1("/kubepods/besteffort/pod" U2 "/" ID_B), CD, ID_B, U2, "besteffort");
	ASSERT_CTR(V1("/kubepods/pod" U3 "/" ID_C), CD, ID_C, U3, "guaranteed");
	ASSERT_CTR(V2("/kubepods/burstable/pod" U1 "/" ID_A), CD, ID_A, U1, "burstable");
	ASSERT_CTR(HYBRID("/kubepods/pod" U3 "/" ID_C), CD, ID_C, U3, "guaranteed");
}

TEST(containerd_slice_prefix_name)
{
	/* containerd with the cgroupfs driver fed the kubelet's systemd-style cgroupsPath
	 * ("slice:prefix:name") creates it literally; controllers disagree on the parent. */
	static const char eks[] =
	    "11:perf_event:/kubepods-besteffort-pod" U1_ ".slice:cri-containerd:" ID_A "\n"
	    "10:blkio:/system.slice/containerd.service/kubepods-besteffort-pod" U1_
	    ".slice:cri-containerd:" ID_A "\n"
	    "9:cpuacct,cpu:/system.slice/containerd.service/kubepods-besteffort-pod" U1_
	    ".slice:cri-containerd:" ID_A "\n"
	    "8:cpuset:/kubepods-besteffort-pod" U1_ ".slice:cri-containerd:" ID_A "\n"
	    "1:name=systemd:/system.slice/containerd.service/kubepods-besteffort-pod" U1_
	    ".slice:cri-containerd:" ID_A "\n";

	ASSERT_CTR(eks, CD, ID_A, U1, "besteffort");
	ASSERT_CTR(
	    V1("/system.slice/containerd.service/kubepods-pod" U3_ ".slice:cri-containerd:" ID_C),
	    CD, ID_C, U3, "guaranteed");
	/* A bad id after the prefix leaves only the pod. */
	ASSERT_POD(V2("/kubepods-burstable-pod" U2_ ".slice:cri-containerd:" ID_A "0"), U2,
		   "burstable");
	ASSERT_POD(V2("/kubepods-burstable-pod" U2_ ".slice:cri-containerd"), U2, "burstable");
	ASSERT_POD(V2("/kubepods-burstable-pod" U2_ ".slice:bogus:" ID_A), U2, "burstable");
}

TEST(containerd_other_roots)
{
	/* kind: the kubelet's --cgroup-root=/kubelet prefixes every slice. */
	ASSERT_CTR(V2("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		      "kubelet-kubepods-besteffort-pod" U1_ ".slice/cri-containerd-" ID_A ".scope"),
		   CD, ID_A, U1, "besteffort");
	ASSERT_CTR(V2("/kubelet/kubepods/pod" U3 "/" ID_C), CD, ID_C, U3, "guaranteed");
	/* Plain containerd: the namespace names the cgroup when no cgroupsPath is given. */
	ASSERT_CTR(V2("/default/" ID_B), CD, ID_B, "", "");
	ASSERT_CTR(V1("/k8s.io/" ID_B), CD, ID_B, "", "");
	/* nerdctl on a systemd host. */
	ASSERT_CTR(V2("/system.slice/nerdctl-" ID_D ".scope"), CD, ID_D, "", "");
}

TEST(static_pod_uid)
{
	ASSERT_CTR(V2(SD_BURSTABLE(USTATIC) "/cri-containerd-" ID_A ".scope"), CD, ID_A, USTATIC,
		   "burstable");
	ASSERT_CTR(V1("/kubepods/burstable/pod" USTATIC "/" ID_A), CD, ID_A, USTATIC, "burstable");
}

TEST(crio)
{
	/* A hybrid v1 host with runc and the systemd driver; "files" is a v1 controller of
	 * some distribution kernels, left at the root. */
	static const char hybrid[] = "13:freezer:" SD_BURSTABLE(
	    U1_) "/crio-" ID_A ".scope\n"
		 "12:cpuset:" SD_BURSTABLE(U1_) "/crio-" ID_A ".scope\n"
						"11:files:/\n"
						"10:hugetlb:" SD_BURSTABLE(
						    U1_) "/crio-" ID_A ".scope\n"
							 "1:name=systemd:" SD_BURSTABLE(
							     U1_) "/crio-" ID_A ".scope\n"
								  "0::/\n";

	ASSERT_CTR(hybrid, CRIO, ID_A, U1, "burstable");
	ASSERT_CTR(V2(SD_GUARANTEED(U3_) "/crio-" ID_C ".scope"), CRIO, ID_C, U3, "guaranteed");
	/* crun on v2 runs the payload in a "container" child of the scope. */
	ASSERT_CTR(V2(SD_BESTEFFORT(U2_) "/crio-" ID_B ".scope/container"), CRIO, ID_B, U2,
		   "besteffort");
	/* cgroupfs driver: the same prefix without ".scope". */
	ASSERT_CTR(V1("/kubepods/burstable/pod" U1 "/crio-" ID_A), CRIO, ID_A, U1, "burstable");
	ASSERT_CTR(V2("/kubepods/pod" U3 "/crio-" ID_C), CRIO, ID_C, U3, "guaranteed");
}

TEST(crio_conmon)
{
	/* conmon_cgroup = "pod" (the default): the monitor beside its container. */
	ASSERT_IDENT(V2(SD_BURSTABLE(U1_) "/crio-conmon-" ID_A ".scope"), CRIO, ID_A, U1,
		     "burstable", true);
	/* conmon_cgroup = "system.slice". */
	ASSERT_IDENT(V2("/system.slice/crio-conmon-" ID_B ".scope"), CRIO, ID_B, "", "", true);
	ASSERT_IDENT(V1("/kubepods/besteffort/pod" U2 "/crio-conmon-" ID_B), CRIO, ID_B, U2,
		     "besteffort", true);
}

TEST(docker)
{
	ASSERT_CTR(V2("/system.slice/docker-" ID_A ".scope"), DOCKER, ID_A, "", "");
	ASSERT_CTR(V1("/system.slice/docker-" ID_A ".scope"), DOCKER, ID_A, "", "");
	ASSERT_CTR(V1("/docker/" ID_B), DOCKER, ID_B, "", "");
	ASSERT_CTR(V2("/docker/" ID_B), DOCKER, ID_B, "", "");
	/* --cgroup-parent=/docker-ce/docker */
	ASSERT_CTR(V1("/docker-ce/docker/" ID_C), DOCKER, ID_C, "", "");
	/* cri-dockerd with the systemd driver names its runtime. */
	ASSERT_CTR(V2(SD_BURSTABLE(U1_) "/docker-" ID_D ".scope"), DOCKER, ID_D, U1, "burstable");
}

TEST(dockershim_is_containerd)
{
	/* Docker under the kubelet's cgroupfs driver leaves a bare id in the pod directory,
	 * exactly as containerd does: the rule reports containerd. */
	ASSERT_CTR(V1("/kubepods/burstable/pod" U1 "/" ID_A), CD, ID_A, U1, "burstable");
}

TEST(podman)
{
	ASSERT_CTR(V2("/machine.slice/libpod-" ID_A ".scope"), PODMAN, ID_A, "", "");
	ASSERT_CTR(V2("/machine.slice/libpod-" ID_A ".scope/container"), PODMAN, ID_A, "", "");
	ASSERT_CTR(HYBRID("/machine.slice/libpod-" ID_A ".scope"), PODMAN, ID_A, "", "");
	/* Rootless, under the user's systemd. */
	ASSERT_CTR(
	    V2("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B ".scope"),
	    PODMAN, ID_B, "", "");
	/* A podman pod's slice is not a Kubernetes pod. */
	ASSERT_CTR(V2("/machine.slice/machine-libpod_pod_" ID_C ".slice/libpod-" ID_D ".scope"),
		   PODMAN, ID_D, "", "");
	/* cgroupfs manager. */
	ASSERT_CTR(V1("/libpod_parent/libpod-" ID_A), PODMAN, ID_A, "", "");
	ASSERT_CTR(V2("/libpod_parent/libpod-" ID_A), PODMAN, ID_A, "", "");
	/* cgroups=split */
	ASSERT_CTR(V2("/system.slice/app.service/libpod-payload-" ID_B), PODMAN, ID_B, "", "");
}

TEST(podman_conmon)
{
	ASSERT_IDENT(V2("/machine.slice/libpod-conmon-" ID_A ".scope"), PODMAN, ID_A, "", "", true);
	ASSERT_IDENT(
	    V2("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" ID_A
	       ".scope"),
	    PODMAN, ID_A, "", "", true);
	/* With cgroupfs all monitors share one cgroup that names no container. */
	ASSERT_NOTHING(V1("/libpod_parent/conmon"));
	ASSERT_NOTHING(V2("/libpod_parent/conmon"));
}

TEST(nested)
{
	/* Docker in Docker: the innermost container. */
	ASSERT_CTR(V1("/docker/" ID_A "/docker/" ID_B), DOCKER, ID_B, "", "");
	ASSERT_CTR(V2("/system.slice/docker-" ID_A ".scope/docker/" ID_B), DOCKER, ID_B, "", "");
	/* k3d / kind with cgroupfs: a node container running a pod. */
	ASSERT_CTR(V2("/docker/" ID_A "/kubepods/besteffort/pod" U2 "/" ID_C), CD, ID_C, U2,
		   "besteffort");
	ASSERT_CTR(V2("/system.slice/docker-" ID_A
		      ".scope" SD_GUARANTEED(U3_) "/cri-containerd-" ID_C ".scope"),
		   CD, ID_C, U3, "guaranteed");
	/* Docker in a pod: the inner container, still in its pod. */
	ASSERT_CTR(V2(SD_BURSTABLE(U1_) "/cri-containerd-" ID_A ".scope/docker/" ID_B), DOCKER,
		   ID_B, U1, "burstable");
	/* A pod below a container: the node's id is not the pod's. */
	ASSERT_POD(V2("/docker/" ID_A "/kubepods/burstable/pod" U1), U1, "burstable");
}

TEST(pod_without_container)
{
	/* v1 pod-level cgroups, and CRI-O/containerd pod-level processes. */
	ASSERT_POD(V1(SD_BURSTABLE(U1_)), U1, "burstable");
	ASSERT_POD(V2("/kubepods/pod" U3), U3, "guaranteed");
	ASSERT_NOTHING(V2("/kubepods/burstable"));
	ASSERT_NOTHING(V2("/kubepods.slice/kubepods-besteffort.slice"));
	ASSERT_NOTHING(V2("/kubepods.slice"));
}

TEST(hybrid_preference)
{
	/* The v2 line wins when it names a container... */
	ASSERT_CTR(V1("/docker/" ID_A) V2("/system.slice/docker-" ID_B ".scope"), DOCKER, ID_B, "",
		   "");
	ASSERT_CTR(V2("/system.slice/docker-" ID_B ".scope") V1("/docker/" ID_A), DOCKER, ID_B, "",
		   "");
	/* ... else the first v1 line that does. */
	ASSERT_CTR(V1("/docker/" ID_A) V2("/"), DOCKER, ID_A, "", "");
	ASSERT_CTR("3:memory:/\n2:cpu:/docker/" ID_C "\n1:name=systemd:/docker/" ID_D "\n0::/\n",
		   DOCKER, ID_C, "", "");
	/* A container on a v1 line beats a pod alone on the v2 line. */
	ASSERT_CTR(V2("/kubepods/pod" U3) V1("/kubepods/pod" U3 "/" ID_A), CD, ID_A, U3,
		   "guaranteed");
	/* Between two pods alone, the v2 line. */
	ASSERT_POD(V1("/kubepods/pod" U3) V2("/kubepods/burstable/pod" U1), U1, "burstable");
}

TEST(host_processes)
{
	ASSERT_NOTHING(V2("/init.scope"));
	ASSERT_NOTHING(V2("/"));
	ASSERT_NOTHING(V2("/user.slice/user-1000.slice/session-2.scope"));
	ASSERT_NOTHING(V2("/system.slice/containerd.service"));
	ASSERT_NOTHING(V2("/system.slice/docker.service"));
	ASSERT_NOTHING(V2("/system.slice/crio.service"));
	ASSERT_NOTHING(V2("/system.slice/kubelet.service"));
	ASSERT_NOTHING(HYBRID("/system.slice/sshd.service"));
	ASSERT_NOTHING(V1("/"));
	ASSERT_NOTHING(V2("/system.slice/system-getty.slice/getty@tty1.service"));
	/* Something named by 64 hex digits under a parent that says nothing about it. */
	ASSERT_NOTHING(V2("/" ID_A));
	ASSERT_NOTHING(V1("/ecs/" U1 "/" ID_A));
	ASSERT_NOTHING(V2("/machine.slice/machine-qemu\\x2d1\\x2dvm.scope"));
}

TEST(relative_and_deleted)
{
	/* Read from inside a cgroup namespace: the outer components are "..". */
	ASSERT_CTR(V2("/../../kubepods-besteffort-pod" U2_ ".slice/cri-containerd-" ID_B ".scope"),
		   CD, ID_B, U2, "besteffort");
	ASSERT_CTR(V2("/../../pod" U1 "/" ID_A), CD, ID_A, U1, "");
	ASSERT_CTR(V2("/../" ID_A "/../docker/" ID_B), DOCKER, ID_B, "", "");
	/* ".." forgets the parent: no bare id without one. */
	ASSERT_NOTHING(V2("/docker/../" ID_A));
	/* The kernel marks a removed v2 cgroup. */
	ASSERT_CTR(V2(SD_BURSTABLE(U1_) "/cri-containerd-" ID_A ".scope (deleted)"), CD, ID_A, U1,
		   "burstable");
	ASSERT_CTR("0::/docker/" ID_B " (deleted)", DOCKER, ID_B, "", "");
	/* Doubled and trailing slashes, "." components. */
	ASSERT_CTR(V2("//kubepods//./burstable/pod" U1 "//" ID_A "/"), CD, ID_A, U1, "burstable");
}

TEST(bad_ids)
{
	ASSERT_NOTHING(V2("/system.slice/docker-foo.scope"));
	ASSERT_NOTHING(V2("/system.slice/docker-.scope"));
	ASSERT_NOTHING(V2("/system.slice/docker-" ID_A_UPPER ".scope"));
	ASSERT_NOTHING(V2("/docker/" ID_A_UPPER));
	ASSERT_NOTHING(V2("/system.slice/docker-" ID_A "0.scope")); /* 65 */
	ASSERT_NOTHING(V2("/system.slice/docker-0" ID_A ".scope")); /* 65 */
	ASSERT_NOTHING(V2("/system.slice/docker-" ID_A ".scopex"));
	ASSERT_NOTHING(V2("/system.slice/docker--" ID_A ".scope"));
	ASSERT_NOTHING(V2("/system.slice/dockerx" ID_A ".scope"));
	ASSERT_NOTHING(V2("/system.slice/rkt-" ID_A ".scope"));
	ASSERT_NOTHING(V2("/system.slice/crio-conmonx-" ID_A ".scope"));
	/* Only CRI-O and podman name cgroupfs directories with a prefix. */
	ASSERT_NOTHING(V2("/system.slice/docker-" ID_A));
	ASSERT_NOTHING(V2("/system.slice/cri-containerd-" ID_A));
	ASSERT_NOTHING(V2("/docker/" ID_A "x"));
	ASSERT_NOTHING(V2("/docker/x" ID_A));
	ASSERT_NOTHING(
	    V2("/docker/bffa882e538e096c99482f7702938d57a0d6c87a993833ed87af3eea78d6461"));
	ASSERT_NOTHING(
	    V2("/docker/bffa882e538e096c99482f7702938d57a0d6c87a993833ed87af3eea78d6461g"));
	ASSERT_NOTHING(V2("/docker/" ID_A ID_B));
	/* A bad id in a pod leaves the pod. */
	ASSERT_POD(V2(SD_BURSTABLE(U1_) "/cri-containerd-" ID_A "00.scope"), U1, "burstable");
	ASSERT_POD(V1("/kubepods/burstable/pod" U1 "/" ID_A_UPPER), U1, "burstable");
}

TEST(bad_pod_uids)
{
	/* One digit short, or systemd's escape in a cgroupfs directory: no pod, and so no
	 * parent that could vouch for the bare id either. */
	ASSERT_NOTHING(V1("/kubepods/burstable/pod9a50e2f3-3472-4769-9d51-a757cec7478/" ID_A));
	ASSERT_NOTHING(V1("/kubepods/burstable/pod" U1_ "/" ID_A));
	ASSERT_NOTHING(V1("/kubepods/burstable/pod9A50E2F3-3472-4769-9D51-A757CEC74782/" ID_A));
	ASSERT_NOTHING(V1("/kubepods/burstable/pod9a50e2f3-3472-4769-9d51-a757cec74782a/" ID_A));
	ASSERT_NOTHING(V1("/kubepods/burstable/pod9a50e2f334-72-4769-9d51-a757cec74782/" ID_A));
	ASSERT_NOTHING(V1("/kubepods/burstable/pod/" ID_A));
	/* Slices: dashes where systemd has '_', a foreign prefix, an unknown class. */
	ASSERT_CTR(V2("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" U1
		      ".slice/cri-containerd-" ID_A ".scope"),
		   CD, ID_A, "", "");
	ASSERT_NOTHING(V2("/xkubepods-pod" U1_ ".slice"));
	ASSERT_NOTHING(V2("/kubepods-weird-pod" U1_ ".slice"));
	ASSERT_NOTHING(V2("/kubepods-burstable-pod" U1_ "x.slice"));
	ASSERT_NOTHING(V2("/kubepods-burstable-pod" U1_));
	ASSERT_NOTHING(V2("/kubepods-burstable-pod.slice"));
	ASSERT_NOTHING(V2("/-pod" U1_ ".slice"));
}

TEST(not_cgroup_files)
{
	struct nsn__cgroup_ident id;

	ASSERT_INVALID("");
	ASSERT_INVALID("\n\n\n");
	ASSERT_INVALID("hello world\n");
	ASSERT_INVALID("0:/docker/" ID_A "\n");
	ASSERT_INVALID("a:b:/docker/" ID_A "\n");
	ASSERT_INVALID(":memory:/docker/" ID_A "\n");
	ASSERT_INVALID("1x:memory:/docker/" ID_A "\n");
	ASSERT_INVALID("Name:\tbash\nState:\tS (sleeping)\n"); /* /proc/<pid>/status */
	ASSERT_INVALID("\x00\x00\x00");
	/* Garbage lines are skipped when a real one is there. */
	ASSERT_CTR("garbage\n0::/docker/" ID_A "\nmore garbage", DOCKER, ID_A, "", "");
	/* Arguments. */
	ASSERT_EQ(nsn__cgroup_parse("0::/\n", 5, NULL), -EINVAL);
	memset(&id, 0xa5, sizeof(id));
	ASSERT_EQ(nsn__cgroup_parse(NULL, 0, &id), -EINVAL);
	ASSERT_TRUE(zeroed(&id));
	ASSERT_EQ(nsn__cgroup_parse(NULL, 10, &id), -EINVAL);
}

/* Every prefix of a real text: nothing read past the cut, and an id or pod UID is
 * reported whole or not at all. */
static void check_prefixes(const char *text, size_t len, const char *cid, const char *uid,
			   bool single)
{
	for (size_t k = 0; k <= len; k++) {
		struct nsn__cgroup_ident id;
		int r = parse_n(text, k, &id);

		ASSERT_TRUE(r == -EINVAL || r == 0 || r == 1);
		if (r != 1) {
			ASSERT_TRUE(zeroed(&id));
			continue;
		}
		ASSERT_TRUE(id.id[0] == '\0' || strcmp(id.id, cid) == 0);
		ASSERT_TRUE(id.pod_uid[0] == '\0' || strcmp(id.pod_uid, uid) == 0);
		if (single && k < len - 1) /* the last byte is the newline */
			ASSERT_TRUE(id.id[0] == '\0');
	}
}

TEST(truncated)
{
	static const char v2[] = V2(SD_BURSTABLE(U1_) "/cri-containerd-" ID_A ".scope");
	static const char v1[] = V1("/kubepods/besteffort/pod" U2 "/" ID_B);
	static const char docker[] = V2("/docker/" ID_C);
	struct nsn__cgroup_ident id;

	check_prefixes(v2, sizeof(v2) - 1, ID_A, U1, true);
	check_prefixes(v1, sizeof(v1) - 1, ID_B, U2, false);
	check_prefixes(docker, sizeof(docker) - 1, ID_C, "", true);
	/* Cut inside the id: not recognised. */
	ASSERT_EQ(parse_n(docker, sizeof(docker) - 3, &id), 0);
	ASSERT_EQ(parse_n(docker, sizeof(docker) - 2, &id), 1);
	ASSERT_STREQ(id.id, ID_C);
}

TEST(large_input)
{
	/* A long path of tiny components and many lines: linear, nothing allocated. */
	size_t n = 1 << 20;
	char *buf = malloc(n);
	struct nsn__cgroup_ident id;

	if (!buf)
		abort();
	memcpy(buf, "0::", 3);
	for (size_t i = 3; i < n; i++)
		buf[i] = i % 2 ? '/' : 'a';
	ASSERT_EQ(nsn__cgroup_parse(buf, n, &id), 0);
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(buf + i, "1:a:", 4);
	buf[n - 1] = '\n';
	ASSERT_EQ(nsn__cgroup_parse(buf, n, &id), 0);
	memset(buf, ':', n);
	ASSERT_EQ(nsn__cgroup_parse(buf, n, &id), -EINVAL);
	free(buf);
}

TEST(runtime_names)
{
	ASSERT_STREQ(nsn__runtime_name(NSN_RUNTIME_CONTAINERD), "containerd");
	ASSERT_STREQ(nsn__runtime_name(NSN_RUNTIME_CRIO), "cri-o");
	ASSERT_STREQ(nsn__runtime_name(NSN_RUNTIME_DOCKER), "docker");
	ASSERT_STREQ(nsn__runtime_name(NSN_RUNTIME_PODMAN), "podman");
	ASSERT_TRUE(nsn__runtime_name(NSN_RUNTIME_NONE) == NULL);
	ASSERT_TRUE(nsn__runtime_name(NSN_RUNTIME_MAX) == NULL);
	ASSERT_TRUE(nsn__runtime_name((enum nsn_runtime)99) == NULL);
}

TEST_MAIN(CASE(containerd_systemd_driver), CASE(containerd_cgroupfs_driver),
	  CASE(containerd_slice_prefix_name), CASE(containerd_other_roots), CASE(static_pod_uid),
	  CASE(crio), CASE(crio_conmon), CASE(docker), CASE(dockershim_is_containerd), CASE(podman),
	  CASE(podman_conmon), CASE(nested), CASE(pod_without_container), CASE(hybrid_preference),
	  CASE(host_processes), CASE(relative_and_deleted), CASE(bad_ids), CASE(bad_pod_uids),
	  CASE(not_cgroup_files), CASE(truncated), CASE(large_input), CASE(runtime_names))
