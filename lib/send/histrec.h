#ifndef RELAY_HISTREC_H
#define RELAY_HISTREC_H
/* relay-send's per-minute history for the status page (issue 13),
 * written to state/history/ (health/history.h): each configured relay's
 * delivered, deferred and failed counts of a minute, one pwrite of one
 * slot when the minute is over (or at the end, or on a reload), and one
 * sample of the queue a minute. Counting is in memory: a name looked up
 * among at most HISTORY_RELAYS_MAX, no file touched per recipient.
 * Names are the configured members (host:port) and "mx" for every MX
 * delivery, so a file is never made for a name the configuration does not
 * have. State: struct histrec, held by struct record (send/record.h). */
#include <stddef.h>
#include "health/counters.h"
#include "health/history.h"
#include "send/record.h"
#include "send/sendconf.h"

struct histrec_relay {
	char name[COUNTERS_NAME_MAX + 1];
	long long minute;           /* the minute v counts, when dirty */
	unsigned long long v[3];    /* delivered, deferred, failed */
	int dirty;
};

struct histrec {
	struct histrec_relay r[HISTORY_RELAYS_MAX];
	size_t n;
	long long queue_minute;     /* the last minute with a queue sample */
	long long fixed;            /* RELAY_HISTORY_TIME (tests): seconds, or -1 */
};

/* The relays of c become the names counted (what was counted under the
 * old configuration is written first). Reads RELAY_HISTORY_TIME once. */
void record_history_config(struct record *r, const struct sendconf *c);
/* One outcome through relay (pool_member_name's form). */
void record_history_count(struct record *r, const char *relay, enum counter_type type);
/* Write the minutes that are over; with force, every count now. */
void record_history_flush(struct record *r, int force);
/* The queue now: one slot a minute at most (the first call in a minute). */
void record_history_queue(struct record *r, size_t messages, size_t active, size_t due);
void record_history_free(struct record *r);
#endif
