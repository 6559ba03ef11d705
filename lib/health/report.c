/* What relay-health prints and writes: see report.h. */
#include "health/report.h"

#include <string.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "base/json.h"
#include "health/prom.h"
#include "health/verdict.h"
#include "queue/qscan.h"

/* The probe behind a row, or NULL for mx. */
static const struct probe_result *probe_of(const struct health_run *run, const struct health_row *w)
{
	return w->target >= 0 ? &run->jobs[w->target].r : NULL;
}

static int events(const struct counts *c)
{
	return c->delivered + c->deferred + c->bounced > 0;
}

static int line(struct buf *b, const struct health_run *run, const struct health_row *w, time_t now)
{
	const struct probe_result *r = probe_of(run, w);
	int i, rc = 0;
	rc |= buf_printf(b, "pool=%s member=%s state=%s reason=%s", run->pools[w->pool],
	                 health_row_member(run, w), health_state_name(w->state), w->reason);
	if (!r)
		return rc | buf_addc(b, '\n');
	for (i = 0; i < PROBE_NSTEPS; i++)
		if (r->ms[i] >= 0)
			rc |= buf_printf(b, " %s_ms=%ld", probe_step_names[i], r->ms[i]);
	if (r->tls_version[0])
		rc |= buf_printf(b, " tls=%s", r->tls_version);
	if (r->have_cert)
		rc |= buf_printf(b, " cert_days=%ld", health_cert_days(r, now));
	if (events(&run->targets[w->target].win))
		rc |= buf_printf(b, " error_pct=%.1f", run->targets[w->target].err_pct);
	if (r->send_code)
		rc |= buf_printf(b, " send_code=%d", r->send_code);
	if (r->code)
		rc |= buf_printf(b, " code=%d", r->code);
	if (!r->ok) {
		/* the reason is safe text: json_str only escapes '"' and '\' */
		rc |= buf_adds(b, " detail=");
		rc |= json_str(b, r->reason, strlen(r->reason));
	}
	return rc | buf_addc(b, '\n');
}

int health_report_lines(struct buf *b, const struct health_run *run, time_t now)
{
	size_t i;
	int rc = 0;
	for (i = 0; i < run->nr; i++)
		rc |= line(b, run, &run->rows[i], now);
	return rc;
}

static int json_field(struct buf *b, const char *name, const char *s)
{
	return buf_printf(b, ",\"%s\":", name) | json_str(b, s, strlen(s));
}

static int json_probe(struct buf *b, const struct health_run *run, const struct health_row *w, time_t now)
{
	const struct probe_result *r = probe_of(run, w);
	int k, rc = 0, first = 1;
	rc |= buf_adds(b, ",\"ms\":{");
	for (k = 0; k < PROBE_NSTEPS; k++)
		if (r->ms[k] >= 0) {
			rc |= buf_printf(b, "%s\"%s\":%ld", first ? "" : ",", probe_step_names[k], r->ms[k]);
			first = 0;
		}
	rc |= buf_adds(b, "},\"tls\":");
	if (r->tls_version[0])
		rc |= json_str(b, r->tls_version, strlen(r->tls_version));
	else
		rc |= buf_adds(b, "null");
	if (r->have_cert)
		rc |= buf_printf(b, ",\"cert_days\":%ld", health_cert_days(r, now));
	rc |= buf_printf(b, ",\"error_pct\":%.2f,\"code\":%d", run->targets[w->target].err_pct, r->code);
	rc |= json_field(b, "detail", r->reason);
	if (r->send_code) {
		rc |= buf_printf(b, ",\"send_code\":%d", r->send_code);
		rc |= json_field(b, "send_text", r->send_text);
	}
	return rc;
}

int health_report_json(struct buf *b, const struct health_run *run, time_t now, int status)
{
	size_t i;
	int rc = buf_printf(b, "{\"time\":%lld,\"status\":%d,\"members\":[", (long long)now, status);
	for (i = 0; i < run->nr; i++) {
		const struct health_row *w = &run->rows[i];
		rc |= buf_adds(b, i ? ",{\"pool\":" : "{\"pool\":");
		rc |= json_str(b, run->pools[w->pool], strlen(run->pools[w->pool]));
		rc |= json_field(b, "member", health_row_member(run, w));
		rc |= json_field(b, "state", health_state_name(w->state));
		rc |= json_field(b, "reason", w->reason);
		rc |= buf_printf(b, ",\"since\":%lld", (long long)w->since);
		if (w->target >= 0)
			rc |= json_probe(b, run, w, now);
		rc |= buf_addc(b, '}');
	}
	return rc | buf_adds(b, "]}\n");
}

/* ------------------------------------------------------------ Prometheus */

