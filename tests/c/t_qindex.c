/* relay-send's queue index (send/qindex.h): the heap pops in due order
 * as the hash and heap grow, a forgotten message is gone, the ready list is FIFO and
 * holds a message once, a message found again is due now only when it
 * waits, and a flush makes every waiting message due. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "send/qindex.h"

static void id_of(int n, char id[QUEUE_ID_LEN + 1])
{
	char t[64];
	snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, n);
	memcpy(id, t, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = 0;
}

static struct qmsg *add(struct qindex *q, int n)
{
	char id[QUEUE_ID_LEN + 1];
	id_of(n, id);
	qindex_found(q, id);
	return qindex_find(q, id);
}

/* Pops everything due by now; 1 if the due times never went down. */
static int drains_in_order(struct qindex *q, double now, size_t *n)
{
	struct qmsg *m;
	double last = -1;
	int ok = 1;
	*n = 0;
	while ((m = qindex_pop_due(q, now))) {
		if (m->due < last || m->heap != -1)
			ok = 0;
		last = m->due;
		(*n)++;
	}
	return ok;
}

int main(void)
{
	struct qindex q;
	struct qmsg *m, *a, *b, *c;
	char id[QUEUE_ID_LEN + 1];
	size_t n;
	int i;

	/* new messages go on the ready list, oldest first, once each */
	qindex_init(&q);
	a = add(&q, 1);
	b = add(&q, 2);
	c = add(&q, 3);
	CHECK(a && b && c && q.count == 3);
	CHECK(a->ready && a->heap == -1);
	add(&q, 2);   /* found again while ready: stays where it is */
	qindex_ready_push(&q, a);
	CHECK(q.count == 3);
	CHECK(qindex_ready_pop(&q) == a);
	CHECK(qindex_ready_pop(&q) == b);
	CHECK(qindex_ready_pop(&q) == c);
	CHECK(qindex_ready_pop(&q) == NULL && !a->ready);

	/* waiting: popped by due time, not by the order they came in */
	qindex_wait(&q, a, 30);
	qindex_wait(&q, b, 10);
	qindex_wait(&q, c, 20);
	CHECK(qindex_next(&q) == b);
	CHECK(qindex_pop_due(&q, 5) == NULL);      /* nothing due yet */
	CHECK(qindex_pop_due(&q, 10) == b);
	CHECK(qindex_pop_due(&q, 25) == c);
	CHECK(qindex_pop_due(&q, 25) == NULL);
	CHECK(qindex_next(&q) == a && a->heap == 0);

	/* found again while waiting (released from hold): due now, forced */
	id_of(1, id);
	qindex_found(&q, id);
	CHECK(a->due == 0 && a->forced && !a->ready);
	CHECK(qindex_pop_due(&q, 0) == a);

	/* ... but not while an attempt has it */
	qindex_wait(&q, a, 50);
	a->forced = 0;
	a->a = (struct attempt *)1;
	qindex_found(&q, id);
	CHECK(a->due == 50 && !a->forced);
	a->a = NULL;
	CHECK(qindex_pop_due(&q, 50) == a);

	/* removal: forgotten messages are not found */
	qindex_forget(&q, b);
	CHECK(q.count == 2);
	id_of(2, id);
	CHECK(qindex_find(&q, id) == NULL);
	id_of(3, id);
	CHECK(qindex_find(&q, id) == c);
	qindex_free(&q);
	CHECK(q.count == 0 && qindex_next(&q) == NULL);

	/* many messages: the hash and the heap grow; pseudo-random due
	 * times come out sorted; a flush makes all of them due now */
	qindex_init(&q);
	srand(9);
	for (i = 0; i < 10000; i++) {
		m = add(&q, i);
		CHECK(qindex_ready_pop(&q) == m);
		qindex_wait(&q, m, (double)(rand() % 5000));
	}
	CHECK(q.count == 10000 && q.nheap == 10000);
	for (i = 0; i < 10000; i += 7) {
		id_of(i, id);
		CHECK((m = qindex_find(&q, id)) != NULL && !strcmp(m->id, id));
	}
	CHECK(drains_in_order(&q, 2500, &n));
	CHECK(n > 0 && n < 10000);
	CHECK(qindex_next(&q)->due > 2500);
	qindex_flush(&q);
	CHECK(qindex_next(&q)->due == 0 && qindex_next(&q)->forced);
	CHECK(drains_in_order(&q, 0, &n));
	CHECK(q.nheap == 0 && n > 0);
	CHECK(q.count == 10000);   /* popped, not forgotten */
	qindex_free(&q);
	CHECK_DONE();
}
