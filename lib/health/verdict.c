/* relay-health's verdicts: see verdict.h. */
#include "health/verdict.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"

int health_error_verdict(const struct health_eject *t, const struct counts *c, double *pct)
{
	unsigned long long bad = c->deferred + c->bounced, all = bad + c->delivered;
	*pct = all ? 100.0 * (double)bad / (double)all : 0.0;
	if (all < t->min || all == 0)
		return HS_UP;
	if (*pct > t->eject_pct)
		return HS_DOWN;
	if (*pct > t->warn_pct)
		return HS_DEGRADED;
	return HS_UP;
}

long health_probe_ms(const struct probe_result *r)
{
	long s = 0;
	int i;
	for (i = 0; i < PROBE_NSTEPS; i++)
		if (r->ms[i] > 0 && i != PROBE_SEND)
			s += r->ms[i];
	return s;
}

long health_cert_days(const struct probe_result *r, time_t now)
{
	long long d = r->not_after - (long long)now;
	return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

void health_run_counts(struct health_run *run, const struct health_state *prev, time_t now)
{
	const struct health_eject *ej = &run->o->ej;
	size_t i;
	for (i = 0; i < run->nt; i++) {
		struct health_target *t = &run->targets[i];
		const struct health_entry *e = health_find(prev, NULL, t->key);
		long win = ej->window;
		/* only the events since the member last came back count */
		if (e && e->state != HS_DOWN && now - e->since < win)
			win = now - e->since > 0 ? (long)(now - e->since) : 1;
		if (counters_window_at(run->o->home, "relay", t->key, win, now, &t->win) < 0)
			warn_sys("unable to read state/counters/relay/%s", t->key);
		counters_window_at(run->o->home, "relay", t->key, 3600, now, &t->hour);
		t->err_verdict = health_error_verdict(ej, &t->win, &t->err_pct);
	}
}

static void set(struct health_row *w, int state, const char *reason)
{
	w->state = state;
	snprintf(w->reason, sizeof w->reason, "%s", reason);
}

/* The verdict on one probed member. prev: its line in the last state/health. */
static void judge(struct health_run *run, struct health_row *w, const struct health_entry *prev, time_t now)
{
	const struct health_opts *o = run->o;
	struct health_target *t = &run->targets[w->target];
	const struct probe_result *r = &run->jobs[w->target].r;
	const char *pool = run->pools[w->pool];
	int ejected_before = prev && prev->state == HS_DOWN && !strcmp(prev->reason, "error-rate");

	if (ejected_before && now - prev->since < o->ej.cooldown) {
		set(w, HS_DOWN, "error-rate");
	} else if (!r->ok && strcmp(r->stage, "send")) {
		set(w, HS_DOWN, r->stage);
	} else if (t->err_verdict == HS_DOWN && !ejected_before) {
		set(w, HS_DOWN, "error-rate");
		warn_("pool=%s member=%s ejected: error rate %.1f%% over %lds (%llu of %llu) above %.1f%%",
		      pool, t->key, t->err_pct, o->ej.window, t->win.deferred + t->win.bounced,
		      t->win.delivered + t->win.deferred + t->win.bounced, o->ej.eject_pct);
	} else if (!r->ok) {
		set(w, HS_DEGRADED, "send-test");
	} else if (r->have_cert && health_cert_days(r, now) < o->cert_days) {
		set(w, HS_DEGRADED, "cert-expiring");
	} else if (health_probe_ms(r) > o->slow_ms) {
		set(w, HS_DEGRADED, "slow");
	} else if (t->err_verdict != HS_UP) {
		/* over the warning rate; or over the eject rate right after a
		 * cool-down: back in on a passing probe, but not "up" */
		set(w, HS_DEGRADED, "error-rate");
	} else {
		set(w, HS_UP, "ok");
	}
	if (ejected_before && w->state != HS_DOWN)
		warn_("pool=%s member=%s back in after the error-rate cool-down", pool, t->key);
	w->since = prev && prev->state == w->state ? prev->since : now;
}

int health_run_judge(struct health_run *run, const struct health_state *prev, time_t now)
{
	size_t i, p;
	int status = NAGIOS_OK;
	for (i = 0; i < run->nr; i++) {
		struct health_row *w = &run->rows[i];
		const char *pool = run->pools[w->pool];
		if (w->target < 0) {
			const struct health_entry *e = health_find(prev, pool, "mx");
			set(w, HS_SKIPPED, "mx");
			w->since = e && e->state == HS_SKIPPED ? e->since : now;
		} else {
			judge(run, w, health_find(prev, pool, run->targets[w->target].key), now);
		}
		if (w->state != HS_UP && w->state != HS_SKIPPED && status < NAGIOS_WARNING)
			status = NAGIOS_WARNING;
	}
	/* a pool with no live member (up, degraded, or an unprobed mx) */
	for (p = 0; p < run->npools; p++) {
		int live = 0;
		for (i = 0; i < run->nr; i++)
			if (run->rows[i].pool == p && run->rows[i].state != HS_DOWN)
				live = 1;
		if (!live)
			status = NAGIOS_CRITICAL;
	}
	return status;
}
