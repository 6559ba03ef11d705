/* The Redis client (send/redis.h) over hiredis. */
#include "send/redis.h"
#include "send/redis_tls.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

void rconn_init(struct rconn *r, const struct redis_url *u, int timeout_ms)
{
	memset(r, 0, sizeof *r);
	r->url = *u;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 100;
}

int rconn_up(const struct rconn *r)
{
	return r->ctx != NULL || r->tls != NULL;
}

void rconn_close(struct rconn *r)
{
	if (r->ctx)
		redisFree(r->ctx);
	rtls_close(r->tls);
	r->ctx = NULL;
	r->tls = NULL;
}

void rconn_free(struct redisReply *rep)
{
	if (rep)
		freeReplyObject(rep);
}

static struct timeval tv_of(int ms)
{
	struct timeval tv;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

struct redisReply *rconn_cmd(struct rconn *r, int argc, const char **argv, char *err, size_t cap)
{
	redisReply *rep;
	size_t len[RCONN_ARGS_MAX];
	int i;
	if (!rconn_up(r)) {
		snprintf(err, cap, "not connected");
		return NULL;
	}
	if (argc > RCONN_ARGS_MAX) {
		snprintf(err, cap, "too many arguments");
		return NULL;
	}
	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	r->calls++;
	rep = r->tls ? rtls_cmd(r->tls, argc, argv, len, err, cap) : redisCommandArgv(r->ctx, argc, argv, len);
	if (!rep) {
		redisContext *c = r->ctx;
		if (c) {
			snprintf(err, cap, "%s", c->errstr[0] ? c->errstr : "connection lost");
			if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
				snprintf(err, cap, "timed out after %d ms", r->timeout_ms);
		}
		r->failures++;
		rconn_close(r);
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(err, cap, "%.*s", (int)(rep->len > 200 ? 200 : rep->len), rep->str ? rep->str : "");
		r->failures++;
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

/* AUTH and SELECT on a new connection (closed again if they fail) */
static int rconn_login(struct rconn *r, char *err, size_t cap);

int rconn_open(struct rconn *r, char *err, size_t cap)
{
	struct timeval tv = tv_of(r->timeout_ms);
	redisContext *c;
	rconn_close(r);
	r->calls++;
	if (r->url.tls) {   /* hiredis 0.14 has no TLS: OpenSSL's (send/redis_tls.c) */
		if (!(r->tls = rtls_open(&r->url, r->timeout_ms, err, cap))) {
			r->failures++;
			return -1;
		}
		return rconn_login(r, err, cap);
	}
	c = r->url.unix_sock ? redisConnectUnixWithTimeout(r->url.path, tv)
	                     : redisConnectWithTimeout(r->url.host, (int)r->url.port, tv);
	if (!c || c->err) {
		snprintf(err, cap, "connect: %s", c ? c->errstr : "out of memory");
		r->failures++;
		if (c)
			redisFree(c);
		return -1;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(err, cap, "unable to set the timeout");
		redisFree(c);
		return -1;
	}
	r->ctx = c;
	return rconn_login(r, err, cap);
}

static int rconn_login(struct rconn *r, char *err, size_t cap)
{
	redisReply *rep;
	char db[16];
	if (r->url.pass[0]) {
		const char *a3[3] = { "AUTH", r->url.user, r->url.pass }, *a2[2] = { "AUTH", r->url.pass };
		rep = r->url.user[0] ? rconn_cmd(r, 3, a3, err, cap) : rconn_cmd(r, 2, a2, err, cap);
		if (!rep)
			goto fail;
		rconn_free(rep);
	}
	if (r->url.db) {
		const char *a[2] = { "SELECT", db };
		snprintf(db, sizeof db, "%u", r->url.db);
		if (!(rep = rconn_cmd(r, 2, a, err, cap)))
			goto fail;
		rconn_free(rep);
	}
	return 0;
fail:
	rconn_close(r);
	return -1;
}

static int load(struct rconn *r, const char *text, char sha[41], char *err, size_t cap)
{
	const char *a[3] = { "SCRIPT", "LOAD", text };
	redisReply *rep = rconn_cmd(r, 3, a, err, cap);
	if (!rep)
		return -1;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		snprintf(err, cap, "SCRIPT LOAD: unexpected reply");
		rconn_free(rep);
		return -1;
	}
	memcpy(sha, rep->str, 40);
	sha[40] = 0;
	rconn_free(rep);
	return 0;
}

struct redisReply *rconn_script(struct rconn *r, const char *text, char sha[41], int nkeys, int argc,
                                const char **argv, char *err, size_t cap)
{
	const char *a[RCONN_ARGS_MAX];
	char nk[8];
	int i, tries;
	if (argc > RCONN_ARGS_MAX - 3) {
		snprintf(err, cap, "too many arguments");
		return NULL;
	}
	snprintf(nk, sizeof nk, "%d", nkeys);
	for (tries = 0; tries < 2; tries++) {
		redisReply *rep;
		if (!sha[0] && load(r, text, sha, err, cap) < 0)
			return NULL;
		a[0] = "EVALSHA";
		a[1] = sha;
		a[2] = nk;
		for (i = 0; i < argc; i++)
			a[3 + i] = argv[i];
		if ((rep = rconn_cmd(r, 3 + argc, a, err, cap)))
			return rep;
		if (!r->ctx || strncmp(err, "NOSCRIPT", 8) != 0)
			return NULL;
		sha[0] = 0;   /* flushed, or a restarted server: load it again */
	}
	return NULL;
}

int rconn_ints(const struct redisReply *rep, long long *v, size_t n)
{
	size_t i;
	if (!rep || rep->type != REDIS_REPLY_ARRAY)
		return -1;
	for (i = 0; i < rep->elements && i < n; i++) {
		const redisReply *e = rep->element[i];
		if (e->type == REDIS_REPLY_INTEGER)
			v[i] = e->integer;
		else if (e->type == REDIS_REPLY_STRING && e->len > 0 && e->len < 20) {
			char *end;
			errno = 0;
			v[i] = strtoll(e->str, &end, 10);
			if (errno || *end)
				return -1;
		} else
			return -1;
	}
	return (int)i;
}

int rconn_open_url(struct rconn *r, const char *url, int timeout_ms, char *err, size_t cap)
{
	struct redis_url u;
	if (redis_url_parse(url, &u, err, cap) < 0)
		return -1;
	rconn_init(r, &u, timeout_ms);
	return rconn_open(r, err, cap);
}
