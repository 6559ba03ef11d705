#ifndef RELAY_COUNTERS_H
#define RELAY_COUNTERS_H
/* Delivery, deferral and bounce counts per relay (host:port) and per
 * sender domain, in per-minute buckets over the last hour, for
 * relay-health's error-rate thresholds. doc/bounce.md has the format:
 *
 * $RELAY_HOME/state/counters/KIND/NAME   KIND = relay | domain
 *     "RC1\n", then one line per minute that saw events:
 *     "MINUTE DELIVERED DEFERRED BOUNCED\n"  (MINUTE = epoch / 60)
 *     Buckets older than COUNTERS_BUCKETS minutes are dropped on write.
 * $RELAY_HOME/state/counters/lock         flock(2) held by every writer
 *
 * A writer takes the lock, reads, adds, and replaces the file with
 * atomic_write, so a reader (no lock) sees the old or the new file.
 * relay-send batches its calls: at most one a second per name.
 * The writers are relay-send and relay-bounce; relay-health and
 * relay-bounce read with counters_window_at, the one parser of the
 * format. */
#include <time.h>

#define COUNTERS_BUCKETS 60     /* minutes kept */
#define COUNTERS_NAME_MAX 255

enum counter_type { COUNTER_DELIVERED, COUNTER_DEFERRED, COUNTER_BOUNCED };

struct counts {
	unsigned long long delivered, deferred, bounced;
};

/* 1 if kind is "relay" or "domain" and name is usable as a file name
 * (printable ASCII, no '/', no leading '.', at most COUNTERS_NAME_MAX);
 * host names and domains are lowercased by the caller. */
int counters_name_ok(const char *kind, const char *name);
/* issue 13 totals: the writers' common start: make state/counters/SUB
 * (each of its '/'-separated parts, mode 0755), open state/counters/LOCK
 * and hold flock(2) on it. The locked fd (close it to unlock), or -1. */
int counters_lock(const char *home, const char *sub, const char *lock);
/* Add n events of one type now. 0 or -1 (errno; EINVAL bad name). */
int counters_add(const char *home, const char *kind, const char *name,
                 enum counter_type type, unsigned long n);
/* Add a batch at time now. 0 or -1. */
int counters_add_at(const char *home, const char *kind, const char *name,
                    const struct counts *c, time_t now);
/* Sum of the buckets of the last `seconds` (rounded up to whole minutes,
 * at most COUNTERS_BUCKETS minutes, the current minute included).
 * 1 counted, 0 no file yet (out is zero), -1 error (errno). */
int counters_window(const char *home, const char *kind, const char *name,
                    long seconds, struct counts *out);
int counters_window_at(const char *home, const char *kind, const char *name,
                       long seconds, time_t now, struct counts *out);

#endif
