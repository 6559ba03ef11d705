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
#include "send/redis.h"
#include "send/worker.h"

_Static_assert(CLUSTER_LEASE_IDLE_MS > WORKER_IDLE_MS,
               "a lease goes back only after the idle connection it covers closed");

/* KEYS[1] the arrival time; ARGV: T (µs a token), tau (µs of burst),
 * want, back. Returns {granted, µs until the next token}. */
const char cluster_rate_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"local T, tau = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local n, back = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
	"if tat < now then tat = now end\n"
	"if back > 0 then tat = tat - back * T; if tat < now then tat = now end end\n"
	"local k = 0\n"
	"if n > 0 then\n"
	"  k = math.floor((now + tau - tat) / T)\n"
	"  if k > n then k = n end\n"
	"  if k < 0 then k = 0 end\n"
	"  tat = tat + k * T\n"
	"end\n"
	"redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 60000)\n"
	"local wait = 0\n"
	"if k < n then wait = tat + T - tau - now; if wait < 0 then wait = 0 end end\n"
	"return {k, wait}\n";

/* KEYS[1] the period's counter; ARGV: limit, want (negative: hand
 * back), ttl s. Returns {granted, count}. Near the limit (less than ten
 * blocks left) one slot a call: a slot reserved is then used at once, so
 * no node spills over while another holds slots it will not use. */
const char cluster_count_lua[] =
	"local lim, n = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
	"local v = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
	"local k = 0\n"
	"if n < 0 then\n"
	"  local b = -n; if b > v then b = v end; v = v - b\n"
	"else\n"
	"  if lim - v < n * 10 then n = 1 end\n"
	"  k = lim - v; if k > n then k = n end; if k < 0 then k = 0 end; v = v + k\n"
	"end\n"
	"redis.call('SET', KEYS[1], v, 'EX', ARGV[3])\n"
	"return {k, v}\n";

/* KEYS: relay:nodes, relay:node:NAME, relay:throttles; ARGV: NAME,
 * queued, calls, seen s. Returns {nodes seen, Redis's time (s), then the
 * throttles on: DEST, "ACTION UNTIL CONC NODE REASON", ...} (issue 16:
 * the shared suspensions; those over are dropped here). */
const char cluster_beat_lua[] =
	"local t = tonumber(redis.call('TIME')[1])\n"
	"redis.call('ZADD', KEYS[1], t, ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - tonumber(ARGV[4]))\n"
	"redis.call('HSET', KEYS[2], 'queued', ARGV[2], 'calls', ARGV[3], 'beat', t)\n"
	"redis.call('EXPIRE', KEYS[2], ARGV[4])\n"
	"local out = {redis.call('ZCARD', KEYS[1]), t}\n"
	"local h = redis.call('HGETALL', KEYS[3])\n"
	"for j = 1, #h, 2 do\n"
	"  local u = tonumber(string.match(h[j + 1], '^%S+ (%d+)') or '0')\n"
	"  if u <= t then redis.call('HDEL', KEYS[3], h[j])\n"
	"  elseif #out < 2 + 2 * 256 then out[#out + 1] = h[j]; out[#out + 1] = h[j + 1] end\n"
	"end\n"
	"return out\n";

/* issue 16: concurrency leases. KEYS: relay:lease:KEY, one per
 * destination; ARGV: NODE, the lease TTL (ms), then per key the leases
 * the node wants to hold (0: hand them all back) and the limit. A hash
 * per destination, a field per node: "LEASES:EXPIRY_MS" (Redis's clock);
 * a node refused writes "LEASES:EXPIRY_MS" with what it got (0 too): it
 * waits, and counts for the fair share. The fields of other nodes that
 * expired (a node killed) are dropped and do not count. Returns, per
 * key, the leases the node holds now and the fair share (the limit over
 * the nodes holding or waiting, rounded up): a node past it opens no
 * new session, so that its leases go back to the ones waiting. */
const char cluster_lease_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local node, ttl = ARGV[1], tonumber(ARGV[2])\n"
	"local out = {}\n"
	"for i, k in ipairs(KEYS) do\n"
	"  local want, lim = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])\n"
	"  local h = redis.call('HGETALL', k)\n"
	"  local others, nodes = 0, 1\n"
	"  for j = 1, #h, 2 do\n"
	"    if h[j] ~= node then\n"
	"      local n, e = string.match(h[j + 1], '^(%d+):(%d+)$')\n"
	"      if not n or tonumber(e) <= now then redis.call('HDEL', k, h[j])\n"
	"      else others = others + tonumber(n); nodes = nodes + 1 end\n"
	"    end\n"
	"  end\n"
	"  local g = lim - others\n"
	"  if g > want then g = want end\n"
	"  if g < 0 then g = 0 end\n"
	"  if want > 0 then\n"
	"    redis.call('HSET', k, node, string.format('%d:%d', g, now + ttl))\n"
	"    redis.call('PEXPIRE', k, ttl * 2)\n"
	"  else redis.call('HDEL', k, node); nodes = nodes - 1 end\n"
	"  if nodes < 1 then nodes = 1 end\n"
	"  out[2 * i - 1] = g\n"
	"  out[2 * i] = math.floor((lim + nodes - 1) / nodes)\n"
	"end\n"
	"return out\n";

