/* Limits shared between relay nodes through Redis (send/cluster.h). */
#include "send/cluster.h"

#include <hiredis/hiredis.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "send/cluster_priv.h"

unsigned cluster_rate_block(unsigned rate, double per)
{
	double b;
	if (!rate || per <= 0)
		return 1;
	b = ceil((double)rate * 0.25 / per);
	return b < 1 ? 1 : b > 1000 ? 1000 : (unsigned)b;
}

unsigned long cluster_count_block(unsigned long limit)
{
	unsigned long b = limit / 50;
	return b < 1 ? 1 : b > 100 ? 100 : b;
}

unsigned cluster_fallback_div(unsigned setting, unsigned seen)
{
	return setting ? setting : seen ? seen : 1;
}

struct cluster *cluster_new(const char *url, const char *node, unsigned nodes, char *err, size_t cap)
{
	struct redis_url u;
	struct cluster *cl;
	if (redis_url_parse(url, &u, err, cap) < 0)
		return NULL;
	if (!(cl = calloc(1, sizeof *cl))) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	rconn_init(&cl->r, &u, CLUSTER_TIMEOUT_MS);
	snprintf(cl->node, sizeof cl->node, "%s", node);
	snprintf(cl->url, sizeof cl->url, "%s", url);
	redis_url_show(&u, cl->shown, sizeof cl->shown);
	cl->nodes_setting = nodes;
	cl->backoff = 1;
	return cl;
}

void cluster_free(struct cluster *cl)
{
	if (!cl)
		return;
	rconn_close(&cl->r);
	free(cl);
}

static void hand_back(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono, time_t wall);

void cluster_end(struct cluster *cl, struct shape *s)
{
	size_t i;
	time_t wall = time(NULL);
	for (i = 0; i < SHAPE_BUCKETS && cl->up; i++) {
		struct shape_dest *d;
		for (d = s->tab[i]; d && cl->up; d = d->next)
			if (d->shared && (d->grant >= 1 || d->qgrant || d->rgrant))
				hand_back(cl, s, d, s->mono, wall);
	}
	if (cl->up)
		cluster_leases_renew(cl, s, s->mono, 1);   /* issue 16: every lease back */
	cluster_free(cl);
}

int cluster_shared(const struct cluster *cl)
{
	return cl && cl->up;
}

unsigned long cluster_calls(const struct cluster *cl)
{
	return cl ? cl->r.calls : 0;
}

void cluster_apply(struct cluster *cl, struct shape *s)
{
	shape_cluster_mode(s, cl->up, cluster_fallback_div(cl->nodes_setting, cl->nodes_seen));
}

static void tell(struct cluster *cl, const char *reason)
{
	ev_begin("cluster");
	ev_str("state", cl->up ? "shared" : "fallback");
	ev_str("redis", cl->shown);
	ev_str("node", cl->node);
	ev_num("nodes", (long long)cluster_fallback_div(cl->nodes_setting, cl->nodes_seen));
	ev_num("calls", (long long)cl->r.calls);
	if (reason)
		ev_str("reason", reason);
	ev_end();
	cl->told = 1;
}

void cluster_down(struct cluster *cl, struct shape *s, const char *why, double mono)
{
	rconn_close(&cl->r);
	cl->retry_at = mono + cl->backoff;
	if (cl->backoff < CLUSTER_RETRY_MAX_S)
		cl->backoff *= 2;
	if (cl->up || !cl->told) {
		cl->up = 0;
		cluster_apply(cl, s);
		tell(cl, why);
	}
}

int cluster_run(struct cluster *cl, struct shape *s, const char *text, char *sha, int nkeys, int argc,
                const char **argv, long long v[2], double mono)
{
	char err[256];
	struct redisReply *rep = rconn_script(&cl->r, text, sha, nkeys, argc, argv, err, sizeof err);
	int n = rconn_ints(rep, v, 2);
	rconn_free(rep);
	if (!rep || n < 1) {
		cluster_down(cl, s, rep ? "unexpected reply" : err, mono);
		return -1;
	}
	if (n < 2)
		v[1] = 0;
	return 0;
}

static int take_rate(struct cluster *cl, struct shape *s, struct shape_dest *d, long long want,
                     long long back, double mono, long long v[2])
{
	char key[SHAPE_KEY_MAX + 16], T[32], tau[32], w[32], b[32];
	double t_us = (double)d->lim.rate_per * 1e6 / (double)d->lim.rate;
	const char *argv[5] = { key, T, tau, w, b };
	snprintf(key, sizeof key, "relay:rate:%s", d->key);
	snprintf(T, sizeof T, "%.0f", t_us < 1 ? 1 : t_us);
	/* the burst: one block per node seen */
	snprintf(tau, sizeof tau, "%.0f", (t_us < 1 ? 1 : t_us) * cluster_rate_block(d->lim.rate, d->lim.rate_per) *
	                                      (cl->nodes_seen ? cl->nodes_seen : 1));
	snprintf(w, sizeof w, "%lld", want);
	snprintf(b, sizeof b, "%lld", back);
	return cluster_run(cl, s, cluster_rate_lua, cl->sha_rate, 1, 5, argv, v, mono);
}

