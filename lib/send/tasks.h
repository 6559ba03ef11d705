#ifndef RELAY_TASKS_H
#define RELAY_TASKS_H
/* deliver's waiting tasks (internal to lib/send/deliver.c and its
 * helpers): one SMTP transaction each, kept in lane order (highest
 * priority first, FIFO within a lane) with a tail per lane, so that a
 * push is O(LANES) and a pop or a removal during the walk O(1); and the
 * lane bookkeeping deliver_dispatch uses (send/lanes.h has the policy). */
#include <stddef.h>
#include "net/smtp.h"
#include "send/deliver.h"
#include "send/job.h"

/* One transaction: recipients of one attempt for one pool (and, for a
 * pool with an MX member, one domain), waiting or in flight. */
struct task {
	struct attempt *a;
	int pool;               /* index, or POOL_DIRECT */
	const char *domain;     /* recipient domain (mx members) */
	size_t n;
	size_t idx[JOB_RCPT_MAX];
	unsigned long tried;    /* a bit per member tried */
	int member;
	struct smtp_result last; /* why the last member failed */
	int have_last;
	unsigned char prio;     /* its lane: the message's priority */
	struct task *next;
};

/* A new task of attempt a for pool (and domain, for an MX member); it
 * counts in a->tasks. Out of memory is fatal (111). */
struct task *task_new(struct attempt *a, int pool, const char *domain);
/* Queue t at the back of its lane, or (front) at the front of it. */
void task_enqueue(struct deliver *d, struct task *t, int front);
/* Take the task *pp points at (d->thead or a task's next) off the queue. */
struct task *task_take(struct deliver *d, struct task **pp);
/* Would t's attempt hold more than half the workers while others wait? */
int task_hogs(const struct deliver *d, const struct task *t);

/* The lanes' kept tables for the workers and attempt slots now. */
void lanes_setup(struct deliver *d);
/* lanes_setup, then the workers busy per lane (busy[]) and idle (returned). */
unsigned lanes_now(struct deliver *d, unsigned busy[LANES]);

#endif
