/* SPDX-License-Identifier: MIT */
/* Mutual TLS through memory BIOs (tls.h).
 *
 * The SSL object reads from one memory BIO (what the socket delivered) and writes to
 * another (what the socket must send); neither ever says "end of file", so OpenSSL only
 * ever asks for more (SSL_ERROR_WANT_READ) and the caller's event loop decides when
 * that arrives. A memory BIO grows as needed, so SSL_write() always takes everything:
 * the caller bounds what it queues, as it does without TLS.
 *
 * OpenSSL's error queue is per thread and is cleared before every call, so that
 * SSL_get_error() and the line we keep describe this call and this connection only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

struct nsn_tls_ctx {
	SSL_CTX *ssl_ctx;
	enum nsn_tls_role role;
};

struct nsn_tls {
	SSL *ssl;
	BIO *rbio, *wbio; /* owned by ssl */
	bool established, failed;
	char server_name[256]; /* client: what the collector's certificate must name */
	/* Plaintext written before the handshake completed. */
	uint8_t *pend;
	size_t pend_len, pend_cap;
	char identity[256];
	char err[640];
};

bool nsn_tls_files_any(const struct nsn_tls_files *f)
{
	return f->cert || f->key || f->ca;
}

int nsn_tls_flags_check(const struct nsn_tls_files *f, bool plaintext, const char *flag,
			const char *addr, bool is_unix, const char *unencrypted, char *err,
			size_t err_len)
{
	if (nsn_tls_files_any(f) && !(f->cert && f->key && f->ca)) {
		const char *miss[2];
		int n = 0;

		if (!f->cert)
			miss[n++] = "--tls-cert";
		if (!f->key)
			miss[n++] = "--tls-key";
		if (!f->ca && n < 2)
			miss[n++] = "--tls-ca";
		if (n == 1)
			snprintf(err, err_len,
				 "--tls-cert, --tls-key and --tls-ca go together: %s is missing",
				 miss[0]);
		else
			snprintf(
			    err, err_len,
			    "--tls-cert, --tls-key and --tls-ca go together: %s and %s are missing",
			    miss[0], miss[1]);
		return -EINVAL;
	}
	if (nsn_tls_files_any(f) && plaintext) {
		snprintf(err, err_len,
			 "--plaintext and --tls-cert/--tls-key/--tls-ca exclude each other");
		return -EINVAL;
	}
	if (!addr)
		return 0;
	if (is_unix && nsn_tls_files_any(f)) {
		snprintf(err, err_len,
			 "%s %s: --tls-cert/--tls-key/--tls-ca are for HOST:PORT (a unix socket is "
			 "guarded by its "
			 "file permissions)",
			 flag, addr);
		return -EINVAL;
	}
	if (!is_unix && !nsn_tls_files_any(f) && !plaintext) {
		snprintf(err, err_len,
			 "%s %s needs --tls-cert/--tls-key/--tls-ca, or --plaintext to %s", flag,
			 addr, unencrypted);
		return -EINVAL;
	}
	return 0;
}

/* OpenSSL's reason for the oldest error queued (the root cause), then clear it.
 * Returns the error. */
static unsigned long openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
	return e;
}

/* A readable regular file, or one line saying why not. */
static int check_file(const char *flag, const char *path, char *err, size_t err_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), e;

	if (fd < 0) {
		e = errno;
		snprintf(err, err_len, "%s %s: %s", flag, path, strerror(e));
		return -e;
	}
	e = fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
	close(fd);
	if (e) {
		snprintf(err, err_len, "%s %s: %s", flag, path,
			 e == EISDIR ? "not a regular file" : strerror(e));
		return -e;
	}
	return 0;
}

/* "FLAG FILE: OpenSSL's reason (EXPECTED expected)": its reasons for a file of the
 * wrong kind ("no start line", "unsupported") do not say what was wanted. */
__attribute__((format(printf, 3, 5))) static int
ssl_fail(char *err, size_t err_len, const char *fmt, const char *expected, ...)
{
	char reason[160], what[256];
	va_list ap;

	openssl_reason(reason, sizeof(reason));
	va_start(ap, expected);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, err_len, "%s: %s (%s expected)", what, reason, expected);
	return -EINVAL;
}

