#ifndef RELAY_SHARE_H
#define RELAY_SHARE_H
/* issue 16 share: what relay-send shares through the Redis of setting
 * shared besides the limits (send/cluster.h), with a connection of its
 * own, once every SHARE_TICK_S (doc/cluster.md):
 *
 *   the suppression list   send/csuppress.h (stream relay:suppress,
 *                          hash relay:suppress:set)
 *   relay-health's verdicts  when this node's state/health/status is
 *           fresh and new, its lines go to the hash relay:health
 *           (send/share_parse.h); each tick the hash is read, and the
 *           fresh verdicts of the other nodes become sendconf's
 *           cluster_health, which sendconf_health_refresh uses for the
 *           members this node's own status does not cover (none, or
 *           stale): event=member_down ... source=cluster
 *
 * A verdict older than SHARE_HEALTH_FORGET_S leaves the hash (HDEL by
 * any reader): members removed from the pools do not stay forever.
 * Redis down: logged once (event=share state=unreachable), tried again
 * every SHARE_RETRY_S; the journal keeps the local changes, the verdicts
 * read last count until they go stale by their own WHEN and INTERVAL. */
#include "base/buf.h"
#include "send/sendconf.h"

#define SHARE_TICK_S     1.0
#define SHARE_RETRY_S    2.0
#define SHARE_TIMEOUT_MS 100
#define SHARE_HEALTH_KEY "relay:health"
#define SHARE_VERDICTS_MAX HEALTH_ENTRIES_MAX
#define SHARE_HEALTH_FORGET_S 86400   /* a verdict this old leaves the hash (a member gone) */

struct share;

/* From setting shared (and hostname: the node's name) of home: NULL when
 * it is not set, or cannot be read or parsed (warned). */
struct share *share_new(const char *home);
void share_free(struct share *sh);
/* Once a loop turn (a no-op between ticks); sh NULL: clears the others'
 * verdicts from c (setting shared removed). */
void share_tick(struct share *sh, struct sendconf *c);
/* How long the loop may wait: ms to the next tick, -1 for sh NULL. */
int share_wait_ms(const struct share *sh);
/* relay-qctl cluster: "suppress stream relay:suppress entries=N",
 * "suppress set relay:suppress:set entries=N" and a
 * "health POOL MEMBER STATE ..." line per shared verdict. 0 or -1 (err). */
int share_show(const char *url, struct buf *out, char *err, size_t cap);

#endif
