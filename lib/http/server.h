#ifndef RELAY_HTTP_SERVER_H
#define RELAY_HTTP_SERVER_H
/* relay-httpd's HTTP side on GNU libmicrohttpd: a thread for each
 * connection (MHD_USE_THREAD_PER_CONNECTION, one listening thread
 * polling), because each POST waits for relay-queue's fsync. As
 * relay-smtpd's process per SMTP session, no connection waits behind
 * another's commit; a pool of threads would (libmicrohttpd hands each
 * connection to one pool thread for good, so two connections on one
 * thread queue one message at a time between them, and it divided -c
 * among the threads and refused a connection past a thread's share
 * while others had room: issue 13, bench/httpd). The relay-queue -S
 * sessions are shared among the threads (api.h), not one per thread.
 * What they share is locked: the rate windows (rate_lock), the sessions
 * (their own lock) and status.h's ring and counters (its own lock). The
 * bounds:
 *   a request body     maxsize * 4/3 + 64 KiB (base64 inflates an
 *                      attachment by 4/3; JSON around it): a
 *                      Content-Length over it is 413 before any of the
 *                      body is read, a chunked body is cut at it
 *   request headers    MHD_OPTION_CONNECTION_MEMORY_LIMIT (32 KiB): MHD
 *                      answers 431 past it
 *   connections        -c (default 64) at once, MHD refuses more; so
 *                      threads (MHD_OPTION_CONNECTION_LIMIT is one count
 *                      for the whole server in this mode)
 *   idle time          MHD_OPTION_CONNECTION_TIMEOUT (-t, default 30 s):
 *                      a slow client (slowloris) is closed after it
 *   JSON               depth 16, jansson's UTF-8 check (mime.h)
 *
 * Routes: GET and POST /u/TOKEN (RFC 8058, http/unsub.h), POST /v1/messages and GET /v1/messages/ID (token), GET /v1/status,
 * GET /metrics, GET /
 * (the page), GET /healthz. The read-only routes need no token: keep
 * relay-httpd on loopback or behind a proxy that decides who may look. */
#include <stddef.h>
#include "http/api.h"
#include "http/rate.h"
#include "http/status.h"

#include <pthread.h>
#include <sys/stat.h>
#include "conf/conf.h"

struct httpd {
	pthread_mutex_t rate_lock;
	pthread_mutex_t keys_lock;      /* keys, keys_open, keys_st */
	struct conf keys;               /* etc/apikeys.cdb, kept open (server.c) */
	int keys_open;
	struct stat keys_st;            /* the open table's file */
	struct api_ctx api;
	struct api_sessions sessions;   /* api.ss points here (httpd_start) */
	struct status st;
	struct rate rate;
	size_t body_max;
	unsigned conn_max, timeout;
	unsigned conns;          /* open connections (under rate_lock): -c in total */
	void *mhd;               /* struct MHD_Daemon */
};

/* Listen on addr:port (IPv4 or [IPv6]); 0, or -1 (errno, reason in err). */
int httpd_start(struct httpd *h, const char *addr, unsigned port, char *err, size_t errcap);
void httpd_stop(struct httpd *h);
#endif
