/* relay-events' figures for /metrics (metrics.h). */
#include "events/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"

/* The event name of a record: evlog writes {"v":1,"event":"NAME",... */
static int event_name(const char *json, size_t len, char *out, size_t cap)
{
	static const char k[] = "\"event\":\"";
	const char *p = json, *end = json + len, *q;
	size_t i;
	for (; (size_t)(end - p) >= sizeof k - 1; p++)
		if (!memcmp(p, k, sizeof k - 1))
			break;
	if ((size_t)(end - p) < sizeof k - 1)
		return -1;
	p += sizeof k - 1;
	for (q = p, i = 0; q < end && *q != '"'; q++, i++)
		if (i + 1 >= cap || !((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
			return -1;
	if (q == end || q == p)
		return -1;
	memcpy(out, p, i);
	out[i] = 0;
	return 0;
}

static void count(struct evmetrics *m, const char *writer, const char *event)
{
	size_t i;
	for (i = 0; i < m->n; i++)
		if (!strcmp(m->c[i].writer, writer) && !strcmp(m->c[i].event, event)) {
			m->c[i].n++;
			return;
		}
	if (m->n == EVMETRICS_KINDS) {
		if (strcmp(event, "other"))
			count(m, writer, "other");
		return;
	}
	snprintf(m->c[m->n].writer, sizeof m->c[m->n].writer, "%s", writer);
	snprintf(m->c[m->n].event, sizeof m->c[m->n].event, "%s", event);
	m->c[m->n++].n = 1;
}

int evmetrics_poll(struct evmetrics *m, const char *home)
{
	struct evrec r;
	char ev[33];
	int k;
	if (!m->c && !(m->c = calloc(EVMETRICS_KINDS, sizeof *m->c)))
		return -1;
	if (!m->open) {
		if (evstream_open(&m->s, home) < 0)
			return -1;
		m->open = 1;
	}
	while ((k = evstream_next(&m->s, &r)) == 1)
		count(m, r.writer, event_name(r.json, r.len, ev, sizeof ev) == 0 ? ev : "other");
	return k < 0 ? -1 : 0;
}

/* The endpoint metrics of hook.c's NAME.prom, one family at a time. */
static const char *const families[][3] = {
	{ "relay_events_posted_total", "counter", "Events an endpoint answered 2xx for" },
	{ "relay_events_batches_total", "counter", "Requests an endpoint answered 2xx" },
	{ "relay_events_retried_total", "counter", "Requests sent again (5xx, 408, 429, no answer, other 4xx)" },
	{ "relay_events_skipped_total", "counter", "Poison batches skipped after their tries" },
	{ "relay_events_lag_bytes", "gauge", "Bytes of the spool an endpoint has not yet consumed" },
};

int evmetrics_text(const struct evmetrics *m, const char *home, const struct conf_webhook *w, long n,
                   struct buf *o)
{
	struct buf *f;
	size_t i, k;
	long e;
	int rc = 0;
	char path[4096];
	o->len = 0;
	rc |= buf_adds(o, "# HELP relay_events_written_total Event records in the spool, per writer and event, "
	                  "counted by relay-events since it started (from the oldest segment kept)\n"
	                  "# TYPE relay_events_written_total counter\n");
	for (i = 0; i < m->n; i++)
		rc |= buf_printf(o, "relay_events_written_total{writer=\"%s\",event=\"%s\"} %llu\n", m->c[i].writer,
		                 m->c[i].event, m->c[i].n);
	if (n <= 0)
		return rc ? -1 : 0;
	if (!(f = calloc((size_t)n, sizeof *f)))
		return -1;
	for (e = 0; e < n; e++) {
		snprintf(path, sizeof path, "%s/state/events/consumers/%s.prom", home, w[e].name);
		if (read_file(path, &f[e], 65536) < 0)
			f[e].len = 0;   /* not yet written (its first request) */
	}
	for (k = 0; k < sizeof families / sizeof families[0]; k++) {
		size_t fl = strlen(families[k][0]);
		rc |= buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", families[k][0], families[k][2], families[k][0],
		                 families[k][1]);
		for (e = 0; e < n; e++) {
			const char *p = f[e].p, *end = f[e].p + f[e].len, *nl;
			for (; p && p < end; p = nl + 1) {
				if (!(nl = memchr(p, '\n', (size_t)(end - p))))
					break;
				if ((size_t)(nl - p) > fl && !memcmp(p, families[k][0], fl) && p[fl] == '{')
					rc |= buf_add(o, p, (size_t)(nl - p) + 1);
			}
		}
	}
	for (e = 0; e < n; e++)
		buf_free(&f[e]);
	free(f);
	return rc ? -1 : 0;
}

int evmetrics_write(struct evmetrics *m, const char *home, const struct conf_webhook *w, long n)
{
	struct buf b = BUF_INIT;
	char path[4096];
	int r;
	snprintf(path, sizeof path, "%s/" EVMETRICS_FILE, home);
	if (evmetrics_text(m, home, w, n, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	if (m->last.len == b.len && b.len && !memcmp(m->last.p, b.p, b.len)) {
		buf_free(&b);
		return 0;
	}
	r = atomic_write(path, b.p, b.len, 0644);
	buf_free(&m->last);
	m->last = b;
	if (r < 0)
		m->last.len = 0;   /* tried again next time */
	return r;
}

void evmetrics_free(struct evmetrics *m)
{
	if (m->open)
		evstream_close(&m->s);
	m->open = 0;
	free(m->c);
	m->c = NULL;
	buf_free(&m->last);
	m->n = 0;
}
