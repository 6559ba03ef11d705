/* Delivering started attempts (deliver.h): routing recipients into
 * tasks, dispatching tasks to workers, taking their results. The waiting
 * tasks are in struct deliver; the modules it uses are passed in it. */
#include "send/deliver.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/diag.h"
#include "bounce/classify.h"
#include "conf/member.h"
#include "intake/addr.h"
#include "send/attempt.h"
#include "send/job.h"
#include "send/journal.h"   /* prod (issue 10) */
#include "send/relayed.h"   /* dsn: the relayed report (RFC 3461 6.2.2) */
#include "send/shaping.h"   /* traffic shaping: the hooks marked "shape:" */
#include "send/tasks.h"
#include "send/latrec.h"   /* httpd (issue 13) */
#include "send/totrec.h"   /* issue 13 totals */
#include "send/unsub.h"    /* httpd (issue 13) */

#define REREAD_S      60.0     /* a queue or info file could not be read */

/* The attempt's last task is done: conclude it, then forget the message
 * or put it back on the heap. */
static void attempt_end(struct deliver *d, struct attempt *a)
{
	struct qmsg *m = a->m;
	double due;
	d->active--;
	qindex_ended(d->index, m);   /* lanes: its attempt slot */
	m->a = NULL;
	if (d->terminating && !a->dispatched) {
		/* stopping before any transaction started: nothing to record */
		qindex_wait(d->index, m, m->due);
	} else if (attempt_conclude(a, d->conf, &due) == ATTEMPT_DONE) {
		qindex_forget(d->index, m);
	} else {
		m->forced = 0;
		due = shaping_retry_due(d->conf, a, due);   /* shape: a 4xx's "try again in N" */
		qindex_wait(d->index, m, due);
	}
	attempt_free(a);
}

/* ------------------------------------------------------------ tasks */

/* One task of an attempt less; the last one concludes it. */
static void task_done(struct deliver *d, struct task *t)
{
	struct attempt *a = t->a;
	free(t);
	if (--a->tasks == 0)
		attempt_end(d, a);
}

/* Every member of the pool is tried, cooling or down: defer the task. */
static void task_defer(struct deliver *d, struct task *t, const char *why)
{
	struct smtp_result r;
	size_t i;
	struct pool_state *p = sendconf_pool(d->conf, t->pool);
	if (t->have_last)
		r = t->last;
	else {
		memset(&r, 0, sizeof r);
		snprintf(r.enh, sizeof r.enh, "4.4.1");
		snprintf(r.text, sizeof r.text, "%s", why);
	}
	for (i = 0; i < t->n; i++) {
		attempt_set_err(t->a, t->idx[i], &r, p->name);
		record_outcome("deferred", t->a, t->idx[i], p->name, p->name, &r, NULL, NULL);   /* events: pool */
	}
	task_done(d, t);
}

/* ------------------------------------------------------------ starting an attempt */

/* The open (not yet full) task of each pool and, for pools with an MX
 * member, each domain: a hash table, so that routing is linear in the
 * recipients. */
struct open_tasks {
	struct task **slot;
	size_t cap;
};

static size_t open_hash(int pool, const char *domain)
{
	size_t h = (size_t)(pool + 2) * 2654435761u;
	for (; *domain; domain++)
		h = h * 31 + (unsigned char)(*domain | 0x20);
	return h;
}

static struct task **open_find(struct open_tasks *o, int pool, const char *domain, int by_domain)
{
	size_t i = open_hash(pool, by_domain ? domain : "") & (o->cap - 1);
	for (;; i = (i + 1) & (o->cap - 1)) {
		struct task *t = o->slot[i];
		if (!t || (t->pool == pool && (!by_domain || strcasecmp(t->domain, domain) == 0)))
			return &o->slot[i];
	}
}

