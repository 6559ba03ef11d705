/* Concurrency leases and shared throttles (issue 16; send/cluster.h). */
#include "send/cluster_priv.h"

#include <stdio.h>
#include <string.h>

#include "base/evlog.h"
#include "send/worker.h"

_Static_assert(CLUSTER_LEASE_IDLE_MS > WORKER_IDLE_MS,
               "a lease goes back only after the idle connection it covers closed");

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
		cluster_down(cl, s, rep ? "unexpected reply" : err, mono);
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
void cluster_lease_more(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono)
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

void cluster_leases_renew(struct cluster *cl, struct shape *s, double mono, int all_back)
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

/* issue 16: "ACTION UNTIL CONC NODE REASON" of relay:throttles, another
 * node's, taken here for what is left of it (now: Redis's time). */
void cluster_throttle_take(struct cluster *cl, struct shape *s, const char *dest, const char *val, long long now,
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
	cluster_run(cl, s, cluster_throttle_lua, cl->sha_throttle, 1, 7, argv, v, mono);
}

