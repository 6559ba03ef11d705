/* relay-health: probe every member of every pool (lib/probe.c, in
 * parallel by lib/probeset.c), judge each (probe, latency, certificate,
 * error rate from the counters, lib/health.c), print one line per member,
 * record state/health for relay-send, optionally write a Prometheus
 * textfile. Exit codes are Nagios's: 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN. doc/relay-health.8 is the reference. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "conf/conf.h"
#include "conf/member.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "health/health.h"
#include "base/json.h"
#include "health/probeset.h"
#include "health/prom.h"
#include "queue/qscan.h"
#include "net/smtp.h"

enum { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };
#define POOLS_MAX 256

struct target {                 /* one relay, probed once for every pool naming it */
	char key[HEALTH_MEMBER_MAX + 1];
	char host[CONF_HOST_MAX + 1];
	char ca[PATH_MAX];
	struct conf_auth au;
	struct health_counts win, hour;
	int err_verdict;
	double err_pct;
};

struct row {                    /* one pool member */
	size_t pool;
	int target;                 /* -1: mx */
	int state;
	char reason[HEALTH_REASON_MAX + 1];
	time_t since;
};

static struct {
	const char *home, *only_pool, *prom, *send_to;
	int deadline_s, interval, json, no_state;
	long slow_ms, cert_days;
	struct health_eject ej;
	size_t maxpar;
} O = { NULL, NULL, NULL, NULL, 20, HEALTH_INTERVAL_DEFAULT, 0, 0, 5000, 14, HEALTH_EJECT_DEFAULTS, 0 };

static char pool_names[POOLS_MAX][CONF_NAME_MAX + 1];
static size_t npools;
static struct target *T;
static struct probe_job *J;
static size_t nt;
static struct row *R;
static size_t nr;

static void usage(void)
{
	die(NAGIOS_UNKNOWN,
	    "usage: relay-health [-d HOME] [-p POOL] [-t SECONDS] [-i SECONDS] [-j N] [--json] [--prom FILE]\n"
	    "  [--send-test ADDRESS] [--no-state] [--slow MS] [--cert-days N] [--error-window SECONDS]\n"
	    "  [--error-min N] [--error-eject PCT] [--error-warn PCT] [--cooldown SECONDS]");
}

static long num(const char *s, long min, long max)
{
	char *e;
	long v;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < min || v > max)
		usage();
	return v;
}

static double pct(const char *s)
{
	char *e;
	double v = strtod(s, &e);
	if (e == s || *e || !(v >= 0 && v <= 100))
		usage();
	return v;
}

static void options(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'J' }, { "prom", required_argument, 0, 'P' },
		{ "send-test", required_argument, 0, 'S' }, { "no-state", no_argument, 0, 'N' },
		{ "slow", required_argument, 0, 's' }, { "cert-days", required_argument, 0, 'c' },
		{ "error-window", required_argument, 0, 'w' }, { "error-min", required_argument, 0, 'm' },
		{ "error-eject", required_argument, 0, 'e' }, { "error-warn", required_argument, 0, 'W' },
		{ "cooldown", required_argument, 0, 'C' }, { 0, 0, 0, 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "d:p:t:i:j:", lo, NULL)) != -1) {
		switch (c) {
		case 'd': O.home = optarg; break;
		case 'p': O.only_pool = optarg; break;
		case 't': O.deadline_s = (int)num(optarg, 1, 3600); break;
		case 'i': O.interval = (int)num(optarg, 1, 86400); break;
		case 'j': O.maxpar = (size_t)num(optarg, 1, 1024); break;
		case 'J': O.json = 1; break;
		case 'P': O.prom = optarg; break;
		case 'S': O.send_to = optarg; break;
		case 'N': O.no_state = 1; break;
		case 's': O.slow_ms = num(optarg, 1, 3600000); break;
		case 'c': O.cert_days = num(optarg, 0, 3650); break;
		case 'w': O.ej.window = num(optarg, 60, 3600); break;
		case 'm': O.ej.min = (unsigned long)num(optarg, 1, 1000000000); break;
		case 'e': O.ej.eject_pct = pct(optarg); break;
		case 'W': O.ej.warn_pct = pct(optarg); break;
		case 'C': O.ej.cooldown = num(optarg, 0, 86400); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!O.home)
		O.home = getenv("RELAY_HOME");
	if (!O.home || !*O.home)
		O.home = "/var/relay";
}

