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
 *   queue history    a ring in memory: one sample a minute (status_sample,
 *                    from relay-httpd's main thread), 24 hours. It starts
 *                    empty when relay-httpd starts: the queue's past is not
 *                    on disk, and a plot of the last 24 h that forgets a
 *                    restart is worth less than a file to keep.
 * /metrics is metrics.prom as relay-health wrote it, then relay-httpd's own
 * samples (relay_httpd_*) and the per-relay counts of the last hour
 * (relay_relay_events_last_hour), in the Prometheus text format. */
#include <pthread.h>
#include "http/recent.h"
#include <time.h>
#include "base/buf.h"

#define STATUS_HISTORY   1440   /* samples: 24 h at one a minute */
#define STATUS_RELAYS_MAX 64    /* relays shown (state/counters/relay/) */

struct status_point {
	time_t t;
	unsigned long queued, deferred, held;
};

struct status {
	const char *home;
	pthread_mutex_t lock;              /* the ring and the counters */
	struct status_point ring[STATUS_HISTORY];
	size_t head, n;
	unsigned long long accepted, refused, requests;
	unsigned long long by_code[6];     /* 1xx..5xx, [0] unused */
	struct recent rec;                 /* oldest message, last events (http/recent.h) */
};

void status_init(struct status *s, const char *home);
/* Count the queue now and append the sample to the ring. 0 or -1. */
int status_sample(struct status *s, time_t now);
/* One answered request with HTTP status code (accepted: a 202 for a
 * message). */
void status_count(struct status *s, int code);
int status_json(struct status *s, time_t now, struct buf *out);
int status_metrics(struct status *s, time_t now, struct buf *out);
#endif
