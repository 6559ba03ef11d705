/* The recording of outcomes in relay-send (record.h): info file lines,
 * removal, quarantine, clean-up, event lines and counters. The counts
 * not yet written are the only state (struct record). */
#include "send/record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "base/fileio.h"
#include "base/timers.h"
#include "conf/conf.h"
#include "events/msgid.h"   /* events */
#include "intake/addr.h"
#include "queue/queue.h"
#include "send/dline.h"    /* prod (issue 10) */
#include "send/qindex.h"
#include "send/latrec.h"   /* httpd (issue 13) */
#include "send/histrec.h"  /* issue 13: state/history/ */
#include "send/totrec.h"   /* issue 13 totals */

/* ------------------------------------------------------------ counters */

static void count(struct record *r, const char *kind, const char *name, enum counter_type type)
{
	size_t i;
	char n[300];
	snprintf(n, sizeof n, "%s", name);
	conf_lower(n);
	if (!counters_name_ok(kind, n))
		return;
	for (i = 0; i < r->nctr; i++)
		if (!strcmp(r->ctr[i].kind, kind) && !strcmp(r->ctr[i].name, n))
			break;
	if (i == r->nctr) {
		struct record_count *nc = realloc(r->ctr, (r->nctr + 1) * sizeof *nc);
		if (!nc)
			return;
		r->ctr = nc;
		memset(&r->ctr[i], 0, sizeof r->ctr[i]);
		snprintf(r->ctr[i].kind, sizeof r->ctr[i].kind, "%s", kind);
		snprintf(r->ctr[i].name, sizeof r->ctr[i].name, "%s", n);
		r->nctr++;
	}
	if (type == COUNTER_DELIVERED) r->ctr[i].c.delivered++;
	else if (type == COUNTER_DEFERRED) r->ctr[i].c.deferred++;
	else r->ctr[i].c.bounced++;
}

void record_count(struct record *r, const char *relay, const char *sender, enum counter_type type)
{
	const char *d = sender ? addr_domain(sender) : NULL;
	count(r, "relay", relay, type);
	record_history_count(r, relay, type);   /* issue 13: state/history/ */
	if (d && *d)
		count(r, "domain", d, type);
}

void record_counters_flush(struct record *r, double now, int force)
{
	size_t i;
	time_t t = time(NULL);
	if (!force && now < r->flush_at)
		return;
	r->flush_at = now + 1;
	for (i = 0; i < r->nctr; i++)
		if (counters_add_at(r->home, r->ctr[i].kind, r->ctr[i].name, &r->ctr[i].c, t) < 0)
			warn_sys("unable to update state/counters/%s/%s", r->ctr[i].kind, r->ctr[i].name);
	record_latency_flush(r);   /* httpd (issue 13): state/counters/latency/ (send/latrec.c) */
	record_totals_flush(r);   /* issue 13 totals: state/counters/totals/ (send/totrec.c) */
	record_history_flush(r, force);   /* issue 13: the minutes that are over (send/histrec.c) */
	free(r->ctr);
	r->ctr = NULL;
	r->nctr = 0;
}

void record_free(struct record *r)
{
	record_latency_drop(r);   /* httpd (issue 13) */
	record_history_free(r);   /* issue 13 */
	record_totals_drop(r);    /* issue 13 totals */
	free(r->ctr);
	r->ctr = NULL;
	r->nctr = 0;
}

/* ------------------------------------------------------------ event lines */

void record_outcome(const char *event, const struct attempt *a, size_t i, const char *pool,
                    const char *relay, const struct smtp_result *r, const char *tls,
                    const char *tls_policy)
{
	ev_begin(event);
	ev_str("id", a->m->id);
	ev_str("rcpt", a->e.rcpt[i]);
	ev_str("relay", relay);
	ev_num("code", r->code);
	ev_str("dsn", r->enh[0] ? r->enh : "-");
	ev_dbl("delay", (double)(time(NULL) - a->e.arrival));
	ev_num("attempt", a->attempts + 1);
	if (tls && *tls)
		ev_str("tls", tls);
	if (tls_policy && *tls_policy)
		ev_str("tls_policy", tls_policy);
	if (r->possible_dup)
		ev_str("note", "possible duplicate");
	if (strcmp(event, "delivered") != 0)
		ev_str("text", r->text);
	if (pool && *pool)
		ev_str("pool", pool);   /* events: last, so the line's old prefix stays */
	/* events: the Message-ID header, in the record only (doc/events.md) */
	if (ev_spooling()) {
		char mid[512];
		if (events_message_id(a->fd, (off_t)a->e.body_off, mid, sizeof mid) == 1)
			ev_rec_str("message_id", mid);
	}
	ev_end();
}

