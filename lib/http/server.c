/* relay-httpd's routes on libmicrohttpd (http/server.h). */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "base/diag.h"
#include "conf/apikeys.h"
#include "conf/conf.h"
#include "http/page.h"
#include "http/unsub.h"

#define TO_MAX 1000   /* to= in a message/rfc822 query */
#define BODY_RESERVE_MAX 65536   /* reserved for a body before it comes */

struct req {
	struct buf body;
	int too_big;
	int answered;
	struct conf_apikey key;
	char **to;
	size_t nto;
};

static enum MHD_Result reply(struct httpd *h, struct MHD_Connection *c, int code, const char *type,
                             const char *p, size_t n, long retry)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	char ra[32];
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (retry > 0) {
		snprintf(ra, sizeof ra, "%ld", retry);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	if (code == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"relay\"");
	ret = MHD_queue_response(c, (unsigned)code, r);
	MHD_destroy_response(r);
	status_count(&h->st, code);
	return ret;
}

static enum MHD_Result reply_err(struct httpd *h, struct MHD_Connection *c, int code,
                                 const char *field, const char *text, long retry)
{
	struct buf a = BUF_INIT;
	enum MHD_Result r;
	code = api_error(&a, code, field, text);
	r = reply(h, c, code, "application/json", a.p ? a.p : "", a.len, retry);
	buf_free(&a);
	return r;
}

/* etc/apikeys.cdb stays open between requests (was an open, a read of
 * the whole table and a close for each one): a stat per request tells
 * whether it is still the file that was read (relay-config compiles by
 * rename, so a new table is a new inode; size and mtime catch a rewrite
 * in place), else it is read again. Under keys_lock: tinycdb's lookups
 * keep their position in struct cdb. 1 found, 0 no such token (or no
 * table), -1 the table could not be read. */
static int key_lookup(struct httpd *h, const char *tok, size_t n, struct conf_apikey *key)
{
	char path[4096];
	struct stat st, fst;
	int r;
	if (snprintf(path, sizeof path, "%s/etc/apikeys.cdb", h->api.home) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	pthread_mutex_lock(&h->keys_lock);
	if (!h->keys_open || st.st_dev != h->keys_st.st_dev || st.st_ino != h->keys_st.st_ino ||
	    st.st_size != h->keys_st.st_size || st.st_mtim.tv_sec != h->keys_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != h->keys_st.st_mtim.tv_nsec) {
		if (h->keys_open)
			conf_close(&h->keys);
		h->keys_open = 0;
		r = conf_open(&h->keys, h->api.home, "apikeys");
		if (r != 0 || fstat(h->keys.fd, &fst) < 0) {
			int e = errno;
			if (r == 0)
				conf_close(&h->keys);
			pthread_mutex_unlock(&h->keys_lock);
			if (r == 1)
				return 0;   /* gone since the stat: no keys */
			errno = e;
			return -1;
		}
		h->keys_st = fst;
		h->keys_open = 1;
	}
	r = conf_apikey_lookup(&h->keys, tok, n, key);
	pthread_mutex_unlock(&h->keys_lock);
	return r;
}

/* The token of "Authorization: Bearer TOKEN": 1 found (key), 0 no or a
 * wrong token, -1 the table could not be read. */
static int auth(struct httpd *h, struct MHD_Connection *c, struct conf_apikey *key)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return 0;
	for (v += 7; *v == ' '; v++)
		;
	return key_lookup(h, v, strlen(v), key);
}

static enum MHD_Result to_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct req *q = cls;
	char **n;
	if (strcmp(k, "to") != 0 || !v)
		return MHD_YES;
	if (q->nto >= TO_MAX || !(n = realloc(q->to, (q->nto + 1) * sizeof *n)) || !(n[q->nto] = strdup(v))) {
		q->nto = TO_MAX + 1;
		return MHD_NO;
	}
	q->to = n;
	q->nto++;
	return MHD_YES;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, cap, "unknown");
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)cap);
	}
}

