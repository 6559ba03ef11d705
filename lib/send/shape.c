/* Traffic shaping state (shape.h): destinations in a hash table, their
 * buckets, quotas, ramps, cooling and throttles. */
#include "send/shape.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "send/pool.h"

#define COOL_BASE_S COOL_BASE   /* send/pool.h's, for relays and MX domains alike */
#define COOL_MAX_S  COOL_MAX
#define SITE_TTL_S  3600.0   /* a domain's site is looked up again after this */


/* ------------------------------------------------------------ buckets */

void shape_bucket_set(struct shape_bucket *b, unsigned rate, double per)
{
	if (b->rate != rate || b->per != per) {
		b->rate = rate;
		b->per = rate ? per : 0;
		if (b->primed && b->tokens > rate)
			b->tokens = rate;
	}
}

static void refill(struct shape_bucket *b, double mono)
{
	if (!b->rate || b->per <= 0)
		return;
	if (!b->primed) {
		b->tokens = b->rate;   /* a full bucket to begin with */
		b->primed = 1;
	} else if (mono > b->filled) {
		b->tokens += (mono - b->filled) * (double)b->rate / b->per;
		if (b->tokens > b->rate)
			b->tokens = b->rate;
	}
	b->filled = mono;
}

int shape_bucket_ready(struct shape_bucket *b, double mono)
{
	refill(b, mono);
	return !b->rate || b->per <= 0 || b->tokens >= 1;
}

void shape_bucket_take(struct shape_bucket *b, double mono)
{
	refill(b, mono);
	if (b->rate && b->per > 0 && b->tokens >= 1)
		b->tokens -= 1;
}

double shape_bucket_due(struct shape_bucket *b, double mono)
{
	if (shape_bucket_ready(b, mono))
		return mono;
	return mono + (1 - b->tokens) * b->per / (double)b->rate;
}

/* ------------------------------------------------------------ the table */

static unsigned long hash(const char *k)
{
	unsigned long h = 5381;
	for (; *k; k++)
		h = h * 33 + (unsigned char)(*k | 0x20);
	return h % SHAPE_BUCKETS;
}

void shape_init(struct shape *s)
{
	memset(s, 0, sizeof *s);
}

void shape_free(struct shape *s)
{
	size_t i;
	for (i = 0; i < SHAPE_BUCKETS; i++) {
		struct shape_dest *d = s->tab[i], *nx;
		for (; d; d = nx) {
			nx = d->next;
			free(d);
		}
		s->tab[i] = NULL;
	}
	s->n = 0;
	if (s->cluster && s->cluster_free)
		s->cluster_free(s->cluster, s);
	s->cluster = NULL;
}

struct shape_dest *shape_find(const struct shape *s, const char *key)
{
	struct shape_dest *d;
	for (d = s->tab[hash(key)]; d; d = d->next)
		if (strcasecmp(d->key, key) == 0)
			return d;
	return NULL;
}

/* Nothing to remember: no configuration, no session, no cooling or
 * throttle ahead, no count in a period that may still be running. */
static int idle(const struct shape_dest *d, double mono)
{
	return !d->configured && !d->active && d->cool_until <= mono && d->throttle == THROTTLE_NONE &&
	       !d->qcount && !d->rcount && d->hits == 0;
}

/* Past SHAPE_DESTS_MAX: drop the idle ones (bounded memory with many
 * domains; a dropped domain's site is looked up again). */
static void sweep(struct shape *s, double mono)
{
	size_t i;
	for (i = 0; i < SHAPE_BUCKETS; i++) {
		struct shape_dest **pp = &s->tab[i];
		while (*pp) {
			struct shape_dest *d = *pp;
			if (idle(d, mono) && (d->site == -2 || d->site_at + SITE_TTL_S <= mono)) {
				*pp = d->next;
				free(d);
				s->n--;
			} else {
				pp = &d->next;
			}
		}
	}
}

struct shape_dest *shape_dest(struct shape *s, const char *key)
{
	struct shape_dest *d = shape_find(s, key);
	unsigned long h;
	if (d)
		return d;
	if (strlen(key) >= SHAPE_KEY_MAX)
		return NULL;
	if (s->n >= SHAPE_DESTS_MAX)
		sweep(s, s->mono);
	if (!(d = calloc(1, sizeof *d)))
		return NULL;
	snprintf(d->key, sizeof d->key, "%s", key);
	d->site = -2;
	h = hash(key);
	d->next = s->tab[h];
	s->tab[h] = d;
	s->n++;
	return d;
}

/* The local bucket of d's rate: halved by a halving throttle (restored,
 * or on before a reload), divided by a fallback share. */
void shape_bucket_of(struct shape_dest *d)
{
	unsigned rate = d->lim.rate;
	if (rate && !d->shared && d->div > 1)
		rate = (unsigned)shape_share(rate, d->div);
	if (d->throttle == THROTTLE_HALVE && rate)
		shape_bucket_set(&d->bucket, rate, 2.0 * d->lim.rate_per);
	else
		shape_bucket_set(&d->bucket, rate, rate ? (double)d->lim.rate_per : 0);
}

