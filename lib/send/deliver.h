#ifndef RELAY_DELIVER_H
#define RELAY_DELIVER_H
/* Delivering the attempts relay-send has started: each pending recipient
 * is routed to a pool and grouped into tasks (one SMTP transaction each),
 * tasks go to idle workers on a member the pool picks, and a worker's
 * result decides per recipient (delivered, deferred, failed, or moved to
 * the next member); the last task of an attempt concludes it (attempt.h).
 * State: struct deliver, owned by the loop, holds its own part (the
 * waiting tasks, the attempts in progress, the job numbers) and borrows
 * the modules it works with, each passed in by the loop. */
#include <stddef.h>
#include "send/children.h"
#include "send/lanes.h"
#include "send/qindex.h"
#include "send/record.h"
#include "send/sendconf.h"

struct task;

struct deliver {
	/* borrowed from the loop */
	const char *home;
	struct sendconf *conf;
	struct qindex *index;
	struct children *kids;
	struct record *rec;
	/* its own */
	size_t active, max_active;  /* attempts in progress, and the bound */
	struct task *thead;         /* tasks waiting for a worker or a member,
	                             * highest lane first (send/lanes.h) */
	struct task *tlast[LANES];  /* the last waiting task of each lane, or NULL */
	struct lanes lanes;         /* workers kept per priority */
	size_t waiting_attempts;    /* attempts with a task in the queue */
	unsigned long jobseq;
	int terminating;            /* set by the loop on SIGTERM */
};

/* Start an attempt of m (popped from the ready list): read it, sign it,
 * route its recipients. A message that cannot be read now goes back on
 * the heap; one that is gone is forgotten. */
void deliver_start(struct deliver *d, struct qmsg *m);
/* Give waiting tasks to idle workers (when terminating: drop them). */
void deliver_dispatch(struct deliver *d);
/* Worker wi's socket is readable: take its result. */
void deliver_read(struct deliver *d, int wi);
/* Worker wi is gone: its task, if any, is deferred (not the member's
 * fault). */
void deliver_worker_lost(struct deliver *d, int wi);

#endif
