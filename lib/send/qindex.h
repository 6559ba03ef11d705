#ifndef RELAY_QINDEX_H
#define RELAY_QINDEX_H
/* relay-send's queue index: every message it knows of, in memory. State:
 * struct qindex (owned by the loop, passed by pointer): a hash of the
 * messages by id, a min-heap of the ones waiting, ordered by the
 * monotonic time they are due, and a ready list of the ones due now
 * (found by a scan or inotify, or popped from the heap), highest priority
 * first and FIFO within a priority (a lane, send/lanes.h). No I/O (a
 * new message's priority comes from the classify hook, if set): the
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
	unsigned char prio;     /* its lane: 0..QLANES-1, higher first */
	unsigned char slane;    /* the lane counted in started[] (attempt) */
	unsigned char started;  /* counted in started[] */
	unsigned char waited;   /* found locked (attempt_open): the journals first */
};

#define QLANES 10               /* LANES (send/lanes.h) */

struct qindex {
	struct qmsg **hash;     /* by id */
	size_t hsize, count;    /* buckets; messages known */
	struct qmsg **heap;     /* waiting, earliest due first */
	size_t nheap, capheap;
	struct qmsg *rhead, *rtail; /* ready list, highest lane first, oldest first in one */
	struct qmsg *rlast[QLANES]; /* the last ready message of each lane, or NULL */
	size_t nready[QLANES];
	/* a new message's lane (NULL: QLANE_DEFAULT); send/lanes.h */
	int (*classify)(void *ctx, const char *id);
	void *classify_ctx;
	/* attempt slots per lane (set by deliver): when smax is not 0, the
	 * ready head is taken only if its lane may take one of the free slots
	 * (lanes_may_take with skept[]), so bulk attempts never hold the
	 * slots kept for transactional mail */
	unsigned started[QLANES], skept[QLANES], smax;
	unsigned long long ops;     /* list steps, for the tests' O(1) checks */
};
#define QLANE_DEFAULT 5

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

/* The ready list: a message is on it at most once, in the lane m->prio
 * (O(QLANES)). The pop takes the oldest of the highest lane (O(1) plus
 * the slot check), or NULL when none is ready or its lane may not take a
 * free attempt slot now. */
void qindex_ready_push(struct qindex *q, struct qmsg *m);
struct qmsg *qindex_ready_pop(struct qindex *q);
/* An attempt of m started (counted in its lane m->prio) or ended. */
void qindex_started(struct qindex *q, struct qmsg *m);
void qindex_ended(struct qindex *q, struct qmsg *m);

#endif
