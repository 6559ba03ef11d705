#ifndef RELAY_CSUPPRESS_H
#define RELAY_CSUPPRESS_H
/* issue 16 share: the suppression list across the nodes (doc/cluster.md).
 * Intake stays a local CDB lookup (bounce/suppress.h); relay-send passes
 * the local changes out and the others' in, about once a second:
 *
 *   push  the journal (bounce/sjournal.h) from its offset, in entries of
 *         up to CSUPPRESS_CHUNK bytes, XADD to the stream relay:suppress
 *         (MAXLEN ~ CSUPPRESS_STREAM_MAX) with node=HOSTNAME; once all of
 *         it is in, the journal is truncated (under the list's lock)
 *   pull  XREAD after the last id seen: the other nodes' entries applied
 *         in one change (suppress_apply, not journaled: nothing echoes);
 *         a node without a cursor reads the whole stream
 *
 * $RELAY_HOME/state/suppress.cursor  (relayq's, 0600) "CS1 OFFSET ID":
 * the journal's bytes pushed, the stream's last id read; written
 * atomically after each step. A crash between a step and its cursor
 * does the step again: a duplicate in the stream, applied twice, which
 * changes nothing. Redis down: the journal keeps the records; they go
 * out when it is back. */
#include <stddef.h>
#include <time.h>

#include "send/redis.h"

#define CSUPPRESS_CURSOR      "suppress.cursor"   /* in state/ */
#define CSUPPRESS_KEY         "relay:suppress"
#define CSUPPRESS_STREAM_MAX  "10000"             /* entries kept (MAXLEN ~) */
#define CSUPPRESS_CHUNK       (16 * 1024)         /* bytes of records an entry: the stream stays
                                                     under 10000 x 16 KB, mostly far less */
#define CSUPPRESS_PUSH_MAX    16                  /* entries pushed a tick */
#define CSUPPRESS_READ_COUNT  "100"               /* entries read a call */
#define CSUPPRESS_READ_MAX    10                  /* calls a tick */
#define CSUPPRESS_ID_MAX      63

struct csuppress {
	const char *home;
	char node[256];
	long long off;                    /* journal bytes pushed */
	char last[CSUPPRESS_ID_MAX + 1];  /* stream id read, "0": none */
	int loaded;                       /* the cursor was read */
	int warned;                       /* the journal could not be read: said once */
	unsigned long pushed, applied;    /* records, since the start */
};

void csuppress_init(struct csuppress *cs, const char *home, const char *node);
/* Push, then pull. 0, or -1 when Redis failed (err; the connection may
 * be closed: the caller reconnects later). Local errors are warned. */
int csuppress_tick(struct csuppress *cs, struct rconn *r, time_t now, char *err, size_t cap);

#endif
