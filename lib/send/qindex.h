#ifndef RELAY_QINDEX_H
#define RELAY_QINDEX_H
/* relay-send's queue index: every message it knows of, in memory. State:
 * struct qindex (owned by the loop, passed by pointer): a hash of the
 * messages by id, a min-heap of the ones waiting, ordered by the
 * monotonic time they are due, and a FIFO ready list of the ones due now
 * (found by a scan or inotify, or popped from the heap). No I/O: the
 * queue on disk is the truth, this is only what relay-send remembers of
 * it, so tests can drive it. Running out of memory is fatal (die). */
#include <stddef.h>
#include "queue/queue.h"

struct attempt;

struct qmsg {
	char id[QUEUE_ID_LEN + 1];
	double due;             /* monotonic time it is due (on the heap) */
	int heap;               /* index in the heap, or -1 */
	int ready;              /* on the ready list */
	int forced;             /* ignore the retry hint (SIGALRM, new) */
	double odd_since;       /* its hint looked too far out since (attempt_hint_wait) */
	struct attempt *a;      /* an attempt is in progress */
	struct qmsg *hnext;     /* hash chain */
	struct qmsg *rnext;     /* ready list */
};

struct qindex {
	struct qmsg **hash;     /* by id */
	size_t hsize, count;    /* buckets; messages known */
	struct qmsg **heap;     /* waiting, earliest due first */
	size_t nheap, capheap;
	struct qmsg *rhead, *rtail; /* ready list, oldest first */
};

/* The clock due times are in: monotonic seconds. */
double qindex_clock(void);

void qindex_init(struct qindex *q);
/* Forgets every message (for tests and the end). */
void qindex_free(struct qindex *q);

/* The message with this id, or NULL. */
struct qmsg *qindex_find(const struct qindex *q, const char *id);
/* A message found in the queue (scan or inotify): a new one goes on the
 * ready list; one that waits on the heap (released from hold) is due now
 * and forced; one in an attempt or already ready is left alone. */
void qindex_found(struct qindex *q, const char *id);
/* Drop m from the hash and free it (it must be on neither list). */
void qindex_forget(struct qindex *q, struct qmsg *m);

/* Put m on the heap, due at the monotonic time due (one already on it
 * moves to its new place). */
void qindex_wait(struct qindex *q, struct qmsg *m, double due);
/* The earliest waiting message, or NULL when none waits. */
struct qmsg *qindex_next(const struct qindex *q);
/* Pop the earliest waiting message if it is due at now, else NULL. */
struct qmsg *qindex_pop_due(struct qindex *q, double now);
/* Every waiting message due now and forced (SIGALRM, relay-qctl flush). */
void qindex_flush(struct qindex *q);

/* The ready list: a message is on it at most once. */
void qindex_ready_push(struct qindex *q, struct qmsg *m);
struct qmsg *qindex_ready_pop(struct qindex *q);

#endif