void record_failover(const struct attempt *a, const char *pool, const char *relay,
                     const struct smtp_result *why, long long recipients, double cooldown)
{
	ev_begin("failover");
	ev_str("id", a->m->id);
	ev_str("pool", pool);
	ev_str("relay", relay);
	ev_str("stage", why->stage);
	ev_num("code", why->code);
	if (recipients >= 0)
		ev_num("recipients", recipients);
	ev_str("text", why->text);
	ev_dbl("cooldown", cooldown);
	ev_end();
}

/* ------------------------------------------------------------ info lines */

void record_settle(struct attempt *a, long long age, unsigned long lifetime, time_t now,
                   struct buf *lines, size_t *pending, size_t *failed)
{
	size_t i;
	*pending = *failed = 0;
	for (i = 0; i < a->e.nrcpt; i++) {
		if (a->now[i] == RS_DELIVERED) {
			a->st[i] = RS_DELIVERED;
			buf_printf(lines, "D%zu %lld %s\n", i, (long long)now, a->err[i].relay);
		} else if (a->now[i] == RS_FAILED || (a->st[i] == RS_PENDING && (unsigned long)age >= lifetime)) {
			struct rerr *e = &a->err[i];
			if (a->now[i] != RS_FAILED) {
				/* expired: the last reason goes into the DSN */
				char t[600];
				snprintf(t, sizeof t, "delivery time expired%s%s", e->text ? "; last error: " : "",
					 e->text ? e->text : "");
				free(e->text);
				e->text = strdup(t);
				snprintf(e->enh, sizeof e->enh, "5.4.7");
				ev_begin("expired");
				ev_str("id", a->m->id);
				ev_str("rcpt", a->e.rcpt[i]);
				ev_num("age", age);
				ev_end();
			}
			a->st[i] = RS_FAILED;
			buf_printf(lines, "F%zu %lld %s ", i, (long long)now, e->enh[0] ? e->enh : "5.0.0");
			if (e->code)
				buf_printf(lines, "%d ", e->code);	/* queue.h: "[<code> ]<text>" */
			buf_printf(lines, "%s\n", e->text ? e->text : "");
		}
		if (a->st[i] == RS_PENDING)
			(*pending)++;
		else if (a->st[i] == RS_FAILED)
			(*failed)++;
	}
}

void record_bounce_input(const struct attempt *a, int delayed, struct buf *in)
{
	size_t i;
	for (i = 0; i < a->e.nrcpt; i++) {
		const struct rerr *r = &a->err[i];
		char mta[300], *c, enh[16];
		if (a->st[i] != (delayed ? RS_PENDING : RS_FAILED))
			continue;
		/* Remote-MTA is a host name: "host:port" loses the port, "mx:d" the prefix */
		snprintf(mta, sizeof mta, "%s", strncmp(r->relay, "mx:", 3) ? r->relay : r->relay + 3);
		if ((c = strrchr(mta, ':')) && !strchr(mta, ']'))
			*c = 0;
		if (!strcmp(mta, "dkim") || !strcmp(mta, "-"))
			mta[0] = 0;
		snprintf(enh, sizeof enh, "%s", r->enh[0] ? r->enh : delayed ? "4.0.0" : "5.0.0");
		if (delayed)
			enh[0] = '4';
		buf_printf(in, "%s\t%s\t%s\t%s\t", a->e.rcpt[i], delayed ? "delayed" : "failed", enh, mta);
		if (r->code)
			buf_printf(in, "%d ", r->code);
		buf_printf(in, "%s\t%lld\n", r->text ? r->text : "", (long long)time(NULL));
	}
}

size_t record_bounced(struct attempt *a, struct buf *lines)
{
	size_t i, n = 0;
	for (i = 0; i < a->e.nrcpt; i++)
		if (a->st[i] == RS_FAILED) {
			buf_printf(lines, "X%zu\n", i);
			a->st[i] = RS_BOUNCED;
			n++;
		}
	ev_begin("bounced");
	ev_str("id", a->m->id);
	ev_num("recipients", (long long)n);
	ev_end();
	return n;
}

void record_bounce_deferred(const struct attempt *a)
{
	ev_begin("bounce_deferred");
	ev_str("id", a->m->id);
	ev_str("reason", "relay-bounce failed; will retry");
	ev_end();
}

void record_delay_warned(const struct attempt *a, size_t pending, struct buf *lines)
{
	buf_adds(lines, "W\n");
	ev_begin("delay_warning");
	ev_str("id", a->m->id);
	ev_num("recipients", (long long)pending);
	ev_end();
}