int nsn_tls_ctx_new(enum nsn_tls_role role, const struct nsn_tls_files *f, struct nsn_tls_ctx **ret,
		    char *err, size_t err_len)
{
	struct nsn_tls_ctx *ctx;
	SSL_CTX *s;
	int r;

	*ret = NULL;
	if ((r = check_file("--tls-cert", f->cert, err, err_len)) < 0 ||
	    (r = check_file("--tls-key", f->key, err, err_len)) < 0 ||
	    (r = check_file("--tls-ca", f->ca, err, err_len)) < 0)
		return r;
	ERR_clear_error();
	ctx = calloc(1, sizeof(*ctx));
	s = SSL_CTX_new(role == NSN_TLS_SERVER ? TLS_server_method() : TLS_client_method());
	if (!ctx || !s) {
		free(ctx);
		SSL_CTX_free(s);
		ERR_clear_error();
		snprintf(err, err_len, "TLS: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ctx->ssl_ctx = s;
	ctx->role = role;
	/* Every peer is one of our binaries, built with the same OpenSSL: 1.3 only. */
	SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION);
	/* Idle connections (most of a collector's 1,000s) give their buffers back. */
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(s, f->cert) != 1) {
		r = ssl_fail(err, err_len, "--tls-cert %s", "a PEM certificate", f->cert);
		goto fail;
	}
	/* OpenSSL checks the key against the certificate here already (3.0), or below. */
	if (SSL_CTX_use_PrivateKey_file(s, f->key, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH) {
		r = ssl_fail(err, err_len, "--tls-key %s", "a PEM private key", f->key);
		goto fail;
	}
	if (ERR_peek_error() || SSL_CTX_check_private_key(s) != 1) {
		char reason[160];

		openssl_reason(reason, sizeof(reason));
		snprintf(err, err_len, "--tls-key %s: %s (not the key of --tls-cert %s)", f->key,
			 reason, f->cert);
		r = -EINVAL;
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(s, f->ca, NULL) != 1) {
		r = ssl_fail(err, err_len, "--tls-ca %s", "PEM CA certificates", f->ca);
		goto fail;
	}
	if (role == NSN_TLS_SERVER) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(f->ca);

		/* Tell clients which CA we take, so that one with several picks the right one. */
		if (names)
			SSL_CTX_set_client_CA_list(s, names);
		ERR_clear_error();
		/* No resumption: every connection is verified in full, and tickets would only
		 * be bytes on the wire. */
		SSL_CTX_set_num_tickets(s, 0);
		SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
	}
	*ret = ctx;
	return 0;
fail:
	SSL_CTX_free(s);
	free(ctx);
	return r;
}

void nsn_tls_ctx_free(struct nsn_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

int nsn_tls_new(struct nsn_tls_ctx *ctx, const char *server_name, struct nsn_tls **ret)
{
	struct nsn_tls *t = calloc(1, sizeof(*t));
	unsigned char addr[16];

	*ret = NULL;
	if (!t)
		return -ENOMEM;
	ERR_clear_error();
	t->ssl = SSL_new(ctx->ssl_ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -ENOMEM;
	}
	/* An empty BIO means "not yet", never "end of file". */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	if (ctx->role == NSN_TLS_SERVER) {
		SSL_set_accept_state(t->ssl);
	} else {
		X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);
		bool ip = inet_pton(AF_INET, server_name, addr) == 1 ||
			  inet_pton(AF_INET6, server_name, addr) == 1;
		int ok;

		snprintf(t->server_name, sizeof(t->server_name), "%s", server_name);
		SSL_set_connect_state(t->ssl);
		X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		/* An address must be an IP address SAN; a name a DNS SAN (and is sent as SNI). */
		if (ip)
			ok = X509_VERIFY_PARAM_set1_ip_asc(p, server_name);
		else
			ok = SSL_set1_host(t->ssl, server_name) == 1 &&
			     SSL_set_tlsext_host_name(t->ssl, server_name) == 1;
		if (ok != 1) {
			ERR_clear_error();
			nsn_tls_free(t);
			return -EINVAL;
		}
	}
	*ret = t;
	return 0;
}

void nsn_tls_free(struct nsn_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* and both BIOs */
	free(t->pend);
	free(t);
}

/* Remember why the session failed, as one line. */
static int tls_fail(struct nsn_tls *t)
{
	char reason[160];
	long v = SSL_get_verify_result(t->ssl);
	unsigned long e = openssl_reason(reason, sizeof(reason));

	t->failed = true;
	/* An alert received: the peer refused us (our certificate, mostly). */
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
		snprintf(t->err, sizeof(t->err), "refused by the peer: %s", reason);
	else if (v == X509_V_OK)
		snprintf(t->err, sizeof(t->err), "%s", reason);
	else if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(t->err, sizeof(t->err),
			 "%s: %s (the collector's certificate does not name %s)", reason,
			 X509_verify_cert_error_string(v), t->server_name);
	else
		snprintf(t->err, sizeof(t->err), "%s: %s", reason,
			 X509_verify_cert_error_string(v));
	return -EPROTO;
}

