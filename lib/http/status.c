/* GET /v1/status and /metrics (http/status.h). */
#include "http/status.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/fileio.h"
#include "base/json.h"
#include "events/metrics.h"   /* events (issue 14): EVMETRICS_FILE */
#include "health/counters.h"
#include "health/latency.h"
#include "health/health.h"
#include "health/history.h"   /* issue 13 */
#include "health/prom.h"
#include "health/totals.h"   /* issue 13 totals */
#include "queue/qscan.h"

#define METRICS_FILE HEALTH_DIR "/metrics.prom"
#define METRICS_MAX  (4UL * 1024 * 1024)

void status_init(struct status *s, const char *home)
{
	memset(s, 0, sizeof *s);
	s->home = home;
	pthread_mutex_init(&s->lock, NULL);
}

/* relay_queue_messages{state="S",class="C"} V lines of metrics.prom. */
static int queue_from_prom(const char *home, struct status_point *p)
{
	char path[4096];
	struct buf b = BUF_INIT;
	const char *l, *e;
	snprintf(path, sizeof path, "%s/" METRICS_FILE, home);
	if (read_file(path, &b, METRICS_MAX) < 0) {
		buf_free(&b);
		return -1;
	}
	for (l = b.p; l && l < b.p + b.len; l = e ? e + 1 : NULL) {
		const char *st, *sp;
		double v;
		e = memchr(l, '\n', (size_t)(b.p + b.len - l));
		if (strncmp(l, "relay_queue_messages{", 21) != 0 || !(st = strstr(l, "state=\"")) ||
		    (e && st > e) || !(sp = strrchr(l, '}')) || (e && sp > e) || sscanf(sp + 1, "%lf", &v) != 1)
			continue;
		st += 7;
		if (strncmp(st, "queued\"", 7) == 0)
			p->queued += (unsigned long)v;
		else if (strncmp(st, "deferred\"", 9) == 0)
			p->deferred += (unsigned long)v;
		else if (strncmp(st, "held\"", 5) == 0)
			p->held += (unsigned long)v;
	}
	buf_free(&b);
	return 0;
}

static int queue_now(const char *home, struct status_point *p)
{
	static struct qscan q;   /* large: a static, used under s->lock only */
	size_t i;
	memset(p, 0, sizeof *p);
	if (qscan_run(home, &q) == 0) {
		for (i = 0; i < q.n; i++) {
			p->queued += q.c[i].queued;
			p->deferred += q.c[i].deferred;
			p->held += q.c[i].held;
		}
		return 0;
	}
	return queue_from_prom(home, p);
}

void status_count(struct status *s, int code)
{
	pthread_mutex_lock(&s->lock);
	s->requests++;
	if (code >= 100 && code < 600)
		s->by_code[code / 100]++;
	if (code == 202)
		s->accepted++;
	pthread_mutex_unlock(&s->lock);
}

/* The relays that have counters (dir "state/counters/relay") or a
 * history (issue 13: "state/history/relay"): the names of its files. */
static size_t relays(const char *home, const char *dir, char names[][COUNTERS_NAME_MAX + 1], size_t cap)
{
	char path[4096];
	DIR *d;
	struct dirent *de;
	size_t n = 0;
	snprintf(path, sizeof path, "%s/%s", home, dir);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d)) && n < cap)
		if (counters_name_ok("relay", de->d_name))
			snprintf(names[n++], COUNTERS_NAME_MAX + 1, "%s", de->d_name);
	closedir(d);
	return n;
}

static char relay_names[STATUS_RELAYS_MAX][COUNTERS_NAME_MAX + 1];
static struct history_slot hist[HISTORY_SLOTS];   /* a static, used under s->lock only */

/* The slots that are ok as [t, a, b, c], oldest first. */
static int slots_json(const struct history_slot *h, struct buf *o)
{
	size_t i, n;
	int rc = buf_addc(o, '[');
	for (i = n = 0; i < HISTORY_SLOTS; i++)
		if (h[i].ok)
			rc |= buf_printf(o, "%s[%lld, %llu, %llu, %llu]", n++ ? ", " : "", h[i].minute * 60, h[i].v[0],
			                 h[i].v[1], h[i].v[2]);
	return rc | buf_addc(o, ']');
}

/* "history": [[t, messages, in_flight, due], ...] and "relay_history":
 * [{"name", "per_minute": [[t, delivered, deferred, failed], ...]}], the
 * minutes relay-send wrote in the last 24 hours, oldest first; a missing,
 * stale or damaged slot is left out. */
