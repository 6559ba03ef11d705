/* relay-smtpd's I/O, plain and TLS (net/smtpd_io.h). Blocking OpenSSL
 * on the two fds; poll() before each read gives the timeouts. */
#include "net/smtpd_io.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

void smtpd_io_init(struct smtpd_io *io, int rfd, int wfd, unsigned timeout, time_t deadline)
{
	memset(io, 0, sizeof *io);
	io->rfd = rfd;
	io->wfd = wfd;
	io->timeout = timeout;
	io->deadline = deadline;
}

void smtpd_io_reply(struct smtpd_io *io, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	if (buf_add(&io->out, line, (size_t)n) < 0 || buf_add(&io->out, "\r\n", 2) < 0)
		io->werr = 1;
}

int smtpd_io_flush(struct smtpd_io *io)
{
	size_t off = 0;
	while (!io->werr && off < io->out.len) {
		ssize_t w;
		if (io->ssl) {
			int r = SSL_write(io->ssl, io->out.p + off, (int)(io->out.len - off));
			w = r > 0 ? r : -1;
		} else {
			w = write(io->wfd, io->out.p + off, io->out.len - off);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0)
			io->werr = 1;
		else
			off += (size_t)w;
	}
	io->out.len = 0;
	return io->werr ? -1 : 0;
}

/* Wait for input: 1 ready, 0 timeout, -1 error. */
static int wait_in(struct smtpd_io *io, unsigned secs)
{
	struct pollfd p = { io->rfd, POLLIN, 0 };
	long ms = (long)secs * 1000;
	int r;
	if (io->deadline) {
		long left = (long)(io->deadline - time(NULL));
		if (left <= 0)
			return 0;
		if (left * 1000 < ms)
			ms = left * 1000;
	}
	do
		r = poll(&p, 1, (int)ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : r > 0;
}

int smtpd_io_fill(struct smtpd_io *io)
{
	ssize_t n;
	int w;
	if (io->off < io->len)
		return (int)(io->len - io->off);
	io->off = io->len = 0;
	if (smtpd_io_flush(io) < 0)
		return -1;
	if (!io->ssl || SSL_pending(io->ssl) == 0) {
		w = wait_in(io, io->timeout);
		if (w <= 0)
			return w < 0 ? -1 : -2;
	}
	if (io->ssl) {
		int r = SSL_read(io->ssl, io->in, (int)sizeof io->in);
		if (r <= 0) {
			int e = SSL_get_error(io->ssl, r);
			return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		}
		n = r;
	} else {
		do
			n = read(io->rfd, io->in, sizeof io->in);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return n == 0 ? 0 : -1;
	}
	io->len = (size_t)n;
	return (int)n;
}

int smtpd_io_talks(struct smtpd_io *io, unsigned secs)
{
	return wait_in(io, secs);
}

int smtpd_io_proxy(struct smtpd_io *io, unsigned secs, struct proxy_hdr *h, const char **why)
{
	unsigned char b[PROXY_V2_MAX];
	size_t len = 0;
	time_t end = time(NULL) + (time_t)secs;
	*why = "";
	for (;;) {
		int r = proxy_parse(b, len, h, why);
		size_t want;
		ssize_t n;
		long left = (long)(end - time(NULL));
		if (r != PROXY_MORE)
			return r;
		/* never past the header: -s does TLS on the bytes after it */
		if (len >= 16 && b[0] == 0x0D)
			want = 16 + ((size_t)b[14] << 8 | b[15]) - len;
		else
			want = len && b[0] == 0x0D ? 16 - len : 1;
		if (left <= 0 || wait_in(io, (unsigned)left) <= 0) {
			*why = "no PROXY header in time";
			return SMTPD_PROXY_TIMEOUT;
		}
		do
			n = read(io->rfd, b + len, want);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			*why = n == 0 ? "closed before the PROXY header ended" : "read error";
			return SMTPD_PROXY_EOF;
		}
		len += (size_t)n;
	}
}

void smtpd_io_discard(struct smtpd_io *io)
{
	io->off = io->len = 0;
}

static void ssl_err(char *err, size_t errcap, const char *what)
{
	unsigned long e = ERR_get_error();
	char t[256];
	ERR_error_string_n(e, t, sizeof t);
	snprintf(err, errcap, "%s: %s", what, e ? t : "unknown error");
	ERR_clear_error();
}

int smtpd_tls_setup(struct smtpd_io *io, const char *cert, const char *key,
                    char *err, size_t errcap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		ssl_err(err, errcap, "unable to make a TLS context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_err(err, errcap, "unable to load smtpd_cert");
		SSL_CTX_free(ctx);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key && *key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errcap, "unable to load smtpd_key");
		SSL_CTX_free(ctx);
		return -1;
	}
	io->ctx = ctx;
	return 0;
}

int smtpd_tls_start(struct smtpd_io *io, char *err, size_t errcap)
{
	SSL *ssl;
	int r;
	if (!io->ctx) {
		snprintf(err, errcap, "TLS is not set up");
		return -1;
	}
	if (!(ssl = SSL_new(io->ctx)) || SSL_set_rfd(ssl, io->rfd) != 1 ||
	    SSL_set_wfd(ssl, io->wfd) != 1) {
		ssl_err(err, errcap, "unable to start TLS");
		SSL_free(ssl);
		return -1;
	}
	/* the handshake's reads get the same timeout as a command */
	if (wait_in(io, io->timeout) <= 0) {
		snprintf(err, errcap, "TLS handshake: timeout");
		SSL_free(ssl);
		return -1;
	}
	r = SSL_accept(ssl);
	if (r != 1) {
		ssl_err(err, errcap, "TLS handshake failed");
		SSL_free(ssl);
		return -1;
	}
	io->ssl = ssl;
	snprintf(io->tls_version, sizeof io->tls_version, "%s", SSL_get_version(ssl));
	snprintf(io->tls_cipher, sizeof io->tls_cipher, "%s", SSL_get_cipher_name(ssl));
	return 0;
}

/* A lingering close. Closing a socket with unread input makes the
 * kernel send RST, and an RST throws away what is still in our send
 * queue: a client that pipelined past a drop (100,000 RCPTs, a flood)
 * would lose the last replies and the 421 that says why. So end our
 * side with a FIN after the replies, then read and discard the client's
 * bytes until it closes, for at most LINGER_MS. Not a socket (a pipe,
 * sendmail -bs): nothing to do. */
#define LINGER_MS 2000
static void linger_close(int rfd, int wfd)
{
	char junk[65536];
	struct timespec t0, t;
	struct pollfd p;
	long left;
	if (shutdown(wfd, SHUT_WR) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = LINGER_MS - ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0)
			return;
		p.fd = rfd;
		p.events = POLLIN;
		if (poll(&p, 1, (int)left) <= 0)
			return;
		ssize_t n = read(rfd, junk, sizeof junk);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

void smtpd_io_free(struct smtpd_io *io)
{
	if (io->ssl) {
		SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	if (io->ctx)
		SSL_CTX_free(io->ctx);
	io->ssl = io->ctx = NULL;
	buf_free(&io->out);
	if (!io->werr)
		linger_close(io->rfd, io->wfd);
}
