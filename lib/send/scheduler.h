#ifndef RELAY_SCHEDULER_H
#define RELAY_SCHEDULER_H
/* relay-send's scheduler: finds due messages in the queue, routes each
 * recipient to a pool, hands transactions to network workers, records
 * outcomes (info files), retries, expires, bounces and removes.
 * doc/relay-send.8 and doc/queue.md describe the states. The loop is in
 * scheduler.c; the pieces it owns and passes by pointer are qindex.h,
 * sendconf.h, children.h, record.h and deliver.h (with attempt.h). */
#include <sys/types.h>

struct sched_opts {
	int once;              /* -1: deliver what is due now, then return */
	int workers;           /* 0: setting "concurrency" */
	uid_t worker_uid;      /* drop workers to this uid/gid (when root) */
	gid_t worker_gid;
	uid_t sched_uid;       /* and the scheduler to this one */
	gid_t sched_gid;
	uid_t dkim_uid;        /* relay-dkim serve (0: not dropped) */
	gid_t dkim_gid;
	int drop;              /* 1: do the drops above */
};

/* Runs until SIGTERM (or, once, until nothing is due). Returns the exit
 * code: 0, or 111 when it cannot start. */
int sched_run(const struct sched_opts *o);

#endif