static int task_cmp(const void *x, const void *y)
{
	const struct task *a = *(struct task *const *)x, *b = *(struct task *const *)y;
	return a->idx[0] < b->idx[0] ? -1 : a->idx[0] > b->idx[0];
}

static void qsort_tasks(struct task **t, size_t n)
{
	qsort(t, n, sizeof *t, task_cmp);
}

/* Route every pending recipient to a pool and group them into tasks:
 * one per pool (and domain, for pools with an MX member), at most
 * JOB_RCPT_MAX recipients each; a full task is queued and a new one
 * opened. */
static void route(struct deliver *d, struct attempt *a)
{
	struct open_tasks o;
	size_t i;

	for (o.cap = 16; o.cap < a->e.nrcpt * 2; o.cap *= 2)
		;
	if (!(o.slot = calloc(o.cap, sizeof *o.slot)))
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < a->e.nrcpt; i++) {
		const char *dom;
		char ldom[256];
		int pi, has_mx;
		struct task **sp, *t;
		if (a->st[i] != RS_PENDING)
			continue;
		dom = addr_domain(a->e.rcpt[i]);
		snprintf(ldom, sizeof ldom, "%s", dom ? dom : "");
		conf_lower(ldom);
		switch (sendconf_route(d->conf, a->e.sender, a->e.class, ldom, &pi)) {
		case ROUTE_ERROR:
			warn_sys("unable to read etc/routes.cdb");
			continue;	/* stays pending: retried */
		case ROUTE_UNKNOWN: {
			struct smtp_result e = {0};
			snprintf(e.enh, sizeof e.enh, "4.3.5");
			snprintf(e.text, sizeof e.text, "route names an unknown pool");
			attempt_set_err(a, i, &e, "");
			record_outcome("deferred", a, i, NULL, "-", &e, NULL, NULL);   /* events: pool */
			continue;
		}
		case ROUTE_POOL:
		case ROUTE_DIRECT:
			break;
		}
		has_mx = pool_has_mx(sendconf_pool(d->conf, pi));
		sp = open_find(&o, pi, dom ? dom : "", has_mx);
		if (!*sp)
			*sp = task_new(a, pi, dom ? dom : "");
		t = *sp;
		t->idx[t->n++] = i;
		if (t->n == JOB_RCPT_MAX || a->unsub) {   /* httpd (issue 13): one recipient a task */
			task_enqueue(d, t, 0);
			*sp = NULL;
			/* keep the probe chains whole: re-insert what follows */
			{
				size_t j = (size_t)(sp - o.slot);
				for (j = (j + 1) & (o.cap - 1); o.slot[j]; j = (j + 1) & (o.cap - 1)) {
					struct task *m = o.slot[j], **np;
					o.slot[j] = NULL;
					np = open_find(&o, m->pool, m->domain, pool_has_mx(sendconf_pool(d->conf, m->pool)));
					*np = m;
				}
			}
		}
	}
	/* the open ones, in the order of their first recipient */
	{
		size_t n = 0, j;
		struct task **left = calloc(o.cap, sizeof *left);
		if (!left)
			die(EXIT_TEMP, "out of memory");
		for (j = 0; j < o.cap; j++)
			if (o.slot[j])
				left[n++] = o.slot[j];
		qsort_tasks(left, n);
		for (j = 0; j < n; j++)
			task_enqueue(d, left[j], 0);
		free(left);
	}
	free(o.slot);
}

