/* SPDX-License-Identifier: MIT */
/*
 * An OCI bundle's config.json, read for the annotations that name a container's pod.
 *
 * Each CRI runtime writes its own set, and the sets are not interchangeable:
 *
 *   containerd (internal/cri/annotations, formerly pkg/cri/annotations):
 *     io.kubernetes.cri.container-type     "sandbox" | "container"
 *     io.kubernetes.cri.container-name     containers only
 *     io.kubernetes.cri.image-name         containers only
 *     io.kubernetes.cri.sandbox-id         both
 *     io.kubernetes.cri.sandbox-name       both (newer releases only, like the two below)
 *     io.kubernetes.cri.sandbox-namespace  both
 *     io.kubernetes.cri.sandbox-uid        both
 *
 *   CRI-O (pkg/annotations, now internal/annotations):
 *     io.kubernetes.cri-o.ContainerType    "sandbox" | "container"
 *     io.kubernetes.cri-o.SandboxID        both
 *     io.kubernetes.cri-o.ContainerName    "k8s_<container>_<pod>_<namespace>_<uid>_<attempt>"
 *   plus the kubelet's CRI labels, which CRI-O copies into the annotations
 *   (kubernetes pkg/kubelet/types/labels.go): io.kubernetes.container.name ("POD" on the
 *   sandbox), io.kubernetes.pod.name, io.kubernetes.pod.namespace, io.kubernetes.pod.uid.
 *
 * Podman shares CRI-O's annotation names (podman 1.x put ContainerType "sandbox" on a
 * plain "podman run" container) and marks its containers io.container.manager=libpod,
 * where CRI-O writes "cri-o". So the CRI-O keys are believed only when the manager is not
 * libpod.
 *
 * CRI-O also copies the pod's own annotations into the spec, so a user could put a
 * io.kubernetes.cri.* key on a CRI-O container; CRI-O's keys cannot be set that way (it
 * overwrites them), so they decide first, and a CRI-O config is never read for the
 * containerd keys.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "container.h"

/*
 * Real bundles nest about ten deep (linux.seccomp.syscalls[].args[]); json-c's tokener
 * keeps one small frame per level, so a bound well above that costs nothing and stops
 * "[[[[..." from running the stack or the heap.
 */
#define OCI_MAX_DEPTH 32

#define CRI_CONTAINER_TYPE    "io.kubernetes.cri.container-type"
#define CRI_CONTAINER_NAME    "io.kubernetes.cri.container-name"
#define CRI_IMAGE_NAME	      "io.kubernetes.cri.image-name"
#define CRI_SANDBOX_ID	      "io.kubernetes.cri.sandbox-id"
#define CRI_SANDBOX_NAME      "io.kubernetes.cri.sandbox-name"
#define CRI_SANDBOX_NAMESPACE "io.kubernetes.cri.sandbox-namespace"
#define CRI_SANDBOX_UID	      "io.kubernetes.cri.sandbox-uid"

#define CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"
#define CRIO_SANDBOX_ID	    "io.kubernetes.cri-o.SandboxID"
#define CRIO_CONTAINER_NAME "io.kubernetes.cri-o.ContainerName"

#define KUBE_CONTAINER_NAME "io.kubernetes.container.name"
#define KUBE_POD_NAME	    "io.kubernetes.pod.name"
#define KUBE_POD_NAMESPACE  "io.kubernetes.pod.namespace"
#define KUBE_POD_UID	    "io.kubernetes.pod.uid"

#define CONTAINER_MANAGER "io.container.manager"

