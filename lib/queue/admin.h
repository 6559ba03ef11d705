#ifndef RELAY_QADMIN_H
#define RELAY_QADMIN_H
/* The operator's changes to the queue (relay-qctl) and the walk it lists
 * and counts with. Paths come from queue_path() under relay_home();
 * doc/queue.md names the states and doc/relay-qctl.8 the commands.
 *
 * Each change takes one queue id and returns 0, or -1 with errno: EINVAL
 * not a queue id, ENOENT no such message where the change needs it
 * (both permanent: retrying cannot help), anything else (temporary).
 *
 *   hold     msg/XX/ID -> hold/ID, directory fsynced. relay-send skips it.
 *   release  a retry hint "R0 N" (due now, the N attempts so far kept)
 *            appended to info/XX/ID, then hold/ID -> msg/XX/ID, fsynced.
 *   delete   msg/XX/ID (or hold/ID) and info/XX/ID unlinked, each
 *            directory fsynced. A message
 *            relay-send is sending may still be delivered once.
 *   requeue  a retry hint "R0 0" (due now, attempts reset: a fresh retry
 *            schedule) for a message in msg/XX/.
 * The retry hint is not fsynced (queue.h: a lost hint costs one wait);
 * the info file's directory is, so a new info file keeps its name.
 * After release or requeue, qadmin_wake() makes relay-send look now. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "base/buf.h"
#include "queue/queue.h"

int qadmin_hold(const char *id);
int qadmin_release(const char *id);
int qadmin_delete(const char *id);
int qadmin_requeue(const char *id);
/* Run as root on a tree whose queue/ another user owns (relayq on an
 * installed tree): become that user, with its groups, for good, so that
 * every file relay-qctl writes is the queue owner's and root never parses
 * the queue's files. 1 dropped, 0 nothing to do (not root, or queue/ is
 * root's or missing), -1 with errno and err (a temporary error). */
int qadmin_become_owner(char *err, size_t errcap);
/* Send SIGALRM (retry everything deferred now) to the relay-send named
 * in queue/relay-send.pid. 0 it was told, 1 it is not running. */
int qadmin_wake(void);

/* ---- the walk: every message in msg/XX/ and hold/, oldest first */

struct qadmin_entry {
	char id[QUEUE_ID_LEN + 1];
	char path[PATH_MAX];
	int held;                   /* in hold/ */
};
struct qadmin_list {
	struct qadmin_entry *e;
	size_t n, cap;
};
#define QADMIN_LIST_INIT {NULL, 0, 0}
/* Fill l, sorted by id (ids sort by time). A missing directory is
 * empty. 0, or -1 with errno and what failed in err. No lock: a message
 * may move or go while the caller reads it (qadmin_read says so). */
int qadmin_scan(struct qadmin_list *l, char *err, size_t errcap);
void qadmin_list_free(struct qadmin_list *l);

/* One message as relay-qctl shows it. */
struct qadmin_msg {
	struct buf data;            /* the envelope's bytes; env points into it */
	struct queue_env env;
	struct queue_info info;
	long long size;             /* of the message, without the envelope */
};
#define QADMIN_MSG_INIT {BUF_INIT, {0}, {0}, 0}
/* Read the envelope, size and info file of e into m (reusing m's buffer;
 * qadmin_msg_done releases what one read took). 1 read; 0 the message is
 * gone or its envelope does not parse (*why says which, NULL when gone);
 * -1 the info file cannot be read (errno). */
int qadmin_read(const struct qadmin_entry *e, struct qadmin_msg *m, const char **why);
void qadmin_msg_done(struct qadmin_msg *m);
void qadmin_msg_free(struct qadmin_msg *m);
/* What relay-qctl calls recipient state s: queued (not tried yet),
 * deferred (pending after an attempt), delivered, failed, bounced. */
const char *qadmin_status(int state, int attempts);

/* The counts of relay-qctl stat. */
struct qadmin_stat {
	long messages, held, deferred;   /* messages: in msg/ (not held) */
	long long bytes, oldest;         /* oldest: age in seconds */
	long pending, delivered, failed; /* recipients; failed: F or X */
	long tmp, corrupt;               /* entries in queue/tmp, queue/corrupt */
};
/* 0, or -1 with errno and what failed in err: the queue cannot be
 * walked or an info file read. Messages that go or do not parse while
 * it counts are left out. */
int qadmin_stat(struct qadmin_stat *s, time_t now, char *err, size_t errcap);

/* The queue in Postfix's mailq form (sendmail -bp) on out: id (! when
 * held), size, arrival, sender, then the recipients still to be
 * delivered; "-- N Kbytes in M Requests." or "Mail queue is empty". A
 * file that went away or does not parse is skipped with a warning. 0, or
 * -1 with why in err (errno set). */
int qadmin_mailq(FILE *out, char *err, size_t errcap);

#endif