void deliver_start(struct deliver *d, struct qmsg *m)
{
	struct attempt *a;
	const char *why = "";
	double wait = 0;
	int refused;

	switch (attempt_open(m, m->forced, d->conf, &a, &wait, &why)) {
	case ATTEMPT_NONE:
		return;
	case ATTEMPT_CORRUPT:
		record_quarantine(m->id, why);
		/* fall through */
	case ATTEMPT_GONE:
		qindex_forget(d->index, m);   /* delivered, deleted or held */
		return;
	case ATTEMPT_LATER:
		qindex_wait(d->index, m, qindex_clock() + REREAD_S);
		return;
	case ATTEMPT_WAIT:
		qindex_wait(d->index, m, qindex_clock() + wait);
		return;
	case ATTEMPT_OPEN:
		break;
	}
	a->t0 = qindex_clock();
	m->a = a;
	d->active++;
	m->prio = (unsigned char)lanes_class_prio(d->conf, a->e.class);   /* lanes: its class's */
	lanes_setup(d);     /* from the first start on, the ready list keeps the slots */
	qindex_started(d->index, m);
	a->tasks = 1;   /* held while routing, released below */
	/* httpd (issue 13): RFC 8058 classes are signed per recipient, at dispatch */
	a->unsub = !a->sig.len && unsub_wanted(d->conf->home, a) != 0;
	refused = !a->unsub && !a->sig.len && !a->sig_new && attempt_sign(a, d->kids);
	if (a->sig_new)
		record_totals_dkim(d->rec, &a->sig);   /* issue 13 totals: the signatures made */
	if (!refused)
		route(d, a);
	if (--a->tasks == 0)
		attempt_end(d, a);
}

/* ------------------------------------------------------------ dispatch and results */

/* The job for task t on member cm, with its TLS and AUTH policy. */
static void job_fill(struct deliver *d, const struct task *t, const struct conf_member *cm,
                     const struct conf_member_policy *pol, struct job *j)
{
	size_t i;
	memset(j, 0, sizeof *j);
	j->id = ++d->jobseq;
	j->mx = cm->mx;
	j->host = cm->mx ? t->domain : cm->host;
	j->port = cm->mx ? 25 : cm->port;
	j->tls = (int)pol->tls.mode;
	j->implicit_tls = pol->tls.smtps;
	j->ca = pol->ca;
	j->user = pol->have_auth ? pol->auth.user : "";
	j->pass = pol->have_auth ? pol->auth.pass : "";
	j->auth_plaintext_ok = pol->auth_plaintext_ok;
	j->helo = d->conf->helo;
	j->dns_config = d->conf->dns_config;
	j->sts_dir = cm->mx ? d->conf->sts_dir : "";
	j->sts_ca = d->conf->sts_ca;
	j->body_off = t->a->e.body_off;
	j->prefix = t->a->sig.p ? t->a->sig.p : "";
	j->prefix_len = t->a->sig.len;
	j->timeout_ms = d->conf->timeout_ms;
	j->sender = t->a->e.sender;
	for (i = 0; i < t->n; i++)
		j->rcpt[i] = t->a->e.rcpt[t->idx[i]];
	j->n = t->n;
	job_dsn_fill(j, t->a->env.p, &t->a->e, t->idx);   /* dsn: RFC 3461 parameters */
}

