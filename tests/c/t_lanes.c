/* Priority lanes (send/lanes.h, send/qindex.h): etc/retry's priority=
 * and reserve= parse strictly and round-trip; a class's priority and the
 * kept table come from etc/retry with the built-in defaults; ready mail
 * pops highest lane first and FIFO within a lane, in O(1) steps a pop and
 * O(lanes) a push however long the list; the reservation keeps workers
 * (and attempt slots) from lower lanes, the top lane takes any idle one;
 * and a simulated relay-send (a clock, a queue, workers that take one
 * tick a message) delivers a transactional message behind 20,000 bulk
 * ones at once, and the bulk drains at the rate of the workers not kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "conf/conf.h"
#include "send/lanes.h"
#include "send/qindex.h"
#include "send/sendconf.h"

static char err[256];

static const char *retry(const char *class, const char *v)
{
	static struct buf b;
	struct conf_retry r;
	if (conf_parse_retry(class, v, &r, err, sizeof err) < 0) {
		b.len = 0;
		buf_printf(&b, "ERR: %s", err);
		return b.p;
	}
	conf_format_retry(&r, &b);
	return b.p;
}

static int starts(const char *s, const char *p)
{
	return s && strncmp(s, p, strlen(p)) == 0;
}

static void t_parse(void)
{
	struct conf_retry r;
	CHECK_STR(retry("x", "priority=9 reserve=3"), "schedule=5m,15m,30m,1h,2h,4h lifetime=5d priority=9 reserve=3");
	CHECK_STR(retry("x", "reserve=25% priority=0 lifetime=1d"),
	          "schedule=5m,15m,30m,1h,2h,4h lifetime=1d priority=0 reserve=25%");
	/* without them: the canonical value is what it was before lanes */
	CHECK_STR(retry("transactional", ""), "schedule=1m,2m,5m,10m,30m,1h lifetime=1d");
	CHECK(starts(retry("x", "priority=10"), "ERR: priority \"10\" is not a number from 0 to 9"));
	CHECK(starts(retry("x", "priority="), "ERR: priority \"\" is not"));
	CHECK(starts(retry("x", "priority=-1"), "ERR: priority \"-1\""));
	CHECK(starts(retry("x", "priority=5x"), "ERR: priority \"5x\""));
	CHECK(starts(retry("x", "priority=99999999999999999999"), "ERR: priority"));
	CHECK(starts(retry("x", "priority=1 priority=2"), "ERR: priority= given twice"));
	CHECK(starts(retry("x", "reserve=101%"), "ERR: reserve \"101%\" is not a number of workers"));
	CHECK(starts(retry("x", "reserve=1001"), "ERR: reserve \"1001\""));
	CHECK(starts(retry("x", "reserve=%"), "ERR: reserve \"%\""));
	CHECK(starts(retry("x", "reserve=5%%"), "ERR: reserve \"5%%\""));
	CHECK(starts(retry("x", "reserve=1 reserve=2"), "ERR: reserve= given twice"));
	/* the built-in lanes */
	conf_retry_builtin("transactional", &r);
	CHECK(r.priority == 7 && r.reserve == 10 && r.reserve_pct);
	conf_retry_builtin("bulk", &r);
	CHECK(r.priority == 3 && r.reserve == 0);
	conf_retry_builtin("newsletter", &r);
	CHECK(r.priority == 5 && r.reserve == 0);
	/* a given priority survives the canonical value read again */
	CHECK(conf_parse_retry("transactional", "schedule=1m lifetime=1d priority=2", &r, err, sizeof err) == 0);
	CHECK(r.priority == 2 && r.have_priority && !r.have_reserve && r.reserve == 10);
}

