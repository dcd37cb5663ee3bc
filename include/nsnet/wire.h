/* SPDX-License-Identifier: MIT */
/**
 * @file wire.h
 * Framing of the nsnet.v1 stream: each frame is a 4-byte big-endian length and that
 * many bytes (one packed nsnet.v1.Frame). The reader enforces a maximum frame size as
 * soon as a length prefix is complete, so an absurd prefix never allocates anything.
 *
 * Nothing here depends on protobuf-c or libuv: the reader only cuts a byte stream
 * into frames. Not thread-safe; one reader per connection.
 */
#ifndef NSNET_WIRE_H
#define NSNET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the length prefix. */
#define NSN_FRAME_HDR 4u
/** Default maximum frame size (payload bytes), both directions. */
#define NSN_FRAME_MAX_DEFAULT (16u * 1024u * 1024u)
/** No peer may announce or configure a maximum above this (1 GiB). */
#define NSN_FRAME_MAX_LIMIT (1u << 30)

/** Cuts a byte stream into frames. Zero-initialise, then nsn_frame_reader_init(). */
struct nsn_frame_reader {
	uint8_t *buf;     /**< owned */
	size_t off;       /**< start of unconsumed bytes in buf */
	size_t len;       /**< end of valid bytes in buf */
	size_t cap;
	uint32_t max;     /**< largest payload accepted */
	int err;          /**< sticky: once -EMSGSIZE, the stream is unusable */
	uint64_t frames;  /**< frames returned so far */
	uint64_t bytes;   /**< bytes fed so far */
};

/** Prepare @p r for payloads of at most @p max bytes (0 means NSN_FRAME_MAX_DEFAULT). */
void nsn_frame_reader_init(struct nsn_frame_reader *r, uint32_t max);
/** Change the largest payload accepted from the next frame on (0: the default). */
void nsn_frame_reader_set_max(struct nsn_frame_reader *r, uint32_t max);

/** Release the buffer; @p r may be initialised again. NULL-safe. */
void nsn_frame_reader_release(struct nsn_frame_reader *r);

/**
 * Append @p len bytes read from the stream. Frames are not parsed here; call
 * nsn_frame_reader_next() until it returns 0 after each feed.
 * @return 0, -ENOMEM, or the sticky error (-EMSGSIZE) of an earlier oversized prefix.
 *         The buffer never holds more than one frame plus the bytes of this call.
 */
int nsn_frame_reader_feed(struct nsn_frame_reader *r, const void *data, size_t len);

/**
 * The next complete frame.
 * @return 1 with the payload in *ret_data / *ret_len (valid until the next feed or
 *         next call), 0 when no complete frame is buffered, or -EMSGSIZE when a length
 *         prefix exceeds the maximum (sticky; the connection must be closed).
 */
int nsn_frame_reader_next(struct nsn_frame_reader *r, const uint8_t **ret_data, size_t *ret_len);

/** Bytes buffered but not yet returned as frames (a partial frame at the end of a stream). */
size_t nsn_frame_reader_pending(const struct nsn_frame_reader *r);

/** Write the 4-byte big-endian length prefix of a @p len byte payload. */
void nsn_frame_put_header(uint8_t hdr[NSN_FRAME_HDR], uint32_t len);

/** Read a 4-byte big-endian length prefix. */
uint32_t nsn_frame_get_header(const uint8_t hdr[NSN_FRAME_HDR]);

#ifdef __cplusplus
}
#endif
#endif
