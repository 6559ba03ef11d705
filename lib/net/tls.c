#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tls_conn {
	SSL *ssl;
	int fd;
};

/* ------------------------------------------- a socket BIO without SIGPIPE */
static int bio_write(BIO *b, const char *p, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t w;
	BIO_clear_retry_flags(b);
	w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)w;
}

static int bio_read(BIO *b, char *p, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t r;
	BIO_clear_retry_flags(b);
	r = recv(fd, p, (size_t)n, 0);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)r;
}

static int bio_puts(BIO *b, const char *s)
{
	return bio_write(b, s, (int)strlen(s));
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b; (void)num; (void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *nosig_method(void)
{
	static BIO_METHOD *m;
	if (m)
		return m;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "relay socket");
	if (!m)
		return NULL;
	BIO_meth_set_write(m, bio_write);
	BIO_meth_set_read(m, bio_read);
	BIO_meth_set_puts(m, bio_puts);
	BIO_meth_set_ctrl(m, bio_ctrl);
	BIO_meth_set_create(m, bio_create);
	return m;
}

/* ------------------------------------------------------- context cache */
static SSL_CTX *cache_ctx;
static int cache_verify;
static char *cache_ca;

static void err_text(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_get_error();
	char s[256];
	if (!cap)
		return;
	if (e) {
		ERR_error_string_n(e, s, sizeof s);
		snprintf(err, cap, "%s: %s", what, s);
	} else {
		snprintf(err, cap, "%s", what);
	}
	ERR_clear_error();
}

static SSL_CTX *get_ctx(int verify, const char *ca_file, char *err, size_t errcap)
{
	SSL_CTX *c;
	if (cache_ctx && cache_verify == verify &&
	    ((!ca_file && !cache_ca) || (ca_file && cache_ca && !strcmp(ca_file, cache_ca))))
		return cache_ctx;
	c = SSL_CTX_new(TLS_client_method());
	if (!c) {
		err_text(err, errcap, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	/* DANE is enabled per connection (tls_dane); the context only needs
	 * the digests it may use */
	if (SSL_CTX_dane_enable(c) <= 0) {
		err_text(err, errcap, "cannot enable DANE");
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (verify) {
		int ok = ca_file ? SSL_CTX_load_verify_locations(c, ca_file, NULL)
		                 : SSL_CTX_set_default_verify_paths(c);
		if (ok != 1) {
			char w[300];
			snprintf(w, sizeof w, "cannot load CA %s", ca_file ? ca_file : "(system store)");
			err_text(err, errcap, w);
			SSL_CTX_free(c);
			return NULL;
		}
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	}
	if (cache_ctx)
		SSL_CTX_free(cache_ctx);
	free(cache_ca);
	cache_ca = ca_file ? strdup(ca_file) : NULL;
	if (ca_file && !cache_ca) {
		SSL_CTX_free(c);
		cache_ctx = NULL;
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	cache_ctx = c;
	cache_verify = verify;
	return c;
}

static int is_ip_literal(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int tls_new(struct tls_conn **tp, int fd, enum conf_tls_mode policy, const char *ca_file,
	const char *name, char *err, size_t errcap)
{
	int verify = policy == CONF_TLS_VERIFY;
	SSL_CTX *c;
	struct tls_conn *t;
	BIO *bio;
	BIO_METHOD *m;

	*tp = NULL;
	c = get_ctx(verify, ca_file, err, errcap);
	if (!c)
		return -1;
	m = nosig_method();
	t = calloc(1, sizeof *t);
	if (!t || !m) {
		free(t);
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	t->fd = fd;
	t->ssl = SSL_new(c);
	if (!t->ssl) {
		err_text(err, errcap, "cannot create TLS connection");
		free(t);
		return -1;
	}
	bio = BIO_new(m);
	if (!bio) {
		err_text(err, errcap, "cannot create BIO");
		SSL_free(t->ssl);
		free(t);
		return -1;
	}
	BIO_set_data(bio, (void *)(intptr_t)fd);
	SSL_set_bio(t->ssl, bio, bio);
	if (name && *name && !is_ip_literal(name))
		SSL_set_tlsext_host_name(t->ssl, name);
	if (verify) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
		int ok;
		if (!name || !*name) {
			snprintf(err, errcap, "no name to verify");
			tls_free(t);
			return -1;
		}
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(vp, name)
		                         : X509_VERIFY_PARAM_set1_host(vp, name, 0);
		if (ok != 1) {
			err_text(err, errcap, "cannot set the name to verify");
			tls_free(t);
			return -1;
		}
	}
	SSL_set_connect_state(t->ssl);
	*tp = t;
	return 0;
}

int tls_dane(struct tls_conn *t, const char *base, const struct dns_tlsa_set *set,
	char *err, size_t errcap)
{
	size_t i, usable = 0;
	if (!base || !*base || is_ip_literal(base)) {
		snprintf(err, errcap, "DANE needs a host name");
		return -1;
	}
	if (SSL_dane_enable(t->ssl, base) <= 0) {
		err_text(err, errcap, "cannot enable DANE");
		return -1;
	}
	/* RFC 7672 3.1.1: DANE-EE(3) matches the key, names are not checked;
	 * DANE-TA(2) checks the name (base, the MX host) as usual */
	SSL_dane_set_flags(t->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < set->n; i++) {
		const struct dns_tlsa *r = &set->r[i];
		int rc = SSL_dane_tlsa_add(t->ssl, r->usage, r->selector, r->mtype, r->data, r->len);
		if (rc < 0) {
			err_text(err, errcap, "cannot add a TLSA record");
			return -1;
		}
		usable += rc > 0;
	}
	if (!usable) {
		snprintf(err, errcap, "no usable TLSA record for %s", base);
		return -1;
	}
	SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
	return 0;
}

int tls_dane_authority(struct tls_conn *t, int *usage)
{
	uint8_t u = 0, sel = 0, mt = 0;
	const unsigned char *data;
	size_t dlen;
	int depth;
	if (!t || SSL_get_verify_result(t->ssl) != X509_V_OK)
		return -1;
	depth = SSL_get0_dane_authority(t->ssl, NULL, NULL);
	if (depth < 0 || SSL_get0_dane_tlsa(t->ssl, &u, &sel, &mt, &data, &dlen) < 0)
		return -1;
	if (usage)
		*usage = u;
	return depth;
}

static int map_err(struct tls_conn *t, int rc)
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
			return TLS_EOF; /* closed without close_notify */
		return TLS_ERR;
	default:
		return TLS_ERR;
	}
}

int tls_handshake(struct tls_conn *t, char *err, size_t errcap)
{
	int rc;
	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1)
		return TLS_OK;
	rc = map_err(t, rc);
	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE)
		return rc;
	{
		long v = SSL_get_verify_result(t->ssl);
		if (v != X509_V_OK) {
			snprintf(err, errcap, "certificate verify failed: %s",
				X509_verify_cert_error_string(v));
			ERR_clear_error();
		} else if (rc == TLS_EOF || (errno == ECONNRESET && !ERR_peek_error())) {
			/* a peer that closes with our ClientHello unread resets
			 * the connection: the same event as a plain close */
			snprintf(err, errcap, "connection closed during TLS handshake");
			ERR_clear_error();
		} else if (ERR_peek_error()) {
			err_text(err, errcap, "TLS handshake failed");
		} else {
			snprintf(err, errcap, "TLS handshake failed: %s",
				errno ? strerror(errno) : "protocol error");
		}
	}
	return TLS_ERR;
}

int tls_read(struct tls_conn *t, void *p, size_t n, size_t *got)
{
	size_t g = 0;
	int rc;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(t->ssl, p, n, &g);
	*got = g;
	if (rc == 1)
		return TLS_OK;
	return map_err(t, rc);
}

int tls_write(struct tls_conn *t, const void *p, size_t n, size_t *put)
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

size_t tls_pending(struct tls_conn *t)
{
	int n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

const char *tls_version(struct tls_conn *t)
{
	if (!t || !SSL_is_init_finished(t->ssl))
		return NULL;
	return SSL_get_version(t->ssl);
}

void tls_error(struct tls_conn *t, char *err, size_t errcap)
{
	(void)t;
	if (ERR_peek_error())
		err_text(err, errcap, "TLS error");
	else
		snprintf(err, errcap, "TLS error: %s", errno ? strerror(errno) : "connection lost");
}

int tls_not_after(struct tls_conn *t, time_t *when)
{
	X509 *c = SSL_get0_peer_certificate(t->ssl);
	const ASN1_TIME *na;
	struct tm tm;
	if (!c || !(na = X509_get0_notAfter(c)) || ASN1_TIME_to_tm(na, &tm) != 1)
		return 0;
	*when = timegm(&tm);
	return 1;
}

void tls_free(struct tls_conn *t)
{
	if (!t)
		return;
	if (SSL_is_init_finished(t->ssl))
		SSL_shutdown(t->ssl); /* one non-blocking attempt; result ignored */
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
}
