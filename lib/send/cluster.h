#ifndef RELAY_CLUSTER_H
#define RELAY_CLUSTER_H
/* Several relay nodes sharing their limits through one Redis (setting
 * shared; doc/cluster.md). A shared destination (send/shape.h: one with
 * a rate, a quota or a ramp) takes its tokens and its quota and ramp
 * slots from Redis in blocks, by Lua scripts run atomically there:
 *
 *   rate    GCRA on relay:rate:KEY (the theoretical arrival time, µs,
 *           Redis's clock): a block of up to cluster_rate_block tokens
 *           a call, the burst one block across the cluster
 *   quota   relay:quota:KEY:PERIOD, ramp relay:ramp:KEY:DAY: counters
 *           that never pass the limit (a block of up to
 *           cluster_count_block slots; the part past the limit is not
 *           granted), expiring after their period
 *   concurrency  relay:lease:KEY (issue 16): a lease per session, with a
 *           TTL, renewed with the heartbeat (CLUSTER_LEASE_*)
 *   throttles    relay:throttles (issue 16): a suspension, halving or
 *           lowered concurrency one node took, read by every node's
 *           heartbeat
 *
 * Blocks a node has not used after CLUSTER_IDLE_S go back (the rate's
 * arrival time moved back, the counters decremented). Every node beats
 * (relay:nodes, a sorted set by time; relay:node:NAME, a hash with its
 * queue depth and its calls), which counts the nodes seen recently.
 *
 * Redis down, or slower than the timeout: each node falls back to its
 * share of every limit (the limit divided by setting shared_nodes, else
 * by the nodes seen the last time Redis answered), logs event=cluster
 * state=fallback once, tries again every few seconds, and logs
 * event=cluster state=shared when it is back. */
#include <stddef.h>
#include <time.h>

#include "send/shape.h"

#define CLUSTER_TIMEOUT_MS 100   /* connect and each call */
#define CLUSTER_IDLE_S     2.0   /* unused blocks go back after this */
#define CLUSTER_BEAT_S     1.0   /* heartbeat */
#define CLUSTER_SEEN_S     30    /* a node counts as seen for this long */
#define CLUSTER_RETRY_MAX_S 5.0  /* reconnect at least this often */
/* issue 16: concurrency leases. A lease lives CLUSTER_LEASE_TTL_S in
 * Redis unless renewed (every beat: a dead node's leases are free after
 * this); one refused is asked again after CLUSTER_LEASE_RETRY_S; leases
 * beyond the most sessions open in a window of CLUSTER_LEASE_IDLE_S go
 * back. That window is longer than a worker keeps an idle connection
 * (WORKER_IDLE_MS): a lease goes back only after its connection closed,
 * so the sessions open at the upstream never pass the limit. */
#define CLUSTER_LEASE_TTL_S   5.0
#define CLUSTER_LEASE_RETRY_S 0.25
#define CLUSTER_LEASE_IDLE_MS 6000   /* > WORKER_IDLE_MS (checked in cluster.c) */
#define CLUSTER_LEASE_IDLE_S  (CLUSTER_LEASE_IDLE_MS / 1000.0)
#define CLUSTER_LEASE_BATCH   16    /* destinations renewed per call */
#define CLUSTER_REASON_MAX    200   /* a shared throttle's reply, kept */

struct cluster;

/* The cluster of setting shared (url) for node (its hostname setting);
 * nodes: setting shared_nodes (0: count them). NULL with err when the
 * URL does not parse (or out of memory). It starts in fallback; the
 * first cluster_tick connects. */
struct cluster *cluster_new(const char *url, const char *node, unsigned nodes, char *err, size_t cap);
void cluster_free(struct cluster *cl);
/* At exit: every block held handed back (when Redis answers), then freed. */
void cluster_end(struct cluster *cl, struct shape *s);
/* Before shape_check on d (shared): take a block of whatever d has run
 * out of. A failure turns the cluster to fallback (s's mode too). */
void cluster_prepare(struct cluster *cl, struct shape *s, struct shape_dest *d, double mono, time_t wall);
/* Once a loop turn: reconnect, heartbeat (queued: the queue's depth),
 * idle blocks handed back. */
void cluster_tick(struct cluster *cl, struct shape *s, double mono, time_t wall, unsigned long queued);
/* Apply the current mode to s (after etc/limits was loaded again). */
void cluster_apply(struct cluster *cl, struct shape *s);
int cluster_shared(const struct cluster *cl);
/* issue 16: a throttle just taken here on dest (shape_throttle_hit said
 * so; reason: the reply) goes to relay:throttles, where every node's
 * heartbeat reads it (shape_throttle_set; event=throttle origin=NODE);
 * code and reason: the reply, kept as "CODE TEXT" (made safe, cut).
 * A longer one already there stays. Nothing when not shared now. */
void cluster_throttle(struct cluster *cl, struct shape *s, const char *dest, int code, const char *reason,
                      double mono);
/* issue 16: setting shared as read at a (re)load: url "" (not set),
 * node the hostname, nodes shared_nodes. A change ends s->cluster (its
 * blocks and leases handed back) and starts the new one (connected now),
 * or turns every limit local (event=cluster state=local). 0, or -1 with
 * err when url does not parse: s->cluster is kept as it was. */
int cluster_configure(struct shape *s, const char *url, const char *node, unsigned nodes, double mono, char *err,
                      size_t cap);
/* Milliseconds until the loop should turn again for the cluster (the
 * heartbeat, a reconnection, a token due for a destination that waits):
 * 0..1000. */
int cluster_wait_ms(struct cluster *cl, double mono);
unsigned long cluster_calls(const struct cluster *cl);

struct buf;
/* relay-qctl cluster: the nodes seen (relay:nodes, each one's hash:
 * queued, calls, beat) and the shared counters (relay:quota:*,
 * relay:ramp:*), as lines "redis URL", "node NAME k=v...", "counter KEY
 * VALUE" into out. 0, or -1 with err (Redis not reachable). */
int cluster_show(const char *url, struct buf *out, char *err, size_t cap);

/* Pure parts (tests/c/t_cluster.c). */
/* Tokens one call takes of a rate: a quarter second's worth, 1..1000. */
unsigned cluster_rate_block(unsigned rate, double per);
/* Slots one call reserves of a quota or ramp of limit: a fiftieth, 1..100. */
unsigned long cluster_count_block(unsigned long limit);
/* The divisor of a node's share in fallback: the setting, else the nodes
 * seen last, else 1. */
unsigned cluster_fallback_div(unsigned setting, unsigned seen);

/* The Lua scripts (for relay-qctl cluster and the tests). */
extern const char cluster_rate_lua[], cluster_count_lua[], cluster_beat_lua[];
extern const char cluster_lease_lua[], cluster_throttle_lua[];   /* issue 16 */

#endif
