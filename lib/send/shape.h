#ifndef RELAY_SHAPE_H
#define RELAY_SHAPE_H
/* Traffic shaping: the limits of etc/limits per destination, kept in one
 * state struct the caller owns and passes in (no I/O here but
 * shape_save/shape_restore; every time is an argument, so tests drive
 * it with a simulated clock).
 *
 * A destination is named by a key:
 *   "host:port"     a relay member: every limit, one state however
 *                   many pools the relay is a member of (one session
 *                   count, one token bucket, one quota)
 *   "domain"        a recipient domain delivered by MX
 *   "site:NAME"     the MX hosts matching a site's mx= globs: every domain
 *                   hosted there shares its limits (etc/limits key NAME
 *                   with mx=...)
 * Per destination: concurrency (sessions open), a token bucket for the
 * rate, a quota per UTC hour or day and a warm-up ramp per UTC day
 * (counts that survive a restart through state/shaping), cooling after a
 * failure (15 p^2 s, at most an hour), and a throttle (adaptive
 * back-off: suspended, rate halved, or concurrency lowered until a time).
 *
 * Times: mono is monotonic seconds (rates, cooling, throttles); wall is
 * the Unix time (quota periods and ramp days, which are calendar
 * edges). The state is bounded: destinations that carry no
 * configuration and no state are dropped past SHAPE_DESTS_MAX. */
#include <stddef.h>
#include <time.h>
#include "conf/conf.h"

#define SHAPE_KEY_MAX   (CONF_HOST_MAX + 8)
#define SHAPE_DESTS_MAX 20000   /* kept before idle ones are dropped */
#define SHAPE_SITES_MAX 64
#define SHAPE_BUCKETS   4096
#define SHAPE_FILE      "state/shaping"

/* A token bucket: at most rate messages per `per` seconds, full at first. */
struct shape_bucket {
	unsigned rate;
	double per;        /* 0: no rate */
	double tokens, filled;
	int primed;
};
void shape_bucket_set(struct shape_bucket *b, unsigned rate, double per);
/* 1 if a token is there now (refilled to now). */
int shape_bucket_ready(struct shape_bucket *b, double mono);
void shape_bucket_take(struct shape_bucket *b, double mono);
/* When the next token is due (mono; now if one is there). */
double shape_bucket_due(struct shape_bucket *b, double mono);

enum shape_throttle { THROTTLE_NONE, THROTTLE_SUSPEND, THROTTLE_HALVE, THROTTLE_CONCURRENCY };

struct shape_dest {
	char key[SHAPE_KEY_MAX];
	struct conf_limits lim;   /* from etc/limits (if configured) */
	int configured;
	unsigned active;          /* sessions open */
	struct shape_bucket bucket;
	long qperiod;             /* quota: the period (wall / quota_per) counted ... */
	unsigned long qcount;     /* ... and the messages in it */
	long rday;                /* ramp: the UTC day counted ... */
	unsigned long rcount;     /* ... and the messages on it */
	double cool_until;        /* cooling after failures (MX destinations) */
	unsigned penalty;
	int throttle;             /* enum shape_throttle, until throttle_until */
	double throttle_until;
	unsigned throttle_conc;   /* THROTTLE_CONCURRENCY: the lowered cap */
	unsigned hits;            /* replies that match a throttle rule ... */
	double hits_since;        /* ... since this time (the rule's window) */
	int site;                 /* a domain's site: -2 not known yet, -1 none, else index */
	double site_at;           /* when the domain's site was found */
	double site_asked;        /* a lookup asked then, not answered yet (0: none) */
	char used_site[CONF_NAME_MAX + 1]; /* the site its open sessions count against */
	/* cluster (issue 16, send/cluster.h): a shared destination's rate,
	 * quota and ramp come from blocks taken from Redis. grant: tokens of
	 * the shared rate taken and not used yet (the local bucket is
	 * checked as well: one node never goes past the whole rate, and a
	 * halving throttle halves it); qgrant, rgrant: quota and ramp slots
	 * reserved for qgrant_period and rgrant_day. */
	int shared;
	double grant, grant_retry;      /* no token asked for before grant_retry */
	double count_retry;             /* quota, ramp: not asked again before this when spent */
	unsigned long qgrant, rgrant;
	long qgrant_period, rgrant_day;
	double used_at;                 /* the last transaction (idle grants go back) */
	unsigned div;                   /* fallback: rate, quota, ramp divided by this (0, 1: whole) */
	/* issue 16: a shared concurrency= is leases in Redis, one per
	 * session (send/cluster.h): leases held by this node (sessions may
	 * open while active < leases), not asked again before lease_retry;
	 * lease_peak, the most sessions open since lease_win (leases past
	 * it go back when that window is older than CLUSTER_LEASE_IDLE_S) */
	unsigned leases, lease_peak;
	unsigned lease_fair;      /* the limit over the nodes holding or waiting (0: not known) */
	double lease_retry, lease_win;
	struct shape_dest *next;  /* hash chain */
};

