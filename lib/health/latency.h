#ifndef RELAY_LATENCY_H
#define RELAY_LATENCY_H
/* Delivery latency per relay as a Prometheus histogram (issue 13):
 * relay-send writes, relay-httpd's /metrics reads, with this one parser.
 *
 * $RELAY_HOME/state/counters/latency/NAME    NAME = relay (host:port)
 *     "RL1\n" then one line "COUNT SUM B0 B1 ... B10\n": deliveries since
 *     the file was made, the sum of their latencies in seconds, and how
 *     many fell in each bucket (not cumulative; the reader sums them):
 *     bucket k holds latency <= latency_bounds[k] and > the bound before;
 *     the last is +Inf. A counter: it only grows (Prometheus sees a reset
 *     when the file is removed).
 * $RELAY_HOME/state/counters/latency.lock    flock(2) held by the writer
 *
 * The latency of a delivery is the time from the start of its attempt
 * (relay-send takes the message from the ready list) to the relay's 2xx
 * for the recipient: signing, the connection (or a reused one) and the
 * transaction. */
#include <time.h>

#define LATENCY_NB 11

extern const double latency_bounds[LATENCY_NB - 1];

struct latency {
	unsigned long long count, b[LATENCY_NB];
	double sum;
};

/* Count one delivery that took seconds. */
void latency_observe(struct latency *l, double seconds);
/* Add l to name's file (lock, read, add, atomic_write). 0 or -1 (errno;
 * EINVAL: a name counters_name_ok refuses as a relay). */
int latency_add(const char *home, const char *name, const struct latency *l);
/* Read name's file: 1 read, 0 no file (l zero), -1 error (errno; EPROTO:
 * not in the format). */
int latency_read(const char *home, const char *name, struct latency *l);
#endif