/* issue 16: a throttle seen here, for the others. KEYS[1]
 * relay:throttles; ARGV: DEST, ACTION, seconds, CONC, NODE, REASON. A
 * longer one already there stays. Returns {1} when set, else {0}. */
const char cluster_throttle_lua[] =
	"local t = tonumber(redis.call('TIME')[1])\n"
	"local u = t + tonumber(ARGV[3])\n"
	"local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if old then\n"
	"  local ou = tonumber(string.match(old, '^%S+ (%d+)') or '0')\n"
	"  if ou >= u then return {0} end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], string.format('%s %d %s %s %s', ARGV[2], u, ARGV[4], ARGV[5], ARGV[6]))\n"
	"return {1}\n";

struct cluster {
	struct rconn r;
	char node[256];
	char shown[REDIS_URL_MAX + 16];
	unsigned nodes_setting, nodes_seen;
	int up;               /* shared now */
	int told;             /* the state logged at least once */
	double retry_at, backoff, beat_at, sweep_at;
	double wake_at;       /* the next token due for a destination waiting (0: none) */
	char sha_rate[41], sha_count[41], sha_beat[41];
	char sha_lease[41], sha_throttle[41];   /* issue 16 */
	char url[REDIS_URL_MAX + 1];            /* issue 16: setting shared as given (HUP compares) */
};

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
static void leases_renew(struct cluster *cl, struct shape *s, double mono, int all_back);

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
		leases_renew(cl, s, s->mono, 1);   /* issue 16: every lease back */
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

/* Redis failed: fallback (logged once, at the switch). */
static void down(struct cluster *cl, struct shape *s, const char *why, double mono)
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