/* ------------------------------------------------------------ cluster */

unsigned long shape_share(unsigned long whole, unsigned div)
{
	if (div <= 1 || !whole)
		return whole;
	return (whole + div - 1) / div;
}

int shape_sharable(const struct shape_dest *d)
{
	return d->configured && (d->lim.rate || d->lim.quota || d->lim.ramp_n || d->lim.concurrency);
}

void shape_cluster_mode(struct shape *s, int shared, unsigned div)
{
	size_t i;
	struct shape_dest *d;
	for (i = 0; i < SHAPE_BUCKETS; i++)
		for (d = s->tab[i]; d; d = d->next) {
			d->shared = shared && shape_sharable(d);
			d->div = shared ? 1 : div;
			if (!d->shared) {
				d->grant = 0;
				d->qgrant = d->rgrant = 0;
				d->leases = 0;
				d->lease_fair = 0;
			}
			if (d->configured)
				shape_bucket_of(d);
		}
}

void shape_config_clear(struct shape *s)
{
	size_t i;
	struct shape_dest *d;
	for (i = 0; i < SHAPE_BUCKETS; i++)
		for (d = s->tab[i]; d; d = d->next) {
			d->configured = 0;
			memset(&d->lim, 0, sizeof d->lim);
			d->site = -2;   /* the sites may have changed */
		}
	s->nsites = 0;
}

int shape_config_add(struct shape *s, const char *key, const struct conf_limits *l)
{
	char k[SHAPE_KEY_MAX];
	struct shape_dest *d;
	if (l->mx[0]) {
		struct shape_site *st;
		if (s->nsites >= SHAPE_SITES_MAX)
			return -1;
		st = &s->sites[s->nsites++];
		snprintf(st->name, sizeof st->name, "%s", key);
		snprintf(st->mx, sizeof st->mx, "%s", l->mx);
		snprintf(k, sizeof k, "site:%s", key);
		key = k;
	}
	if (!(d = shape_dest(s, key)))
		return -1;
	d->lim = *l;
	d->configured = 1;
	shape_bucket_of(d);
	return 0;
}

/* ------------------------------------------------------------ sites */

/* Case-insensitive glob: * is any run of characters. */
static int glob(const char *p, size_t pn, const char *s)
{
	if (pn == 0)
		return *s == 0;
	if (*p == '*') {
		for (;; s++) {
			if (glob(p + 1, pn - 1, s))
				return 1;
			if (!*s)
				return 0;
		}
	}
	if (!*s || ((*p | 0x20) != (*s | 0x20)))
		return 0;
	return glob(p + 1, pn - 1, s + 1);
}

int shape_site_match(const struct shape *s, const char *mxhost)
{
	size_t i;
	for (i = 0; i < s->nsites; i++) {
		const char *p = s->sites[i].mx;
		while (*p) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			if (glob(p, n, mxhost))
				return (int)i;
			p += n + (c != NULL);
		}
	}
	return -1;
}

/* ------------------------------------------------------------ limits */

unsigned long shape_ramp_today(const struct conf_limits *l, time_t wall)
{
	long day = (long)(wall / 86400), k;
	if (!l->ramp_n)
		return ULONG_MAX;
	k = day - l->ramp_day0;
	if (k < 0)
		return 0;
	return l->ramp[(size_t)k < l->ramp_n ? (size_t)k : l->ramp_n - 1];
}

unsigned long shape_quota_left(struct shape_dest *d, time_t wall)
{
	long period;
	unsigned long q;
	if (!d->configured || !d->lim.quota)
		return ULONG_MAX;
	period = (long)(wall / d->lim.quota_per);
	if (period != d->qperiod) {
		d->qperiod = period;   /* a new hour or day: counted from 0 */
		d->qcount = 0;
	}
	q = d->shared ? d->lim.quota : shape_share(d->lim.quota, d->div);
	return d->qcount >= q ? 0 : q - d->qcount;
}

unsigned long shape_ramp_left(struct shape_dest *d, time_t wall)
{
	unsigned long today;
	long day = (long)(wall / 86400);
	if (!d->configured || !d->lim.ramp_n)
		return ULONG_MAX;
	if (day != d->rday) {
		d->rday = day;
		d->rcount = 0;
	}
	today = shape_ramp_today(&d->lim, wall);
	if (!d->shared)
		today = shape_share(today, d->div);
	return d->rcount >= today ? 0 : today - d->rcount;
}

/* A shared destination's reservations: none left of its quota or ramp
 * (a reservation of another period is void: Redis counts per period). */
static int shared_spent(struct shape_dest *d, time_t wall, const char **why)
{
	long period, day = (long)(wall / 86400);
	if (d->lim.quota) {
		period = (long)(wall / d->lim.quota_per);
		if (d->qgrant_period != period) {
			d->qgrant_period = period;
			d->qgrant = 0;
		}
		if (!d->qgrant) {
			*why = "quota";
			return 1;
		}
	}
	if (d->lim.ramp_n) {
		if (d->rgrant_day != day) {
			d->rgrant_day = day;
			d->rgrant = 0;
		}
		if (!d->rgrant) {
			*why = "ramp";
			return 1;
		}
	}
	return 0;
}

