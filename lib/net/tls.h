#ifndef RELAY_TLS_H
#define RELAY_TLS_H
/* TLS client over an existing non-blocking socket (OpenSSL 3). Every call
 * is non-blocking: it returns TLS_WANT_READ or TLS_WANT_WRITE and the
 * caller polls the fd and calls again, so all timers stay with the caller
 * (smtp.c). TLS 1.2 minimum; SNI when the name is not an IP literal.
 * Policy (enum conf_tls_mode of conf.h, the one TLS policy):
 *   CONF_TLS_VERIFY   the chain must verify against ca_file (NULL = the
 *                     system store) and the certificate must match name
 *                     (host name via X509_VERIFY_PARAM_set1_host, or an
 *                     IP literal);
 *   CONF_TLS_ENCRYPT, CONF_TLS_MAY   encrypt, no verification.
 * Socket I/O goes through a BIO that uses send(MSG_NOSIGNAL), so a peer
 * that closes never raises SIGPIPE. The SSL_CTX is cached per process
 * (one entry, keyed by verify and ca_file) because workers are
 * long-lived and loading a CA store per session is slow. */
#include <stddef.h>
#include <time.h>
#include "conf/conf.h"
#include "net/dns.h"

enum { TLS_OK = 0, TLS_WANT_READ = 1, TLS_WANT_WRITE = 2, TLS_EOF = 3, TLS_ERR = -1 };

struct tls_conn;

/* Set up (no I/O yet). 0, or -1 with err filled. */
int tls_new(struct tls_conn **t, int fd, enum conf_tls_mode policy, const char *ca_file,
	const char *name, char *err, size_t errcap);
/* Drive the handshake: TLS_OK when done, TLS_WANT_*, or TLS_ERR with
 * err filled (for a verify failure: "certificate verify failed: ..."). */
int tls_handshake(struct tls_conn *t, char *err, size_t errcap);
/* DANE (RFC 7672, OpenSSL's own DANE code): after tls_new and before the
 * handshake, authenticate the peer by the TLSA records in set instead of
 * a CA: the handshake then fails ("certificate verify failed") unless one
 * matches. base is the TLSA base domain, the MX host: the name a
 * DANE-TA(2) match must carry; DANE-EE(3) matches check no name. -1 with
 * err when no record is usable (the caller should not have asked). */
int tls_dane(struct tls_conn *t, const char *base, const struct dns_tlsa_set *set,
	char *err, size_t errcap);
/* After a handshake with tls_dane: the depth of the matched certificate
 * (0: the peer's own) and the matched record's usage, or -1 if the peer
 * was not authenticated by a TLSA record. */
int tls_dane_authority(struct tls_conn *t, int *usage);
/* Read: TLS_OK with *got > 0, TLS_EOF, TLS_WANT_*, TLS_ERR. */
int tls_read(struct tls_conn *t, void *p, size_t n, size_t *got);
/* Write: TLS_OK with *put > 0, TLS_WANT_*, TLS_ERR (EPIPE and resets too). */
int tls_write(struct tls_conn *t, const void *p, size_t n, size_t *put);
/* Bytes already decrypted and waiting. */
size_t tls_pending(struct tls_conn *t);
/* "TLSv1.3" etc., or NULL before the handshake. */
const char *tls_version(struct tls_conn *t);
/* The last error as text (OpenSSL's queue), for TLS_ERR from read/write. */
void tls_error(struct tls_conn *t, char *err, size_t errcap);
/* The peer certificate's notAfter (relay-health's days-left): 1 and
 * *when, or 0 when there is none. */
int tls_not_after(struct tls_conn *t, time_t *when);
/* Send close_notify once without waiting, free. Does not close fd. */
void tls_free(struct tls_conn *t);

#endif
