/* SPDX-License-Identifier: MIT */
/*
 * The container runtimes' own records, read for the one thing each adds to a container id:
 *
 *   runc   /run/runc/<id>/state.json (libcontainer's State): the bundle directory, as the
 *          label "bundle=<dir>" that runc appends to config.labels after the OCI
 *          annotations (libcontainer/specconv CreateLibcontainerConfig). The bundle's
 *          config.json then goes to oci.c.
 *   crun   /run/crun/<id>/status: the same directory as the top-level "bundle" string.
 *   containers/storage (podman, CRI-O)
 *          <graphroot>/overlay-containers/containers.json: an array of
 *          {"id", "names": [...], "image", "layer", "metadata", ...}; the first name is
 *          the one "podman ps" shows (CRI-O's is "k8s_<ctr>_<pod>_<ns>_<uid>_<n>").
 *   Docker /var/lib/docker/containers/<id>/config.v2.json: "Name", "/<name>".
 *
 * All are written by Go's encoding/json (crun's by yajl), so they are read as strict JSON,
 * and a value is handed back whole or not at all: a cut name would name another container.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "container.h"

/*
 * state.json carries the whole libcontainer config; its deepest branch is the seccomp
 * filter (config.seccomp.syscalls[].args[]), about eight levels. Like oci.c, the bound
 * is far above that and far below what would hurt the tokener.
 */
#define RUNTIME_MAX_DEPTH 64

#define BUNDLE_LABEL "bundle="

/*
 * Parse @json as exactly one JSON value of type @type, whitespace around it allowed.
 * @return 0 with *ret_root owned by the caller, -E2BIG when @len is over
 *         NSN_RUNTIME_JSON_MAX (checked before reading), -EINVAL for anything else that
 *         is not such a document, -ENOMEM.
 */
static int parse_doc(const char *json, size_t len, enum json_type type,
		     struct json_object **ret_root)
{
	struct json_tokener *tok;
	struct json_object *root;

	*ret_root = NULL;
	if (len > NSN_RUNTIME_JSON_MAX)
		return -E2BIG;
	if (!json || len == 0)
		return -EINVAL;

	tok = json_tokener_new_ex(RUNTIME_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	/* Go's encoding/json and yajl write strict JSON; comments and trailing commas are junk. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* NSN_RUNTIME_JSON_MAX keeps len well inside an int. */
	root = json_tokener_parse_ex(tok, json, (int)len);
	/*
	 * NULL is a malformed or truncated document; a value that ends before len is followed
	 * by bytes the tokener never looked at (a NUL, a second document).
	 */
	if (!root || json_tokener_get_parse_end(tok) != len || !json_object_is_type(root, type)) {
		json_object_put(root);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	*ret_root = root;
	return 0;
}

/* @obj's member @key if it is a JSON string (with its length), else NULL. */
static const char *get_string(struct json_object *obj, const char *key, size_t *ret_len)
{
	struct json_object *v;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*ret_len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/*
 * Copy a value out whole. An escaped \u0000 or another control character would cut or
 * garble the string when it is read back as a C string or printed, so it is refused, as
 * is an empty value; one that does not fit is refused rather than cut.
 * @return 0, -EINVAL, or -ENAMETOOLONG.
 */
static int copy_value(const char *s, size_t len, char *ret, size_t size)
{
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -EINVAL;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(ret, s, len);
	ret[len] = '\0';
	return 0;
}

/*
 * The value of the last "bundle=" label. runc appends its own after the annotations, and
 * an annotation named "bundle" (CRI-O copies pod annotations into the spec) would come
 * first, so the last one is runc's.
 */
static const char *runc_bundle_label(struct json_object *root, size_t *ret_len)
{
	struct json_object *config, *labels;
	const char *found = NULL;
	size_t n;

	if (!json_object_object_get_ex(root, "config", &config) ||
	    !json_object_object_get_ex(config, "labels", &labels) ||
	    !json_object_is_type(labels, json_type_array))
		return NULL;
	n = json_object_array_length(labels);
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(labels, i);
		const char *s;
		size_t len;

		if (!json_object_is_type(l, json_type_string))
			continue;
		s = json_object_get_string(l);
		len = (size_t)json_object_get_string_len(l);
		if (len >= sizeof(BUNDLE_LABEL) - 1 &&
		    memcmp(s, BUNDLE_LABEL, sizeof(BUNDLE_LABEL) - 1) == 0) {
			found = s + sizeof(BUNDLE_LABEL) - 1;
			*ret_len = len - (sizeof(BUNDLE_LABEL) - 1);
		}
	}
	return found;
}

int nsn__runc_state_bundle(const char *json, size_t len, char *ret, size_t size)
{
	struct json_object *root;
	const char *s;
	size_t n = 0;
	int r;

	if (!ret || size == 0)
		return -EINVAL;
	ret[0] = '\0';
	r = parse_doc(json, len, json_type_object, &root);
	if (r < 0)
		return r;

	s = runc_bundle_label(root, &n);
	if (!s)
		s = get_string(root, "bundle", &n); /* crun's status file */
	if (!s)
		r = -ENOENT;
	else if (n == 0 || s[0] != '/')
		r = -EINVAL; /* runc and crun store getcwd(): a relative one is not theirs */
	else
		r = copy_value(s, n, ret, size);
	json_object_put(root);
	return r;
}

/* The entry of @array whose "id" is exactly @id, or NULL; entries not objects are skipped. */
static struct json_object *storage_find(struct json_object *array, const char *id)
{
	size_t idlen = strlen(id), n = json_object_array_length(array);

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(array, i);
		const char *s;
		size_t len;

		s = get_string(e, "id", &len);
		if (s && len == idlen && memcmp(s, id, len) == 0)
			return e;
	}
	return NULL;
}

int nsn__storage_names(const char *json, size_t len, const char *id, char *ret, size_t size)
{
	struct json_object *root, *entry, *names, *first;
	int r;

	if (!ret || size == 0)
		return -EINVAL;
	ret[0] = '\0';
	if (!id || id[0] == '\0')
		return len > NSN_RUNTIME_JSON_MAX ? -E2BIG : -EINVAL;
	r = parse_doc(json, len, json_type_array, &root);
	if (r < 0)
		return r;

	r = -ENOENT;
	entry = storage_find(root, id);
	if (entry && json_object_object_get_ex(entry, "names", &names) &&
	    json_object_is_type(names, json_type_array) && json_object_array_length(names) > 0) {
		first = json_object_array_get_idx(names, 0);
		if (json_object_is_type(first, json_type_string))
			r = copy_value(json_object_get_string(first),
				       (size_t)json_object_get_string_len(first), ret, size);
	}
	json_object_put(root);
	return r;
}

int nsn__docker_name(const char *json, size_t len, char *ret, size_t size)
{
	struct json_object *root;
	const char *s;
	size_t n = 0;
	int r;

	if (!ret || size == 0)
		return -EINVAL;
	ret[0] = '\0';
	r = parse_doc(json, len, json_type_object, &root);
	if (r < 0)
		return r;

	s = get_string(root, "Name", &n);
	if (!s) {
		r = -ENOENT;
	} else {
		/* The daemon keeps names rooted, "/web-1"; "docker ps" shows them without. */
		if (n > 0 && s[0] == '/') {
			s++;
			n--;
		}
		r = copy_value(s, n, ret, size);
	}
	json_object_put(root);
	return r;
}
