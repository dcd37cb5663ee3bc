/* SPDX-License-Identifier: MIT */
/**
 * @file codec.h
 * nsnet.v1 frames to and from bytes, with the size limit checked before protobuf-c
 * sees a byte. Internal to the project (it exposes protobuf-c types); the public,
 * protobuf-free part is <nsnet/wire.h>.
 */
#ifndef NSN_PROTO_CODEC_H
#define NSN_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <nsnet/wire.h>

#include "nsnet.pb-c.h"

/** The protocol version of package nsnet.v1 (Hello.protocol_version). */
#define NSN_PROTOCOL_VERSION 1u

typedef Nsnet__V1__Frame NsnFrame;

/**
 * Unpack one frame payload of @p len bytes (as nsn_frame_reader_next() returned it).
 * Checks @p len against @p max first, then that exactly one body is set and that it is
 * one the protocol knows.
 * @return 0 and a new frame in *ret (free with nsn_wire_free()), -EMSGSIZE when
 *         @p len > @p max, -EBADMSG when it does not decode or has no body.
 */
int nsn_wire_unpack(const uint8_t *data, size_t len, size_t max, NsnFrame **ret);

/** Free a frame made by nsn_wire_unpack(). NULL-safe. */
void nsn_wire_free(NsnFrame *f);

/**
 * Pack @p f behind its 4-byte length prefix into a new malloc'd buffer.
 * @return 0 with the buffer in *ret_buf and its total size (prefix included) in
 *         *ret_len, -EMSGSIZE when the payload would exceed @p max, -ENOMEM.
 */
int nsn_wire_pack(const NsnFrame *f, size_t max, uint8_t **ret_buf, size_t *ret_len);

/** The name of a frame's body ("hello", "snapshot", ...), "none" if unset. */
const char *nsn_wire_body_name(const NsnFrame *f);

#endif
