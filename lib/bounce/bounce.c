#include "bounce/bounce.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/diag.h"
#include "bounce/suppress.h"

static int setting_fail(const char *key, char *err, size_t errcap)
{
	if (errno == EPROTO)
		snprintf(err, errcap, "setting %s: bad value in etc/settings.cdb", key);
	else
		snprintf(err, errcap, "unable to read setting %s from etc/settings.cdb: %s",
		         key, strerror(errno));
	return -1;
}

/* A numeric setting (each has a default, so absent is never the answer). */
static int number(const char *home, const char *key, unsigned long *v,
                  char *err, size_t errcap)
{
	int r = conf_setting_number(home, key, v);
	if (r == 1)
		return 0;
	if (r == 0)
		errno = EPROTO;
	return setting_fail(key, err, errcap);
}

/* A text setting into out: 1 a value, 0 none, -1 error (err). */
static int text(const char *home, const char *key, int with_default, char *out,
                size_t cap, char *err, size_t errcap)
{
	struct buf v = BUF_INIT;
	int r = with_default ? conf_setting_value(home, key, &v) : conf_setting(home, key, &v);
	if (r < 0)
		setting_fail(key, err, errcap);
	else if (r > 0 && v.len >= cap) {
		snprintf(err, errcap, "setting %s: value too long", key);
		r = -1;
	} else if (r > 0)
		memcpy(out, v.p, v.len + 1);
	buf_free(&v);
	return r;
}

int bounce_size_limit(const char *home, long *limit, char *err, size_t errcap)
{
	unsigned long v;
	if (number(home, "bounce_size_limit", &v, err, errcap) < 0)
		return -1;
	*limit = v > (unsigned long)BOUNCE_SIZE_LIMIT_MAX ? BOUNCE_SIZE_LIMIT_MAX : (long)v;
	return 0;
}

int bounce_expiry(const char *home, unsigned long *secs, char *err, size_t errcap)
{
	return number(home, "suppression_expiry", secs, err, errcap);
}

static int valid_hostname(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "0123456789.-") == n;
}

int bounce_dsn_prepare(struct bounce_dsn *d, const char *home, struct buf *recs,
                       struct buf *orig, long limit, int truncated, time_t now,
                       char *err, size_t errcap)
{
	char empty[1] = "";
	const char *why;
	unsigned long hops;

	memset(d, 0, sizeof *d);
	if (dsn_parse_records(recs->p ? recs->p : empty, recs->len, &d->rs, err, errcap) < 0)
		return errno == ENOMEM ? EXIT_TEMP : EXIT_PERM;
	if (dsn_parse_original(orig->p ? orig->p : empty, orig->len, &d->o, &why) < 0) {
		snprintf(err, errcap, "queue file: %s", why);
		return errno == ENOMEM ? EXIT_TEMP : EXIT_PERM;
	}
	/* RFC 3461: each recipient's NOTIFY decides what the report holds */
	dsn_apply_params(&d->o, &d->rs);
	if (!(d->rep = malloc(d->rs.n * sizeof *d->rep))) {
		snprintf(err, errcap, "out of memory");
		return EXIT_TEMP;
	}
	{
		size_t i;
		/* a relayed report is for the sender only: never to the postmaster
		 * for a message from <> */
		for (i = 0; i < d->rs.n; i++)
			if (dsn_wanted(&d->rs.r[i]) && (d->o.sender[0] || d->rs.r[i].action != DSN_RELAYED))
				d->rep[d->nrep++] = d->rs.r[i];
	}
	if (text(home, "hostname", 1, d->host, sizeof d->host, err, errcap) < 0)
		return EXIT_TEMP;
	if (!valid_hostname(d->host)) {
		snprintf(err, errcap, "setting hostname: not a host name");
		return EXIT_TEMP;
	}
	if (classify_load_home(&d->rules, home, err, errcap) < 0)
		return EXIT_TEMP;
	if (number(home, "hopcount_limit", &hops, err, errcap) < 0 ||
	    bounce_expiry(home, &d->expiry, err, errcap) < 0)
		return EXIT_TEMP;

	d->opt.hostname = d->host;
	d->opt.to = d->o.sender;
	if (d->nrep == 0) {
		snprintf(d->why, sizeof d->why, "NOTIFY (RFC 3461) asks for no report of %s",
		         d->rs.n == 1 ? "this recipient" : "these recipients");
		d->opt.to = NULL;
		return 0;
	}
	d->opt.size_limit = limit;
	d->opt.now = now;
	d->opt.truncated = truncated;
	if (!d->o.sender[0])
		snprintf(d->why, sizeof d->why, "the message had the null sender <>");
	else if (hops && d->o.received > hops)
		snprintf(d->why, sizeof d->why,
		         "the message has %lu Received: lines (a mail loop?)", d->o.received);
	if (d->why[0]) {
		/* The postmaster setting, else its documented default
		 * postmaster@hostname (relay-config(8)): a double bounce is
		 * never dropped unseen. */
		if (text(home, "postmaster", 1, d->pm, sizeof d->pm, err, errcap) < 0)
			return EXIT_TEMP;
		d->opt.to = d->pm[0] ? d->pm : NULL;
		d->opt.why_not_sender = d->why;
		/* A double bounce to the postmaster that failed in its turn (a
		 * triple bounce) would go round for ever: it is dropped, logged. */
		if (d->pm[0] && !d->o.sender[0]) {
			size_t i;
			for (i = 0; i < d->rs.n && strcasecmp(d->rs.r[i].rcpt, d->pm) == 0; i++)
				;
			if (i == d->rs.n) {
				snprintf(d->why, sizeof d->why, "a triple bounce (the postmaster <%.60s> failed)",
				         d->pm);
				d->opt.to = NULL;
			}
		}
	}
	return 0;
}

void bounce_suppress_failed(const char *home, const struct bounce_dsn *d, time_t now)
{
	/* one change of the list for the whole DSN (suppress_add_many), not
	 * one rewrite per address: 10,000 recipients stay linear */
	size_t i, n = 0, skipped = 0, cap = d->rs.n ? d->rs.n : 1;
	struct suppress_item *it = calloc(cap, sizeof *it);
	char (*reasons)[512] = calloc(cap, sizeof *reasons);
	if (!it || !reasons) {
		warn_("out of memory: the suppression list is not updated");
		free(it);
		free(reasons);
		return;
	}
	for (i = 0; i < d->rs.n; i++) {
		const struct dsn_record *r = &d->rs.r[i];
		struct classify_result cr;
		char safe[SUPPRESS_REASON_MAX + 1];
		if (r->action != DSN_FAILED || r->status[0] != '5')
			continue;
		classify(&d->rules, 0, r->status, r->diag, &cr);
		if (!classify_suppressible(&cr))
			continue;
		safe_text(safe, sizeof safe, r->diag, strlen(r->diag));
		snprintf(reasons[n], sizeof reasons[n], "%s %s %s",
		         classify_category_name(cr.category), r->status, safe);
		it[n].addr = r->rcpt;
		it[n].reason = reasons[n];
		n++;
	}
	if (n && suppress_add_many(home, it, n, now, (long)d->expiry, &skipped) < 0)
		warn_sys("unable to add %zu addresses to the suppression list", n);
	else if (skipped)
		warn_("%zu addresses not added to the suppression list (not valid)", skipped);
	free(it);
	free(reasons);
}

void bounce_dsn_free(struct bounce_dsn *d)
{
	free(d->rep);
	d->rep = NULL;
	d->nrep = 0;
	dsn_original_free(&d->o);
	dsn_records_free(&d->rs);
	classify_table_free(&d->rules);
}
