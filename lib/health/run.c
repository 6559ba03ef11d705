/* One relay-health run: loading what to probe, and the state to record.
 * See run.h. */
#include "health/run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "conf/member.h"

/* err = the message, and errno's text when sys (like die_sys). -1. */
static int load_err(char *err, size_t cap, int sys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int load_err(char *err, size_t cap, int sys, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	size_t n;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (sys && e && n < cap)
		snprintf(err + n, cap - n, ": %s", strerror(e));
	return -1;
}

/* The target for member m, added unless its relay already has one:
 * its index, or -1 with err. */
static int add_target(struct health_run *run, const struct conf_member *m, struct conf *tls,
                      struct conf *auth, char *err, size_t errcap)
{
	char key[HEALTH_MEMBER_MAX + 1], perr[256];
	struct conf_member_policy pol;
	struct health_target *t;
	struct probe_opts *o;
	size_t i;
	snprintf(key, sizeof key, "%s:%u", m->host, m->port);
	conf_lower(key);
	for (i = 0; i < run->nt; i++)
		if (!strcmp(run->targets[i].key, key))
			return (int)i;
	t = &run->targets[run->nt];
	o = &run->jobs[run->nt].o;
	memset(t, 0, sizeof *t);
	memset(&run->jobs[run->nt], 0, sizeof run->jobs[run->nt]);
	snprintf(t->key, sizeof t->key, "%s", key);
	snprintf(t->host, sizeof t->host, "%s", m->host);
	/* the same policy relay-send uses for this member */
	if (conf_member_policy(run->o->home, tls, auth, key, m->port, 0, &pol, perr, sizeof perr) < 0)
		return load_err(err, errcap, 0, "%s: %s", key, perr);
	snprintf(t->ca, sizeof t->ca, "%s", pol.ca);
	if (pol.have_auth) {
		t->au = pol.auth;
		o->user = ""; /* pointers into targets are set after the last realloc */
		o->auth_plaintext_ok = pol.auth_plaintext_ok;
	}
	conf_member_policy_wipe(&pol);
	o->port = m->port;
	o->helo = run->helo;
	o->tls = pol.tls.mode;
	o->implicit_tls = pol.tls.smtps;
	o->send_to = run->o->send_to;
	o->send_from = run->sender;
	o->deadline_ms = run->o->deadline_s * 1000;
	return (int)run->nt++;
}

/* Room for n more rows (and as many targets). 0 or -1. */
static int grow(struct health_run *run, size_t n, size_t *cap)
{
	void *r, *t, *j;
	if (run->nr + n <= *cap)
		return 0;
	*cap = 2 * (run->nr + n);
	r = realloc(run->rows, *cap * sizeof *run->rows);
	if (r)
		run->rows = r;
	t = realloc(run->targets, *cap * sizeof *run->targets);
	if (t)
		run->targets = t;
	j = realloc(run->jobs, *cap * sizeof *run->jobs);
	if (j)
		run->jobs = j;
	return r && t && j ? 0 : -1;
}

static int load_pools(struct health_run *run, struct conf *pools, struct conf *tls, struct conf *auth,
                      char *err, size_t errcap)
{
	const struct health_opts *o = run->o;
	struct buf k = BUF_INIT, v = BUF_INIT;
	char perr[256];
	size_t cap = 0, i;
	int r, rc = -1;

	conf_rewind(pools);
	while ((r = conf_each(pools, &k, &v)) == 1) {
		struct conf_pool cp;
		if (o->only_pool && strcmp(o->only_pool, k.p))
			continue;
		if (conf_parse_pool(v.p, &cp, perr, sizeof perr) < 0) {
			load_err(err, errcap, 0, "etc/pools.cdb: pool %s: %s", k.p, perr);
			goto out;
		}
		if (run->npools == HEALTH_POOLS_MAX) {
			load_err(err, errcap, 0, "more than %d pools", HEALTH_POOLS_MAX);
			goto out;
		}
		snprintf(run->pools[run->npools], sizeof run->pools[0], "%s", k.p);
		if (grow(run, cp.n, &cap) < 0) {
			load_err(err, errcap, 0, "out of memory");
			goto out;
		}
		for (i = 0; i < cp.n; i++) {
			struct health_row *w = &run->rows[run->nr++];
			memset(w, 0, sizeof *w);
			w->pool = run->npools;
			w->target = cp.m[i].mx ? -1 : add_target(run, &cp.m[i], tls, auth, err, errcap);
			if (!cp.m[i].mx && w->target < 0)
				goto out;
		}
		run->npools++;
	}
	if (r < 0)
		load_err(err, errcap, 1, "unable to read etc/pools.cdb");
	else if (o->only_pool && !run->npools)
		load_err(err, errcap, 0, "no pool %s in etc/pools", o->only_pool);
	else if (!run->npools)
		load_err(err, errcap, 0, "no pools in etc/pools: nothing to check");
	else
		rc = 0;
out:
	buf_free(&k);
	buf_free(&v);
	return rc;
}

/* etc/pools (which must exist), etc/tls and etc/auth: all, or none and
 * -1 with err. */
static int open_tables(const char *home, struct conf c[3], char *err, size_t errcap)
{
	static const char *const names[3] = { "pools", "tls", "auth" };
	int i, r;
	for (i = 0; i < 3; i++) {
		r = conf_open(&c[i], home, names[i]);
		if (r < 0 || (r > 0 && i == 0)) {
			load_err(err, errcap, 1, "unable to read %s/etc/%s", home, i == 0 ? "pools.cdb" : "");
			for (; i >= 0; i--)
				conf_close(&c[i]);
			return -1;
		}
	}
	return 0;
}

int health_run_load(struct health_run *run, const struct health_opts *o, char *err, size_t errcap)
{
	struct conf c[3]; /* pools, tls, auth */
	struct buf v = BUF_INIT;
	size_t i;
	int rc;

	memset(run, 0, sizeof *run);
	run->o = o;
	run->pools = calloc(HEALTH_POOLS_MAX, sizeof *run->pools);
	if (!run->pools)
		return load_err(err, errcap, 0, "out of memory");
	if (open_tables(o->home, c, err, errcap) < 0)
		return -1;
	if (conf_setting_value(o->home, "helo", &v) == 1)
		snprintf(run->helo, sizeof run->helo, "%s", v.p);
	if (conf_setting_value(o->home, "postmaster", &v) == 1)
		snprintf(run->sender, sizeof run->sender, "%s", v.p);
	buf_free(&v);
	rc = load_pools(run, &c[0], &c[1], &c[2], err, errcap);
	for (i = 0; rc == 0 && i < run->nt; i++) {
		struct probe_opts *po = &run->jobs[i].o;
		po->host = run->targets[i].host;
		po->ca_file = run->targets[i].ca[0] ? run->targets[i].ca : NULL;
		if (po->user) {
			po->user = run->targets[i].au.user;
			po->pass = run->targets[i].au.pass;
		}
	}
	for (i = 0; i < 3; i++)
		conf_close(&c[i]);
	return rc;
}

void health_run_wipe_auth(struct health_run *run)
{
	size_t i;
	for (i = 0; i < run->nt; i++)
		conf_auth_wipe(&run->targets[i].au);
}

void health_run_free(struct health_run *run)
{
	health_run_wipe_auth(run);
	free(run->pools);
	free(run->targets);
	free(run->jobs);
	free(run->rows);
	memset(run, 0, sizeof *run);
}

const char *health_row_member(const struct health_run *run, const struct health_row *w)
{
	return w->target >= 0 ? run->targets[w->target].key : "mx";
}

int health_run_state(const struct health_run *run, const struct health_state *prev,
                     time_t now, long interval, struct health_state *cur)
{
	const char *only = run->o->only_pool;
	size_t i;
	cur->when = now;
	cur->interval = interval;
	/* with -p, keep the other pools' lines from the last run */
	for (i = 0; only && i < prev->n; i++)
		if (strcmp(prev->e[i].pool, only) &&
		    health_add(cur, prev->e[i].pool, prev->e[i].member, prev->e[i].state, prev->e[i].since,
		               prev->e[i].reason) < 0)
			return -1;
	for (i = 0; i < run->nr; i++)
		if (health_add(cur, run->pools[run->rows[i].pool], health_row_member(run, &run->rows[i]),
		               run->rows[i].state, run->rows[i].since, run->rows[i].reason) < 0)
			return -1;
	return 0;
}