static int add_target(const struct conf_member *m, struct conf *tls, struct conf *auth,
                      const char *helo, const char *sender)
{
	char key[HEALTH_MEMBER_MAX + 1], err[256];
	struct conf_member_policy pol;
	struct target *t;
	struct probe_opts *o;
	size_t i;
	snprintf(key, sizeof key, "%s:%u", m->host, m->port);
	conf_lower(key);
	for (i = 0; i < nt; i++)
		if (!strcmp(T[i].key, key))
			return (int)i;
	t = &T[nt];
	o = &J[nt].o;
	memset(t, 0, sizeof *t);
	memset(&J[nt], 0, sizeof J[nt]);
	snprintf(t->key, sizeof t->key, "%s", key);
	snprintf(t->host, sizeof t->host, "%s", m->host);
	/* the same policy relay-send uses for this member */
	if (conf_member_policy(O.home, tls, auth, key, m->port, 0, &pol, err, sizeof err) < 0)
		die(NAGIOS_UNKNOWN, "%s: %s", key, err);
	snprintf(t->ca, sizeof t->ca, "%s", pol.ca);
	if (pol.have_auth) {
		t->au = pol.auth;
		o->user = ""; /* pointers into T are set after the last realloc */
		o->auth_plaintext_ok = pol.auth_plaintext_ok;
	}
	conf_member_policy_wipe(&pol);
	o->port = m->port;
	o->helo = helo;
	o->tls = pol.tls.mode;
	o->implicit_tls = pol.tls.smtps;
	o->send_to = O.send_to;
	o->send_from = sender;
	o->deadline_ms = O.deadline_s * 1000;
	return (int)nt++;
}

static void load(void)
{
	struct conf pools, tls, auth;
	struct buf k = BUF_INIT, v = BUF_INIT;
	static char helo[256], sender[300];
	char err[256];
	int r;
	size_t cap = 0, i;

	if (conf_open(&pools, O.home, "pools") != 0)
		die_sys(NAGIOS_UNKNOWN, "unable to read %s/etc/pools.cdb", O.home);
	if (conf_open(&tls, O.home, "tls") < 0 || conf_open(&auth, O.home, "auth") < 0)
		die_sys(NAGIOS_UNKNOWN, "unable to read %s/etc/", O.home);
	if (conf_setting_value(O.home, "helo", &v) == 1)
		snprintf(helo, sizeof helo, "%s", v.p);
	if (conf_setting_value(O.home, "postmaster", &v) == 1)
		snprintf(sender, sizeof sender, "%s", v.p);
	conf_rewind(&pools);
	while ((r = conf_each(&pools, &k, &v)) == 1) {
		struct conf_pool cp;
		if (O.only_pool && strcmp(O.only_pool, k.p))
			continue;
		if (conf_parse_pool(v.p, &cp, err, sizeof err) < 0)
			die(NAGIOS_UNKNOWN, "etc/pools.cdb: pool %s: %s", k.p, err);
		if (npools == POOLS_MAX)
			die(NAGIOS_UNKNOWN, "more than %d pools", POOLS_MAX);
		snprintf(pool_names[npools], sizeof pool_names[0], "%s", k.p);
		if (nr + cp.n > cap) {
			cap = 2 * (nr + cp.n);
			R = realloc(R, cap * sizeof *R);
			T = realloc(T, cap * sizeof *T);
			J = realloc(J, cap * sizeof *J);
			if (!R || !T || !J)
				die(NAGIOS_UNKNOWN, "out of memory");
		}
		for (i = 0; i < cp.n; i++) {
			struct row *w = &R[nr++];
			memset(w, 0, sizeof *w);
			w->pool = npools;
			w->target = cp.m[i].mx ? -1 : add_target(&cp.m[i], &tls, &auth, helo, sender);
		}
		npools++;
	}
	if (r < 0)
		die_sys(NAGIOS_UNKNOWN, "unable to read etc/pools.cdb");
	if (O.only_pool && !npools)
		die(NAGIOS_UNKNOWN, "no pool %s in etc/pools", O.only_pool);
	if (!npools)
		die(NAGIOS_UNKNOWN, "no pools in etc/pools: nothing to check");
	for (i = 0; i < nt; i++) {
		J[i].o.host = T[i].host;
		J[i].o.ca_file = T[i].ca[0] ? T[i].ca : NULL;
		if (J[i].o.user) {
			J[i].o.user = T[i].au.user;
			J[i].o.pass = T[i].au.pass;
		}
	}
	conf_close(&pools);
	conf_close(&tls);
	conf_close(&auth);
	buf_free(&k);
	buf_free(&v);
}

static long probe_total_ms(const struct probe_result *r)
{
	long s = 0;
	int i;
	for (i = 0; i < PROBE_NSTEPS; i++)
		if (r->ms[i] > 0 && i != PROBE_SEND)
			s += r->ms[i];
	return s;
}

