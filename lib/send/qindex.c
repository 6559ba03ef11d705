/* relay-send's queue index (qindex.h): the hash by id, the heap of
 * waiting messages by due time and the ready list, all in struct qindex. */
#include "send/qindex.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "send/lanes.h"

double qindex_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void qindex_init(struct qindex *q)
{
	memset(q, 0, sizeof *q);
}

void qindex_free(struct qindex *q)
{
	size_t i;
	for (i = 0; i < q->hsize; i++) {
		struct qmsg *m = q->hash[i], *nx;
		for (; m; m = nx) {
			nx = m->hnext;
			free(m);
		}
	}
	free(q->hash);
	free(q->heap);
	memset(q, 0, sizeof *q);
}

/* ------------------------------------------------------------ hash */

static size_t id_hash(const char *id)
{
	size_t h = 2166136261u;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

struct qmsg *qindex_find(const struct qindex *q, const char *id)
{
	struct qmsg *m;
	if (!q->hsize)
		return NULL;
	for (m = q->hash[id_hash(id) % q->hsize]; m; m = m->hnext)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static void hash_add(struct qindex *q, struct qmsg *m)
{
	size_t i;
	if (q->count + 1 > q->hsize) {
		size_t ns = q->hsize ? q->hsize * 2 : 4096;
		struct qmsg **nh = calloc(ns, sizeof *nh);
		if (!nh)
			die(EXIT_TEMP, "out of memory");
		for (i = 0; i < q->hsize; i++) {
			struct qmsg *x = q->hash[i], *nx;
			for (; x; x = nx) {
				nx = x->hnext;
				x->hnext = nh[id_hash(x->id) % ns];
				nh[id_hash(x->id) % ns] = x;
			}
		}
		free(q->hash);
		q->hash = nh;
		q->hsize = ns;
	}
	i = id_hash(m->id) % q->hsize;
	m->hnext = q->hash[i];
	q->hash[i] = m;
	q->count++;
}

static void hash_del(struct qindex *q, struct qmsg *m)
{
	struct qmsg **pp = &q->hash[id_hash(m->id) % q->hsize];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			q->count--;
			return;
		}
}

void qindex_found(struct qindex *q, const char *id)
{
	struct qmsg *m = qindex_find(q, id);
	if (m) {
		if (!m->a && m->heap >= 0) {   /* released from hold: due now */
			qindex_wait(q, m, 0);
			m->forced = 1;
		}
		return;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		die(EXIT_TEMP, "out of memory");
	memcpy(m->id, id, QUEUE_ID_LEN + 1);
	m->heap = -1;
	m->prio = QLANE_DEFAULT;
	if (q->classify) {
		int p = q->classify(q->classify_ctx, id);
		m->prio = (unsigned char)(p < 0 ? 0 : p >= QLANES ? QLANES - 1 : p);
	}
	hash_add(q, m);
	qindex_ready_push(q, m);
}

void qindex_forget(struct qindex *q, struct qmsg *m)
{
	qindex_ended(q, m);
	hash_del(q, m);
	free(m);
}

/* ------------------------------------------------------------ heap */

static void heap_swap(struct qindex *q, size_t a, size_t b)
{
	struct qmsg *t = q->heap[a];
	q->heap[a] = q->heap[b];
	q->heap[b] = t;
	q->heap[a]->heap = (int)a;
	q->heap[b]->heap = (int)b;
}

static void sift_up(struct qindex *q, size_t i)
{
	while (i && q->heap[(i - 1) / 2]->due > q->heap[i]->due) {
		heap_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void sift_down(struct qindex *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < q->nheap && q->heap[l]->due < q->heap[s]->due) s = l;
		if (r < q->nheap && q->heap[r]->due < q->heap[s]->due) s = r;
		if (s == i)
			return;
		heap_swap(q, i, s);
		i = s;
	}
}

void qindex_wait(struct qindex *q, struct qmsg *m, double due)
{
	if (m->heap >= 0) {
		/* already waiting (released from hold: due now) */
		m->due = due;
		sift_up(q, (size_t)m->heap);
		sift_down(q, (size_t)m->heap);
		return;
	}
	if (q->nheap == q->capheap) {
		q->capheap = q->capheap ? q->capheap * 2 : 4096;
		q->heap = realloc(q->heap, q->capheap * sizeof *q->heap);
		if (!q->heap)
			die(EXIT_TEMP, "out of memory");
	}
	m->due = due;
	q->heap[q->nheap] = m;
	m->heap = (int)q->nheap++;
	sift_up(q, (size_t)m->heap);
}

struct qmsg *qindex_next(const struct qindex *q)
{
	return q->nheap ? q->heap[0] : NULL;
}

struct qmsg *qindex_pop_due(struct qindex *q, double now)
{
	struct qmsg *m;
	if (!q->nheap || q->heap[0]->due > now)
		return NULL;
	m = q->heap[0];
	q->nheap--;
	if (q->nheap) {
		q->heap[0] = q->heap[q->nheap];
		q->heap[0]->heap = 0;
		sift_down(q, 0);
	}
	m->heap = -1;
	return m;
}

void qindex_flush(struct qindex *q)
{
	size_t i;
	/* every key becomes 0: the heap order still holds */
	for (i = 0; i < q->nheap; i++) {
		q->heap[i]->due = 0;
		q->heap[i]->forced = 1;
	}
}

/* ------------------------------------------------------------ ready list */

/* One list, in lane order (highest first), FIFO within a lane; rlast[p]
 * is the last of lane p, so a push goes after it, or after the last of
 * the nearest higher lane that has one, or at the head. */
void qindex_ready_push(struct qindex *q, struct qmsg *m)
{
	struct qmsg *after = NULL;
	int p;
	if (m->ready)
		return;
	if (m->prio >= QLANES)
		m->prio = QLANES - 1;
	m->ready = 1;
	for (p = m->prio; p < QLANES && !after; p++, q->ops++)
		after = q->rlast[p];
	if (after) {
		m->rnext = after->rnext;
		after->rnext = m;
	} else {
		m->rnext = q->rhead;
		q->rhead = m;
	}
	if (!m->rnext)
		q->rtail = m;
	q->rlast[m->prio] = m;
	q->nready[m->prio]++;
}

struct qmsg *qindex_ready_pop(struct qindex *q)
{
	struct qmsg *m = q->rhead;
	q->ops++;
	if (!m)
		return NULL;
	if (q->smax) {
		unsigned used = 0, p;
		for (p = 0; p < QLANES; p++)
			used += q->started[p];
		if (!lanes_may_take(q->skept, q->started, used < q->smax ? q->smax - used : 0, m->prio))
			return NULL;
	}
	q->rhead = m->rnext;
	if (!q->rhead)
		q->rtail = NULL;
	if (q->rlast[m->prio] == m)
		q->rlast[m->prio] = NULL;
	q->nready[m->prio]--;
	m->ready = 0;
	m->rnext = NULL;
	return m;
}

void qindex_started(struct qindex *q, struct qmsg *m)
{
	if (m->started)
		return;
	m->started = 1;
	m->slane = m->prio;
	q->started[m->slane]++;
}

void qindex_ended(struct qindex *q, struct qmsg *m)
{
	if (!m->started)
		return;
	m->started = 0;
	if (q->started[m->slane])
		q->started[m->slane]--;
}