/* A script's two integers; 0, or -1 (then down). */
static int run(struct cluster *cl, struct shape *s, const char *text, char *sha, int nkeys, int argc,
               const char **argv, long long v[2], double mono)
{
	char err[256];
	struct redisReply *rep = rconn_script(&cl->r, text, sha, nkeys, argc, argv, err, sizeof err);
	int n = rconn_ints(rep, v, 2);
	rconn_free(rep);
	if (!rep || n < 1) {
		down(cl, s, rep ? "unexpected reply" : err, mono);
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
	return run(cl, s, cluster_rate_lua, cl->sha_rate, 1, 5, argv, v, mono);
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
	return run(cl, s, cluster_count_lua, cl->sha_count, 1, 4, argv, v, mono);
}

/* issue 16: the leases of n destinations in one call: want[i] each
 * (got back into want[i]). 0, or -1 (then down). */
static int leases_call(struct cluster *cl, struct shape *s, struct shape_dest **ds, unsigned *want, size_t n,
                       double mono)
{
	char keys[CLUSTER_LEASE_BATCH][SHAPE_KEY_MAX + 16], w[CLUSTER_LEASE_BATCH][16], l[CLUSTER_LEASE_BATCH][16];
	char ttl[16], err[256];
	const char *argv[2 + 3 * CLUSTER_LEASE_BATCH];
	long long v[2 * CLUSTER_LEASE_BATCH];
	struct redisReply *rep;
	size_t i;
	int got;
	for (i = 0; i < n; i++) {
		snprintf(keys[i], sizeof keys[i], "relay:lease:%s", ds[i]->key);
		snprintf(w[i], sizeof w[i], "%u", want[i]);
		snprintf(l[i], sizeof l[i], "%u", ds[i]->lim.concurrency);
		argv[i] = keys[i];
		argv[n + 2 + 2 * i] = w[i];
		argv[n + 3 + 2 * i] = l[i];
	}
	snprintf(ttl, sizeof ttl, "%d", (int)(CLUSTER_LEASE_TTL_S * 1000));
	argv[n] = cl->node;
	argv[n + 1] = ttl;
	rep = rconn_script(&cl->r, cluster_lease_lua, cl->sha_lease, (int)n, (int)(2 + 3 * n), argv, err, sizeof err);
	got = rconn_ints(rep, v, 2 * n);
	rconn_free(rep);
	if (!rep || got != (int)(2 * n)) {
		down(cl, s, rep ? "unexpected reply" : err, mono);
		return -1;
	}
	for (i = 0; i < n; i++) {
		want[i] = v[2 * i] < 0 ? 0 : v[2 * i] > 100000 ? 100000 : (unsigned)v[2 * i];
		ds[i]->lease_fair = v[2 * i + 1] < 1 ? 1 : v[2 * i + 1] > 100000 ? 100000 : (unsigned)v[2 * i + 1];
	}
	return 0;
}

/* issue 16: one lease more for d (refused: asked again after
 * CLUSTER_LEASE_RETRY_S). */
static void lease_more(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono)
{
	unsigned want = d->leases + 1, had = d->leases;
	if (leases_call(cl, s, &d, &want, 1, mono) < 0)
		return;
	d->leases = want;
	if (!had) {   /* a new window for the hand-back */
		d->lease_win = mono;
		d->lease_peak = d->active;
	}
	if (d->leases <= had) {
		d->lease_retry = mono + CLUSTER_LEASE_RETRY_S;
		if (!cl->wake_at || d->lease_retry < cl->wake_at)
			cl->wake_at = d->lease_retry;
	}
}

/* issue 16: with the heartbeat, every lease held renewed in batches;
 * past a window of CLUSTER_LEASE_IDLE_S, those beyond the most sessions
 * open in it go back (all_back: every one, at exit). */
static int leases_flush(struct cluster *cl, struct shape *s, struct shape_dest **ds, unsigned *want, size_t *n,
                        double mono)
{
	size_t k;
	if (!*n)
		return 0;
	if (leases_call(cl, s, ds, want, *n, mono) < 0)
		return -1;
	for (k = 0; k < *n; k++)
		ds[k]->leases = want[k];
	*n = 0;
	return 0;
}

static void leases_renew(struct cluster *cl, struct shape *s, double mono, int all_back)
{
	struct shape_dest *ds[CLUSTER_LEASE_BATCH], *d;
	unsigned want[CLUSTER_LEASE_BATCH];
	size_t i, n = 0;
	for (i = 0; i < SHAPE_BUCKETS; i++)
		for (d = s->tab[i]; d; d = d->next) {
			unsigned w = d->leases;
			if (!d->shared || !d->leases)
				continue;
			if (all_back)
				w = 0;
			else if (mono - d->lease_win >= CLUSTER_LEASE_IDLE_S) {
				unsigned peak = d->lease_peak > d->active ? d->lease_peak : d->active;
				if (w > peak)
					w = peak;
				d->lease_win = mono;
				d->lease_peak = d->active;
			}
			ds[n] = d;
			want[n++] = w;
			if (n == CLUSTER_LEASE_BATCH && leases_flush(cl, s, ds, want, &n, mono) < 0)
				return;
		}
	leases_flush(cl, s, ds, want, &n, mono);
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
		lease_more(cl, s, d, mono);
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

/* issue 16: "ACTION UNTIL CONC NODE REASON" of relay:throttles, another
 * node's, taken here for what is left of it (now: Redis's time). */
static void throttle_take(struct cluster *cl, struct shape *s, const char *dest, const char *val, long long now,
                          double mono)
{
	char act[16], node[256];
	long long until;
	unsigned conc;
	int n = 0, action;
	if (sscanf(val, "%15s %lld %u %255s %n", act, &until, &conc, node, &n) < 4 || !strcmp(node, cl->node))
		return;
	action = !strcmp(act, "suspend") ? THROTTLE_SUSPEND : !strcmp(act, "halve") ? THROTTLE_HALVE
	       : !strcmp(act, "concurrency") ? THROTTLE_CONCURRENCY : THROTTLE_NONE;
	if (strlen(dest) >= SHAPE_KEY_MAX || until <= now ||
	    !shape_throttle_set(s, dest, action, (double)(until - now), conc, mono))
		return;
	ev_begin("throttle");
	ev_str("dest", dest);
	ev_str("action", act);
	ev_num("for", until - now);
	if (action == THROTTLE_CONCURRENCY)
		ev_num("concurrency", (long long)conc);
	ev_str("origin", node);   /* seen by that node (shared) */
	ev_str("reply", n > 0 ? val + n : "");
	ev_end();
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
		down(cl, s, rep ? "unexpected reply" : err, mono);
		return -1;
	}
	if (v[0] > 0 && v[0] < 100000)
		cl->nodes_seen = (unsigned)v[0];
	for (i = 2; i + 1 < rep->elements; i += 2)
		if (rep->element[i]->type == REDIS_REPLY_STRING && rep->element[i + 1]->type == REDIS_REPLY_STRING)
			throttle_take(cl, s, rep->element[i]->str, rep->element[i + 1]->str, v[1], mono);
	rconn_free(rep);
	cl->beat_at = mono + CLUSTER_BEAT_S;
	leases_renew(cl, s, mono, 0);   /* issue 16: renewed with the beat */
	return rconn_up(&cl->r) ? 0 : -1;   /* a renewal that failed went down */
}

void cluster_throttle(struct cluster *cl, struct shape *s, const char *dest, int code, const char *reason, double mono)
{
	const struct shape_dest *d = shape_find(s, dest);
	char dur[32], conc[16], why[CLUSTER_REASON_MAX + 1];
	const char *argv[7] = { "relay:throttles", dest, NULL, dur, conc, cl->node, why };
	long long v[2];
	size_t i;
	if (!cl->up || !d || d->throttle == THROTTLE_NONE || d->throttle_until <= mono)
		return;
	argv[2] = shape_throttle_name(d->throttle);
	snprintf(dur, sizeof dur, "%.0f", d->throttle_until - mono < 1 ? 1 : d->throttle_until - mono);
	snprintf(conc, sizeof conc, "%u", d->throttle_conc);
	snprintf(why, sizeof why, "%03d %s", code, reason ? reason : "");
	for (i = 0; why[i]; i++)   /* made safe: one line, printable */
		if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
			why[i] = '_';
	run(cl, s, cluster_throttle_lua, cl->sha_throttle, 1, 7, argv, v, mono);
}

void cluster_tick(struct cluster *cl, struct shape *s, double mono, time_t wall, unsigned long queued)
{
	size_t i;
	if (!cl->up) {
		char err[256];
		if (mono < cl->retry_at)
			return;
		if (rconn_open(&cl->r, err, sizeof err) < 0) {
			down(cl, s, err, mono);
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

/* ------------------------------------------------------------ relay-qctl cluster */

static int show_cmd(struct rconn *r, struct buf *out, int argc, const char **argv, redisReply **rep, char *err,
                    size_t cap)
{
	(void)out;
	*rep = rconn_cmd(r, argc, argv, err, cap);
	return *rep ? 0 : -1;
}

/* The counters of one SCAN pattern: "counter KEY VALUE" lines. */
static int show_counters(struct rconn *r, struct buf *out, const char *pattern, char *err, size_t cap)
{
	char cursor[32] = "0";
	do {
		const char *a[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT", "500" };
		redisReply *rep;
		size_t i;
		if (show_cmd(r, out, 6, a, &rep, err, cap) < 0)
			return -1;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rconn_free(rep);
			snprintf(err, cap, "SCAN: unexpected reply");
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%.*s", (int)rep->element[0]->len, rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];
			const char *g[2] = { "GET", k->str };
			redisReply *v;
			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (!(v = rconn_cmd(r, 2, g, err, cap))) {
				rconn_free(rep);
				return -1;
			}
			if (v->type == REDIS_REPLY_STRING)
				buf_printf(out, "counter %s %.*s\n", k->str, (int)v->len, v->str);
			rconn_free(v);
		}
		rconn_free(rep);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

int cluster_show(const char *url, struct buf *out, char *err, size_t cap)
{
	struct redis_url u;
	struct rconn r;
	char shown[REDIS_URL_MAX + 16];
	const char *z[5] = { "ZRANGE", "relay:nodes", "0", "-1", "WITHSCORES" };
	redisReply *rep;
	size_t i;
	if (redis_url_parse(url, &u, err, cap) < 0)
		return -1;
	rconn_init(&r, &u, 1000);
	if (rconn_open(&r, err, cap) < 0)
		return -1;
	redis_url_show(&u, shown, sizeof shown);
	buf_printf(out, "redis %s\n", shown);
	if (show_cmd(&r, out, 5, z, &rep, err, cap) < 0)
		goto fail;
	for (i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
		const redisReply *n = rep->element[i];
		char key[300];
		const char *h[2] = { "HGETALL", key };
		redisReply *hr;
		size_t j;
		if (n->type != REDIS_REPLY_STRING)
			continue;
		snprintf(key, sizeof key, "relay:node:%s", n->str);
		if (!(hr = rconn_cmd(&r, 2, h, err, cap))) {
			rconn_free(rep);
			goto fail;
		}
		buf_printf(out, "node %s", n->str);
		for (j = 0; hr->type == REDIS_REPLY_ARRAY && j + 1 < hr->elements; j += 2)
			if (hr->element[j]->type == REDIS_REPLY_STRING && hr->element[j + 1]->type == REDIS_REPLY_STRING)
				buf_printf(out, " %s=%s", hr->element[j]->str, hr->element[j + 1]->str);
		buf_adds(out, "\n");
		rconn_free(hr);
	}
	rconn_free(rep);
	if (show_counters(&r, out, "relay:quota:*", err, cap) < 0 || show_counters(&r, out, "relay:ramp:*", err, cap) < 0)
		goto fail;
	rconn_close(&r);
	return 0;
fail:
	rconn_close(&r);
	return -1;
}