void deliver_dispatch(struct deliver *d)
{
	struct task **pp = &d->thead;
	double now = qindex_clock();
	unsigned inuse[LANES], idle = lanes_now(d, inuse);
	while (*pp) {
		struct task *t = *pp;
		struct pool_state *p = sendconf_pool(d->conf, t->pool);
		const struct conf_member *cm;
		struct job j;
		char key[600], err[256];
		const char *tkey;
		struct conf_member_policy pol;
		struct conf_source src;
		struct worker_slot *w;
		int busy, mi, wi;
		const char *swhy;

		if (d->terminating) {
			task_done(d, task_take(d, pp));
			continue;
		}
		if (!idle)
			return;	/* a pick would advance the rotation for nothing */
		/* lanes: the workers kept for higher lanes stay free; the tasks
		 * after this one are of this lane or lower: none may either */
		if (!lanes_may_take(d->lanes.kept, inuse, idle, t->prio))
			return;
		if (task_hogs(d, t)) {
			pp = &t->next;
			continue;
		}
		/* shape: limits, quotas, ramps and throttles per destination */
		mi = shaping_pick(d->conf, p, t->domain, now, t->tried, &busy, &swhy);
		if (mi < 0) {
			if (busy) {
				pp = &t->next;
				continue;
			}
			task_defer(d, task_take(d, pp), shaping_defer_why(swhy));
			continue;
		}
		cm = &p->cfg.m[mi];
		pool_member_name(cm, t->domain, key, sizeof key);
		/* TLS and AUTH policy: by host:port for relays, by domain for MX */
		tkey = cm->mx ? t->domain : key;
		/* shape2 (issue 12): etc/auth by the message's sender first */
		if (conf_member_policy_from(d->home, &d->conf->tls, &d->conf->auth, tkey,
		                            cm->mx ? 25 : cm->port, cm->mx, t->a->e.sender,
		                            &pol, err, sizeof err) < 0) {
			/* never a weaker default: wait until the table reads again */
			warn_("%s: %s", tkey, err);
			task_defer(d, task_take(d, pp), "unable to read the TLS or AUTH policy");
			continue;
		}
		/* issue 15: the member's source address and name (etc/source) */
		if (sendconf_source(d->conf, cm->mx ? "mx" : key, &src, err, sizeof err) < 0) {
			warn_("%s: %s", cm->mx ? "mx" : key, err);
			conf_member_policy_wipe(&pol);
			task_defer(d, task_take(d, pp), "unable to read the source address");
			continue;
		}
		/* httpd (issue 13): this recipient's List-Unsubscribe, signed (send/unsub.c) */
		if (t->a->unsub && unsub_prefix(d->kids, t->a, t->idx[0], err, sizeof err) < 0) {
			warn_("%s: %s", t->a->m->id, err);
			conf_member_policy_wipe(&pol);
			task_defer(d, task_take(d, pp), err);
			continue;
		}
		if (t->a->unsub)
			record_totals_dkim(d->rec, &t->a->sig);   /* issue 13 totals: this recipient's signature */
		wi = children_idle_worker(d->kids, key);
		w = &d->kids->w[wi];
		task_take(d, pp);
		t->member = mi;
		job_fill(d, t, cm, &pol, &j);
		j.bind = conf_source_bind(&src, j.id);
		j.family = src.family;
		if (src.helo[0])
			j.helo = src.helo;
		/* prod (issue 10): the slot's journal, opened once, where the
		 * worker writes its deliveries if it finds us gone (journal.h) */
		if (w->jfd == -1 && (w->jfd = journal_open(wi)) < 0) {
			warn_sys("unable to open the journal of worker slot %d (a kill -9 may send its mail twice)", wi);
			w->jfd = -2;   /* said once */
		}
		j.relay = key;
		j.msgid = t->a->m->id;
		j.jfd = w->jfd >= 0 ? w->jfd : -1;
		for (size_t k = 0; k < t->n; k++)
			j.idx[k] = t->idx[k];
		if (job_send(w->sock, &j, t->a->fd) < 0) {
			warn_sys("unable to hand a job to worker %ld", (long)w->pid);
			conf_member_policy_wipe(&pol);
			task_enqueue(d, t, 1);
			children_worker_close(d->kids, wi);
			return;
		}
		conf_member_policy_wipe(&pol);
		w->t = t;
		t->a->inflight++;
		w->jobid = j.id;
		snprintf(w->key, sizeof w->key, "%s", key);
		shaping_used(d->conf, p, mi, t->domain, now);   /* shape: */
		t->a->dispatched++;   /* prod (issue 10): transactions out, less those dropped at SIGTERM */
		idle--;
		inuse[t->prio]++;
	}
}

/* What one recipient's reply means for it; the ones to try again in a
 * new transaction go into *again (made on first use). */
