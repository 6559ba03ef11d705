#ifndef RELAY_SEND_REDIS_H
#define RELAY_SEND_REDIS_H
/* The one Redis client (over hiredis, synchronous, with short timeouts so
 * that relay-send's loop never waits long): connect (AUTH, SELECT),
 * commands, and Lua scripts run by EVALSHA (loaded again on NOSCRIPT).
 * rediss:// goes over send/redis_tls.c (OpenSSL; hiredis 0.14 has no
 * TLS), the same calls. Every call is counted. After an I/O error or a timeout the connection
 * is closed (rconn_up is 0) and the caller reconnects when it chooses.
 * It lives in send/ (not net/) because only relay-send links hiredis and
 * the fuzz builds link every lib/ file outside send/; the URL parser is
 * conf/redis_url.h. */
#include <stddef.h>
#include "conf/redis_url.h"

struct redisReply;
struct rtls;

#define RCONN_ARGS_MAX 64   /* a command's words (a script's: 3 fewer) */

struct rconn {
	void *ctx;                 /* redisContext, NULL when down */
	struct rtls *tls;          /* rediss:// instead (send/redis_tls.h), NULL when down */
	struct redis_url url;
	int timeout_ms;            /* connect and each command */
	unsigned long calls;       /* round trips made */
	unsigned long failures;    /* of them, failed (I/O, timeout, error reply) */
};

void rconn_init(struct rconn *r, const struct redis_url *u, int timeout_ms);
/* Connect (and AUTH, SELECT). 0, or -1 with a reason in err. */
int rconn_open(struct rconn *r, char *err, size_t cap);
/* rconn_init and rconn_open for a URL as setting shared gives it (for
 * the one-shot readers: relay-qctl cluster). 0, or -1 with err. */
int rconn_open_url(struct rconn *r, const char *url, int timeout_ms, char *err, size_t cap);
void rconn_close(struct rconn *r);
int rconn_up(const struct rconn *r);
/* One command: the reply (free with rconn_free), or NULL (err says why;
 * after an I/O error the connection is closed). An error reply is
 * returned as NULL too, the connection kept. */
struct redisReply *rconn_cmd(struct rconn *r, int argc, const char **argv, char *err, size_t cap);
void rconn_free(struct redisReply *rep);
/* A Lua script: EVALSHA sha (the SHA1 hex of text, computed by SCRIPT LOAD
 * the first time: sha[0] == 0), loaded again on NOSCRIPT. argv: the keys
 * then the arguments (nkeys of them keys). */
struct redisReply *rconn_script(struct rconn *r, const char *text, char sha[41], int nkeys, int argc,
                                const char **argv, char *err, size_t cap);
/* The integers of an array reply (integers or numeric strings) into v[0..n):
 * how many were there, or -1 when the reply is not such an array. */
int rconn_ints(const struct redisReply *rep, long long *v, size_t n);

#endif
