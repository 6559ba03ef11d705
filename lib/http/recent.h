#ifndef RELAY_HTTP_RECENT_H
#define RELAY_HTTP_RECENT_H
/* The status page's "oldest message" and "last events" (issue 13). The
 * events come from the event spool through events/stream.h, read on from
 * where the last call stopped (the whole spool once, at the first call),
 * so each call costs only what was written since; the last RECENT_MAX
 * records are kept. uid relayw reads state/events/ through group relaye
 * (doc/security.md); without it the list is empty. Not locked: the caller
 * holds status.h's lock. */
#include <stddef.h>
#include "base/buf.h"
#include "events/stream.h"

#define RECENT_MAX 20
#define RECENT_REC_MAX 2048    /* a longer record is shown cut (a flat "text") */
#define RECENT_STEP 100000     /* records read per call at most */

struct recent {
	struct evstream ev;
	int open;
	char *last[RECENT_MAX];
	size_t head, n;
};

void recent_free(struct recent *r);
/* Append ,"oldest": {"id", "arrival", "age"} | null, "events": [newest
 * first, each the stream's JSON record] to out. 0 or -1 (ENOMEM). */
int recent_json(struct recent *r, const char *home, long long now, struct buf *out);
#endif
