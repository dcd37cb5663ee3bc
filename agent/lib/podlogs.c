/* SPDX-License-Identifier: MIT */
/*
 * The kubelet's pod log directories, /var/log/pods/<namespace>_<pod-name>_<pod-uid>
 * (kubernetes pkg/kubelet/kuberuntime BuildPodLogsDirectory). The name is the one place
 * outside the API server where a pod's namespace, name and UID sit together, so it is
 * parsed strictly: anything that is not exactly the kubelet's layout is refused rather
 * than guessed at.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "container.h"

#define NS_MAX	     63	 /* a namespace is a DNS-1123 label */
#define POD_MAX	     253 /* a pod name is a DNS-1123 subdomain */
#define NAME_MAX_LEN (NS_MAX + 1 + POD_MAX + 1 + NSN_POD_UID_MAX)

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_lower_hex(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

/*
 * A DNS-1123 label ([a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63) or, with @dots, a
 * subdomain: such labels joined by '.', at most 253 in all.
 */
static bool dns1123_ok(const char *s, size_t len, bool dots)
{
	size_t label = 0;

	if (len == 0 || len > (dots ? POD_MAX : NS_MAX))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (is_lower_alnum(c)) {
			label++;
		} else if (c == '-') {
			if (label == 0)
				return false; /* a label starts alphanumeric */
			label++;
		} else if (c == '.' && dots) {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else {
			return false;
		}
		if (label > NS_MAX)
			return false;
	}
	return s[len - 1] != '-' && s[len - 1] != '.';
}

/*
 * The API server's UIDs are RFC 4122 strings, 8-4-4-4-12 lowercase hex. Static pods (the
 * control plane's kube-apiserver, etcd, ...) never went through it: the kubelet gives them
 * the MD5 of their manifest as 32 lowercase hex digits (pkg/kubelet/config/common.go), and
 * their log directories carry that.
 */
static bool uid_ok(const char *s, size_t len)
{
	if (len == 32) {
		for (size_t i = 0; i < len; i++)
			if (!is_lower_hex(s[i]))
				return false;
		return true;
	}
	if (len != NSN_POD_UID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_lower_hex(s[i])) {
			return false;
		}
	}
	return true;
}

static void put(char *dst, const char *s, size_t len)
{
	memcpy(dst, s, len);
	dst[len] = '\0';
}

int nsn__podlogs_parse_dir(const char *name, char *ret_ns, size_t ns_len, char *ret_pod,
			   size_t pod_len, char *ret_uid, size_t uid_len)
{
	const char *u1, *u2, *uid;
	size_t len, nsl, podl, uidl;

	/* Empty outputs on every failure, so a caller that ignores the code prints nothing. */
	if (ret_ns && ns_len > 0)
		ret_ns[0] = '\0';
	if (ret_pod && pod_len > 0)
		ret_pod[0] = '\0';
	if (ret_uid && uid_len > 0)
		ret_uid[0] = '\0';
	if (!name || !ret_ns || !ret_pod || !ret_uid)
		return -EINVAL;

	/* Bounded: a directory name longer than the longest valid one is not one. */
	len = strnlen(name, NAME_MAX_LEN + 1);
	if (len > NAME_MAX_LEN)
		return -EINVAL;
	u1 = memchr(name, '_', len);
	if (!u1)
		return -EINVAL;
	u2 = memchr(u1 + 1, '_', len - (size_t)(u1 + 1 - name));
	if (!u2)
		return -EINVAL;
	uid = u2 + 1;
	nsl = (size_t)(u1 - name);
	podl = (size_t)(u2 - u1 - 1);
	uidl = len - (size_t)(uid - name);

	/* A third '_' or any other stray byte fails one of these. */
	if (!dns1123_ok(name, nsl, false) || !dns1123_ok(u1 + 1, podl, true) || !uid_ok(uid, uidl))
		return -EINVAL;
	if (nsl >= ns_len || podl >= pod_len || uidl >= uid_len)
		return -EINVAL;

	put(ret_ns, name, nsl);
	put(ret_pod, u1 + 1, podl);
	put(ret_uid, uid, uidl);
	return 0;
}

/*
 * The kubelet's flat /var/log/containers entries are symlinks named
 * "<pod>_<namespace>_<container>-<container-id>.log" (kuberuntime logSymlink). The
 * kubelet cuts the name before ".log" so the whole stays within ext4's 255 bytes. A cut
 * name has lost all or part of its id, and since no label is longer than 63 the 64 bytes
 * before ".log" then always hold a '-', '.' or '_': it is refused like any malformed one.
 */
#define LINK_NAME_MAX 255
#define LINK_SUFFIX   ".log"
#define LINK_ID_LEN   64 /* containerd's and CRI-O's ids; dockershim's were the same */

static bool link_id_ok(const char *s)
{
	for (size_t i = 0; i < LINK_ID_LEN; i++)
		if (!is_lower_hex(s[i]))
			return false;
	return true;
}

int nsn__podlogs_parse_link(const char *name, char *ret_pod, size_t pod_len, char *ret_ns,
			    size_t ns_len, char *ret_container, size_t ctr_len, char *ret_id,
			    size_t id_len)
{
	const size_t tail = 1 + LINK_ID_LEN + sizeof(LINK_SUFFIX) - 1; /* "-<id>.log" */
	const char *u1, *u2, *id, *ctr;
	size_t len, head, podl, nsl, ctrl;

	/* Empty outputs on every failure, as nsn__podlogs_parse_dir. */
	if (ret_pod && pod_len > 0)
		ret_pod[0] = '\0';
	if (ret_ns && ns_len > 0)
		ret_ns[0] = '\0';
	if (ret_container && ctr_len > 0)
		ret_container[0] = '\0';
	if (ret_id && id_len > 0)
		ret_id[0] = '\0';
	if (!name || !ret_pod || !ret_ns || !ret_container || !ret_id)
		return -EINVAL;

	len = strnlen(name, LINK_NAME_MAX + 1);
	if (len > LINK_NAME_MAX || len < tail)
		return -EINVAL;
	if (memcmp(name + len - (sizeof(LINK_SUFFIX) - 1), LINK_SUFFIX, sizeof(LINK_SUFFIX) - 1))
		return -EINVAL;
	head = len - tail;
	if (name[head] != '-')
		return -EINVAL;
	id = name + head + 1;
	if (!link_id_ok(id))
		return -EINVAL;

	/*
	 * What is left, "<pod>_<namespace>_<container>", splits on '_' unambiguously: none of
	 * the three may hold one. The id was taken from the end, so a container name's own
	 * '-' stays with it.
	 */
	u1 = memchr(name, '_', head);
	if (!u1)
		return -EINVAL;
	u2 = memchr(u1 + 1, '_', head - (size_t)(u1 + 1 - name));
	if (!u2)
		return -EINVAL;
	ctr = u2 + 1;
	podl = (size_t)(u1 - name);
	nsl = (size_t)(u2 - u1 - 1);
	ctrl = head - (size_t)(ctr - name);

	/* A third '_' or any other stray byte fails one of these. */
	if (!dns1123_ok(name, podl, true) || !dns1123_ok(u1 + 1, nsl, false) ||
	    !dns1123_ok(ctr, ctrl, false))
		return -EINVAL;
	if (podl >= pod_len || nsl >= ns_len || ctrl >= ctr_len || LINK_ID_LEN >= id_len)
		return -EINVAL;

	put(ret_pod, name, podl);
	put(ret_ns, u1 + 1, nsl);
	put(ret_container, ctr, ctrl);
	put(ret_id, id, LINK_ID_LEN);
	return 0;
}
