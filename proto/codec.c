/* SPDX-License-Identifier: MIT */
/* Frames to and from bytes. protobuf-c's unpack trusts the lengths inside a message
 * only up to the buffer it is given, so bounding the buffer bounds the work; what it
 * cannot know is which bodies this protocol version allows, checked here. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "codec.h"

/* protobuf-c keeps unknown fields so that a frame packs again as it came, and it reads
 * a tag of field number 0 spelled in more than one byte (80 00) as one of them, which
 * protobuf forbids. Packed again it becomes the single byte 00, which protobuf-c itself
 * then refuses: a frame relayed or stored that way would poison its next reader. Such a
 * frame does not decode. The schema has no recursive messages, so neither has this. */
static bool unknown_fields_valid(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return false;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *base = (const char *)m;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + fd->quantifier_offset);
			ProtobufCMessage *const *v =
			    *(ProtobufCMessage *const *const *)(base + fd->offset);

			for (size_t j = 0; j < n; j++)
				if (!unknown_fields_valid(v[j]))
					return false;
			continue;
		}
		/* The members of a oneof share their storage: only the chosen one is set. */
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
			continue;
		{
			const ProtobufCMessage *sub =
			    *(ProtobufCMessage *const *)(base + fd->offset);

			if (sub && !unknown_fields_valid(sub))
				return false;
		}
	}
	return true;
}

int nsn_wire_unpack(const uint8_t *data, size_t len, size_t max, NsnFrame **ret)
{
	NsnFrame *f;

	*ret = NULL;
	if (len > max)
		return -EMSGSIZE;
	f = nsnet__v1__frame__unpack(NULL, len, data);
	if (!f)
		return -EBADMSG;
	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_HELLO:
	case NSNET__V1__FRAME__BODY_WELCOME:
	case NSNET__V1__FRAME__BODY_ACK:
	case NSNET__V1__FRAME__BODY_ERROR:
	case NSNET__V1__FRAME__BODY_SNAPSHOT:
	case NSNET__V1__FRAME__BODY_DELTA:
	case NSNET__V1__FRAME__BODY_GONE:
	case NSNET__V1__FRAME__BODY_SCAN_DONE:
	case NSNET__V1__FRAME__BODY_QUERY:
	case NSNET__V1__FRAME__BODY_RESPONSE:
		break;
	default:
		nsnet__v1__frame__free_unpacked(f, NULL);
		return -EBADMSG;
	}
	if (!unknown_fields_valid(&f->base)) {
		nsnet__v1__frame__free_unpacked(f, NULL);
		return -EBADMSG;
	}
	*ret = f;
	return 0;
}

void nsn_wire_free(NsnFrame *f)
{
	if (f)
		nsnet__v1__frame__free_unpacked(f, NULL);
}

int nsn_wire_pack(const NsnFrame *f, size_t max, uint8_t **ret_buf, size_t *ret_len)
{
	size_t n = nsnet__v1__frame__get_packed_size(f);
	uint8_t *buf;

	*ret_buf = NULL;
	*ret_len = 0;
	if (n > max || n > UINT32_MAX)
		return -EMSGSIZE;
	buf = malloc(NSN_FRAME_HDR + n);
	if (!buf)
		return -ENOMEM;
	nsn_frame_put_header(buf, (uint32_t)n);
	if (nsnet__v1__frame__pack(f, buf + NSN_FRAME_HDR) != n) {
		free(buf);
		return -EBADMSG; /* cannot happen: protobuf-c packs what it sized */
	}
	*ret_buf = buf;
	*ret_len = NSN_FRAME_HDR + n;
	return 0;
}

const char *nsn_wire_body_name(const NsnFrame *f)
{
	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_HELLO: return "hello";
	case NSNET__V1__FRAME__BODY_WELCOME: return "welcome";
	case NSNET__V1__FRAME__BODY_ACK: return "ack";
	case NSNET__V1__FRAME__BODY_ERROR: return "error";
	case NSNET__V1__FRAME__BODY_SNAPSHOT: return "snapshot";
	case NSNET__V1__FRAME__BODY_DELTA: return "delta";
	case NSNET__V1__FRAME__BODY_GONE: return "gone";
	case NSNET__V1__FRAME__BODY_SCAN_DONE: return "scan_done";
	case NSNET__V1__FRAME__BODY_QUERY: return "query";
	case NSNET__V1__FRAME__BODY_RESPONSE: return "response";
	default: return "none";
	}
}
