#ifndef RELAY_BOUNCE_H
#define RELAY_BOUNCE_H
/* relay-bounce dsn, step by step: the settings it runs with, its input
 * parsed (the failure records from relay-send, the queue file), who gets
 * the report, and the recipients the suppression list takes once the
 * report is queued or dropped. cmd/relay-bounce.c reads the fds and
 * hands the report to relay-queue; doc/bounce.md explains the choices.
 *
 * Who gets the report: the envelope sender; the postmaster (the setting,
 * else postmaster@hostname) instead when the sender must not get one (the
 * null sender <>, or more than hopcount_limit Received: lines, a loop);
 * nobody (dropped, with a log line) for a triple bounce: the failed
 * message was a DSN from <> whose every failed recipient is the
 * postmaster; nobody either when no record is wanted by its recipient's
 * RFC 3461 NOTIFY (NEVER; FAILURE or DELAY not named; relayed without
 * SUCCESS). RET=HDRS returns only the header section (dsn_build). */
#include <stddef.h>
#include <time.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "bounce/classify.h"
#include "bounce/dsn.h"
#include "conf/conf.h"

/* How much of fd 3 to read: the failure records, one per recipient at
 * most, each at most DSN_RECORD_MAX (read as it comes: only a big input
 * costs memory). Never less than relay-send can write, or the message
 * would wait for a DSN for ever. */
#define BOUNCE_RECORDS_MAX ((size_t)DSN_RECORDS_CALL_MAX * (DSN_RECORD_MAX + 1))
/* How much of the queue file to read: the largest envelope, the largest
 * header section, and the message up to bounce_size_limit. A bigger
 * message comes back as headers only, so reading on would be waste. */
#define BOUNCE_ORIGINAL_CAP(limit) ((size_t)RCPT_MAX * (ADDR_PATH_MAX + 3) + 4096 + \
                                    HEADER_MAX + (size_t)(limit))
#define BOUNCE_SIZE_LIMIT_MAX (1L << 30) /* bounce_size_limit is capped here */

struct bounce_dsn {
	struct dsn_records rs;         /* every record (the suppression list sees all) */
	struct dsn_record *rep;        /* the ones the report is about: those the
	                                  recipient's NOTIFY asks for (dsn_wanted) */
	size_t nrep;
	struct dsn_original o;
	struct classify_table rules;   /* etc/classify: what a failure means */
	struct dsn_opts opt;           /* opt.to NULL: nobody may get it */
	unsigned long expiry;          /* suppression_expiry, in seconds */
	char host[CONF_HOST_MAX + 1];  /* hostname */
	char pm[ADDR_PATH_MAX + 1];    /* postmaster (or its default), "" when the sender gets it */
	char why[128];                 /* why not the sender, "" when it is */
};

/* The settings relay-bounce reads, each 0 or -1 with a one-line reason
 * in err (a temporary error: a read error, or a value that relay-config
 * would not write). bounce_size_limit is capped at BOUNCE_SIZE_LIMIT_MAX;
 * suppression_expiry is in seconds. */
int bounce_size_limit(const char *home, long *limit, char *err, size_t errcap);
int bounce_expiry(const char *home, unsigned long *secs, char *err, size_t errcap);

/* Parse the records (recs) and the queue file (orig, read in part when
 * truncated), read the rest of the settings and etc/classify, and decide
 * who gets the report. recs and orig are modified and must outlive d.
 * Returns 0, or the exit code relay-bounce gives with err: EXIT_PERM the
 * input is bad (retrying cannot help), EXIT_TEMP try later. */
int bounce_dsn_prepare(struct bounce_dsn *d, const char *home, struct buf *recs,
                       struct buf *orig, long limit, int truncated, time_t now,
                       char *err, size_t errcap);
/* Add the recipients that failed for good with a bad mailbox or domain
 * (classify_suppressible) to the suppression list; a failure to add one
 * is logged and the others go on. */
void bounce_suppress_failed(const char *home, const struct bounce_dsn *d, time_t now);
void bounce_dsn_free(struct bounce_dsn *d);

#endif
