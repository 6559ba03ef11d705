#ifndef RELAY_TOTREC_H
#define RELAY_TOTREC_H
/* relay-send's batching of the cumulative counts per relay, per pool and
 * of DKIM signatures per domain (issue 13 totals), written with
 * record_counters_flush to state/counters/totals/ (health/totals.h). */
#include "base/buf.h"
#include "health/counters.h"
#include "health/totals.h"
#include "send/record.h"

struct record_total {
	enum totals_kind kind;
	char name[COUNTERS_NAME_MAX + 1];
	struct totals t;
};

/* One outcome of a recipient through relay in pool (NULL or "": none). */
void record_totals_count(struct record *r, const char *relay, const char *pool, enum counter_type type);
/* One transaction moved from relay to the next member of pool. */
void record_totals_failover(struct record *r, const char *relay, const char *pool);
/* A signature relay-dkim made: the DKIM-Signature fields in sig, one
 * count per field for its d= domain. */
void record_totals_dkim(struct record *r, const struct buf *sig);
/* Write and forget what was counted (warns on a write error). */
void record_totals_flush(struct record *r);
/* Forget it unwritten. */
void record_totals_drop(struct record *r);
#endif
