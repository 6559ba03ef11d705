/* One delivery attempt of one queued message (attempt.h): what it read
 * from the queue and what happened to each recipient, in struct attempt;
 * its DKIM signature and its conclusion. */
#include "send/attempt.h"
#include "send/relayed.h"   /* dsn */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>   /* prod (issue 10): flock */
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "send/children.h"
#include "send/journal.h"   /* prod (issue 10) */
#include "send/qindex.h"
#include "send/record.h"
#include "send/sendconf.h"

#define BOUNCE_RETRY  300.0    /* relay-bounce failed: try again after */

double attempt_hint_wait(long long next, long long now, unsigned long longest, double mono,
                         double *odd_since)
{
	double w = next > now ? (double)(next - now) : 0;
	if (w <= 0) {
		*odd_since = 0;
		return 0;
	}
	if (longest && w > (double)longest) {
		double left;
		if (*odd_since <= 0)
			*odd_since = mono > 0 ? mono : 1e-9;
		left = (double)longest - (mono - *odd_since);
		if (left <= 0) {
			*odd_since = 0;
			return 0;
		}
		w = left;
	} else
		*odd_since = 0;
	return w < ATTEMPT_RECHECK_S ? w : ATTEMPT_RECHECK_S;
}

static unsigned long longest_interval(const struct conf_retry *rt)
{
	unsigned long l = 0;
	size_t i;
	for (i = 0; i < rt->n; i++)
		if (rt->schedule[i] > l)
			l = rt->schedule[i];
	return l;
}