static long cert_days(const struct probe_result *r, time_t now)
{
	long long d = r->not_after - (long long)now;
	return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

/* The verdict on one member. prev: its line in the last state/health. */
static void judge(struct row *w, const struct health_entry *prev, time_t now)
{
	struct target *t = &T[w->target];
	const struct probe_result *r = &J[w->target].r;
	int ejected_before = prev && prev->state == HS_DOWN && !strcmp(prev->reason, "error-rate");

	if (ejected_before && now - prev->since < O.ej.cooldown) {
		w->state = HS_DOWN;
		snprintf(w->reason, sizeof w->reason, "error-rate");
	} else if (!r->ok && strcmp(r->stage, "send")) {
		w->state = HS_DOWN;
		snprintf(w->reason, sizeof w->reason, "%s", r->stage);
	} else if (t->err_verdict == HS_DOWN && !ejected_before) {
		w->state = HS_DOWN;
		snprintf(w->reason, sizeof w->reason, "error-rate");
		warn_("pool=%s member=%s ejected: error rate %.1f%% over %lds (%llu of %llu) above %.1f%%",
		      pool_names[w->pool], t->key, t->err_pct, O.ej.window, t->win.deferred + t->win.bounced,
		      t->win.delivered + t->win.deferred + t->win.bounced, O.ej.eject_pct);
	} else if (!r->ok) {
		w->state = HS_DEGRADED;
		snprintf(w->reason, sizeof w->reason, "send-test");
	} else if (r->have_cert && cert_days(r, now) < O.cert_days) {
		w->state = HS_DEGRADED;
		snprintf(w->reason, sizeof w->reason, "cert-expiring");
	} else if (probe_total_ms(r) > O.slow_ms) {
		w->state = HS_DEGRADED;
		snprintf(w->reason, sizeof w->reason, "slow");
	} else if (t->err_verdict != HS_UP) {
		/* over the warning rate; or over the eject rate right after a
		 * cool-down: back in on a passing probe, but not "up" */
		w->state = HS_DEGRADED;
		snprintf(w->reason, sizeof w->reason, "error-rate");
	} else {
		w->state = HS_UP;
		snprintf(w->reason, sizeof w->reason, "ok");
	}
	if (ejected_before && w->state != HS_DOWN)
		warn_("pool=%s member=%s back in after the error-rate cool-down", pool_names[w->pool], t->key);
	w->since = prev && prev->state == w->state ? prev->since : now;
}

static void print_line(const struct row *w, time_t now)
{
	const struct probe_result *r = w->target >= 0 ? &J[w->target].r : NULL;
	int i;
	printf("pool=%s member=%s state=%s reason=%s", pool_names[w->pool],
	       w->target >= 0 ? T[w->target].key : "mx", health_state_name(w->state), w->reason);
	if (!r) {
		putchar('\n');
		return;
	}
	for (i = 0; i < PROBE_NSTEPS; i++)
		if (r->ms[i] >= 0)
			printf(" %s_ms=%ld", probe_step_names[i], r->ms[i]);
	if (r->tls_version[0])
		printf(" tls=%s", r->tls_version);
	if (r->have_cert)
		printf(" cert_days=%ld", cert_days(r, now));
	if (T[w->target].win.delivered + T[w->target].win.deferred + T[w->target].win.bounced)
		printf(" error_pct=%.1f", T[w->target].err_pct);
	if (r->send_code)
		printf(" send_code=%d", r->send_code);
	if (r->code)
		printf(" code=%d", r->code);
	if (!r->ok) {
		const char *p;
		fputs(" detail=\"", stdout);
		for (p = r->reason; *p; p++) {
			if (*p == '"' || *p == '\\')
				putchar('\\');
			putchar(*p);
		}
		putchar('"');
	}
	putchar('\n');
}

static void print_json(time_t now, int status)
{
	struct buf b = BUF_INIT;
	size_t i;
	int k;
	buf_printf(&b, "{\"time\":%lld,\"status\":%d,\"members\":[", (long long)now, status);
	for (i = 0; i < nr; i++) {
		const struct row *w = &R[i];
		const struct probe_result *r = w->target >= 0 ? &J[w->target].r : NULL;
		const char *m = w->target >= 0 ? T[w->target].key : "mx";
		const char *st = health_state_name(w->state);
		buf_adds(&b, i ? ",{\"pool\":" : "{\"pool\":");
		json_str(&b, pool_names[w->pool], strlen(pool_names[w->pool]));
		buf_adds(&b, ",\"member\":");
		json_str(&b, m, strlen(m));
		buf_adds(&b, ",\"state\":");
		json_str(&b, st, strlen(st));
		buf_adds(&b, ",\"reason\":");
		json_str(&b, w->reason, strlen(w->reason));
		buf_printf(&b, ",\"since\":%lld", (long long)w->since);
		if (r) {
			buf_adds(&b, ",\"ms\":{");
			for (k = 0; k < PROBE_NSTEPS; k++)
				if (r->ms[k] >= 0)
					buf_printf(&b, "%s\"%s\":%ld", b.p[b.len - 1] == '{' ? "" : ",",
					           probe_step_names[k], r->ms[k]);
			buf_adds(&b, "},\"tls\":");
			if (r->tls_version[0])
				json_str(&b, r->tls_version, strlen(r->tls_version));
			else
				buf_adds(&b, "null");
			if (r->have_cert)
				buf_printf(&b, ",\"cert_days\":%ld", cert_days(r, now));
			buf_printf(&b, ",\"error_pct\":%.2f,\"code\":%d,\"detail\":", T[w->target].err_pct, r->code);
			json_str(&b, r->reason, strlen(r->reason));
			if (r->send_code) {
				buf_printf(&b, ",\"send_code\":%d,\"send_text\":", r->send_code);
				json_str(&b, r->send_text, strlen(r->send_text));
			}
		}
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]}\n");
	if (!b.p)
		die(NAGIOS_UNKNOWN, "out of memory");
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
}

