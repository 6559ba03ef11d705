#ifndef RELAY_ATTEMPT_H
#define RELAY_ATTEMPT_H
/* One delivery attempt of one queued message. State: struct attempt,
 * made by attempt_open and owned by the loop until its last task is done
 * (then attempt_free): the open queue file, its envelope, each
 * recipient's state from the info file and what this attempt decided,
 * the last error per recipient, and the DKIM fields sent before the
 * message. The loop's deliver.c routes its recipients into transactions;
 * attempt_conclude writes down the outcome through record.h. */
#include <stddef.h>
#include "base/buf.h"
#include "net/smtp.h"
#include "queue/queue.h"

struct children;
struct qmsg;
struct sendconf;

struct rerr {                   /* the last outcome of one recipient */
	int code;
	char enh[16];
	char *text;
	char relay[300];
};

struct attempt {
	struct qmsg *m;
	int fd;                 /* the queue file, read-only */
	struct buf env;
	struct queue_env e;
	unsigned char *st;      /* RS_* from the info file, then this attempt */
	unsigned char *now;     /* 'D' or 'F' decided in this attempt */
	struct rerr *err;
	int attempts;           /* attempts before this one */
	int tasks;              /* tasks not finished */
	int dispatched;         /* a transaction was handed to a worker */
	int waiting, inflight;  /* its tasks in deliver's queue, and on workers */
	double t0;
	int warned;             /* a delay warning was sent before */
	int has_info;           /* an info file exists (else nothing to remove) */
	struct buf sig;         /* DKIM header fields sent before the message */
	int sig_new;            /* made in this attempt: store it if we retry */
	int unsub;              /* httpd (issue 13): RFC 8058 fields, signed per recipient (send/unsub.h) */
	unsigned char *relayed; /* dsn: delivered to a hop without DSN, NOTIFY=SUCCESS (send/relayed.h) */
};

enum attempt_open {
	ATTEMPT_OPEN,       /* *ap is the attempt */
	ATTEMPT_GONE,       /* no queue file (delivered, deleted or held) */
	ATTEMPT_CORRUPT,    /* a queue file that does not parse: *why */
	ATTEMPT_LATER,      /* the queue file or its info could not be read */
	ATTEMPT_WAIT,       /* a retry hint from before a restart: *wait s */
	ATTEMPT_NONE,       /* no path for the id: nothing to do */
};
/* Open m's queue file and read its envelope and info file. With forced,
 * a retry hint is ignored. Warns about read errors itself. */
/* How long to wait, in monotonic seconds, for a retry hint next (wall
 * clock) seen at the wall-clock time now (mono: the monotonic time then);
 * 0 when due. Never more than ATTEMPT_RECHECK_S at a time: then the hint
 * is looked at again with the wall clock of then, so a clock that was
 * behind and is corrected costs at most that much. A hint further out
 * than longest (the schedule's longest interval) was written by a clock
 * that ran ahead, or the clock is behind now: it is trusted for at most
 * longest monotonic seconds from when it was first seen so (*odd_since,
 * 0 when not; kept by the caller per message), then the message is due. */
#define ATTEMPT_RECHECK_S 300
double attempt_hint_wait(long long next, long long now, unsigned long longest, double mono,
                         double *odd_since);

enum attempt_open attempt_open(struct qmsg *m, int forced, struct sendconf *conf, struct attempt **ap,
                               double *wait,
                               const char **why);
void attempt_free(struct attempt *a);
/* Recipient i's last outcome: r, from relay. */
void attempt_set_err(struct attempt *a, size_t i, const struct smtp_result *r, const char *relay);

/* Sign the message once (the fields are kept for retries): 0 signed or
 * no signer; 1 the signer failed: every pending recipient is deferred
 * (or, when the signer refuses the message, failed) and nothing is sent. */
int attempt_sign(struct attempt *a, struct children *kids);

enum attempt_end {
	ATTEMPT_DONE,       /* every recipient delivered or bounced: removed */
	ATTEMPT_RETRY,      /* due again at *due (qindex_clock) */
};
/* The attempt's last task is done: record each recipient's outcome in
 * the info file, bounce the failed ones, send a delay warning when one is
 * due, and remove the message or say when to try again. Outcomes are
 * durable before anything depends on them: the DSN is queued only after
 * the F lines, the X lines only after the DSN. */
enum attempt_end attempt_conclude(struct attempt *a, struct sendconf *conf, double *due);

#endif
