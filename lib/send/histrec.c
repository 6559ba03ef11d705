/* relay-send's per-minute history (send/histrec.h). */
#include "send/histrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "conf/conf.h"
#include "send/pool.h"

static long long minute_now(const struct histrec *h)
{
	return (h->fixed >= 0 ? h->fixed : (long long)time(NULL)) / 60;
}

static void put(struct record *r, struct histrec_relay *e)
{
	struct history_slot s;
	memset(&s, 0, sizeof s);
	s.minute = e->minute;
	memcpy(s.v, e->v, sizeof s.v);
	if (history_put(r->home, HISTORY_RELAY, e->name, &s, 1) < 0)
		warn_sys("unable to update state/history/relay/%s", e->name);
	memset(e->v, 0, sizeof e->v);
	e->dirty = 0;
}

static void add_name(struct histrec *h, const char *name)
{
	char n[COUNTERS_NAME_MAX + 1];
	size_t i;
	snprintf(n, sizeof n, "%s", name);
	conf_lower(n);
	if (!counters_name_ok("relay", n))
		return;
	for (i = 0; i < h->n; i++)
		if (!strcmp(h->r[i].name, n))
			return;
	if (h->n == HISTORY_RELAYS_MAX)
		return;   /* the bound: later members are not kept */
	memset(&h->r[h->n], 0, sizeof h->r[h->n]);
	memcpy(h->r[h->n].name, n, strlen(n) + 1);
	h->n++;
}

void record_history_config(struct record *r, const struct sendconf *c)
{
	struct histrec *h = r->hist;
	const char *t;
	size_t p, i;
	if (!h) {
		if (!(h = calloc(1, sizeof *h)))
			return;   /* no history, never a delivery less */
		h->queue_minute = -1;
		t = getenv("RELAY_HISTORY_TIME");
		h->fixed = t && *t ? atoll(t) : -1;
		r->hist = h;
	} else
		record_history_flush(r, 1);
	h->n = 0;
	add_name(h, "mx");
	for (p = 0; p < c->npools; p++)
		for (i = 0; i < c->pools[p].cfg.n; i++) {
			char name[600];
			if (c->pools[p].cfg.m[i].mx)
				continue;
			pool_member_name(&c->pools[p].cfg.m[i], "", name, sizeof name);
			add_name(h, name);
		}
}

void record_history_count(struct record *r, const char *relay, enum counter_type type)
{
	struct histrec *h = r->hist;
	char n[COUNTERS_NAME_MAX + 1];
	long long m;
	size_t i;
	if (!h)
		return;
	if (!strncmp(relay, "mx:", 3))
		relay = "mx";
	snprintf(n, sizeof n, "%s", relay);
	conf_lower(n);
	for (i = 0; i < h->n; i++)
		if (!strcmp(h->r[i].name, n))
			break;
	if (i == h->n)
		return;   /* not configured (any more): no file for it */
	m = minute_now(h);
	if (h->r[i].dirty && h->r[i].minute != m)
		put(r, &h->r[i]);
	h->r[i].minute = m;
	h->r[i].dirty = 1;
	h->r[i].v[type == COUNTER_DELIVERED ? 0 : type == COUNTER_DEFERRED ? 1 : 2]++;
}

void record_history_flush(struct record *r, int force)
{
	struct histrec *h = r->hist;
	long long m;
	size_t i;
	if (!h)
		return;
	m = minute_now(h);
	for (i = 0; i < h->n; i++)
		if (h->r[i].dirty && (force || h->r[i].minute != m))
			put(r, &h->r[i]);
}

void record_history_queue(struct record *r, size_t messages, size_t active, size_t due)
{
	struct histrec *h = r->hist;
	struct history_slot s;
	long long m;
	if (!h || (m = minute_now(h)) == h->queue_minute)
		return;
	h->queue_minute = m;
	memset(&s, 0, sizeof s);
	s.minute = m;
	s.v[0] = messages;
	s.v[1] = active;
	s.v[2] = due;
	if (history_put(r->home, HISTORY_QUEUE, NULL, &s, 0) < 0)
		warn_sys("unable to update state/history/queue");
}

void record_history_free(struct record *r)
{
	free(r->hist);
	r->hist = NULL;
}