static void take_reply(struct deliver *d, struct task *t, size_t i, const struct job_result *res,
                       const char *relay, int some_ok, struct task **again, int *fault_again)
{
	struct attempt *a = t->a;
	size_t k = t->idx[i];
	const struct smtp_result *r = &res->r[i];
	struct classify_result cr;
	/* shape: a local refusal (no 8BITMIME, SMTPUTF8, SIZE here) tries the
	 * pool's other members first, without cooling this one */
	int local_other = shaping_local_failover(sendconf_pool(d->conf, t->pool), t->tried, t->member, r);
	int failover = r->member_fault || local_other;
	const char *pool = sendconf_pool(d->conf, t->pool)->name;   /* events: */
	if (r->code / 100 == 2) {
		a->now[k] = RS_DELIVERED;
		attempt_set_err(a, k, r, relay);
		relayed_mark(a, k, res);   /* dsn: a hop without DSN, NOTIFY=SUCCESS */
		record_outcome("delivered", a, k, pool, relay, r, res->tls, res->tls_policy);   /* events: pool */
		record_count(d->rec, relay, a->e.sender, COUNTER_DELIVERED);
		record_totals_count(d->rec, relay, pool, COUNTER_DELIVERED);   /* issue 13 totals */
		record_latency(d->rec, relay, qindex_clock() - a->t0);   /* httpd (issue 13) */
		return;
	}
	/* the shared table (etc/classify, relay-bounce's defaults) says
	 * whether a refusal is the relay's problem: rate limits, TLS and
	 * AUTH demands go to the next member, never to a bounce */
	classify(&d->conf->cls, r->code, r->enh, r->text, &cr);
	if (cr.action == ACTION_FAILOVER && r->code)
		failover = 1;
	if (failover || (r->code == 452 && !strcmp(r->stage, "rcpt") && some_ok)) {
		/* 421 in mid-session: these go to the next member. 452 "too
		 * many recipients" after some were taken: a new transaction
		 * for the rest, on any member (RFC 5321 4.5.3.1.10) */
		if (!*again) {
			*again = task_new(a, t->pool, t->domain);
			(*again)->tried = failover ? t->tried | (1UL << t->member) : t->tried;
			*fault_again = failover && !local_other;   /* shape: */
		}
		(*again)->idx[(*again)->n++] = k;
		(*again)->last = *r;
		(*again)->have_last = 1;
		attempt_set_err(a, k, r, relay);
		if (failover) {
			record_count(d->rec, relay, a->e.sender, COUNTER_DEFERRED);
			record_totals_count(d->rec, relay, pool, COUNTER_DEFERRED);   /* issue 13 totals */
		}
	} else if (r->temp || r->code / 100 != 5 || cr.action == ACTION_RETRY) {
		attempt_set_err(a, k, r, relay);
		record_outcome("deferred", a, k, pool, relay, r, res->tls, res->tls_policy);   /* events: pool */
		record_count(d->rec, relay, a->e.sender, COUNTER_DEFERRED);
		record_totals_count(d->rec, relay, pool, COUNTER_DEFERRED);   /* issue 13 totals */
	} else {
		a->now[k] = RS_FAILED;
		attempt_set_err(a, k, r, relay);
		record_outcome("failed", a, k, pool, relay, r, res->tls, res->tls_policy);   /* events: pool */
		record_count(d->rec, relay, a->e.sender, COUNTER_BOUNCED);
		record_totals_count(d->rec, relay, pool, COUNTER_BOUNCED);   /* issue 13 totals */
	}
}

