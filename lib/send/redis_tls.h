#ifndef RELAY_SEND_REDIS_TLS_H
#define RELAY_SEND_REDIS_TLS_H
/* Redis over TLS (rediss://) for send/redis.c: Debian 12's hiredis 0.14
 * has no TLS of its own (hiredis_ssl came with 1.0), so the connection is
 * OpenSSL's and the protocol is still hiredis's: commands formatted by
 * redisFormatCommandArgv, replies parsed by its redisReader into the same
 * redisReply objects (freeReplyObject frees them).
 *
 * The server's certificate must verify: against ca= (else the system's
 * CAs), and for the URL's HOST (a name, or an IP address literal). There
 * is no mode without verification, and a failed handshake is an error,
 * never plaintext. cert= and key= present a client certificate (Redis's
 * tls-auth-clients). TLS 1.2 at least. Blocking, with timeout_ms on the
 * connect and on each command as a whole (SO_RCVTIMEO/SO_SNDTIMEO and a
 * deadline), like the hiredis path. */
#include <stddef.h>
#include "conf/redis_url.h"

struct redisReply;
struct rtls;

/* Connect and handshake: the connection, or NULL with a reason in err. */
struct rtls *rtls_open(const struct redis_url *u, int timeout_ms, char *err, size_t cap);
/* One command: its reply (an error reply too: the caller looks), or NULL
 * with err ("timed out after N ms" for a timeout); after NULL the
 * connection is unusable (rtls_close it). */
struct redisReply *rtls_cmd(struct rtls *t, int argc, const char **argv, const size_t *len, char *err,
                            size_t cap);
void rtls_close(struct rtls *t);

#endif