static void t_rule(void)
{
	unsigned reserve[LANES] = {0}, kept[LANES], busy[LANES] = {0}, scaled[LANES];
	reserve[7] = 2;         /* transactional: 2 of 20 workers */
	reserve[5] = 3;         /* default: 3 more, for default and above */
	lanes_kept(reserve, 20, kept);
	CHECK(kept[9] == 0 && kept[8] == 0 && kept[7] == 2 && kept[6] == 2 && kept[5] == 5 && kept[3] == 5 && kept[0] == 5);
	/* bulk (3) must leave 5 free for default and above, 2 for transactional */
	CHECK(lanes_may_take(kept, busy, 6, 3));
	CHECK(!lanes_may_take(kept, busy, 5, 3));
	/* default may take down to the 2 kept for transactional */
	CHECK(lanes_may_take(kept, busy, 3, 5));
	CHECK(!lanes_may_take(kept, busy, 2, 5));
	/* transactional (and anything above) takes any idle worker */
	CHECK(lanes_may_take(kept, busy, 1, 7));
	CHECK(lanes_may_take(kept, busy, 1, 9));
	CHECK(!lanes_may_take(kept, busy, 0, 9));
	/* the kept workers count when in use by the lane they are kept for:
	 * with 2 transactional busy, default may take the last idle one */
	busy[7] = 2;
	CHECK(lanes_may_take(kept, busy, 1, 5));
	/* ... and bulk needs 5 in use or free for >= 5: 2 busy + 3 idle - 1 */
	CHECK(!lanes_may_take(kept, busy, 3, 3));
	CHECK(lanes_may_take(kept, busy, 4, 3));
	/* never the last worker: one worker serves every lane */
	reserve[7] = 100;
	lanes_kept(reserve, 1, kept);
	memset(busy, 0, sizeof busy);
	CHECK(kept[7] == 0 && lanes_may_take(kept, busy, 1, 0));
	lanes_kept(reserve, 4, kept);
	CHECK(kept[7] == 3 && kept[0] == 3);
	CHECK(lanes_may_take(kept, busy, 4, 0) && !lanes_may_take(kept, busy, 3, 0));
	/* scaled to attempt slots (rounded up, never all of them) */
	reserve[7] = 2;
	reserve[5] = 0;
	lanes_kept(reserve, 20, kept);
	lanes_scale(kept, 20, 96, scaled);
	CHECK(scaled[7] == 10 && scaled[8] == 0 && scaled[0] == 10);
	lanes_scale(kept, 20, 5, scaled);
	CHECK(scaled[7] == 1);
}

static int fake_prio(void *ctx, const char *id)
{
	(void)ctx;
	return (id[QUEUE_ID_LEN - 1] - '0') % 10;   /* the id's last digit */
}

static void t_order(void)
{
	struct qindex q;
	struct qmsg *m;
	char id[QUEUE_ID_LEN + 1], t[64];
	int i, last_prio = 99, ok = 1;
	size_t n = 0;
	unsigned long long ops;
	qindex_init(&q);
	q.classify = fake_prio;
	/* 100,000 messages over every lane, in arrival order */
	for (i = 0; i < 100000; i++) {
		snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, (i * 7) % 100000);
		memcpy(id, t, QUEUE_ID_LEN + 1);
		qindex_found(&q, id);
	}
	CHECK(q.count == 100000);
	/* a push: at most QLANES + 1 steps, however long the list */
	CHECK(q.ops <= 100000ULL * (QLANES + 1));
	ops = q.ops;
	while ((m = qindex_ready_pop(&q))) {
		int p = m->prio;
		if (p > last_prio)
			ok = 0;
		last_prio = p;
		n++;
	}
	CHECK(ok);
	CHECK(n == 100000);
	/* a pop: one step, however long the list */
	CHECK(q.ops - ops == 100000 + 1);
	CHECK(!q.rhead && !q.rtail);
	for (i = 0; i < QLANES; i++)
		CHECK(!q.rlast[i] && q.nready[i] == 0);
	qindex_free(&q);

	/* FIFO within a lane, whatever lands between */
	qindex_init(&q);
	q.classify = fake_prio;
	{
		static const int seq[] = {13, 23, 7, 33, 17, 43, 5, 27, 3, 53};
		int want[] = {7, 17, 27, 5, 13, 23, 33, 43, 3, 53};
		for (i = 0; i < 10; i++) {
			snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, seq[i]);
			memcpy(id, t, QUEUE_ID_LEN + 1);
			qindex_found(&q, id);
		}
		for (i = 0; i < 10; i++) {
			m = qindex_ready_pop(&q);
			CHECK(m && atoi(m->id) == want[i]);
		}
		CHECK(!qindex_ready_pop(&q));
		/* a message put back on the ready list goes to the back of its lane */
		for (i = 0; i < 3; i++) {
			snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, seq[i]);
			qindex_ready_push(&q, qindex_find(&q, t));
		}
		m = qindex_ready_pop(&q);
		CHECK(m && atoi(m->id) == 7);
		m = qindex_ready_pop(&q);
		CHECK(m && atoi(m->id) == 13);
		qindex_ready_push(&q, m);
		m = qindex_ready_pop(&q);
		CHECK(m && atoi(m->id) == 23);
		m = qindex_ready_pop(&q);
		CHECK(m && atoi(m->id) == 13);
		CHECK(!qindex_ready_pop(&q) && !q.rhead);
	}
	qindex_free(&q);
}

