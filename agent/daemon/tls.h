/* SPDX-License-Identifier: MIT */
/**
 * @file tls.h
 * Mutual TLS for nsnet.v1 over TCP (nsnet-agent and nsnetstat --collector to
 * nsnet-collector), with OpenSSL driven through two memory BIOs: the engine never
 * touches a descriptor. The caller feeds it the ciphertext its socket read, pulls the
 * plaintext out, hands it plaintext to send and writes out the ciphertext it made, so
 * the same engine serves a libuv stream (nothing blocks the loop) and a blocking
 * socket. TLS 1.3 only; both sides present a certificate and verify the other's
 * against the CA: the client also verifies the name or address it dialled.
 *
 * Nothing here prints or exits: errors come back as -errno with one line.
 */
#ifndef NSN_DAEMON_TLS_H
#define NSN_DAEMON_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** --tls-cert, --tls-key, --tls-ca as given (NULL: not given). */
struct nsn_tls_files {
	const char *cert; /**< PEM: this side's certificate, then any intermediates */
	const char *key;  /**< PEM: its private key */
	const char *ca;	  /**< PEM: the CA(s) the peer's certificate must chain to */
};

/** Whether any of the three was given. */
bool nsn_tls_files_any(const struct nsn_tls_files *f);

/**
 * The rule every binary applies to its TLS flags for its address flag @p flag @p addr:
 * the three files go together; --plaintext excludes them; a unix:PATH address takes no
 * TLS (its file permissions guard it; --plaintext is accepted there and means
 * nothing); a HOST:PORT address needs the files or --plaintext. @p unencrypted says
 * what --plaintext would allow ("send it unencrypted").
 * @return 0, or -EINVAL with one line in @p err (no program name, no newline).
 */
int nsn_tls_flags_check(const struct nsn_tls_files *f, bool plaintext, const char *flag,
			const char *addr, bool is_unix, const char *unencrypted, char *err,
			size_t err_len);

/** Plaintext handed to nsn_tls_write() at a time by callers that then take the
 * output, so that a large frame is not held as plaintext and ciphertext at once. */
#define NSN_TLS_CHUNK 65536

/** The files loaded once, shared by every connection of a process. */
struct nsn_tls_ctx;

enum nsn_tls_role { NSN_TLS_CLIENT, NSN_TLS_SERVER };

/**
 * Load @p f (all three set) for @p role.
 * @return 0 with *ret (free with nsn_tls_ctx_free()), or -errno with one line in
 *         @p err naming the flag, the file and the reason (the system's or OpenSSL's),
 *         e.g. "--tls-key /etc/k.pem: key values mismatch (not the key of --tls-cert
 *         /etc/c.pem)".
 */
int nsn_tls_ctx_new(enum nsn_tls_role role, const struct nsn_tls_files *f, struct nsn_tls_ctx **ret,
		    char *err, size_t err_len);
/** NULL-safe. Connections made from it must be freed first. */
void nsn_tls_ctx_free(struct nsn_tls_ctx *ctx);

/** One connection's TLS session. */
struct nsn_tls;

/**
 * A session on @p ctx. A client passes the collector's name or address as dialled
 * (or --tls-server-name): its certificate must carry it (a DNS name, or an IP
 * address SAN for an address literal); a server passes NULL.
 * @return 0 with *ret (free with nsn_tls_free()), -ENOMEM, or -EINVAL for a name
 *         OpenSSL refuses.
 */
int nsn_tls_new(struct nsn_tls_ctx *ctx, const char *server_name, struct nsn_tls **ret);
/** NULL-safe. Sends nothing: the caller closes the socket. */
void nsn_tls_free(struct nsn_tls *t);

/** Client: begin the handshake (its first flight is then in the output). 0 or -EPROTO. */
int nsn_tls_start(struct nsn_tls *t);

/** Ciphertext the socket read. 0 or -ENOMEM. */
int nsn_tls_feed(struct nsn_tls *t, const void *data, size_t len);

/**
 * Drive the handshake with what was fed and decrypt: call until it returns 0 or less,
 * then send the output (the handshake's replies, an alert).
 * @return the number of plaintext bytes put in @p buf; 0 when more ciphertext is
 *         needed; -EPIPE when the peer ended the session (close_notify); -EPROTO on a
 *         TLS failure (nsn_tls_error() says which; an alert for the peer may be in the
 *         output); -ENOMEM.
 */
ssize_t nsn_tls_read(struct nsn_tls *t, void *buf, size_t len);

/**
 * Encrypt @p len bytes of plaintext into the output. Before the handshake is complete
 * they are kept and encrypted once it is.
 * @return 0, -ENOMEM, or -EPROTO after a failure.
 */
int nsn_tls_write(struct nsn_tls *t, const void *data, size_t len);

/**
 * The ciphertext to send now, in a new buffer that the caller frees; *ret_len 0 and
 * *ret NULL when there is none. 0 or -ENOMEM.
 */
int nsn_tls_take_output(struct nsn_tls *t, uint8_t **ret, size_t *ret_len);

/** Whether the handshake completed (the peer's certificate was verified). */
bool nsn_tls_established(const struct nsn_tls *t);

/** The last failure as one line (OpenSSL's reason, and the certificate check's); "". */
const char *nsn_tls_error(const struct nsn_tls *t);

/**
 * Once established: the identity of the peer's verified certificate, its first DNS
 * subjectAltName, else its subject's CN; "" when it has neither (or one with a NUL or
 * a control character). Owned by @p t.
 */
const char *nsn_tls_peer_identity(const struct nsn_tls *t);

/** Once established: the protocol and cipher, e.g. "TLSv1.3/TLS_AES_256_GCM_SHA384". */
const char *nsn_tls_describe(const struct nsn_tls *t, char *buf, size_t len);

#endif