void record_retry(const struct attempt *a, time_t now, double wait, struct buf *lines)
{
	buf_printf(lines, "R%lld %d\n", (long long)now + (long long)wait, a->attempts + 1);
	if (a->sig_new && a->sig.len) {
		buf_adds(lines, "S");
		base64_encode(lines, a->sig.p, a->sig.len);
		buf_adds(lines, "\n");
	}
}

int record_info(struct attempt *a, const char *data, size_t len, int sync)
{
	const char *id = a->m->id;
	char path[PATH_MAX];
	int fd, e;
	if (queue_path(path, sizeof path, "info", id) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	a->has_info = 1;
	/* prod (issue 10): all the lines or none, as a worker's own D lines
	 * (send/dline.h): a write that fails part-way (ENOSPC, EIO) or an
	 * fsync that fails is cut back to where the file ended, so no half
	 * line and no record that is not known to be on disk stays (the
	 * caller treats the outcome as not recorded) */
	if (dline_append(fd, data, len, sync) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* ------------------------------------------------------------ removal */

/* The queue file first, then its info file (an info file without a queue
 * file is a leftover that clean-up removes; the other order could resend
 * to every recipient). No fsync: if the unlink is lost in a crash, the
 * recipients are recorded in the info file or the message is delivered
 * again (the at-least-once window). */
void record_remove(const struct attempt *a)
{
	char path[PATH_MAX];
	if (queue_path(path, sizeof path, "msg", a->m->id) == 0 && unlink(path) < 0 && errno == ENOENT) {
		/* held meanwhile: it is done, so it goes from hold/ too */
		if (queue_path_flat(path, sizeof path, "hold", a->m->id) == 0)
			unlink(path);
	}
	if (a->has_info && queue_path(path, sizeof path, "info", a->m->id) == 0)
		unlink(path);
}

void record_quarantine(const char *id, const char *why)
{
	char from[PATH_MAX], to[PATH_MAX];
	ev_begin("corrupt");
	ev_str("id", id);
	ev_str("reason", why);
	ev_str("action", "moved to queue/corrupt");
	ev_end();
	if (queue_path(from, sizeof from, "msg", id) == 0 && queue_path_flat(to, sizeof to, "corrupt", id) == 0 &&
	    rename(from, to) < 0)
		warn_sys("unable to move %s to queue/corrupt", id);
}

static void cleaned(const char *path)
{
	ev_begin("cleanup");
	ev_str("file", path);
	ev_end();
}

void record_housekeeping(const char *home)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	DIR *d;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	int i;
	/* tmp/: only files older than any relay-queue can live (timers.h) */
	snprintf(dir, sizeof dir, "%s/queue/tmp", home);
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (lstat(path, &st) == 0 && now - st.st_mtime > TMP_CLEAN_AGE && unlink(path) == 0)
				cleaned(path);
		}
		closedir(d);
	}
	/* a message in a bucket that is not its own is never delivered nor
	 * expired (relay-send looks for it in its own): quarantine it */
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		snprintf(dir, sizeof dir, "%s/queue/msg/%02x", home, i);
		if (!(d = opendir(dir)))
			continue;
		while ((de = readdir(d))) {
			char right[PATH_MAX], to[PATH_MAX];
			if (!queue_id_valid(de->d_name) || queue_path(right, sizeof right, "msg", de->d_name) < 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (strcmp(path, right) == 0 || queue_path_flat(to, sizeof to, "corrupt", de->d_name) < 0)
				continue;
			ev_begin("corrupt");
			ev_str("id", de->d_name);
			ev_str("reason", "in the wrong bucket");
			ev_str("action", "moved to queue/corrupt");
			ev_end();
			if (rename(path, to) < 0)
				warn_sys("unable to move %s to queue/corrupt", path);
		}
		closedir(d);
	}
	/* info files whose message is gone (not queued, not held) */
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		snprintf(dir, sizeof dir, "%s/queue/info/%02x", home, i);
		if (!(d = opendir(dir)))
			continue;
		while ((de = readdir(d))) {
			char m1[PATH_MAX], m2[PATH_MAX];
			if (!queue_id_valid(de->d_name))
				continue;
			if (queue_path(m1, sizeof m1, "msg", de->d_name) < 0 ||
			    queue_path_flat(m2, sizeof m2, "hold", de->d_name) < 0)
				continue;
			if (access(m1, F_OK) < 0 && errno == ENOENT && access(m2, F_OK) < 0 && errno == ENOENT) {
				snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
				if (unlink(path) == 0)
					cleaned(path);
			}
		}
		closedir(d);
	}
}
