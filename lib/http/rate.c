/* Per-key rate windows (http/rate.h). */
#include "http/rate.h"

#include <stdio.h>
#include <string.h>

static struct rate_win *find(struct rate *r, const char *name, int make, time_t now)
{
	unsigned i, old = 0;
	for (i = 0; i < r->n; i++) {
		if (strcmp(r->w[i].name, name) == 0)
			return &r->w[i];
		if (r->w[i].start < r->w[old].start)
			old = i;
	}
	if (!make)
		return NULL;
	i = r->n < RATE_KEYS ? r->n++ : old;
	snprintf(r->w[i].name, sizeof r->w[i].name, "%s", name);
	r->w[i].start = now;
	r->w[i].count = 0;
	return &r->w[i];
}

long rate_take(struct rate *r, const char *name, unsigned rate, unsigned per, time_t now)
{
	struct rate_win *w;
	if (!rate)
		return 0;
	w = find(r, name, 1, now);
	if (now < w->start || now - w->start >= (time_t)per) {
		w->start = now;
		w->count = 0;
	}
	if (w->count >= rate) {
		long wait = (long)(w->start + (time_t)per - now);
		return wait > 0 ? wait : 1;
	}
	w->count++;
	return 0;
}

void rate_give(struct rate *r, const char *name)
{
	struct rate_win *w = find(r, name, 0, 0);
	if (w && w->count)
		w->count--;
}