unsigned shape_conc_cap(const struct shape_dest *d)
{
	unsigned cap = d->configured ? d->lim.concurrency : 0;
	if (cap && d->shared) {
		cap = d->leases < cap ? d->leases : cap;   /* 0 leases: no session */
		if (d->lease_fair && d->lease_fair < cap)
			cap = d->lease_fair;   /* other nodes wait: this one's part */
	}
	else if (cap && d->div > 1)
		cap = (unsigned)shape_share(cap, d->div);
	if (d->throttle == THROTTLE_CONCURRENCY && (!(d->configured && d->lim.concurrency) || d->throttle_conc < cap))
		cap = d->throttle_conc;
	return cap;
}

static enum shape_verdict check_one(struct shape_dest *d, double mono, time_t wall, const char **why)
{
	unsigned cap;
	int leased;
	shape_throttle_expire(d, mono);
	if (d->cool_until > mono) {
		*why = "cooling";
		return SHAPE_SKIP;
	}
	if (d->throttle == THROTTLE_SUSPEND) {
		*why = "suspended";
		return SHAPE_SKIP;
	}
	if (shape_quota_left(d, wall) == 0) {
		*why = "quota";
		return SHAPE_SKIP;
	}
	if (shape_ramp_left(d, wall) == 0) {
		*why = "ramp";
		return SHAPE_SKIP;
	}
	if (d->shared && shared_spent(d, wall, why))
		return SHAPE_SKIP;
	cap = shape_conc_cap(d);
	leased = d->shared && d->configured && d->lim.concurrency;
	if ((cap || leased) && d->active >= cap) {
		*why = "concurrency";
		return SHAPE_BUSY;
	}
	if (!shape_bucket_ready(&d->bucket, mono) || (d->shared && d->lim.rate && d->grant < 1)) {
		*why = "rate";
		return SHAPE_BUSY;
	}
	return SHAPE_OK;
}

enum shape_verdict shape_check(struct shape *s, const char *const *keys, size_t n,
                               double mono, time_t wall, const char **why)
{
	enum shape_verdict v = SHAPE_OK;
	const char *w = "";
	size_t i;
	if (mono > s->mono)
		s->mono = mono;
	for (i = 0; i < n; i++) {
		struct shape_dest *d = shape_find(s, keys[i]);
		const char *wi = "";
		enum shape_verdict r;
		if (!d)
			continue;   /* nothing configured, nothing happened */
		r = check_one(d, mono, wall, &wi);
		if (r > v) {
			v = r;
			w = wi;
		}
	}
	if (why)
		*why = w;
	return v;
}

void shape_used(struct shape *s, const char *const *keys, size_t n, double mono, time_t wall)
{
	size_t i;
	if (mono > s->mono)
		s->mono = mono;
	for (i = 0; i < n; i++) {
		/* a destination with nothing configured and nothing pending
		 * needs no entry (the state stays bounded) */
		struct shape_dest *d = shape_find(s, keys[i]);
		if (!d)
			continue;
		d->active++;
		if (d->active > d->lease_peak)
			d->lease_peak = d->active;   /* issue 16 */
		shape_bucket_take(&d->bucket, mono);
		d->used_at = mono;
		if (d->shared) {
			if (d->grant >= 1)
				d->grant -= 1;
			if (d->qgrant)
				d->qgrant--;
			if (d->rgrant)
				d->rgrant--;
		}
		if (shape_quota_left(d, wall) != ULONG_MAX) {
			d->qcount++;
			s->dirty = 1;
		}
		if (shape_ramp_left(d, wall) != ULONG_MAX) {
			d->rcount++;
			s->dirty = 1;
		}
	}
}

void shape_released(struct shape *s, const char *const *keys, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		struct shape_dest *d = shape_find(s, keys[i]);
		if (d && d->active)
			d->active--;
	}
}

double shape_failed(struct shape *s, const char *key, double mono)
{
	struct shape_dest *d;
	if (mono > s->mono)
		s->mono = mono;
	d = shape_dest(s, key);
	if (!d)
		return mono + COOL_BASE_S;
	shape_cool(&d->cool_until, &d->penalty, mono);
	s->dirty = 1;
	return d->cool_until;
}

void shape_cool(double *cool_until, unsigned *penalty, double mono)
{
	double cool;
	if (*cool_until > mono)
		return;	/* already cooling: sessions that were open meanwhile
			   do not count as more failures */
	if (*penalty < 1000)
		(*penalty)++;
	cool = COOL_BASE_S * (double)*penalty * (double)*penalty;
	if (cool > COOL_MAX_S)
		cool = COOL_MAX_S;
	*cool_until = mono + cool;
}

void shape_succeeded(struct shape *s, const char *key)
{
	struct shape_dest *d = shape_find(s, key);
	if (d && (d->penalty || d->cool_until)) {
		d->penalty = 0;
		d->cool_until = 0;
		s->dirty = 1;
	}
}
