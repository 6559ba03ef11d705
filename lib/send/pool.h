#ifndef RELAY_POOL_H
#define RELAY_POOL_H
/* Choosing a pool member: failover, round-robin, smooth weighted
 * round-robin, and the cooling of members that failed. Pure logic (no
 * I/O), so tests can drive it. Times are monotonic seconds. */
#include "conf/conf.h"
#include "send/shape.h"

#define COOL_BASE 15.0    /* seconds: cooldown = COOL_BASE * p^2 ... */
#define COOL_MAX  3600.0  /* ... capped at an hour */

struct member_state {
	double cool_until;  /* not used before this time */
	unsigned penalty;   /* consecutive failures */
	long current;       /* smooth weighted round-robin */
	int down;           /* skipped: marked down by relay-health */
	int health_down;    /* relay-health's last word (for the log) */
	unsigned active;    /* sessions now open (the scheduler keeps it) */
	unsigned limit;     /* concurrency limit, 0 = none */
	struct shape_bucket bucket; /* etc/limits rate= (send/shape.h) */
};

struct pool_state {
	char name[CONF_NAME_MAX + 1];
	struct conf_pool cfg;
	struct member_state ms[CONF_POOL_MAX];
	size_t rr;
};

void pool_init(struct pool_state *p, const char *name, const struct conf_pool *cfg);
/* The member to use next, or -1 when every member is tried, cooling,
 * down or (round-robin, weighted) busy. tried: a bit per member already
 * tried in this attempt. *busy is set when a member would do but has no
 * free session slot (the caller waits rather than defers). */
int pool_pick(struct pool_state *p, double now, unsigned long tried, int *busy);
/* The same, asking veto(ctx, i) of each member that would do: POOL_OK,
 * POOL_BUSY (it would do soon: failover waits for it, the others try the
 * next member and set *busy) or POOL_SKIP (not now: the next member, as
 * if tried). Traffic shaping's quotas and suspensions (send/shaping.h). */
enum { POOL_OK, POOL_BUSY, POOL_SKIP };
int pool_pick_veto(struct pool_state *p, double now, unsigned long tried, int *busy,
                   int (*veto)(void *ctx, int i), void *ctx);
void pool_failed(struct pool_state *p, int i, double now);
/* A transaction was handed to member i at now: one session slot and one
 * token of its rate. */
void pool_used(struct pool_state *p, int i, double now);
void pool_succeeded(struct pool_state *p, int i);
/* Member i's transaction is over: its session slot is free again. */
void pool_released(struct pool_state *p, int i);
/* Earliest time a cooling member is usable again (0: one is usable). */
double pool_ready_at(const struct pool_state *p, double now);
/* Some member of the pool delivers to the recipient's MX hosts (its
 * transactions then go one recipient domain each). */
int pool_has_mx(const struct pool_state *p);
/* How a member is named in the log and to pick a worker: "mx:DOMAIN"
 * for an MX member (domain: the recipients'), else "host:port". */
void pool_member_name(const struct conf_member *cm, const char *domain, char *out, size_t cap);

#endif
