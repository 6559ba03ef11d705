#ifndef RELAY_SMTPD_IO_H
#define RELAY_SMTPD_IO_H
/* relay-smtpd's I/O: the client on fds rfd and wfd (0 and 1 under a
 * UCSPI server; the same socket twice), plain or TLS (OpenSSL server,
 * TLS 1.2 at least), with a per-read timeout and a session deadline.
 * Replies are queued and written when the server is about to wait for
 * input (smtpd_io_fill), so a pipelined group gets its replies in one
 * write (RFC 2920). */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "net/proxy.h"

struct smtpd_io {
	int rfd, wfd;
	void *ssl;                 /* SSL *, NULL until TLS is on */
	void *ctx;                 /* SSL_CTX * */
	unsigned timeout;          /* seconds per read */
	time_t deadline;           /* end of the session, 0 none */
	char in[16384];
	size_t off, len;           /* unread input in[off..len) */
	struct buf out;
	int werr;                  /* a write failed: the client is gone */
	char tls_version[32], tls_cipher[64];
};

void smtpd_io_init(struct smtpd_io *io, int rfd, int wfd, unsigned timeout, time_t deadline);
/* Queue a reply line (CRLF added). */
void smtpd_io_reply(struct smtpd_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Write what is queued. 0, or -1 (the client is gone). */
int smtpd_io_flush(struct smtpd_io *io);
/* Make input available: flushes replies first when nothing is
 * buffered. >0 bytes in in[off..len), 0 end of input, -1 error, -2
 * timeout. */
int smtpd_io_fill(struct smtpd_io *io);
/* 1 if input arrives within secs (the early-talker check before the
 * greeting), 0 if not, -1 error. */
int smtpd_io_talks(struct smtpd_io *io, unsigned secs);
/* The PROXY header (net/proxy.h) first on the connection, read with
 * exact reads (nothing after it is consumed, so -s can do TLS on what
 * follows) within secs in all. Its length, or PROXY_BAD, PROXY_LONG,
 * SMTPD_PROXY_EOF (closed or read error), SMTPD_PROXY_TIMEOUT; *why
 * says what was wrong. Before any other input. */
enum { SMTPD_PROXY_EOF = -3, SMTPD_PROXY_TIMEOUT = -4 };
int smtpd_io_proxy(struct smtpd_io *io, unsigned secs, struct proxy_hdr *h, const char **why);
/* Drop the buffered input (after the reply to STARTTLS). */
void smtpd_io_discard(struct smtpd_io *io);

/* Load the certificate chain and key (key NULL or "": in the chain
 * file). 0, or -1 with err. */
int smtpd_tls_setup(struct smtpd_io *io, const char *cert, const char *key,
                    char *err, size_t errcap);
/* The server handshake (nothing may be buffered). 0, or -1 with err. */
int smtpd_tls_start(struct smtpd_io *io, char *err, size_t errcap);
/* End TLS, free, and on a socket close lingering: FIN after the last
 * reply, the client's unread bytes read and dropped for up to 2 s, so
 * that a dropped client still gets every reply (never an RST). */
void smtpd_io_free(struct smtpd_io *io);
#endif
