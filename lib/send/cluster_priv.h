#ifndef RELAY_CLUSTER_PRIV_H
#define RELAY_CLUSTER_PRIV_H
/* Inside the cluster (send/cluster.h): what cluster.c (blocks, heartbeat,
 * reconnection), cluster_lease.c (issue 16: concurrency leases and the
 * shared throttles), cluster_lua.c (the scripts) and cluster_show.c
 * (relay-qctl cluster) share. Not for callers. */
#include "send/cluster.h"
#include "send/redis.h"

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

/* Redis failed: fallback (logged once, at the switch). */
void cluster_down(struct cluster *cl, struct shape *s, const char *why, double mono);
/* A script's two integers into v; 0, or -1 (then down). */
int cluster_run(struct cluster *cl, struct shape *s, const char *text, char *sha, int nkeys, int argc,
                const char **argv, long long v[2], double mono);
/* cluster_lease.c. Every lease held renewed with the heartbeat, those
 * past the window's peak handed back (all_back: every one, at exit). */
void cluster_leases_renew(struct cluster *cl, struct shape *s, double mono, int all_back);
/* One lease more for d (refused: asked again after CLUSTER_LEASE_RETRY_S). */
void cluster_lease_more(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono);
/* "ACTION UNTIL CONC NODE REASON" of relay:throttles for dest, another
 * node's, taken here for what is left of it (now: Redis's time). */
void cluster_throttle_take(struct cluster *cl, struct shape *s, const char *dest, const char *val, long long now,
                           double mono);

#endif
