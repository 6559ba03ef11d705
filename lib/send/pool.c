#include "send/pool.h"

#include <stdio.h>
#include <string.h>

void pool_init(struct pool_state *p, const char *name, const struct conf_pool *cfg)
{
	memset(p, 0, sizeof *p);
	strncpy(p->name, name, sizeof p->name - 1);
	p->cfg = *cfg;
}

static int usable(const struct pool_state *p, size_t i, double now, unsigned long tried)
{
	const struct member_state *m = &p->ms[i];
	return !(tried & (1UL << i)) && !m->down && m->cool_until <= now;
}

/* A free session slot and, with a rate limit, a token. */
static int has_slot(struct member_state *m, double now)
{
	if (m->limit && m->active >= m->limit)
		return 0;
	return shape_bucket_ready(&m->bucket, now);
}

void pool_used(struct pool_state *p, int i, double now)
{
	struct member_state *m = &p->ms[i];
	m->active++;
	shape_bucket_take(&m->bucket, now);
}

/* POOL_OK, POOL_BUSY or POOL_SKIP for a member that is usable. */
static int avail(struct pool_state *p, size_t i, double now, int (*veto)(void *, int), void *ctx)
{
	int v;
	if (!has_slot(&p->ms[i], now))
		return POOL_BUSY;
	v = veto ? veto(ctx, (int)i) : POOL_OK;
	return v;
}

int pool_pick(struct pool_state *p, double now, unsigned long tried, int *busy)
{
	return pool_pick_veto(p, now, tried, busy, NULL, NULL);
}

int pool_pick_veto(struct pool_state *p, double now, unsigned long tried, int *busy,
                   int (*veto)(void *ctx, int i), void *ctx)
{
	size_t i, n = p->cfg.n;
	int v;
	*busy = 0;
	if (n == 0)
		return -1;
	switch (p->cfg.strategy) {
	case CONF_FAILOVER:
		/* the first usable member in order; if it is full, wait for it */
		for (i = 0; i < n; i++) {
			if (!usable(p, i, now, tried))
				continue;
			if ((v = avail(p, i, now, veto, ctx)) == POOL_SKIP)
				continue;
			if (v == POOL_BUSY) {
				*busy = 1;
				return -1;
			}
			return (int)i;
		}
		return -1;
	case CONF_ROUNDROBIN:
		for (i = 0; i < n; i++) {
			size_t k = (p->rr + i) % n;
			if (!usable(p, k, now, tried))
				continue;
			if ((v = avail(p, k, now, veto, ctx)) != POOL_OK) {
				*busy |= v == POOL_BUSY;
				continue;
			}
			p->rr = k + 1;
			return (int)k;
		}
		return -1;
	case CONF_WEIGHTED: {
		/* smooth weighted round-robin (as in nginx): every candidate
		 * gains its weight, the largest wins and pays the total */
		long total = 0;
		int best = -1;
		for (i = 0; i < n; i++) {
			if (!usable(p, i, now, tried))
				continue;
			if ((v = avail(p, i, now, veto, ctx)) != POOL_OK) {
				*busy |= v == POOL_BUSY;
				continue;
			}
			p->ms[i].current += (long)p->cfg.m[i].weight;
			total += (long)p->cfg.m[i].weight;
			if (best < 0 || p->ms[i].current > p->ms[best].current)
				best = (int)i;
		}
		if (best >= 0)
			p->ms[best].current -= total;
		return best;
	}
	}
	return -1;
}

void pool_failed(struct pool_state *p, int i, double now)
{
	shape_cool(&p->ms[i].cool_until, &p->ms[i].penalty, now);
}

void pool_succeeded(struct pool_state *p, int i)
{
	p->ms[i].penalty = 0;
	p->ms[i].cool_until = 0;
}

double pool_ready_at(const struct pool_state *p, double now)
{
	double t = 0;
	size_t i;
	for (i = 0; i < p->cfg.n; i++) {
		const struct member_state *m = &p->ms[i];
		if (m->down)
			continue;
		if (m->cool_until <= now)
			return 0;
		if (t == 0 || m->cool_until < t)
			t = m->cool_until;
	}
	return t;
}

void pool_released(struct pool_state *p, int i)
{
	if (p->ms[i].active)
		p->ms[i].active--;
}

int pool_has_mx(const struct pool_state *p)
{
	size_t i;
	for (i = 0; i < p->cfg.n; i++)
		if (p->cfg.m[i].mx)
			return 1;
	return 0;
}

void pool_member_name(const struct conf_member *cm, const char *domain, char *out, size_t cap)
{
	if (cm->mx)
		snprintf(out, cap, "mx:%s", domain);
	else
		snprintf(out, cap, "%s:%u", cm->host, cm->port);
}
