#ifndef RELAY_LATREC_H
#define RELAY_LATREC_H
/* relay-send's batching of delivery latencies per relay (issue 13),
 * written with record_counters_flush to state/counters/latency/
 * (health/latency.h). */
#include "health/counters.h"
#include "health/latency.h"
#include "send/record.h"

struct record_latency {
	char name[COUNTERS_NAME_MAX + 1];
	struct latency l;
};

/* One delivery through relay that took seconds. */
void record_latency(struct record *r, const char *relay, double seconds);
/* Write and forget what was counted (warns on a write error). */
void record_latency_flush(struct record *r);
/* Forget it unwritten. */
void record_latency_drop(struct record *r);
#endif
