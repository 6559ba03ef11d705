#ifndef RELAY_TLS_INFO_H
#define RELAY_TLS_INFO_H
/* A TLS client for relay-health's probes that also reports the peer
 * certificate's expiry. It applies the same policy as tls.h (TLS 1.2
 * minimum; verify: chain against ca_file or the system store and the
 * name via X509_VERIFY_PARAM_set1_host / set1_ip_asc, no partial
 * wildcards; encrypt/may: no verification; SNI for names) and has the
 * same non-blocking calling convention and return values (TLS_OK,
 * TLS_WANT_READ, TLS_WANT_WRITE, TLS_EOF, TLS_ERR from tls.h).
 *
 * Why not tls.h: struct tls_conn is opaque and tls.h has no call that
 * returns the peer certificate. Once tls.h gains
 *     int tls_peer_not_after(struct tls_conn *t, time_t *when);
 * the probe can use tls.h and this file shrinks to nothing.
 * The caller ignores SIGPIPE (the socket is written with SSL_write). */
#include <stddef.h>
#include <time.h>

#include "tls.h"

struct tlsi;

int tlsi_new(struct tlsi **t, int fd, int policy, const char *ca_file, const char *name,
             char *err, size_t errcap);
int tlsi_handshake(struct tlsi *t, char *err, size_t errcap);
int tlsi_read(struct tlsi *t, void *p, size_t n, size_t *got);
int tlsi_write(struct tlsi *t, const void *p, size_t n, size_t *put);
size_t tlsi_pending(struct tlsi *t);
const char *tlsi_version(struct tlsi *t);
/* The peer certificate's notAfter: 1 and *when set, 0 no certificate. */
int tlsi_not_after(struct tlsi *t, time_t *when);
void tlsi_free(struct tlsi *t);

#endif