struct shape_site {
	char name[CONF_NAME_MAX + 1];
	char mx[CONF_HOST_MAX + 1];   /* "glob,glob" */
};

struct shape {
	struct shape_dest *tab[SHAPE_BUCKETS];
	size_t n;
	struct shape_site sites[SHAPE_SITES_MAX];
	size_t nsites;
	int dirty;                /* counts changed since the last save */
	double mono;              /* the latest monotonic time seen */
	struct cluster *cluster;  /* send/cluster.h: NULL without setting shared */
	void (*cluster_free)(struct cluster *, struct shape *);   /* shape_free calls it */
};

void shape_init(struct shape *s);
void shape_free(struct shape *s);
/* Reload: forget every destination's configuration and the sites (the
 * counts, cooling and throttles stay), then add each etc/limits entry. */
void shape_config_clear(struct shape *s);
/* One etc/limits entry (key canonical). A value with mx= is a site
 * named key. -1 when there are SHAPE_SITES_MAX sites already. */
int shape_config_add(struct shape *s, const char *key, const struct conf_limits *l);

/* The destination key names, found or made (NULL: out of memory). */
struct shape_dest *shape_dest(struct shape *s, const char *key);
struct shape_dest *shape_find(const struct shape *s, const char *key);

/* The site an MX host name belongs to (index), or -1. A glob "*.x.com"
 * matches any name ending in ".x.com"; "*" any run of characters. */
int shape_site_match(const struct shape *s, const char *mxhost);

/* Whether a message may go to destinations keys[0..n) now. */
enum shape_verdict {
	SHAPE_OK,
	SHAPE_BUSY,   /* concurrency or rate: soon (wait, do not defer) */
	SHAPE_SKIP,   /* quota or ramp spent, suspended, cooling: use another
	                 member; defer if there is none */
};
/* *why (if why) says which limit, for the log: "quota", "ramp",
 * "suspended", "cooling", "concurrency", "rate". */
enum shape_verdict shape_check(struct shape *s, const char *const *keys, size_t n,
                               double mono, time_t wall, const char **why);
/* One transaction started on keys: a session, a token, one message
 * counted against each quota and ramp. */
void shape_used(struct shape *s, const char *const *keys, size_t n, double mono, time_t wall);
/* Its session is over. */
void shape_released(struct shape *s, const char *const *keys, size_t n);
/* A failure at destination key: cool it (15 p^2 s, capped); returns
 * when the cooling ends. A success clears it. */
double shape_failed(struct shape *s, const char *key, double mono);
void shape_succeeded(struct shape *s, const char *key);
/* The cooling step itself (pool members use it too): one more penalty
 * and *cool_until = mono + 15 p^2 s (at most an hour), unless cooling
 * already. */
void shape_cool(double *cool_until, unsigned *penalty, double mono);

/* cluster (issue 16): whether d has a limit the cluster shares (a rate,
 * a quota, a ramp or a concurrency from etc/limits). */