/* The whole body is in: check the type and hand it to api.c. */
static enum MHD_Result post(struct httpd *h, struct MHD_Connection *c, struct req *q)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	struct buf a = BUF_INIT;
	char ip[64];
	long wait;
	int code;
	enum MHD_Result r;
	size_t tl = ct ? strcspn(ct, ";") : 0;
	while (tl && ct[tl - 1] == ' ')
		tl--;
	if (!ct || !((tl == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	             (tl == 14 && strncasecmp(ct, "message/rfc822", 14) == 0)))
		return reply_err(h, c, 415, NULL, "want Content-Type application/json or message/rfc822", 0);
	pthread_mutex_lock(&h->rate_lock);
	wait = rate_take(&h->rate, q->key.name, q->key.u.rate, q->key.u.rate_per, time(NULL));
	pthread_mutex_unlock(&h->rate_lock);
	if (wait > 0)
		return reply_err(h, c, 429, NULL, "over the key's rate", wait);
	client_ip(c, ip, sizeof ip);
	if (tl == 16) {
		code = api_post_json(&h->api, &q->key, ip, q->body.p ? q->body.p : "", q->body.len, &a);
	} else {
		const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, to_arg, q);
		if (q->nto > TO_MAX)
			code = api_error(&a, 400, "to", "too many to= (at most 1000)");
		else
			code = api_post_raw(&h->api, &q->key, ip, from, q->to, q->nto, q->body.p ? q->body.p : "",
			                    q->body.len, &a);
	}
	if (code != 202) {
		pthread_mutex_lock(&h->rate_lock);
		rate_give(&h->rate, q->key.name);
		pthread_mutex_unlock(&h->rate_lock);
	}
	r = reply(h, c, code, "application/json", a.p ? a.p : "", a.len, code == 503 ? API_RETRY_AFTER : 0);
	buf_free(&a);
	return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **con_cls)
{
	struct httpd *h = cls;
	struct req *q = *con_cls;
	struct buf b = BUF_INIT;
	enum MHD_Result r;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (strcmp(url, "/v1/messages") == 0 && strcmp(method, "POST") == 0) {
		if (!q) {
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
			int a;
			if (!(q = calloc(1, sizeof *q)))
				return MHD_NO;
			*con_cls = q;
			/* before the body: the token, then the announced size */
			a = auth(h, c, &q->key);
			q->answered = 1;
			if (a < 0) {
				warn_sys("unable to read etc/apikeys.cdb");
				return reply_err(h, c, 503, NULL, "unable to read the key table", API_RETRY_AFTER);
			}
			if (a == 0)
				return reply_err(h, c, 401, NULL, "missing or wrong bearer token", 0);
			if (cl && strtoull(cl, NULL, 10) > h->body_max)
				return reply_err(h, c, 413, "message", "the body is over the size limit", 0);
			/* room for the announced body at once, not growth by
			 * doubling from 256 octets; past BODY_RESERVE_MAX it grows
			 * as it comes (an announced size is not yet a body) */
			if (cl && buf_reserve(&q->body, (size_t)strtoull(cl, NULL, 10) < BODY_RESERVE_MAX
			                                    ? (size_t)strtoull(cl, NULL, 10) : BODY_RESERVE_MAX) < 0)
				return MHD_NO;
			q->answered = 0;
			return MHD_YES;
		}
		if (q->answered) {   /* an early answer: drop what still comes */
			*size = 0;
			return MHD_YES;
		}
		if (*size) {
			if (q->too_big || q->body.len + *size > h->body_max) {
				q->too_big = 1;
				buf_free(&q->body);
				q->answered = 1;
				*size = 0;
				return reply_err(h, c, 413, "message", "the body is over the size limit", 0);
			}
			if (buf_add(&q->body, data, *size) < 0)
				return MHD_NO;
			*size = 0;
			return MHD_YES;
		}
		q->answered = 1;
		return post(h, c, q);
	}
	if (strncmp(url, "/u/", 3) == 0 && (get || strcmp(method, "POST") == 0)) {
		/* RFC 8058 one-click unsubscribe (http/unsub.h): no bearer token */
		int code;
		if (!get) {
			if (!q) {
				if (!(q = calloc(1, sizeof *q)))
					return MHD_NO;
				*con_cls = q;
				return MHD_YES;
			}
			if (*size) {
				if (q->body.len + *size > UNSUB_BODY_MAX)
					q->too_big = 1;
				else if (buf_add(&q->body, data, *size) < 0)
					return MHD_NO;
				*size = 0;
				return MHD_YES;
			}
			if (q->too_big)
				return reply_err(h, c, 413, NULL, "the body is over the size limit", 0);
		}
		code = http_unsub(h->api.home, url + 3, !get, q && q->body.p ? q->body.p : "", q ? q->body.len : 0, &b);
		r = reply(h, c, code, "text/html; charset=utf-8", b.p ? b.p : "", b.len, code == 503 ? API_RETRY_AFTER : 0);
		buf_free(&b);
		return r;
	}
	if (get && strncmp(url, "/v1/messages/", 13) == 0) {
		struct conf_apikey key;
		int a = auth(h, c, &key), code;
		if (a < 0)
			return reply_err(h, c, 503, NULL, "unable to read the key table", API_RETRY_AFTER);
		if (a == 0)
			return reply_err(h, c, 401, NULL, "missing or wrong bearer token", 0);
		code = api_get_message(&h->api, &key, url + 13, &b);
		r = reply(h, c, code, "application/json", b.p ? b.p : "", b.len, code == 503 ? API_RETRY_AFTER : 0);
		buf_free(&b);
		return r;
	}
	if (!get || strcmp(url, "/v1/messages") == 0) {
		*size = 0;   /* refused at once; a body is not read */
		return reply_err(h, c, strcmp(url, "/v1/messages") == 0 ? 405 : 404, NULL,
		                 "no such method or route", 0);
	}
	if (strcmp(url, "/") == 0)
		return reply(h, c, 200, "text/html; charset=utf-8", http_page, (size_t)(http_page_end - http_page), 0);
	if (strcmp(url, "/healthz") == 0)
		return reply(h, c, 200, "text/plain", "ok\n", 3, 0);
	if (strcmp(url, "/v1/status") == 0 || strcmp(url, "/metrics") == 0) {
		int m = url[1] == 'm';
		if ((m ? status_metrics(&h->st, time(NULL), &b) : status_json(&h->st, time(NULL), &b)) < 0) {
			buf_free(&b);
			warn_sys("unable to read the state for %s", url);
			return reply_err(h, c, 500, NULL, "unable to read the state", 0);
		}
		r = reply(h, c, 200, m ? "text/plain; version=0.0.4; charset=utf-8" : "application/json",
		          b.p ? b.p : "", b.len, 0);
		buf_free(&b);
		return r;
	}
	return reply_err(h, c, 404, NULL, "no such route", 0);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct req *q = *con_cls;
	size_t i;
	if (!q)
		return;
	buf_free(&q->body);
	for (i = 0; i < q->nto && i < TO_MAX; i++)
		free(q->to[i]);
	free(q->to);
	free(q);
	*con_cls = NULL;
}

