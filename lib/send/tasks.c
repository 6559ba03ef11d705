/* deliver's waiting tasks and lane bookkeeping (tasks.h). */
#include "send/tasks.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "send/attempt.h"
#include "send/children.h"

struct task *task_new(struct attempt *a, int pool, const char *domain)
{
	struct task *t = calloc(1, sizeof *t);
	if (!t)
		die(EXIT_TEMP, "out of memory");
	t->a = a;
	t->pool = pool;
	t->domain = domain;
	t->member = -1;
	t->prio = a->m->prio < LANES ? a->m->prio : LANES - 1;
	a->tasks++;
	return t;
}

/* The queue of waiting tasks, in lane order (highest first), FIFO within
 * a lane: O(LANES) at either end of a lane and O(1) for a removal during
 * the walk (pp: the pointer that points at the task). */
void task_enqueue(struct deliver *d, struct task *t, int front)
{
	struct task *after = NULL;
	int p;
	/* the back of its lane, or the front: after the lanes above it */
	for (p = front ? t->prio + 1 : t->prio; p < LANES && !after; p++)
		after = d->tlast[p];
	if (after) {
		t->next = after->next;
		after->next = t;
	} else {
		t->next = d->thead;
		d->thead = t;
	}
	if (!front || !d->tlast[t->prio])
		d->tlast[t->prio] = t;
	if (t->a->waiting++ == 0)
		d->waiting_attempts++;
}

struct task *task_take(struct deliver *d, struct task **pp)
{
	struct task *t = *pp;
	struct task *prev = pp == &d->thead ? NULL : (struct task *)(void *)((char *)pp - offsetof(struct task, next));
	*pp = t->next;
	if (d->tlast[t->prio] == t)
		d->tlast[t->prio] = prev && prev->prio == t->prio ? prev : NULL;
	t->next = NULL;
	if (--t->a->waiting == 0)
		d->waiting_attempts--;
	return t;
}

/* One attempt never holds more than half the workers while another
 * attempt's tasks wait: a big message does not delay the others. */
int task_hogs(const struct deliver *d, const struct task *t)
{
	int half = (d->kids->nw + 1) / 2;
	return d->waiting_attempts > 1 && t->a->inflight >= (half > 0 ? half : 1);
}

/* lanes: the workers kept per priority, the attempt slots scaled from
 * them, and the workers idle and busy per lane now. */
void lanes_setup(struct deliver *d)
{
	lanes_refresh(&d->lanes, d->conf, d->kids->nw, time(NULL));
	if (!d->index->classify)
		lanes_attach(d->index, d->conf);   /* the loop attaches it before its scan */
	d->index->smax = (unsigned)d->max_active;
	lanes_scale(d->lanes.kept, (unsigned)d->kids->nw, d->index->smax, d->index->skept);
}

unsigned lanes_now(struct deliver *d, unsigned busy[LANES])
{
	unsigned idle = 0;
	int i;
	lanes_setup(d);
	memset(busy, 0, LANES * sizeof *busy);
	for (i = 0; i < d->kids->nw; i++) {
		if (d->kids->w[i].sock < 0)
			continue;
		if (d->kids->w[i].t)
			busy[d->kids->w[i].t->prio]++;
		else
			idle++;
	}
	return idle;
}
