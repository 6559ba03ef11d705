#ifndef RELAY_QUEUE_H
#define RELAY_QUEUE_H
/* The queue: layout, ids, the commit, and the queue file format.
 * doc/queue.md explains the states and the crash argument.
 *
 * $RELAY_HOME/queue/
 *   tmp/ID          being written by relay-queue; never read by anyone else
 *   msg/XX/ID       a queued message (immutable once there); XX = bucket
 *   info/XX/ID      per-recipient status, appended by relay-send only
 *   hold/ID         held by the operator (relay-qctl hold / release)
 *   corrupt/ID      quarantined: a queue file that does not parse
 *   trigger         (not a file; relay-send watches msg/XX/ with inotify)
 *
 * ID = 13 lowercase hex digits of microseconds since the epoch, '.', then
 * 8 lowercase hex digits of random: "19ab3c4d5e6f7.1a2b3c4d". Ids sort by
 * time as strings. XX = the first two hex digits of the random part.
 *
 * A queue file (msg/XX/ID) is an envelope in text, then the message:
 *   "RQ1\n"                 magic and version
 *   "A<epoch seconds>\n"    arrival time
 *   "C<class>\n"            message class (always present; "default")
 *   "F<sender>\n"           envelope sender; empty for the null sender <>
 *   "T<recipient>\n"        one per recipient, at least one
 *   "L<bytes>\n"            the length of the message bytes below (since
 *                           issue 10; a file without it is not checked)
 *   "\n"                    end of envelope
 *   message bytes           CRLF line endings, exactly what goes on the
 *                           wire (before dot-stuffing)
 * Addresses never contain CR, LF or NUL (relay-queue refuses them), so the
 * envelope is plain lines. Recipient index N (0-based) is the Nth T line.
 *
 * An info file (info/XX/ID) is lines appended by relay-send:
 *   "D<n> <epoch> <relay>\n"            recipient n delivered
 *   "F<n> <epoch> <status> <text>\n"    recipient n failed for good; DSN due
 *                                       (text: "[<code> ]<reply text>")
 *   "X<n>\n"                            DSN for recipient n queued (done)
 *   "R<epoch-next> <attempts>\n"        retry hint (not fsynced)
 *   "W\n"                                a delay warning DSN was queued
 *   "S<base64>\n"                       DKIM-Signature field(s) made by
 *                                       relay-dkim at the first attempt,
 *                                       sent before the message on every
 *                                       later one (not fsynced: if lost,
 *                                       the message is signed again)
 * Recipient n is done when it has a D or an X line.
 */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"

#define QUEUE_ID_LEN 22
#define QUEUE_MAGIC "RQ1\n"
#define QUEUE_BUCKETS 256
#define RCPT_MAX_ENV (100000UL * 260 + 4096) /* largest envelope */

/* $RELAY_HOME, or /var/relay. A setuid program ignores the environment. */
const char *relay_home(void);

struct queue_env {
	time_t arrival;
	char *class;        /* points into the parsed data or owned copy */
	char *sender;
	char **rcpt;
	size_t nrcpt;
	size_t body_off;    /* offset of the message in the queue file */
	unsigned long long body_len; /* the L record: message bytes committed */
	int has_len;        /* the file has an L record */
};

/* A fresh id (not yet unique on disk: the commit makes sure). */
void queue_id_new(char id[QUEUE_ID_LEN + 1]);
int queue_id_valid(const char *id);
/* "msg/XX/ID" style paths under home/queue; returns -1 if too long. */
int queue_path(char *out, size_t cap, const char *sub, const char *id);
int queue_path_flat(char *out, size_t cap, const char *sub, const char *id);

/* Parse the envelope at the start of a queue file. On success fills e
 * (rcpt is malloc'd; the strings point into data, which is modified:
 * the newlines become NULs) and returns 0; else -1 and *why. */
int queue_parse(char *data, size_t len, struct queue_env *e, const char **why);
void queue_env_free(struct queue_env *e);
/* Before sending: the open queue file fd is a regular file of exactly
 * body_off + body_len bytes (the L record written at the commit), so a
 * truncated or grown file is never delivered. 0 it is (or the file has
 * no L record); -1 with errno EBADMSG and *why when it is not (quarantine
 * it); -1 with another errno when fstat failed (try later). */
int queue_check_body(int fd, const struct queue_env *e, const char **why);

/* Recipient states from an info file (info.c, apart so that relay-queue
 * does not link the base64 decoder). */
enum rcpt_state { RS_PENDING = 0, RS_DELIVERED = 'D', RS_FAILED = 'F', RS_BOUNCED = 'X' };
/* What an F line says, for the DSN of a later attempt: the status
 * ("5.1.1"; "" when the line's was not one) and the text, which starts
 * with the reply code when the writer put one there ("550 5.1.1 ...":
 * then code is 550 and text what follows). Control bytes in the text
 * become '_'. */
struct queue_fail {
	int code;             /* 0 when unknown */
	char enh[16];
	char *text;           /* NULL when the recipient has no F line */
	long long when;
};
struct queue_info {
	unsigned char *state; /* nrcpt entries, enum rcpt_state */
	struct queue_fail *fail; /* NULL, or nfail (= nrcpt) entries: the first F line of each */
	size_t nfail;
	long long next;       /* retry hint: next attempt (epoch), 0 = none */
	int attempts;
	struct buf sig;       /* the DKIM header fields to send first (S line) */
	int have_sig;
	int warned;           /* a delay warning went out (W line) */
	int exists;           /* the info file is there */
};
/* Read info/XX/ID for a message of nrcpt recipients. A missing file means
 * every recipient pending (returns 0); -1 on a read error. Lines it does
 * not understand are skipped (a torn last line after a crash). */
int queue_info_read(const char *id, size_t nrcpt, struct queue_info *qi);
void queue_info_free(struct queue_info *qi);
/* The parser under queue_info_read: the lines of an info file in data
 * (modified: newlines become NULs). qi->exists is left 0. 0, or -1 with
 * errno ENOMEM. */
int queue_info_parse(char *data, size_t len, size_t nrcpt, struct queue_info *qi);
/* Read just the envelope of queue file path (the message body is not
 * read). data receives the bytes read; e points into it. */
int queue_read_env(const char *path, struct buf *data, struct queue_env *e, const char **why);
/* The same from an open queue file (read with pread: the offset stays). */
int queue_read_env_fd(int fd, struct buf *data, struct queue_env *e, const char **why);
#endif