static enum MHD_Result accept_ok(void *cls, const struct sockaddr *addr, socklen_t len);
static void conn_event(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

int httpd_start(struct httpd *h, const char *addr, unsigned port, char *err, size_t errcap)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	const struct sockaddr *sa;
	/* a thread per connection (server.h): a POST waits for the fsync */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
	                 MHD_USE_ERROR_LOG;
	char a[64];
	size_t n = strlen(addr);
	memset(&s6, 0, sizeof s6);
	memset(&s4, 0, sizeof s4);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof a) {
		memcpy(a, addr + 1, n - 2);
		a[n - 2] = 0;
		if (inet_pton(AF_INET6, a, &s6.sin6_addr) != 1)
			goto bad;
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((unsigned short)port);
		sa = (const struct sockaddr *)(const void *)&s6;
		flags |= MHD_USE_IPv6;
	} else {
		if (inet_pton(AF_INET, addr, &s4.sin_addr) != 1)
			goto bad;
		s4.sin_family = AF_INET;
		s4.sin_port = htons((unsigned short)port);
		sa = (const struct sockaddr *)(const void *)&s4;
	}
	pthread_mutex_init(&h->rate_lock, NULL);
	pthread_mutex_init(&h->keys_lock, NULL);
	h->keys_open = 0;
	h->conns = 0;
	api_sessions_init(&h->sessions);
	h->api.ss = &h->sessions;
	h->mhd = MHD_start_daemon(flags, (uint16_t)port, accept_ok, h, handler, h,
	                          MHD_OPTION_SOCK_ADDR, sa,
	                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->conn_max,
	                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->timeout,
	                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	                          MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	                          MHD_OPTION_NOTIFY_CONNECTION, conn_event, h,
	                          MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(err, errcap, "unable to listen on %s:%u", addr, port);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errcap, "bad listen address %s (want an IPv4 address or [IPv6])", addr);
	errno = EINVAL;
	return -1;
}

/* -c in total: a connection past it is refused at accept */
static enum MHD_Result accept_ok(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct httpd *h = cls;
	int ok;
	(void)addr;
	(void)len;
	pthread_mutex_lock(&h->rate_lock);
	ok = h->conns < h->conn_max;
	pthread_mutex_unlock(&h->rate_lock);
	return ok ? MHD_YES : MHD_NO;
}

static void conn_event(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	(void)c;
	(void)socket_context;
	pthread_mutex_lock(&h->rate_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		h->conns++;
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED && h->conns)
		h->conns--;
	pthread_mutex_unlock(&h->rate_lock);
}

void httpd_stop(struct httpd *h)
{
	if (h->mhd) {
		MHD_stop_daemon(h->mhd);   /* joins every connection's thread */
		api_sessions_end(&h->sessions);
		if (h->keys_open)
			conf_close(&h->keys);
		h->keys_open = 0;
	}
	h->mhd = NULL;
}