static int history_json(const char *home, time_t now, struct buf *o)
{
	static char names[HISTORY_RELAYS_MAX][COUNTERS_NAME_MAX + 1];
	long long m = (long long)now / 60;
	size_t k, nr;
	int rc = 0;
	history_read(home, HISTORY_QUEUE, NULL, m, hist);   /* -1 or 0: every slot missing */
	rc |= buf_adds(o, " \"history\": ");
	rc |= slots_json(hist, o);
	rc |= buf_adds(o, ",\n \"relay_history\": [");
	nr = relays(home, "state/history/relay", names, HISTORY_RELAYS_MAX);
	for (k = 0; k < nr; k++) {
		history_read(home, HISTORY_RELAY, names[k], m, hist);
		rc |= buf_adds(o, k ? ",\n  {\"name\": " : "\n  {\"name\": ");
		rc |= json_str(o, names[k], strlen(names[k]));
		rc |= buf_adds(o, ", \"per_minute\": ");
		rc |= slots_json(hist, o);
		rc |= buf_addc(o, '}');
	}
	rc |= buf_addc(o, ']');
	return rc;
}

int status_json(struct status *s, time_t now, struct buf *o)
{
	struct health_state h = HEALTH_STATE_INIT;
	struct status_point p;
	size_t i, nr;
	int rc = 0, hr;
	long m;

	pthread_mutex_lock(&s->lock);
	o->len = 0;
	if (queue_now(s->home, &p) < 0)
		memset(&p, 0, sizeof p);
	rc |= buf_printf(o, "{\"time\": %lld, \"queue\": {\"queued\": %lu, \"deferred\": %lu, \"held\": %lu},\n",
	                 (long long)now, p.queued, p.deferred, p.held);
	rc |= history_json(s->home, now, o);   /* issue 13: state/history/ */
	rc |= buf_printf(o, ",\n \"api\": {\"requests\": %llu, \"accepted\": %llu},\n", s->requests, s->accepted);
	hr = health_read(s->home, &h);
	rc |= buf_printf(o, " \"health\": {\"when\": %lld, \"fresh\": %s, \"members\": [",
	                 (long long)(hr > 0 ? h.when : 0), hr > 0 && health_fresh(&h, now) ? "true" : "false");
	for (i = 0; hr > 0 && i < h.n; i++) {
		const struct health_entry *e = &h.e[i];
		rc |= buf_adds(o, i ? ",\n  {\"pool\": " : "\n  {\"pool\": ");
		rc |= json_str(o, e->pool, strlen(e->pool));
		rc |= buf_adds(o, ", \"member\": ");
		rc |= json_str(o, e->member, strlen(e->member));
		rc |= buf_printf(o, ", \"state\": \"%s\", \"since\": %lld, \"reason\": ", health_state_name(e->state),
		                 (long long)e->since);
		rc |= json_str(o, e->reason, strlen(e->reason));
		rc |= buf_addc(o, '}');
	}
	health_free(&h);
	rc |= buf_adds(o, "]},\n \"relays\": [");
	nr = relays(s->home, "state/counters/relay", relay_names, STATUS_RELAYS_MAX);
	for (i = 0; i < nr; i++) {
		struct counts c;
		rc |= buf_adds(o, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
		rc |= json_str(o, relay_names[i], strlen(relay_names[i]));
		if (counters_window_at(s->home, "relay", relay_names[i], 3600, now, &c) < 0)
			memset(&c, 0, sizeof c);
		rc |= buf_printf(o, ", \"last_hour\": {\"delivered\": %llu, \"deferred\": %llu, \"bounced\": %llu}, "
		                 "\"per_minute\": [", c.delivered, c.deferred, c.bounced);
		/* oldest first: [minute_epoch, delivered, deferred, bounced] */
		for (m = COUNTERS_BUCKETS - 1; m >= 0; m--) {
			time_t t = now - m * 60;
			if (counters_window_at(s->home, "relay", relay_names[i], 60, t, &c) < 0)
				memset(&c, 0, sizeof c);
			rc |= buf_printf(o, "%s[%lld, %llu, %llu, %llu]", m == COUNTERS_BUCKETS - 1 ? "" : ", ",
			                 (long long)(t / 60 * 60), c.delivered, c.deferred, c.bounced);
		}
		rc |= buf_adds(o, "]}");
	}
	rc |= buf_addc(o, ']');
	rc |= recent_json(&s->rec, s->home, (long long)now, o);   /* oldest message, last events */
	rc |= buf_adds(o, "}\n");
	pthread_mutex_unlock(&s->lock);
	return rc ? -1 : 0;
}

int status_metrics(struct status *s, time_t now, struct buf *o)
{
	char path[4096], code[8];
	size_t i, nr;
	int rc = 0, lat_head = 0, pass;
	o->len = 0;
	snprintf(path, sizeof path, "%s/" METRICS_FILE, s->home);
	if (read_file(path, o, METRICS_MAX) < 0) {
		o->len = 0;
		if (errno != ENOENT)
			return -1;
	}
	if (o->len && o->p[o->len - 1] != '\n')
		rc |= buf_addc(o, '\n');
	{	/* events (issue 14): relay-events' figures, as written (events/metrics.h) */
		struct buf ev = BUF_INIT;
		snprintf(path, sizeof path, "%s/" EVMETRICS_FILE, s->home);
		if (read_file(path, &ev, METRICS_MAX) == 0 && ev.len && ev.p[ev.len - 1] == '\n')
			rc |= buf_add(o, ev.p, ev.len);
		buf_free(&ev);
	}
	pthread_mutex_lock(&s->lock);
	rc |= prom_head(o, "relay_httpd_requests_total", "counter", "HTTP requests answered, by status class");
	for (i = 1; i < 6; i++) {
		const char *kv[] = { "code", code, NULL };
		snprintf(code, sizeof code, "%zuxx", i);
		rc |= prom_sample(o, "relay_httpd_requests_total", (double)s->by_code[i], kv);
	}
	rc |= prom_head(o, "relay_httpd_messages_accepted_total", "counter", "Messages queued through the HTTP API");
	rc |= prom_sample(o, "relay_httpd_messages_accepted_total", (double)s->accepted, NULL);
	nr = relays(s->home, "state/counters/relay", relay_names, STATUS_RELAYS_MAX);   /* under the lock: a static */
	if (nr)
		rc |= prom_head(o, "relay_relay_events_last_hour", "gauge",
		                "Deliveries, deferrals and bounces per relay in the last hour (state/counters)");
	for (i = 0; i < nr; i++) {
		struct counts c;
		static const char *const ty[3] = { "delivered", "deferred", "bounced" };
		int k;
		if (counters_window_at(s->home, "relay", relay_names[i], 3600, now, &c) < 0)
			continue;
		for (k = 0; k < 3; k++) {
			const char *kv[] = { "relay", relay_names[i], "type", ty[k], NULL };
			unsigned long long v = k == 0 ? c.delivered : k == 1 ? c.deferred : c.bounced;
			rc |= prom_sample(o, "relay_relay_events_last_hour", (double)v, kv);
		}
	}
	/* delivery latency per relay (health/latency.h), a histogram: every
	 * _bucket, then every _sum, then every _count (a family's samples
	 * together, and each name's too) */
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < nr; i++) {
			static const char *const nm[3] = { "relay_delivery_latency_seconds_bucket",
			                                   "relay_delivery_latency_seconds_sum",
			                                   "relay_delivery_latency_seconds_count" };
			const char *kv[] = { "relay", relay_names[i], "le", NULL, NULL };
			struct latency l;
			unsigned long long cum = 0;
			char le[32];
			size_t k;
			if (latency_read(s->home, relay_names[i], &l) != 1)
				continue;
			if (!lat_head++)
				rc |= prom_head(o, "relay_delivery_latency_seconds", "histogram",
				                "Time from the start of an attempt to the relay's 2xx, per relay "
				                "(state/counters/latency)");
			if (pass) {
				kv[2] = NULL;
				rc |= prom_sample(o, nm[pass], pass == 1 ? l.sum : (double)l.count, kv);
				continue;
			}
			kv[3] = le;
			for (k = 0; k < LATENCY_NB; k++) {
				cum += l.b[k];
				if (k < LATENCY_NB - 1)
					snprintf(le, sizeof le, "%g", latency_bounds[k]);
				else
					snprintf(le, sizeof le, "+Inf");
				rc |= prom_sample(o, nm[0], (double)cum, kv);
			}
		}
	rc |= totals_prom(s->home, o);   /* issue 13 totals: the _total counters (health/totals.c) */
	pthread_mutex_unlock(&s->lock);
	return rc ? -1 : 0;
}