static int prom_members(struct buf *b, const struct health_run *run)
{
	size_t i;
	int k, rc = 0;
	rc |= prom_head(b, "relay_health_up", "gauge", "1 if the pool member is up or degraded, 0 if down");
	for (i = 0; i < run->nr; i++) {
		const struct health_row *w = &run->rows[i];
		const char *kv[] = { "pool", run->pools[w->pool], "member", health_row_member(run, w), NULL };
		if (w->state != HS_SKIPPED)
			rc |= prom_sample(b, "relay_health_up", w->state == HS_DOWN ? 0 : 1, kv);
	}
	rc |= prom_head(b, "relay_health_probe_step_seconds", "gauge", "Time each probe step took");
	for (i = 0; i < run->nt; i++)
		for (k = 0; k < PROBE_NSTEPS; k++)
			if (run->jobs[i].r.ms[k] >= 0) {
				const char *kv[] = { "member", run->targets[i].key, "step", probe_step_names[k], NULL };
				rc |= prom_sample(b, "relay_health_probe_step_seconds", run->jobs[i].r.ms[k] / 1000.0, kv);
			}
	rc |= prom_head(b, "relay_health_cert_expiry_timestamp_seconds", "gauge",
	                "notAfter of the member's TLS certificate, epoch seconds");
	for (i = 0; i < run->nt; i++)
		if (run->jobs[i].r.have_cert) {
			const char *kv[] = { "member", run->targets[i].key, NULL };
			rc |= prom_sample(b, "relay_health_cert_expiry_timestamp_seconds",
			                  (double)run->jobs[i].r.not_after, kv);
		}
	return rc;
}

static int prom_counters(struct buf *b, const struct health_run *run)
{
	size_t i;
	int rc = 0;
	rc |= prom_head(b, "relay_member_error_ratio", "gauge",
	                "Deferred plus bounced over all outcomes in the ejection window");
	for (i = 0; i < run->nt; i++) {
		const char *kv[] = { "member", run->targets[i].key, NULL };
		rc |= prom_sample(b, "relay_member_error_ratio", run->targets[i].err_pct / 100.0, kv);
	}
	rc |= prom_head(b, "relay_member_outcomes_last_hour", "gauge",
	                "Messages per member and outcome over the last hour (state/counters)");
	for (i = 0; i < run->nt; i++) {
		const struct health_target *t = &run->targets[i];
		const char *d[] = { "member", t->key, "outcome", "delivered", NULL };
		const char *f[] = { "member", t->key, "outcome", "deferred", NULL };
		const char *x[] = { "member", t->key, "outcome", "failed", NULL };
		rc |= prom_sample(b, "relay_member_outcomes_last_hour", (double)t->hour.delivered, d);
		rc |= prom_sample(b, "relay_member_outcomes_last_hour", (double)t->hour.deferred, f);
		rc |= prom_sample(b, "relay_member_outcomes_last_hour", (double)t->hour.bounced, x);
	}
	return rc;
}

static int prom_queue(struct buf *b, const char *home, time_t now)
{
	static const char *const qstates[3] = { "queued", "deferred", "held" };
	struct qscan q;
	size_t i;
	int k, rc = 0;
	if (qscan_run(home, &q) != 0) {
		warn_sys("unable to scan %s/queue", home);
		return 0;
	}
	rc |= prom_head(b, "relay_queue_messages", "gauge", "Messages in the queue by state and class");
	for (i = 0; i < q.n; i++) {
		unsigned long v[3] = { q.c[i].queued, q.c[i].deferred, q.c[i].held };
		for (k = 0; k < 3; k++) {
			const char *kv[] = { "state", qstates[k], "class", q.c[i].name, NULL };
			rc |= prom_sample(b, "relay_queue_messages", (double)v[k], kv);
		}
	}
	rc |= prom_head(b, "relay_queue_unreadable", "gauge", "Queue files whose envelope did not parse");
	rc |= prom_sample(b, "relay_queue_unreadable", (double)q.unreadable, NULL);
	/* issue 13: the age of the oldest message waiting (held mail waits
	 * on purpose and is not counted); 0 with an empty queue */
	rc |= prom_head(b, "relay_queue_oldest_age_seconds", "gauge",
	                "Age of the oldest queued or deferred message (0: none)");
	return rc | prom_sample(b, "relay_queue_oldest_age_seconds",
	                        q.oldest && now > q.oldest ? (double)(now - q.oldest) : 0, NULL);
}

int health_report_prom(const struct health_run *run, const char *path, time_t now, double run_s)
{
	struct buf b = BUF_INIT;
	int rc = 0;
	rc |= prom_members(&b, run);
	rc |= prom_counters(&b, run);
	rc |= prom_queue(&b, run->o->home, now);
	rc |= prom_head(&b, "relay_health_last_run_timestamp_seconds", "gauge", "When relay-health last ran");
	rc |= prom_sample(&b, "relay_health_last_run_timestamp_seconds", (double)now, NULL);
	rc |= prom_head(&b, "relay_health_run_seconds", "gauge", "How long the last relay-health run took");
	rc |= prom_sample(&b, "relay_health_run_seconds", run_s, NULL);
	if (rc < 0 || !b.p || atomic_write(path, b.p, b.len, 0644) < 0) {
		warn_sys("unable to write %s", path);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}
