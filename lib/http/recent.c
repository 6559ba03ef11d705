/* The status page's oldest message and last events (http/recent.h). */
#include "http/recent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "queue/admin.h"

void recent_free(struct recent *r)
{
	size_t i;
	for (i = 0; i < RECENT_MAX; i++) {
		free(r->last[i]);
		r->last[i] = NULL;
	}
	if (r->open)
		evstream_close(&r->ev);
	r->open = 0;
	r->n = r->head = 0;
}

static void keep(struct recent *r, const char *p, size_t n)
{
	char *c = malloc(n + 1);
	if (!c)
		return;
	memcpy(c, p, n);
	c[n] = 0;
	free(r->last[r->head]);
	r->last[r->head] = c;
	r->head = (r->head + 1) % RECENT_MAX;
	if (r->n < RECENT_MAX)
		r->n++;
}

static void read_on(struct recent *r, const char *home)
{
	struct evrec rec;
	struct buf j = BUF_INIT;
	size_t k;
	if (!r->open) {
		if (evstream_open(&r->ev, home) < 0)
			return;
		r->open = 1;
	}
	for (k = 0; k < RECENT_STEP && evstream_next(&r->ev, &rec) == 1; k++) {
		j.len = 0;
		if (evstream_json(&rec, &j) < 0)
			continue;
		if (j.len > RECENT_REC_MAX) {
			/* too long to show whole: its id and a note, still JSON */
			const char *q = memchr(j.p + 7, '"', j.len - 7);
			size_t idn = q ? (size_t)(q - j.p) + 1 : 0;
			if (!idn || idn > 200)
				continue;
			j.len = idn;
			buf_adds(&j, ",\"note\":\"record too long to show\"}");
		}
		keep(r, j.p, j.len);
	}
	buf_free(&j);
}

static int oldest(const char *home, long long now, struct buf *out)
{
	struct qadmin_list l = QADMIN_LIST_INIT;
	struct qadmin_msg m = QADMIN_MSG_INIT;
	char err[256];
	const char *why;
	size_t i;
	int rc = -2;
	(void)home;   /* qadmin_* read RELAY_HOME, the same home */
	if (qadmin_scan(&l, err, sizeof err) == 0)
		for (i = 0; i < l.n && rc == -2; i++) {
			if (qadmin_read(&l.e[i], &m, &why) != 1)
				continue;
			rc = buf_adds(out, "{\"id\": ") < 0 || json_str(out, l.e[i].id, strlen(l.e[i].id)) < 0 ||
			     buf_printf(out, ", \"arrival\": %lld, \"age\": %lld, \"held\": %s}",
			                (long long)m.env.arrival, now - (long long)m.env.arrival,
			                l.e[i].held ? "true" : "false") < 0 ? -1 : 0;
			qadmin_msg_done(&m);
		}
	qadmin_msg_free(&m);
	qadmin_list_free(&l);
	if (rc == -2)
		rc = buf_adds(out, "null");
	return rc;
}

int recent_json(struct recent *r, const char *home, long long now, struct buf *out)
{
	size_t i;
	int rc = 0;
	read_on(r, home);
	rc |= buf_adds(out, ",\n \"oldest\": ");
	rc |= oldest(home, now, out);
	rc |= buf_adds(out, ",\n \"events\": [");
	for (i = 0; i < r->n; i++) {
		const char *e = r->last[(r->head + RECENT_MAX - 1 - i) % RECENT_MAX];
		rc |= buf_adds(out, i ? ",\n  " : "\n  ");
		rc |= buf_adds(out, e);
	}
	rc |= buf_addc(out, ']');
	return rc ? -1 : 0;
}