int shape_sharable(const struct shape_dest *d);
/* Every sharable destination shared (grants from Redis) or not; when
 * not, div > 1 divides each one's rate, quota and ramp (a node's share
 * while Redis is away; 0 or 1: the whole limit). Grants held are
 * dropped when sharing ends (the caller hands them back first). */
void shape_cluster_mode(struct shape *s, int shared, unsigned div);
/* A whole limit divided by div, rounded up (at least 1 of a non-zero). */
unsigned long shape_share(unsigned long whole, unsigned div);
/* issue 16: the concurrency cap of d now (0: none): its concurrency=,
 * its share in fallback, the leases it holds when shared, a lowered
 * concurrency throttle. */
unsigned shape_conc_cap(const struct shape_dest *d);
/* issue 16: a throttle another node saw (the shared suspension of
 * cluster.h): action for dur more seconds from mono, conc its lowered
 * cap. Taken unless a longer one is on here. 1 when taken. */
int shape_throttle_set(struct shape *s, const char *key, int action, double dur, unsigned conc, double mono);

/* Today's ramp volume of l at wall (0 before the ramp starts; the last
 * volume after its last day); ULONG_MAX when l has no ramp. */
unsigned long shape_ramp_today(const struct conf_limits *l, time_t wall);
/* Messages left of dest's quota and of its ramp now (ULONG_MAX: none). */
unsigned long shape_quota_left(struct shape_dest *d, time_t wall);
unsigned long shape_ramp_left(struct shape_dest *d, time_t wall);

/* Adaptive back-off: a reply matched a throttle rule for key. With
 * threshold replies inside window seconds, the action applies for dur
 * seconds (conc: the lowered concurrency for THROTTLE_CONCURRENCY).
 * Returns 1 when the action was taken now (the caller logs
 * event=throttle), else 0. */
int shape_throttle_hit(struct shape *s, const char *key, int action, unsigned threshold,
                       double window, double dur, unsigned conc, double mono);
const char *shape_throttle_name(int action);

/* A retry hint in a 4xx reply's text (made safe, any length): "try
 * again in 30 seconds", "retry in 5 minutes", "try again after 2 hours"
 * (case-insensitive; s, sec, second(s), m, min, minute(s), h, hour(s)).
 * Seconds (at most a day), or 0 when the text has none. */
unsigned long shape_retry_hint(const char *text);

/* state/shaping: one line per destination with something to remember,
 *   KEY QPERIOD QCOUNT RDAY RCOUNT ACTION UNTIL CONC COOL PENALTY
 * (the quota and ramp counts; the throttle: ACTION none, suspend, halve
 * or concurrency, until the Unix time UNTIL, CONC its lowered cap; the
 * cooling of an MX destination until the Unix time COOL, its PENALTY).
 * A throttle or cooling that is over is not written, nor read back; a
 * line of five fields (the counts alone) is read too.
 * save writes it atomically (base/fileio) with mono/wall the clocks now;
 * 0 or -1 (errno). restore reads it at start-up (absent: nothing counted
 * yet): 0, or -1 (errno: unreadable); *bad (if bad) counts the lines
 * that do not parse, or past SHAPE_DESTS_MAX, which are skipped (a
 * corrupt file starts from nothing, never a crash). */
#define SHAPE_REMAIN_MAX ((double)CONF_DURATION_MAX)  /* a longer throttle is corrupt */
int shape_save(struct shape *s, const char *home, double mono, time_t wall);
int shape_restore(struct shape *s, const char *home, double mono, time_t wall, unsigned long *bad);
/* restore's parser over n bytes of text: the count of bad lines. */
unsigned long shape_restore_text(struct shape *s, const char *p, size_t n, double mono, time_t wall);

/* Inside shaping (shape.c, shape_throttle.c): d's local bucket set again
 * (its rate, halved by a halving throttle, divided by a fallback share);
 * a throttle whose time is over ended. */
void shape_bucket_of(struct shape_dest *d);
void shape_throttle_expire(struct shape_dest *d, double mono);

#endif