/* Attempt slots: bulk never fills the ones kept for transactional mail. */
static void t_slots(void)
{
	struct qindex q;
	struct qmsg *m;
	char id[QUEUE_ID_LEN + 1], t[64];
	int i, started = 0;
	qindex_init(&q);
	q.classify = fake_prio;
	q.smax = 10;
	q.skept[7] = q.skept[6] = q.skept[5] = q.skept[4] = q.skept[3] = q.skept[2] = q.skept[1] = q.skept[0] = 2;
	for (i = 0; i < 50; i++) {   /* 50 bulk: last digit 3 */
		snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, i * 10 + 3);
		memcpy(id, t, QUEUE_ID_LEN + 1);
		qindex_found(&q, id);
	}
	while ((m = qindex_ready_pop(&q))) {
		qindex_started(&q, m);
		started++;
	}
	CHECK(started == 8);
	CHECK(q.rhead != NULL);   /* bulk waits, ready */
	/* two transactional ones (7) start at once, past the bulk */
	for (i = 0; i < 2; i++) {
		snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, 1000 + i * 10 + 7);
		memcpy(id, t, QUEUE_ID_LEN + 1);
		qindex_found(&q, id);
		m = qindex_ready_pop(&q);
		CHECK(m && m->prio == 7);
		if (m)
			qindex_started(&q, m);
	}
	CHECK(!qindex_ready_pop(&q));   /* all ten in use */
	/* a bulk attempt ends: one more bulk may start; a transactional one ends: bulk still may not take its slot */
	snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, 3);
	qindex_ended(&q, qindex_find(&q, t));
	m = qindex_ready_pop(&q);
	CHECK(m && m->prio == 3);
	qindex_started(&q, m);
	snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, 1007);
	qindex_ended(&q, qindex_find(&q, t));
	CHECK(!qindex_ready_pop(&q));
	/* a forgotten message gives its slot back (counted once) */
	qindex_ended(&q, qindex_find(&q, t));
	CHECK(q.started[7] == 1 && q.started[3] == 8);
	qindex_free(&q);
}

/* A simulated relay-send: W workers, each message one tick on a worker;
 * 20,000 bulk queued, one transactional message every 100 ticks. The
 * ready list and its slot check are the qindex's, the slots are the
 * workers (smax = W, skept = the kept table). */
static void t_sim(void)
{
	enum { W = 20, BULK = 20000, TRANS = 50 };
	struct qindex q;
	struct qmsg *busy[W] = {0}, *m;
	unsigned reserve[LANES] = {0}, kept[LANES];
	char id[QUEUE_ID_LEN + 1], t[64];
	int tick, i, bulk_tick = 0, done_bulk = 0, sent_t = 0, done_t = 0, worst = 0, bulk_ticks = 0, full = 1;
	int inject_at[TRANS];
	qindex_init(&q);
	q.classify = fake_prio;
	reserve[7] = 2;          /* the built-in 10% of 20 */
	lanes_kept(reserve, W, kept);
	q.smax = W;
	memcpy(q.skept, kept, sizeof kept);
	for (i = 0; i < BULK; i++) {
		snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, i * 10 + 3);
		memcpy(id, t, QUEUE_ID_LEN + 1);
		qindex_found(&q, id);
	}
	for (tick = 0; done_bulk < BULK || done_t < TRANS; tick++) {
		int nbulk = 0;
		/* the ones that took their tick are delivered */
		for (i = 0; i < W; i++)
			if (busy[i]) {
				if (busy[i]->prio == 7) {
					int n = atoi(busy[i]->id) / 10 - BULK;
					if (tick - inject_at[n] > worst)
						worst = tick - inject_at[n];
					done_t++;
				} else if (++done_bulk == BULK)
					bulk_tick = tick;
				qindex_forget(&q, busy[i]);
				busy[i] = NULL;
			}
		if (tick % 100 == 0 && sent_t < TRANS) {
			snprintf(t, sizeof t, "%0*d", QUEUE_ID_LEN, (BULK + sent_t) * 10 + 7);
			memcpy(id, t, QUEUE_ID_LEN + 1);
			qindex_found(&q, id);
			inject_at[sent_t++] = tick;
		}
		for (i = 0; i < W; i++)
			if (!busy[i] && (m = qindex_ready_pop(&q))) {
				qindex_started(&q, m);
				busy[i] = m;
				nbulk += m->prio == 3;
			}
		if (done_bulk < BULK - W) {
			bulk_ticks++;
			/* bulk uses every worker not kept: W - 2 a tick */
			if (nbulk < W - 2 - (sent_t > done_t ? 1 : 0) && q.nready[3] > 0)
				full = 0;
		}
	}
	CHECK(done_t == TRANS && done_bulk == BULK);
	/* each transactional message found a free worker the tick it came */
	CHECK(worst == 1);
	CHECK(full);
	/* the drain took BULK / (W - 2) ticks, give or take the transactional ones */
	if (bulk_tick > BULK / (W - 2) + TRANS + 2)
		fprintf(stderr, "bulk drained in %d ticks\n", bulk_tick);
	CHECK(bulk_tick <= BULK / (W - 2) + TRANS + 2);
	qindex_free(&q);
}

