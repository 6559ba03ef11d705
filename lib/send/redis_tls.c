/* Redis over TLS: OpenSSL's connection, hiredis's protocol (send/redis_tls.h). */
#include "send/redis_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct rtls {
	int fd;
	int timeout_ms;
	SSL_CTX *ctx;
	SSL *ssl;
	redisReader *rd;
};

static void ossl_err(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_get_error();
	char s[256];
	if (e) {
		ERR_error_string_n(e, s, sizeof s);
		snprintf(err, cap, "%s: %s", what, s);
	} else
		snprintf(err, cap, "%s", what);
	ERR_clear_error();
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP connection within timeout_ms (each address in turn), then
 * blocking with SO_RCVTIMEO/SO_SNDTIMEO: the fd, or -1 with err. */
static int tcp_connect(const struct redis_url *u, int timeout_ms, char *err, size_t cap)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct timeval tv;
	char port[8];
	int fd = -1, e, one = 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", u->port);
	if ((e = getaddrinfo(u->host, port, &hints, &ai)) != 0) {
		snprintf(err, cap, "connect: %s: %s", u->host, gai_strerror(e));
		return -1;
	}
	snprintf(err, cap, "connect: no address");
	for (a = ai; a; a = a->ai_next) {
		struct pollfd pf;
		socklen_t sl = sizeof e;
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
			snprintf(err, cap, "connect: socket: %s", strerror(errno));
			continue;
		}
		e = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			e = errno;
			if (e == EINPROGRESS) {
				pf.fd = fd;
				pf.events = POLLOUT;
				e = poll(&pf, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0
				        ? e : ETIMEDOUT;
			}
		}
		if (e == 0)
			break;
		snprintf(err, cap, "connect: %s", strerror(e));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return -1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
		snprintf(err, cap, "connect: socket options: %s", strerror(errno));
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static SSL_CTX *make_ctx(const struct redis_url *u, char *err, size_t cap)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	char what[REDIS_FILE_MAX + 64];
	if (!c) {
		ossl_err(err, cap, "TLS: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if ((u->ca[0] ? SSL_CTX_load_verify_locations(c, u->ca, NULL) : SSL_CTX_set_default_verify_paths(c)) != 1) {
		snprintf(what, sizeof what, "TLS: cannot load the CAs of %s", u->ca[0] ? u->ca : "the system");
		goto fail;
	}
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (u->cert[0]) {
		const char *key = u->key[0] ? u->key : u->cert;
		if (SSL_CTX_use_certificate_chain_file(c, u->cert) != 1) {
			snprintf(what, sizeof what, "TLS: cannot load the client certificate %s", u->cert);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c) != 1) {
			snprintf(what, sizeof what, "TLS: cannot load the client key %s (or it does not match)", key);
			goto fail;
		}
	}
	return c;
fail:
	ossl_err(err, cap, what);
	SSL_CTX_free(c);
	return NULL;
}

void rtls_close(struct rtls *t)
{
	if (!t)
		return;
	if (t->ssl)
		SSL_free(t->ssl);   /* no close_notify: the caller is done, or the line is bad */
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	if (t->rd)
		redisReaderFree(t->rd);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

struct rtls *rtls_open(const struct redis_url *u, int timeout_ms, char *err, size_t cap)
{
	struct rtls *t = calloc(1, sizeof *t);
	struct in6_addr ip;
	int r, literal;
	if (!t) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	t->timeout_ms = timeout_ms;
	if ((t->fd = tcp_connect(u, timeout_ms, err, cap)) < 0 || !(t->ctx = make_ctx(u, err, cap)))
		goto fail;
	if (!(t->ssl = SSL_new(t->ctx)) || SSL_set_fd(t->ssl, t->fd) != 1) {
		ossl_err(err, cap, "TLS: cannot set up the connection");
		goto fail;
	}
	literal = inet_pton(AF_INET, u->host, &ip) == 1 || inet_pton(AF_INET6, u->host, &ip) == 1;
	if (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), u->host) != 1
	            : (SSL_set_tlsext_host_name(t->ssl, u->host) != 1 || SSL_set1_host(t->ssl, u->host) != 1)) {
		ossl_err(err, cap, "TLS: cannot set the name to verify");
		goto fail;
	}
	ERR_clear_error();
	if ((r = SSL_connect(t->ssl)) != 1) {
		long v = SSL_get_verify_result(t->ssl);
		if (v != X509_V_OK)
			snprintf(err, cap, "TLS: certificate verify failed: %s", X509_verify_cert_error_string(v));
		else if (SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
			snprintf(err, cap, "TLS: handshake timed out after %d ms", timeout_ms);
		else
			ossl_err(err, cap, "TLS: handshake failed");
		goto fail;
	}
	if (!(t->rd = redisReaderCreate())) {
		snprintf(err, cap, "out of memory");
		goto fail;
	}
	return t;
fail:
	rtls_close(t);
	return NULL;
}

static void io_err(struct rtls *t, int r, const char *what, char *err, size_t cap)
{
	int e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && r == 0 && !ERR_peek_error()))
		snprintf(err, cap, "connection lost");
	else if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_SYSCALL) &&
	         (errno == EAGAIN || errno == EWOULDBLOCK))
		snprintf(err, cap, "timed out after %d ms", t->timeout_ms);
	else
		ossl_err(err, cap, what);
}

struct redisReply *rtls_cmd(struct rtls *t, int argc, const char **argv, const size_t *len, char *err,
                            size_t cap)
{
	long long deadline = now_ms() + t->timeout_ms;
	char *cmd = NULL, buf[16384];
	void *reply = NULL;
	int n = redisFormatCommandArgv(&cmd, argc, argv, len), off = 0, r;
	if (n < 0) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	while (off < n) {
		ERR_clear_error();
		if ((r = SSL_write(t->ssl, cmd + off, n - off)) <= 0) {
			io_err(t, r, "TLS: write", err, cap);
			redisFreeCommand(cmd);
			return NULL;
		}
		off += r;
	}
	redisFreeCommand(cmd);
	for (;;) {
		if (redisReaderGetReply(t->rd, &reply) != REDIS_OK) {
			snprintf(err, cap, "protocol error: %s", t->rd->errstr);
			return NULL;
		}
		if (reply)
			return reply;
		if (now_ms() >= deadline) {
			snprintf(err, cap, "timed out after %d ms", t->timeout_ms);
			return NULL;
		}
		ERR_clear_error();
		if ((r = SSL_read(t->ssl, buf, sizeof buf)) <= 0) {
			io_err(t, r, "TLS: read", err, cap);
			return NULL;
		}
		if (redisReaderFeed(t->rd, buf, (size_t)r) != REDIS_OK) {
			snprintf(err, cap, "protocol error: %s", t->rd->errstr);
			return NULL;
		}
	}
}