static int write_prom(time_t now, double run_s)
{
	struct buf b = BUF_INIT;
	struct qscan q;
	size_t i;
	int k, rc = 0, qok = qscan_run(O.home, &q) == 0;
	static const char *const qstates[3] = { "queued", "deferred", "held" };

	prom_head(&b, "relay_health_up", "gauge", "1 if the pool member is up or degraded, 0 if down");
	for (i = 0; i < nr; i++) {
		const char *kv[] = { "pool", pool_names[R[i].pool], "member",
		                     R[i].target >= 0 ? T[R[i].target].key : "mx", NULL };
		if (R[i].state != HS_SKIPPED)
			prom_sample(&b, "relay_health_up", R[i].state == HS_DOWN ? 0 : 1, kv);
	}
	prom_head(&b, "relay_health_probe_step_seconds", "gauge", "Time each probe step took");
	for (i = 0; i < nt; i++)
		for (k = 0; k < PROBE_NSTEPS; k++)
			if (J[i].r.ms[k] >= 0) {
				const char *kv[] = { "member", T[i].key, "step", probe_step_names[k], NULL };
				prom_sample(&b, "relay_health_probe_step_seconds", J[i].r.ms[k] / 1000.0, kv);
			}
	prom_head(&b, "relay_health_cert_expiry_timestamp_seconds", "gauge",
	          "notAfter of the member's TLS certificate, epoch seconds");
	for (i = 0; i < nt; i++)
		if (J[i].r.have_cert) {
			const char *kv[] = { "member", T[i].key, NULL };
			prom_sample(&b, "relay_health_cert_expiry_timestamp_seconds", (double)J[i].r.not_after, kv);
		}
	prom_head(&b, "relay_member_error_ratio", "gauge",
	          "Deferred plus bounced over all outcomes in the ejection window");
	for (i = 0; i < nt; i++) {
		const char *kv[] = { "member", T[i].key, NULL };
		prom_sample(&b, "relay_member_error_ratio", T[i].err_pct / 100.0, kv);
	}
	prom_head(&b, "relay_member_outcomes_last_hour", "gauge",
	          "Messages per member and outcome over the last hour (state/counters)");
	for (i = 0; i < nt; i++) {
		const char *d[] = { "member", T[i].key, "outcome", "delivered", NULL };
		const char *f[] = { "member", T[i].key, "outcome", "deferred", NULL };
		const char *x[] = { "member", T[i].key, "outcome", "failed", NULL };
		prom_sample(&b, "relay_member_outcomes_last_hour", (double)T[i].hour.delivered, d);
		prom_sample(&b, "relay_member_outcomes_last_hour", (double)T[i].hour.deferred, f);
		prom_sample(&b, "relay_member_outcomes_last_hour", (double)T[i].hour.bounced, x);
	}
	if (qok) {
		prom_head(&b, "relay_queue_messages", "gauge", "Messages in the queue by state and class");
		for (i = 0; i < q.n; i++) {
			unsigned long v[3] = { q.c[i].queued, q.c[i].deferred, q.c[i].held };
			for (k = 0; k < 3; k++) {
				const char *kv[] = { "state", qstates[k], "class", q.c[i].name, NULL };
				prom_sample(&b, "relay_queue_messages", (double)v[k], kv);
			}
		}
		prom_head(&b, "relay_queue_unreadable", "gauge", "Queue files whose envelope did not parse");
		prom_sample(&b, "relay_queue_unreadable", (double)q.unreadable, NULL);
	} else {
		warn_sys("unable to scan %s/queue", O.home);
	}
	prom_head(&b, "relay_health_last_run_timestamp_seconds", "gauge", "When relay-health last ran");
	prom_sample(&b, "relay_health_last_run_timestamp_seconds", (double)now, NULL);
	prom_head(&b, "relay_health_run_seconds", "gauge", "How long the last relay-health run took");
	prom_sample(&b, "relay_health_run_seconds", run_s, NULL);
	if (!b.p || atomic_write(O.prom, b.p, b.len, 0644) < 0) {
		warn_sys("unable to write %s", O.prom);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	struct health_state prev = HEALTH_STATE_INIT, cur = HEALTH_STATE_INIT;
	struct timespec t0, t1;
	time_t now;
	size_t i, p;
	int status = NAGIOS_OK, pr;

	diag_init(argv[0]);
	options(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	load();
	pr = health_read(O.home, &prev);
	if (pr < 0) {
		warn_sys("unable to read %s/%s; starting afresh", O.home, HEALTH_FILE);
		health_free(&prev);
	}
	fflush(stdout);
	if (probeset_run(J, nt, O.maxpar) < 0)
		die_sys(NAGIOS_UNKNOWN, "unable to start probes");
	now = time(NULL);

	for (i = 0; i < nt; i++) {
		const struct health_entry *e = health_find(&prev, NULL, T[i].key);
		long win = O.ej.window;
		conf_auth_wipe(&T[i].au);
		/* only the events since the member last came back count */
		if (e && e->state != HS_DOWN && now - e->since < win)
			win = now - e->since > 0 ? (long)(now - e->since) : 1;
		if (health_counts_read(O.home, T[i].key, win, now, &T[i].win) < 0)
			warn_sys("unable to read state/counters/relay/%s", T[i].key);
		health_counts_read(O.home, T[i].key, 3600, now, &T[i].hour);
		T[i].err_verdict = health_error_verdict(&O.ej, &T[i].win, &T[i].err_pct);
	}
	for (i = 0; i < nr; i++) {
		struct row *w = &R[i];
		if (w->target < 0) {
			const struct health_entry *e = health_find(&prev, pool_names[w->pool], "mx");
			w->state = HS_SKIPPED;
			snprintf(w->reason, sizeof w->reason, "mx");
			w->since = e && e->state == HS_SKIPPED ? e->since : now;
		} else {
			judge(w, health_find(&prev, pool_names[w->pool], T[w->target].key), now);
		}
		if (w->state != HS_UP && w->state != HS_SKIPPED && status < NAGIOS_WARNING)
			status = NAGIOS_WARNING;
	}
	/* a pool with no live member (up, degraded, or an unprobed mx) */
	for (p = 0; p < npools; p++) {
		int live = 0;
		for (i = 0; i < nr; i++)
			if (R[i].pool == p && R[i].state != HS_DOWN)
				live = 1;
		if (!live)
			status = NAGIOS_CRITICAL;
	}

	if (O.json)
		print_json(now, status);
	else
		for (i = 0; i < nr; i++)
			print_line(&R[i], now);

	if (!O.no_state) {
		cur.when = now;
		cur.interval = O.interval;
		/* with -p, keep the other pools' lines from the last run */
		for (i = 0; O.only_pool && i < prev.n; i++)
			if (strcmp(prev.e[i].pool, O.only_pool) &&
			    health_add(&cur, prev.e[i].pool, prev.e[i].member, prev.e[i].state, prev.e[i].since,
			               prev.e[i].reason) < 0)
				die(NAGIOS_UNKNOWN, "out of memory");
		for (i = 0; i < nr; i++)
			if (health_add(&cur, pool_names[R[i].pool], R[i].target >= 0 ? T[R[i].target].key : "mx",
			               R[i].state, R[i].since, R[i].reason) < 0)
				die(NAGIOS_UNKNOWN, "out of memory");
		if (health_write(O.home, &cur) < 0) {
			warn_sys("unable to write %s/%s", O.home, HEALTH_FILE);
			status = NAGIOS_UNKNOWN;
		}
	}
	if (O.prom) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (write_prom(now, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9) < 0)
			status = NAGIOS_UNKNOWN;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		status = NAGIOS_UNKNOWN;
	health_free(&prev);
	health_free(&cur);
	return status;
}