/* what: "quota" or "ramp"; period its number; n slots (negative: back). */
static int take_count(struct cluster *cl, struct shape *s, struct shape_dest *d, const char *what,
                      long period, unsigned long limit, long ttl, long long n, double mono, long long v[2])
{
	char key[SHAPE_KEY_MAX + 48], l[32], w[32], t[32];
	const char *argv[4] = { key, l, w, t };
	snprintf(key, sizeof key, "relay:%s:%s:%ld", what, d->key, period);
	snprintf(l, sizeof l, "%lu", limit);
	snprintf(w, sizeof w, "%lld", n);
	snprintf(t, sizeof t, "%ld", ttl);
	return cluster_run(cl, s, cluster_count_lua, cl->sha_count, 1, 4, argv, v, mono);
}

void cluster_prepare(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono, time_t wall)
{
	long long v[2];
	long day = (long)(wall / 86400);
	if (!cl->up || !d->shared)
		return;
	if (d->lim.quota) {
		long period = (long)(wall / d->lim.quota_per);
		if (d->qgrant_period != period) {
			d->qgrant_period = period;
			d->qgrant = 0;
			d->count_retry = 0;
		}
		if (!d->qgrant && mono >= d->count_retry) {
			if (take_count(cl, s, d, "quota", period, d->lim.quota, (long)d->lim.quota_per + 3600,
			               (long long)cluster_count_block(d->lim.quota), mono, v) < 0)
				return;
			d->qgrant = (unsigned long)(v[0] > 0 ? v[0] : 0);
			if (!d->qgrant)
				d->count_retry = mono + 5;   /* spent: another node may hand some back */
		}
		if (!d->qgrant)
			return;
	}
	if (d->lim.ramp_n) {
		unsigned long today = shape_ramp_today(&d->lim, wall);
		if (d->rgrant_day != day) {
			d->rgrant_day = day;
			d->rgrant = 0;
			d->count_retry = 0;
		}
		if (!d->rgrant && mono >= d->count_retry) {
			if (take_count(cl, s, d, "ramp", day, today, 86400 + 3600,
			               (long long)cluster_count_block(today), mono, v) < 0)
				return;
			d->rgrant = (unsigned long)(v[0] > 0 ? v[0] : 0);
			if (!d->rgrant)
				d->count_retry = mono + 5;
		}
		if (!d->rgrant)
			return;
	}
	if (d->lim.rate && d->grant < 1 && mono >= d->grant_retry) {
		if (take_rate(cl, s, d, cluster_rate_block(d->lim.rate, d->lim.rate_per), 0, mono, v) < 0)
			return;
		d->grant += (double)(v[0] > 0 ? v[0] : 0);
		if (v[0] <= 0) {
			double wait = (double)v[1] / 1e6;
			d->grant_retry = mono + (wait < 0.01 ? 0.01 : wait > 1 ? 1 : wait);
			if (!cl->wake_at || d->grant_retry < cl->wake_at)
				cl->wake_at = d->grant_retry;
		}
	}
	/* issue 16: a lease for one more session, when every lease held is
	 * in use (and a token is there: a lease is not held for nothing),
	 * up to the limit, or to the fair share while other nodes wait */
	if (d->lim.concurrency && (!d->lim.rate || d->grant >= 1) && d->active >= d->leases &&
	    d->leases < (d->lease_fair && d->lease_fair < d->lim.concurrency ? d->lease_fair : d->lim.concurrency) &&
	    mono >= d->lease_retry)
		cluster_lease_more(cl, s, d, mono);
}

/* Blocks d has not used for CLUSTER_IDLE_S go back. */
static void hand_back(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono, time_t wall)
{
	long long v[2];
	if (d->grant >= 1 && d->lim.rate) {
		if (take_rate(cl, s, d, 0, (long long)d->grant, mono, v) < 0)
			return;
		d->grant = 0;
	}
	if (d->qgrant && d->lim.quota && d->qgrant_period == (long)(wall / d->lim.quota_per)) {
		if (take_count(cl, s, d, "quota", d->qgrant_period, d->lim.quota, (long)d->lim.quota_per + 3600,
		               -(long long)d->qgrant, mono, v) < 0)
			return;
	}
	d->qgrant = 0;
	if (d->rgrant && d->lim.ramp_n && d->rgrant_day == (long)(wall / 86400)) {
		if (take_count(cl, s, d, "ramp", d->rgrant_day, shape_ramp_today(&d->lim, wall), 86400 + 3600,
		               -(long long)d->rgrant, mono, v) < 0)
			return;
	}
	d->rgrant = 0;
}