static void on_result(struct deliver *d, int wi, struct job_result *res)
{
	struct task *t = d->kids->w[wi].t, *again = NULL;
	struct attempt *a = t->a;
	struct pool_state *p = sendconf_pool(d->conf, t->pool);
	char relay[600];
	size_t i;
	int all_fault = 1, some_ok = 0, fault_again = 0;
	double now = qindex_clock();

	d->kids->w[wi].t = NULL;
	a->inflight--;
	shaping_released(d->conf, p, t->member, t->domain);   /* shape: */
	pool_member_name(&p->cfg.m[t->member], t->domain, relay, sizeof relay);
	if (!res->conn_failed && res->n != t->n) {
		warn_("worker %ld answered for %zu recipients, not %zu", (long)d->kids->w[wi].pid, res->n, t->n);
		res->conn_failed = 1;
		memset(&res->conn, 0, sizeof res->conn);
		snprintf(res->conn.text, sizeof res->conn.text, "bad answer from a worker");
		res->conn.temp = 1;
	}
	if (!res->conn_failed)
		for (i = 0; i < t->n; i++)
			if (!res->r[i].member_fault)
				all_fault = 0;
	if (res->conn_failed || all_fault) {
		const struct smtp_result *why = res->conn_failed ? &res->conn : &res->r[0];
		/* the member is at fault: cool it and try the next member now
		 * (shape: the destination tried: the relay, or the MX domain) */
		double cool = shaping_failed(d->conf, p, t->member, t->domain, now);
		shaping_reply(d->conf, p, t->member, t->domain, why, now);
		record_count(d->rec, relay, a->e.sender, COUNTER_DEFERRED);
		record_totals_count(d->rec, relay, p->name, COUNTER_DEFERRED);   /* issue 13 totals */
		t->tried |= 1UL << t->member;
		t->last = *why;
		t->have_last = 1;
		record_failover(a, p->name, relay, why, -1, cool - now);
		record_totals_failover(d->rec, relay, p->name);   /* issue 13 totals */
		task_enqueue(d, t, 1);
		return;
	}
	shaping_succeeded(d->conf, p, t->member, t->domain);   /* shape: */
	for (i = 0; i < t->n; i++)
		some_ok |= res->r[i].code / 100 == 2;
	for (i = 0; i < t->n; i++)   /* shape: throttle rules, once a transaction */
		if (res->r[i].code / 100 != 2) {
			shaping_reply(d->conf, p, t->member, t->domain, &res->r[i], now);
			break;
		}
	for (i = 0; i < t->n; i++)
		take_reply(d, t, i, res, relay, some_ok, &again, &fault_again);
	if (again) {
		if (fault_again) {
			double cool = shaping_failed(d->conf, p, t->member, t->domain, now);   /* shape: */
			record_failover(a, p->name, relay, &again->last, (long long)again->n, cool - now);
			record_totals_failover(d->rec, relay, p->name);   /* issue 13 totals */
		}
		task_enqueue(d, again, 1);
	}
	task_done(d, t);
}

void deliver_worker_lost(struct deliver *d, int wi)
{
	struct task *t = d->kids->w[wi].t;
	children_worker_close(d->kids, wi);
	if (t) {
		/* not the member's fault: the same member may be tried again */
		d->kids->w[wi].t = NULL;
		t->a->inflight--;
		shaping_released(d->conf, sendconf_pool(d->conf, t->pool), t->member, t->domain);   /* shape: */
		if (d->terminating) {
			/* prod (issue 10): SIGTERM dropped its session before the
			 * data (children_quiesce): nothing happened, not an attempt */
			t->a->dispatched--;
			task_done(d, t);
			return;
		}
		memset(&t->last, 0, sizeof t->last);
		snprintf(t->last.enh, sizeof t->last.enh, "4.3.0");
		snprintf(t->last.text, sizeof t->last.text, "network worker died");
		t->have_last = 1;
		task_defer(d, t, "network worker died");
	}
}

void deliver_read(struct deliver *d, int wi)
{
	struct worker_slot *w = &d->kids->w[wi];
	struct job_result *res = malloc(sizeof *res);
	int rr;
	if (!res)
		die(EXIT_TEMP, "out of memory");
	rr = job_result_recv(w->sock, res);
	if (rr > 0 && w->t && res->id == w->jobid)
		on_result(d, wi, res);
	else if (rr > 0)
		warn_("unexpected answer from worker %ld", (long)w->pid);
	else
		deliver_worker_lost(d, wi);
	free(res);
}
