#ifndef RELAY_COMMIT_H
#define RELAY_COMMIT_H
/* The commit of one queue file (queue.h has the format, doc/queue.md the
 * crash argument): tmp/ID created with a fresh id, the envelope records
 * and the message written, fsynced, closed, published by one rename that
 * never replaces a message (msg/XX/ID), and the directory fsynced. Only
 * then is the message queued; before, a failure removes tmp/ID.
 *
 * The records are checked by the caller (intake/qqread.c parses the
 * qmail-queue envelope into them): commit writes them as given, between
 * the magic and arrival lines and the L record. Used by relay-queue; it
 * needs nothing but libc (the static, setuid program links it). */
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "queue/queue.h"

struct queue_commit {
	char tmp[PATH_MAX];               /* queue/tmp/ID */
	char dst[PATH_MAX];               /* queue/msg/XX/ID once published */
	char id[QUEUE_ID_LEN + 1];
	int fd;
	/* 1 while tmp names our own file (created, not yet published):
	 * only then may the caller's signal handler unlink(tmp) */
	volatile sig_atomic_t ours;
	const char *what;                 /* what failed, for the message */
};

/* Create tmp/ID (O_EXCL, 0640) under a fresh id. 0, or -1 with errno and
 * c->what ("unable to create queue/tmp/ID", "unable to find a free queue
 * id", "queue path too long"). */
int queue_commit_begin(struct queue_commit *c);
/* Write "RQ1", "A<now>", the records (lines "C..\n" "F..\n" "T..\n"...),
 * "L<n>" with n = tlen + mlen, the blank line, then the trace and the
 * message; fsync, close, publish, fsync the directory. 0 when the message
 * is durably queued (c->id is its id); -1 with errno and c->what, tmp/ID
 * removed and nothing published (a directory that cannot be fsynced
 * withdraws the file it published). */
int queue_commit_finish(struct queue_commit *c, time_t now, const struct buf *recs,
                        const void *trace, size_t tlen, const void *msg, size_t mlen);
/* Give up before finishing: close and remove tmp/ID. Keeps errno. */
void queue_commit_abort(struct queue_commit *c);
#endif