static int beat(struct cluster *cl, struct shape *s, double mono, unsigned long queued)
{
	char nodekey[300], q[32], c[32], seen[16], err[256];
	const char *argv[7] = { "relay:nodes", nodekey, "relay:throttles", cl->node, q, c, seen };
	long long v[2];
	struct redisReply *rep;
	size_t i;
	snprintf(nodekey, sizeof nodekey, "relay:node:%s", cl->node);
	snprintf(q, sizeof q, "%lu", queued);
	snprintf(c, sizeof c, "%lu", cl->r.calls + 1);
	snprintf(seen, sizeof seen, "%d", CLUSTER_SEEN_S);
	rep = rconn_script(&cl->r, cluster_beat_lua, cl->sha_beat, 3, 7, argv, err, sizeof err);
	if (rconn_ints(rep, v, 2) < 2) {
		rconn_free(rep);
		cluster_down(cl, s, rep ? "unexpected reply" : err, mono);
		return -1;
	}
	if (v[0] > 0 && v[0] < 100000)
		cl->nodes_seen = (unsigned)v[0];
	for (i = 2; i + 1 < rep->elements; i += 2)
		if (rep->element[i]->type == REDIS_REPLY_STRING && rep->element[i + 1]->type == REDIS_REPLY_STRING)
			cluster_throttle_take(cl, s, rep->element[i]->str, rep->element[i + 1]->str, v[1], mono);
	rconn_free(rep);
	cl->beat_at = mono + CLUSTER_BEAT_S;
	cluster_leases_renew(cl, s, mono, 0);   /* issue 16: renewed with the beat */
	return rconn_up(&cl->r) ? 0 : -1;   /* a renewal that failed went down */
}

void cluster_tick(struct cluster *cl, struct shape *s, double mono, time_t wall, unsigned long queued)
{
	size_t i;
	if (!cl->up) {
		char err[256];
		if (mono < cl->retry_at)
			return;
		if (rconn_open(&cl->r, err, sizeof err) < 0) {
			cluster_down(cl, s, err, mono);
			return;
		}
		cl->sha_rate[0] = cl->sha_count[0] = cl->sha_beat[0] = 0;
		cl->sha_lease[0] = cl->sha_throttle[0] = 0;   /* issue 16 */
		if (beat(cl, s, mono, queued) < 0)
			return;
		cl->up = 1;
		cl->backoff = 1;
		cluster_apply(cl, s);
		tell(cl, NULL);
		return;
	}
	if (mono >= cl->beat_at && beat(cl, s, mono, queued) < 0)
		return;
	if (mono < cl->sweep_at)
		return;
	cl->sweep_at = mono + 1;
	for (i = 0; i < SHAPE_BUCKETS && cl->up; i++) {
		struct shape_dest *d;
		for (d = s->tab[i]; d && cl->up; d = d->next)
			if (d->shared && (d->grant >= 1 || d->qgrant || d->rgrant) && mono - d->used_at > CLUSTER_IDLE_S)
				hand_back(cl, s, d, mono, wall);
	}
}

int cluster_wait_ms(struct cluster *cl, double mono)
{
	double at = cl->up ? cl->beat_at : cl->retry_at;
	if (cl->wake_at && cl->wake_at <= mono)
		cl->wake_at = 0;
	if (cl->wake_at && cl->wake_at < at)
		at = cl->wake_at;
	if (at <= mono)
		return 0;
	return at - mono > 1 ? 1000 : (int)((at - mono) * 1000) + 1;
}

/* ------------------------------------------------------------ HUP (issue 16) */

int cluster_configure(struct shape *s, const char *url, const char *node, unsigned nodes, double mono, char *err,
                      size_t cap)
{
	struct cluster *old = s->cluster, *nw;
	struct redis_url u;
	if (!url[0]) {
		if (!old)
			return 0;
		ev_begin("cluster");
		ev_str("state", "local");
		ev_str("redis", old->shown);
		ev_str("node", old->node);
		ev_str("reason", "setting shared removed");
		ev_end();
		cluster_end(old, s);
		s->cluster = NULL;
		shape_cluster_mode(s, 0, 1);   /* every limit whole, on this node */
		return 0;
	}
	if (redis_url_parse(url, &u, err, cap) < 0)
		return -1;
	if (old && !strcmp(old->url, url) && !strcmp(old->node, node)) {
		old->nodes_setting = nodes;
		cluster_apply(old, s);
		return 0;
	}
	if (!(nw = cluster_new(url, node, nodes, err, cap)))
		return -1;
	if (old)
		cluster_end(old, s);
	s->cluster = nw;
	s->cluster_free = cluster_end;
	shape_cluster_mode(s, 0, cluster_fallback_div(nodes, 0));   /* until it answers */
	cluster_tick(nw, s, mono, time(NULL), 0);   /* connect now: logs shared or fallback */
	return 0;
}