/* A class's priority and the kept table from etc/retry. */
static void t_conf(void)
{
	char dir[] = "/tmp/t_lanes.XXXXXX", home[256];
	struct sendconf *c = calloc(1, sizeof *c);
	struct lanes l;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(home, sizeof home, "%s/h", dir);
	CHECK(conf_init_home(home, 0) == 0);
	c->home = home;
	/* no etc/retry entries: the built-in lanes */
	CHECK(conf_compile(home, 0) == 0);
	CHECK(sendconf_reload(c, err, sizeof err) == 0);
	CHECK(lanes_class_prio(c, "transactional") == 7);
	CHECK(lanes_class_prio(c, "bulk") == 3);
	CHECK(lanes_class_prio(c, "default") == 5);
	CHECK(lanes_class_prio(c, "newsletter") == 5);
	memset(&l, 0, sizeof l);
	lanes_refresh(&l, c, 20, 1000);
	CHECK(l.kept[7] == 2 && l.kept[8] == 0 && l.kept[0] == 2);
	lanes_refresh(&l, c, 4, 1000);      /* 10% of 4, rounded up */
	CHECK(l.kept[7] == 1);
	/* an operator's lanes: a "default" entry does not move transactional */
	check_put_etc(home, "retry", "default schedule=1m priority=4\n"
	                             "otp priority=9 reserve=3\n"
	                             "newsletter priority=1\n"
	                             "bulk reserve=0 priority=2\n");
	CHECK(conf_compile(home, 0) == 0);
	CHECK(sendconf_reload(c, err, sizeof err) == 0);
	CHECK(lanes_class_prio(c, "otp") == 9);
	CHECK(lanes_class_prio(c, "newsletter") == 1);
	CHECK(lanes_class_prio(c, "other") == 4);
	CHECK(lanes_class_prio(c, "transactional") == 7);
	CHECK(lanes_class_prio(c, "bulk") == 2);
	lanes_refresh(&l, c, 4, 1000);      /* the same second: unchanged */
	CHECK(l.kept[9] == 0 && l.kept[7] == 1);
	lanes_refresh(&l, c, 20, 1001);
	CHECK(l.kept[9] == 3 && l.kept[8] == 3 && l.kept[7] == 5 && l.kept[0] == 5);
	/* a new message's lane from its queue file's class line */
	{
		const char *id = "19ab3c4d5e6f7.1a2b3c4d";
		char path[600], head[64];
		FILE *f;
		setenv("RELAY_HOME", home, 1);
		snprintf(path, sizeof path, "%s/queue/msg/1a", home);
		mkdir(path, 0700);
		snprintf(path, sizeof path, "%s/queue/msg/1a/%s", home, id);
		CHECK(lanes_classify(c, id) == LANE_DEFAULT);   /* not there (held, gone) */
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fputs("RQ1\nA1796171935\nCotp\nFs@example.org\nTr@example.net\n\nbody\r\n", f);
			fclose(f);
		}
		CHECK(lanes_classify(c, id) == 9);
		f = fopen(path, "w");
		if (f) {
			fputs("RQ1\nA1796171935\nCnewsletter\n", f);
			fclose(f);
		}
		CHECK(lanes_classify(c, id) == 1);
		f = fopen(path, "w");
		if (f) {
			fputs("RQ2\nA1\nCotp\n", f);
			fclose(f);
		}
		CHECK(lanes_classify(c, id) == LANE_DEFAULT);
		/* the head parser alone */
		snprintf(head, sizeof head, "RQ1\nA1\nCbulk\nF\n");
		CHECK_STR(lanes_head_class(head, strlen(head)), "bulk");
		snprintf(head, sizeof head, "RQ1\nA1\nCbulk");      /* no end of line in the bytes read */
		CHECK(lanes_head_class(head, strlen(head)) == NULL);
		snprintf(head, sizeof head, "RQ1\nA1\nC\n");         /* empty class */
		CHECK(lanes_head_class(head, strlen(head)) == NULL);
		snprintf(head, sizeof head, "RQ1\nA1\nFs@x\nCbulk\n"); /* not the third line */
		CHECK(lanes_head_class(head, strlen(head)) == NULL);
		CHECK(lanes_head_class(head, 3) == NULL);
		memcpy(head, "RQ1\nA1\nCb\0lk\n", 14);
		CHECK(lanes_head_class(head, 14) == NULL);
	}
	/* a table that cannot be read keeps the last kept table */
	memset((void *)c->retry.cdb.cdb_mem, 0xff, 2048);
	lanes_refresh(&l, c, 20, 1002);
	CHECK(l.kept[9] == 3 && l.kept[7] == 5);
	CHECK(lanes_class_prio(c, "otp") == 5);   /* the built-in one of its name */
	sendconf_free(c);
	free(c);
	{
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
}

int main(void)
{
	t_parse();
	t_rule();
	t_order();
	t_slots();
	t_sim();
	t_conf();
	CHECK_DONE();
}