/* A printable copy of @p len bytes at @p s, or "" (a NUL or a control character). */
static void copy_name(char *dst, size_t dst_len, const unsigned char *s, int len)
{
	dst[0] = 0;
	if (len <= 0 || (size_t)len >= dst_len)
		return;
	for (int i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return;
	memcpy(dst, s, (size_t)len);
	dst[len] = 0;
}

static void peer_identity(struct nsn_tls *t)
{
	X509 *cert = SSL_get0_peer_certificate(t->ssl);
	GENERAL_NAMES *names;

	t->identity[0] = 0;
	if (!cert)
		return;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type == GEN_DNS) {
			copy_name(t->identity, sizeof(t->identity),
				  ASN1_STRING_get0_data(g->d.dNSName),
				  ASN1_STRING_length(g->d.dNSName));
			break;
		}
	}
	GENERAL_NAMES_free(names);
	if (!t->identity[0]) {
		const X509_NAME *subj = X509_get_subject_name(cert);
		int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
		unsigned char *utf8 = NULL;
		int n;

		if (i >= 0 &&
		    (n = ASN1_STRING_to_UTF8(
			 &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)))) >= 0)
			copy_name(t->identity, sizeof(t->identity), utf8, n);
		OPENSSL_free(utf8);
	}
	ERR_clear_error();
}

static int write_all(struct nsn_tls *t, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len, n;

		ERR_clear_error();
		n = SSL_write(t->ssl, p, chunk);
		if (n <= 0)
			return tls_fail(t);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int nsn_tls_start(struct nsn_tls *t)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r != 1) {
		int e = SSL_get_error(t->ssl, r);

		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return tls_fail(t);
	}
	return 0;
}

int nsn_tls_feed(struct nsn_tls *t, const void *data, size_t len)
{
	if (len > INT_MAX)
		return -EINVAL;
	ERR_clear_error();
	if (len && BIO_write(t->rbio, data, (int)len) != (int)len) {
		ERR_clear_error();
		return -ENOMEM;
	}
	return 0;
}

ssize_t nsn_tls_read(struct nsn_tls *t, void *buf, size_t len)
{
	int n, e;

	if (t->failed)
		return -EPROTO;
	if (!t->established) {
		ERR_clear_error();
		n = SSL_do_handshake(t->ssl);
		if (n != 1) {
			e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			return tls_fail(t);
		}
		t->established = true;
		peer_identity(t);
		if (t->pend_len) {
			int r = write_all(t, t->pend, t->pend_len);

			free(t->pend);
			t->pend = NULL;
			t->pend_len = t->pend_cap = 0;
			if (r < 0)
				return r;
		}
	}
	ERR_clear_error();
	n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(t->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN)
		return -EPIPE;
	return tls_fail(t);
}

int nsn_tls_write(struct nsn_tls *t, const void *data, size_t len)
{
	if (t->failed)
		return -EPROTO;
	if (t->established)
		return write_all(t, data, len);
	if (t->pend_len + len > t->pend_cap) {
		size_t cap = t->pend_cap ? t->pend_cap : 4096;
		uint8_t *p;

		while (cap < t->pend_len + len)
			cap *= 2;
		if (!(p = realloc(t->pend, cap)))
			return -ENOMEM;
		t->pend = p;
		t->pend_cap = cap;
	}
	memcpy(t->pend + t->pend_len, data, len);
	t->pend_len += len;
	return 0;
}

int nsn_tls_take_output(struct nsn_tls *t, uint8_t **ret, size_t *ret_len)
{
	size_t n = BIO_ctrl_pending(t->wbio);
	uint8_t *buf;

	*ret = NULL;
	*ret_len = 0;
	if (n == 0)
		return 0;
	if (n > INT_MAX)
		n = INT_MAX;
	if (!(buf = malloc(n)))
		return -ENOMEM;
	if (BIO_read(t->wbio, buf, (int)n) != (int)n) {
		free(buf);
		ERR_clear_error();
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

bool nsn_tls_established(const struct nsn_tls *t)
{
	return t->established;
}

const char *nsn_tls_error(const struct nsn_tls *t)
{
	return t->err;
}

const char *nsn_tls_peer_identity(const struct nsn_tls *t)
{
	return t->identity;
}

const char *nsn_tls_describe(const struct nsn_tls *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
	return buf;
}
