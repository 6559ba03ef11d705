/* relay-send's batching of the cumulative counts (send/totrec.h). */
#include "send/totrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/diag.h"
#include "conf/conf.h"

static void add(struct record *r, enum totals_kind kind, const char *name, size_t len, int field)
{
	char n[COUNTERS_NAME_MAX + 1];
	size_t i;
	if (!name || len == 0 || len > COUNTERS_NAME_MAX)
		return;
	memcpy(n, name, len);
	n[len] = 0;
	conf_lower(n);
	if (!counters_name_ok("relay", n))
		return;
	for (i = 0; i < r->ntot; i++)
		if (r->tot[i].kind == kind && strcmp(r->tot[i].name, n) == 0)
			break;
	if (i == r->ntot) {
		struct record_total *nt = realloc(r->tot, (r->ntot + 1) * sizeof *nt);
		if (!nt)
			return;   /* a count lost, never a delivery */
		r->tot = nt;
		memset(&r->tot[i], 0, sizeof r->tot[i]);
		r->tot[i].kind = kind;
		memcpy(r->tot[i].name, n, len + 1);
		r->ntot++;
	}
	r->tot[i].t.v[field]++;
}

static void both(struct record *r, const char *relay, const char *pool, int field)
{
	/* every delivery by MX is "mx", as in state/history/: one file per
	 * destination domain would be a label without bound */
	if (relay && !strncmp(relay, "mx:", 3))
		relay = "mx";
	if (relay)
		add(r, TOTALS_RELAY, relay, strlen(relay), field);
	if (pool)
		add(r, TOTALS_POOL, pool, strlen(pool), field);
}

void record_totals_count(struct record *r, const char *relay, const char *pool, enum counter_type type)
{
	both(r, relay, pool,
	     type == COUNTER_DELIVERED ? TOTALS_DELIVERED : type == COUNTER_DEFERRED ? TOTALS_DEFERRED : TOTALS_BOUNCED);
}

void record_totals_failover(struct record *r, const char *relay, const char *pool)
{
	both(r, relay, pool, TOTALS_FAILOVERS);
}

static int ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The d= tag's value in one DKIM-Signature field f (len bytes, folded
 * lines included): tags are "name=value;" with white space around. */
static void field_domain(struct record *r, const char *f, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t t0, t1, v0, v1;
		while (i < len && ws(f[i]))
			i++;
		t0 = i;
		while (i < len && f[i] != '=' && f[i] != ';')
			i++;
		t1 = i;
		while (t1 > t0 && ws(f[t1 - 1]))
			t1--;
		if (i < len && f[i] == '=')
			i++;
		while (i < len && ws(f[i]))
			i++;
		v0 = i;
		while (i < len && f[i] != ';')
			i++;
		v1 = i;
		while (v1 > v0 && ws(f[v1 - 1]))
			v1--;
		if (t1 - t0 == 1 && f[t0] == 'd') {
			add(r, TOTALS_DKIM, f + v0, v1 - v0, TOTALS_SIGNED);
			return;
		}
		i++;   /* past ';' */
	}
}

void record_totals_dkim(struct record *r, const struct buf *sig)
{
	static const char h[] = "DKIM-Signature:";
	const size_t hl = sizeof h - 1;
	size_t i = 0;
	if (!sig || !sig->len)
		return;
	/* the fields, each from the start of a line that is not a
	 * continuation to the next such line */
	while (i < sig->len) {
		size_t e = i;
		do {
			const char *nl = memchr(sig->p + e, '\n', sig->len - e);
			e = nl ? (size_t)(nl - sig->p) + 1 : sig->len;
		} while (e < sig->len && (sig->p[e] == ' ' || sig->p[e] == '\t'));
		if (e - i > hl && strncasecmp(sig->p + i, h, hl) == 0)
			field_domain(r, sig->p + i + hl, e - i - hl);
		i = e;
	}
}

void record_totals_flush(struct record *r)
{
	size_t i;
	for (i = 0; i < r->ntot; i++)
		if (totals_add(r->home, r->tot[i].kind, r->tot[i].name, &r->tot[i].t) < 0)
			warn_sys("unable to update state/counters/totals/%s/%s", totals_kind_name[r->tot[i].kind],
			         r->tot[i].name);
	record_totals_drop(r);
}

void record_totals_drop(struct record *r)
{
	free(r->tot);
	r->tot = NULL;
	r->ntot = 0;
}
