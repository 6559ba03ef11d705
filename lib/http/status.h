#ifndef RELAY_HTTP_STATUS_H
#define RELAY_HTTP_STATUS_H
/* What GET /v1/status and GET /metrics say, from what is on disk:
 *   the queue        queue/qscan.h when relay-httpd may read queue/ (a
 *                    home of one's own), else the relay_queue_messages
 *                    samples relay-health wrote in state/health/metrics.prom
 *                    (relayw cannot read queued mail: doc/security.md)
 *   relay health     state/health/status (health/health.h)
 *   throughput       state/counters/relay/NAME: per-minute buckets of the
 *                    last hour (health/counters.h), per relay
 *   queue history    state/history/queue: relay-send's sample of each
 *                    minute of the last 24 hours (health/history.h)
 *   relay history    state/history/relay/NAME: delivered, deferred and
 *                    failed per minute of the last 24 hours, per relay
 * Both are files relay-send keeps, so a restarted relay-httpd plots the
 * same 24 hours; relay-httpd keeps no ring of its own (issue 13: the one
 * it had started empty at each start and counted what relay-send knows
 * better). relayw reads state/history/ as any user (0755 and 0644).
 * /metrics is metrics.prom as relay-health wrote it, then relay-httpd's own
 * samples (relay_httpd_*) and the per-relay counts of the last hour
 * (relay_relay_events_last_hour), in the Prometheus text format. */
#include <pthread.h>
#include "http/recent.h"
#include <time.h>
#include "base/buf.h"

#define STATUS_RELAYS_MAX 64    /* relays shown (state/counters/relay/) */

struct status_point {
	unsigned long queued, deferred, held;
};

struct status {
	const char *home;
	pthread_mutex_t lock;              /* the counters and the statics of status.c */
	unsigned long long accepted, refused, requests;
	unsigned long long by_code[6];     /* 1xx..5xx, [0] unused */
	struct recent rec;                 /* oldest message, last events (http/recent.h) */
};

void status_init(struct status *s, const char *home);
/* One answered request with HTTP status code (accepted: a 202 for a
 * message). */
void status_count(struct status *s, int code);
int status_json(struct status *s, time_t now, struct buf *out);
int status_metrics(struct status *s, time_t now, struct buf *out);
#endif