/* The annotation @key as a string, or NULL when it is absent or not a JSON string. */
static const char *ann_get(struct json_object *ann, const char *key, size_t *ret_len)
{
	struct json_object *v;
	int n;

	if (!json_object_object_get_ex(ann, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	n = json_object_get_string_len(v);
	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return json_object_get_string(v);
}

static bool ann_is(struct json_object *ann, const char *key, const char *want)
{
	size_t len;
	const char *s = ann_get(ann, key, &len);

	return s && len == strlen(want) && memcmp(s, want, len) == 0;
}

/*
 * A value fit to be an identifier: no bytes a C string or a terminal would mangle. An
 * escaped \u0000 would cut the name short when read back, so it is refused rather than
 * stored cut.
 */
static bool value_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/*
 * Copy the annotation @key into @dst unless @dst already holds a value from a better
 * source. A value that does not fit is refused, not truncated: a cut pod name would
 * attribute traffic to a pod that does not exist.
 * @return true when @key was present as a string (stored or refused), else false.
 */
static bool ann_copy(struct json_object *ann, const char *key, char *dst, size_t size)
{
	size_t len;
	const char *s = ann_get(ann, key, &len);

	if (!s)
		return false;
	if (dst[0] == '\0' && len > 0 && len < size && value_ok(s, len)) {
		memcpy(dst, s, len);
		dst[len] = '\0';
	}
	return true;
}

/* Copy one '_'-separated field of a k8s_ name into @dst if it is empty and it fits. */
static void field_copy(char *dst, size_t size, const char *s, size_t len)
{
	if (dst[0] == '\0' && len > 0 && len < size) {
		memcpy(dst, s, len);
		dst[len] = '\0';
	}
}

/*
 * CRI-O's ContainerName is the kubelet's dockershim-era name
 * "k8s_<container>_<pod>_<namespace>_<uid>_<attempt>" (the sandbox's container is "POD").
 * None of the Kubernetes names may contain '_', so it splits unambiguously. It only fills
 * what the kubelet labels left empty.
 */
static void crio_name_fill(const char *s, size_t len, struct nsn__oci_info *ret)
{
	const char *f[4];
	size_t flen[4];
	const char *p, *end = s + len;

	if (len < 4 || memcmp(s, "k8s_", 4) != 0 || !value_ok(s, len))
		return;
	p = s + 4;
	for (size_t n = 0; n < 4; n++) {
		const char *u = memchr(p, '_', (size_t)(end - p));

		if (!u || u == p)
			return;
		f[n] = p;
		flen[n] = (size_t)(u - p);
		p = u + 1;
	}
	/* The attempt: the rest, all digits. */
	if (p == end)
		return;
	for (const char *q = p; q < end; q++)
		if (*q < '0' || *q > '9')
			return;
	field_copy(ret->name, sizeof(ret->name), f[0], flen[0]);
	field_copy(ret->pod_name, sizeof(ret->pod_name), f[1], flen[1]);
	field_copy(ret->pod_namespace, sizeof(ret->pod_namespace), f[2], flen[2]);
	field_copy(ret->pod_uid, sizeof(ret->pod_uid), f[3], flen[3]);
}

static bool has_crio(struct json_object *ann)
{
	size_t len;

	return ann_is(ann, CRIO_CONTAINER_TYPE, "sandbox") ||
	       ann_is(ann, CRIO_CONTAINER_TYPE, "container") ||
	       ann_get(ann, CRIO_SANDBOX_ID, &len) || ann_get(ann, CRIO_CONTAINER_NAME, &len);
}

static bool has_containerd(struct json_object *ann)
{
	static const char *const keys[] = {
	    CRI_CONTAINER_NAME, CRI_IMAGE_NAME,	       CRI_SANDBOX_ID,
	    CRI_SANDBOX_NAME,	CRI_SANDBOX_NAMESPACE, CRI_SANDBOX_UID,
	};
	size_t len;

	if (ann_is(ann, CRI_CONTAINER_TYPE, "sandbox") ||
	    ann_is(ann, CRI_CONTAINER_TYPE, "container"))
		return true;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (ann_get(ann, keys[i], &len))
			return true;
	return false;
}

/* @return 1 when any Kubernetes annotation was found, 0 when none. */
static int read_annotations(struct json_object *ann, struct nsn__oci_info *ret)
{
	bool libpod = ann_is(ann, CONTAINER_MANAGER, "libpod");
	bool found = false;
	size_t len;
	const char *s;

	if (!libpod && has_crio(ann)) {
		ret->runtime = NSN_RUNTIME_CRIO;
		ret->sandbox = ann_is(ann, CRIO_CONTAINER_TYPE, "sandbox");
		ann_copy(ann, CRIO_SANDBOX_ID, ret->sandbox_id, sizeof(ret->sandbox_id));
		found = true;
	} else if (has_containerd(ann)) {
		ret->runtime = NSN_RUNTIME_CONTAINERD;
		ret->sandbox = ann_is(ann, CRI_CONTAINER_TYPE, "sandbox");
		ann_copy(ann, CRI_CONTAINER_NAME, ret->name, sizeof(ret->name));
		ann_copy(ann, CRI_SANDBOX_NAME, ret->pod_name, sizeof(ret->pod_name));
		ann_copy(ann, CRI_SANDBOX_NAMESPACE, ret->pod_namespace,
			 sizeof(ret->pod_namespace));
		ann_copy(ann, CRI_SANDBOX_UID, ret->pod_uid, sizeof(ret->pod_uid));
		ann_copy(ann, CRI_SANDBOX_ID, ret->sandbox_id, sizeof(ret->sandbox_id));
		found = true;
	}

	/*
	 * The kubelet's labels: CRI-O's main source, containerd's fallback for versions
	 * before sandbox-name/-namespace/-uid, and all there is elsewhere.
	 */
	found |= ann_copy(ann, KUBE_CONTAINER_NAME, ret->name, sizeof(ret->name));
	found |= ann_copy(ann, KUBE_POD_NAME, ret->pod_name, sizeof(ret->pod_name));
	found |= ann_copy(ann, KUBE_POD_NAMESPACE, ret->pod_namespace, sizeof(ret->pod_namespace));
	found |= ann_copy(ann, KUBE_POD_UID, ret->pod_uid, sizeof(ret->pod_uid));

	if (ret->runtime == NSN_RUNTIME_CRIO) {
		s = ann_get(ann, CRIO_CONTAINER_NAME, &len);
		if (s)
			crio_name_fill(s, len, ret);
	}
	if (!found)
		return 0;
	if (libpod && ret->runtime == NSN_RUNTIME_NONE)
		ret->runtime = NSN_RUNTIME_PODMAN;
	return 1;
}

int nsn__oci_parse(const char *json, size_t len, struct nsn__oci_info *ret)
{
	struct json_tokener *tok;
	struct json_object *root, *ann;
	int r;

	if (!ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (len > NSN_OCI_CONFIG_MAX)
		return -E2BIG;
	if (!json || len == 0)
		return -EINVAL;

	tok = json_tokener_new_ex(OCI_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	/* Go's encoding/json writes strict JSON; comments and trailing commas mean junk. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* NSN_OCI_CONFIG_MAX keeps len well inside an int. */
	root = json_tokener_parse_ex(tok, json, (int)len);
	/*
	 * NULL with json_tokener_continue is a truncated document; an object that ends
	 * before len is followed by bytes the tokener never looked at (a NUL, a second
	 * document), which a config.json does not have.
	 */
	if (!root || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object)) {
		r = -EINVAL;
		goto out;
	}

	r = 0;
	if (json_object_object_get_ex(root, "annotations", &ann) &&
	    json_object_is_type(ann, json_type_object))
		r = read_annotations(ann, ret);
	if (r == 0)
		memset(ret, 0, sizeof(*ret));
out:
	json_object_put(root);
	json_tokener_free(tok);
	return r;
}
