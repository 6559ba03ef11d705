#ifndef RELAY_CSUPPRESS_H
#define RELAY_CSUPPRESS_H
/* issue 16 share: the suppression list across the nodes (doc/cluster.md).
 * Intake stays a local CDB lookup (bounce/suppress.h); relay-send passes
 * the local changes out and the others' in, about once a second:
 *
 *   push  the journal (bounce/sjournal.h) from its offset, in entries of
 *         up to CSUPPRESS_CHUNK bytes, XADD to the stream relay:suppress
 *         (MAXLEN ~ CSUPPRESS_STREAM_MAX) with node=HOSTNAME, and in the
 *         same Lua script (atomically, one call an entry) the hash
 *         relay:suppress:set kept current: "add ADDR REST" is HSET ADDR
 *         REST, "del ADDR" HDEL ADDR; once all of it is in, the journal
 *         is truncated (under the list's lock)
 *   pull  XREAD after the last id seen: the other nodes' entries applied
 *         in one change (suppress_apply, not journaled: nothing echoes)
 *   refresh  (issue 16 sset) when the node has no cursor (new) or the
 *         stream's first entry is newer than its cursor (trimmed past
 *         it: a gap), the set is the authority: the stream's last id is
 *         recorded first, then HSCAN of the set, CSUPPRESS_SCAN_CALLS
 *         calls of COUNT CSUPPRESS_SCAN_COUNT a tick (the scan cursor in
 *         memory), each tick's entries applied as adds in one change
 *         (expired ones skipped, and HDELed if still the same), then the
 *         journal's unpushed records applied again over them (a local
 *         change made during the step wins: it is newer); at the scan's
 *         end the cursor becomes the recorded id and XREAD goes on from
 *         there (what came meanwhile is read again: idempotent). A
 *         refresh never removes a local entry; removals travel only as
 *         del records. A restart or a reload (share_new again)
 *         mid-refresh begins it again.
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
#define CSUPPRESS_SET_KEY     "relay:suppress:set"
#define CSUPPRESS_STREAM_MAX  "10000"             /* entries kept (MAXLEN ~); tests:
                                                     RELAY_TEST_SUPPRESS_STREAM_MAX */
#define CSUPPRESS_CHUNK       (16 * 1024)         /* bytes of records an entry: the stream stays
                                                     under 10000 x 16 KB, mostly far less */
#define CSUPPRESS_PUSH_MAX    16                  /* entries pushed a tick */
#define CSUPPRESS_READ_COUNT  "100"               /* entries read a call */
#define CSUPPRESS_READ_MAX    10                  /* calls a tick */
#define CSUPPRESS_ID_MAX      63
#define CSUPPRESS_SCAN_COUNT  "1000"              /* HSCAN COUNT of a refresh */
#define CSUPPRESS_SCAN_CALLS  3                   /* HSCAN calls a tick: about 3000 entries
                                                     applied a second, 100,000 in ~35 s */

struct csuppress {
	const char *home;
	char node[256];
	long long off;                    /* journal bytes pushed */
	char last[CSUPPRESS_ID_MAX + 1];  /* stream id read, "0": none */
	int loaded;                       /* the cursor was read */
	int warned;                       /* the journal could not be read: said once */
	unsigned long pushed, applied;    /* records, since the start */
	char stream_max[16];              /* MAXLEN ~ of the pushes */
	char sha_push[41], sha_edges[41], sha_drop[41];   /* the scripts' (redis.h) */
	/* the full refresh from relay:suppress:set */
	int refreshing;                   /* a scan in progress */
	int refreshed;                    /* one done in this run (a "0" cursor is then no gap) */
	const char *why;                  /* "new" or "gap" */
	char scan[32];                    /* the HSCAN cursor */
	char rid[CSUPPRESS_ID_MAX + 1];   /* the stream's last id when it began */
	unsigned long rrecs, rexpired, rbad;   /* entries applied, expired, not parsing: this refresh */
};

void csuppress_init(struct csuppress *cs, const char *home, const char *node);
/* Push, then pull. 0, or -1 when Redis failed (err; the connection may
 * be closed: the caller reconnects later). Local errors are warned. */
int csuppress_tick(struct csuppress *cs, struct rconn *r, time_t now, char *err, size_t cap);

#endif