enum attempt_open attempt_open(struct qmsg *m, int forced, struct sendconf *conf, struct attempt **ap,
                               double *wait,
                               const char **why)
{
	char path[PATH_MAX];
	struct attempt *a;
	struct queue_info qi;
	int e;

	*ap = NULL;
	if (queue_path(path, sizeof path, "msg", m->id) < 0)
		return ATTEMPT_NONE;
	a = calloc(1, sizeof *a);
	if (!a)
		die(EXIT_TEMP, "out of memory");
	a->m = m;
	/* never blocks (a FIFO), never follows a link: what is not a regular
	 * file is quarantined, once */
	a->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (a->fd < 0) {
		e = errno;
		free(a);
		if (e == ELOOP) {
			*why = "a symbolic link, not a queue file";
			return ATTEMPT_CORRUPT;
		}
		if (e != ENOENT)
			warn_sys("unable to open %s", path);
		return e == ENOENT ? ATTEMPT_GONE : ATTEMPT_LATER;
	}
	{
		struct stat st;
		if (fstat(a->fd, &st) < 0) {
			warn_sys("unable to stat %s", path);
			close(a->fd);
			free(a);
			return ATTEMPT_LATER;
		}
		if (!S_ISREG(st.st_mode)) {
			close(a->fd);
			free(a);
			*why = "not a regular file";
			return ATTEMPT_CORRUPT;
		}
		/* prod (issue 10): one attempt at a time. The lock stays with
		 * this open file, which the workers share (send/job.h): a worker
		 * of a relay-send killed -9 that is past the data still holds it
		 * until its D lines are in its journal. Wait for it, never send
		 * again now; once it let go, its journal first (journal.h). */
		if (flock(a->fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
			close(a->fd);
			free(a);
			m->waited = 1;
			*wait = 1;
			return ATTEMPT_WAIT;
		}
		if (m->waited) {
			if (journal_apply() < 0) {
				close(a->fd);
				free(a);
				return ATTEMPT_LATER;
			}
			m->waited = 0;
		}
	}
	if (queue_read_env_fd(a->fd, &a->env, &a->e, why) < 0) {
		e = errno;
		close(a->fd);
		buf_free(&a->env);
		free(a);
		return e == ENOENT ? ATTEMPT_GONE : ATTEMPT_CORRUPT;
	}
	/* the message is the length committed (the L record): a truncated
	 * or grown file is quarantined and logged, never sent */
	if (queue_check_body(a->fd, &a->e, why) < 0) {
		e = errno;
		if (e != EBADMSG)
			warn_sys("unable to check %s", m->id);
		queue_env_free(&a->e);
		close(a->fd);
		buf_free(&a->env);
		free(a);
		return e == EBADMSG ? ATTEMPT_CORRUPT : ATTEMPT_LATER;
	}
	if (queue_info_read(m->id, a->e.nrcpt, &qi) < 0) {
		warn_sys("unable to read the info file of %s", m->id);
		attempt_free(a);
		return ATTEMPT_LATER;
	}
	a->st = qi.state;
	qi.state = NULL;
	a->attempts = qi.attempts;
	a->warned = qi.warned;
	a->has_info = qi.exists;
	if (qi.have_sig) {
		a->sig = qi.sig;	/* signed at the first attempt: the same bytes */
		memset(&qi.sig, 0, sizeof qi.sig);
	}
	/* a retry hint from before a restart: wait for it unless forced,
	 * looked at again every few minutes (clock steps, attempt_hint_wait) */
	if (!forced && qi.next > (long long)time(NULL)) {
		struct conf_retry rt;
		sendconf_retry(conf, a->e.class, &rt);
		*wait = attempt_hint_wait(qi.next, (long long)time(NULL), longest_interval(&rt),
		                          qindex_clock(), &m->odd_since);
		if (*wait > 0) {
			queue_info_free(&qi);
			attempt_free(a);
			return ATTEMPT_WAIT;
		}
	} else
		m->odd_since = 0;
	a->now = calloc(a->e.nrcpt, 1);
	a->err = calloc(a->e.nrcpt, sizeof *a->err);
	if (!a->now || !a->err)
		die(EXIT_TEMP, "out of memory");
	/* failed before (F line, DSN not yet queued): its status and text */
	for (size_t i = 0; qi.fail && i < a->e.nrcpt; i++)
		if (a->st[i] == RS_FAILED && qi.fail[i].text) {
			a->err[i].code = qi.fail[i].code;
			snprintf(a->err[i].enh, sizeof a->err[i].enh, "%s", qi.fail[i].enh);
			a->err[i].text = qi.fail[i].text;
			qi.fail[i].text = NULL;
		}
	queue_info_free(&qi);
	*ap = a;
	return ATTEMPT_OPEN;
}

void attempt_free(struct attempt *a)
{
	size_t i;
	if (a->fd >= 0)
		close(a->fd);
	for (i = 0; a->err && i < a->e.nrcpt; i++)
		free(a->err[i].text);
	free(a->err);
	free(a->st);
	free(a->now);
	free(a->relayed);   /* dsn */
	queue_env_free(&a->e);
	buf_free(&a->env);
	buf_free(&a->sig);
	free(a);
}

void attempt_set_err(struct attempt *a, size_t i, const struct smtp_result *r, const char *relay)
{
	struct rerr *e = &a->err[i];
	e->code = r->code;
	snprintf(e->enh, sizeof e->enh, "%s", r->enh);
	free(e->text);
	e->text = strdup(r->text);
	snprintf(e->relay, sizeof e->relay, "%s", relay ? relay : "");
}

int attempt_sign(struct attempt *a, struct children *kids)
{
	char why[500];
	struct smtp_result e = {0};
	size_t i;
	enum dkim_outcome d = children_dkim_sign(kids, a->fd, a->e.body_off, &a->sig, why, sizeof why);
	if (d == DKIM_SIGNED)
		a->sig_new = 1;
	if (d == DKIM_NONE || d == DKIM_SIGNED)
		return 0;
	e.code = d == DKIM_PERM ? 554 : 451;
	snprintf(e.enh, sizeof e.enh, d == DKIM_PERM ? "5.7.0" : "4.7.0");
	snprintf(e.text, sizeof e.text, "%s", why);
	for (i = 0; i < a->e.nrcpt; i++) {
		if (a->st[i] != RS_PENDING)
			continue;
		attempt_set_err(a, i, &e, "dkim");
		if (d == DKIM_PERM)
			a->now[i] = RS_FAILED;
		record_outcome(d == DKIM_PERM ? "failed" : "deferred", a, i, NULL, "dkim", &e, NULL,
		               NULL);   /* events: no pool yet */
	}
	return 1;
}

/* Hand the failed recipients (or, with delayed, the pending ones) to
 * relay-bounce: 0 when it queued a DSN (or deliberately dropped one). */
static int bounce(const struct attempt *a, int delayed)
{
	struct buf in = BUF_INIT;
	int r;
	record_bounce_input(a, delayed, &in);
	r = children_bounce(a->m->id, &in);
	buf_free(&in);
	return r;
}

enum attempt_end attempt_conclude(struct attempt *a, struct sendconf *conf, double *due)
{
	struct buf lines = BUF_INIT;
	struct conf_retry rt;
	size_t pending, failed, bounced_now = 0;
	time_t now = time(NULL);
	long long age = (long long)(now - a->e.arrival);

	sendconf_retry(conf, a->e.class, &rt);
	if (age < 0)
		age = 0;	/* clock stepped back: never expire from that */
	record_settle(a, age, rt.lifetime, now, &lines, &pending, &failed);
	relayed_report(a);   /* dsn: RFC 3461 6.2.2, before the message may go */
	if (pending || failed) {
		int recorded = 1;
		if (lines.len) {
			if (record_info(a, lines.p, lines.len, 1) < 0) {
				warn_sys("unable to record outcomes of %s (they may repeat)", a->m->id);
				recorded = 0;
			}
			lines.len = 0;
		}
		/* no DSN for failures that are not on disk: nothing half-recorded */
		if (failed && recorded && bounce(a, 0) == 0) {
			/* a crash here repeats the DSN (the F lines stay): never loses one */
			crash_point("send-bounced");
			bounced_now = record_bounced(a, &lines);
			failed = 0;
		} else if (failed)
			record_bounce_deferred(a);
	}
	if (pending == 0 && failed == 0) {
		/* all delivered (then no fsync is needed: nothing to repeat) or bounced */
		record_remove(a);
		buf_free(&lines);
		return ATTEMPT_DONE;
	}
	if (pending && conf->delay_warn && !a->warned && (unsigned long)age >= conf->delay_warn &&
	    bounce(a, 1) == 0)
		record_delay_warned(a, pending, &lines);
	if (pending) {
		size_t k = (size_t)a->attempts < rt.n ? (size_t)a->attempts : rt.n - 1;
		double wait = (double)rt.schedule[k];
		*due = qindex_clock() + wait;
		record_retry(a, now, wait, &lines);
	} else
		*due = qindex_clock() + BOUNCE_RETRY;
	if (lines.len && record_info(a, lines.p, lines.len, bounced_now > 0) < 0)
		warn_sys("unable to update the info file of %s", a->m->id);
	buf_free(&lines);
	return ATTEMPT_RETRY;
}
