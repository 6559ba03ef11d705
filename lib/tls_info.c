#include "tls_info.h"
#include "smtp.h" /* TLS_* policy values only */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tlsi {
	SSL *ssl;
	SSL_CTX *ctx;
};

static void err_text(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_get_error();
	char s[256];
	if (e) {
		ERR_error_string_n(e, s, sizeof s);
		snprintf(err, cap, "%s: %s", what, s);
	} else {
		snprintf(err, cap, "%s", what);
	}
	ERR_clear_error();
}

static int is_ip_literal(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* One context per connection: a probe process makes one connection. */
int tlsi_new(struct tlsi **tp, int fd, int policy, const char *ca_file, const char *name,
             char *err, size_t errcap)
{
	int verify = policy == TLS_VERIFY;
	struct tlsi *t = calloc(1, sizeof *t);
	*tp = NULL;
	if (!t) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx) {
		err_text(err, errcap, "cannot create TLS context");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (verify) {
		int ok = ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL)
		                 : SSL_CTX_set_default_verify_paths(t->ctx);
		if (ok != 1) {
			char w[300];
			snprintf(w, sizeof w, "cannot load CA %s", ca_file ? ca_file : "(system store)");
			err_text(err, errcap, w);
			goto fail;
		}
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	}
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
		err_text(err, errcap, "cannot create TLS connection");
		goto fail;
	}
	if (name && *name && !is_ip_literal(name))
		SSL_set_tlsext_host_name(t->ssl, name);
	if (verify) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
		int ok;
		if (!name || !*name) {
			snprintf(err, errcap, "no name to verify");
			goto fail;
		}
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(vp, name)
		                         : X509_VERIFY_PARAM_set1_host(vp, name, 0);
		if (ok != 1) {
			err_text(err, errcap, "cannot set the name to verify");
			goto fail;
		}
	}
	SSL_set_connect_state(t->ssl);
	*tp = t;
	return 0;
fail:
	tlsi_free(t);
	return -1;
}

static int map_err(struct tlsi *t, int rc)
{
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && (rc == 0 || errno == 0))
			return TLS_EOF;
		return TLS_ERR;
	default:
		return TLS_ERR;
	}
}

int tlsi_handshake(struct tlsi *t, char *err, size_t errcap)
{
	int rc;
	long v;
	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1)
		return TLS_OK;
	rc = map_err(t, rc);
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
		return rc;
	v = SSL_get_verify_result(t->ssl);
	if (v != X509_V_OK) {
		snprintf(err, errcap, "certificate verify failed: %s", X509_verify_cert_error_string(v));
		ERR_clear_error();
	} else if (rc == TLS_EOF) {
		snprintf(err, errcap, "connection closed during TLS handshake");
	} else if (ERR_peek_error()) {
		err_text(err, errcap, "TLS handshake failed");
	} else {
		snprintf(err, errcap, "TLS handshake failed: %s", errno ? strerror(errno) : "protocol error");
	}
	return TLS_ERR;
}

int tlsi_read(struct tlsi *t, void *p, size_t n, size_t *got)
{
	size_t g = 0;
	int rc;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(t->ssl, p, n, &g);
	*got = g;
	return rc == 1 ? TLS_OK : map_err(t, rc);
}

int tlsi_write(struct tlsi *t, const void *p, size_t n, size_t *put)
{
	size_t w = 0;
	int rc;
	ERR_clear_error();
	errno = 0;
	rc = SSL_write_ex(t->ssl, p, n, &w);
	*put = w;
	if (rc == 1)
		return TLS_OK;
	rc = map_err(t, rc);
	return rc == TLS_EOF ? TLS_ERR : rc;
}

size_t tlsi_pending(struct tlsi *t)
{
	int n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

const char *tlsi_version(struct tlsi *t)
{
	return t && SSL_is_init_finished(t->ssl) ? SSL_get_version(t->ssl) : NULL;
}

int tlsi_not_after(struct tlsi *t, time_t *when)
{
	X509 *c = SSL_get0_peer_certificate(t->ssl);
	const ASN1_TIME *na;
	struct tm tm;
	if (!c || !(na = X509_get0_notAfter(c)) || ASN1_TIME_to_tm(na, &tm) != 1)
		return 0;
	*when = timegm(&tm);
	return 1;
}

void tlsi_free(struct tlsi *t)
{
	if (!t)
		return;
	if (t->ssl) {
		if (SSL_is_init_finished(t->ssl))
			SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	ERR_clear_error();
	free(t);
}
