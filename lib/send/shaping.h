#ifndef RELAY_SHAPING_H
#define RELAY_SHAPING_H
/* Traffic shaping as relay-send's deliver.c uses it: the keys of a
 * transaction (send/shape.h) for a pool member and recipient domain,
 * member choice with quotas, ramps and suspensions, the counting around
 * a transaction, cooling by the destination actually tried, and the
 * throttle rules and retry hints of a reply. The state is struct
 * sendconf's shape (etc/limits, loaded by sendconf_load; counts in
 * state/shaping). Each function wraps the pool.h call it replaces. */
#include "net/smtp.h"
#include "send/sendconf.h"

/* Load etc/limits (c->limits open) into c->shape; at start-up also the
 * counts of state/shaping. Called by sendconf_load. */
void shaping_load(struct sendconf *c);
/* pool_pick with the shaping limits of each member for domain. *why is
 * set ("" or the limit that left no member: "quota", "suspended", ...). */
int shaping_pick(struct sendconf *c, struct pool_state *p, const char *domain, double now,
                 unsigned long tried, int *busy, const char **why);
/* The deferral text when no member is left: "no member of the pool is
 * available", or the shaping limit that left none ("quota of every
 * member spent", ...). */
const char *shaping_defer_why(const char *why);
void shaping_used(struct sendconf *c, struct pool_state *p, int mi, const char *domain, double now);
void shaping_released(struct sendconf *c, struct pool_state *p, int mi, const char *domain);
/* The member failed: cool the destination tried (a relay member in its
 * pool; for MX the recipient domain, never the whole mx member).
 * Returns when the cooling ends. */
double shaping_failed(struct sendconf *c, struct pool_state *p, int mi, const char *domain, double now);
void shaping_succeeded(struct sendconf *c, struct pool_state *p, int mi, const char *domain);
/* A reply from member mi: the throttle rules of the classification
 * table (bounce/classify.h) act on the member's destination (relay
 * member, or the domain's site, else the domain); logs event=throttle. */
void shaping_reply(struct sendconf *c, struct pool_state *p, int mi, const char *domain,
                   const struct smtp_result *r, double now);
/* A local refusal by member mi (the message needs 8BITMIME or SMTPUTF8,
 * or is over its SIZE) while the pool has a member not tried yet: 1, the
 * recipients go to the next member (and mi is not cooled: it is no
 * fault of its own); else 0 (a bounce when no member is left). */
int shaping_local_failover(const struct pool_state *p, unsigned long tried, int mi,
                           const struct smtp_result *r);
struct attempt;
/* An attempt that is retried at due: when a pending recipient's last
 * reply was a 4xx with a retry hint (shape_retry_hint), the shortest
 * hint, kept within the class's retry schedule (its shortest and longest
 * interval), sets the time instead. The info file keeps the schedule's
 * time, so after a restart the retry is never earlier than hinted. */
double shaping_retry_due(struct sendconf *c, const struct attempt *a, double due);
/* Once a loop turn: state/shaping written when counts changed (at most
 * once a second). */
void shaping_tick(struct sendconf *c);
/* cluster (issue 16, send/cluster.h): once a loop turn, with the queue's
 * depth for the heartbeat; nothing without setting shared. */
void shaping_cluster_tick(struct sendconf *c, unsigned long queued);
/* -1 without setting shared; else the milliseconds (0..1000) the loop
 * may wait at most (cluster_wait_ms). */
int shaping_cluster_wait_ms(struct sendconf *c);
/* The keys of member cm for domain into keys (at most 2): its relay
 * "host:port", or the domain and its site. Returns how many. */
size_t shaping_keys(struct sendconf *c, const struct conf_member *cm, const char *domain, double now,
                    char keys[2][SHAPE_KEY_MAX]);

#endif
