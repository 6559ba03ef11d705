#ifndef RELAY_HEALTH_CHANGES_H
#define RELAY_HEALTH_CHANGES_H
/* events: relay-health's verdict changes as event records (doc/events.md):
 * member_down for a member whose state is down in cur and was not in
 * prev (or was not there), member_up for one that was down in prev and is
 * not in cur. A member gone from cur (no longer configured) is not a
 * change. Spool only: relay-health's stdout is its report. Returns the
 * number of records written. */
#include <stddef.h>
#include "health/health.h"
size_t health_record_changes(const char *home, const struct health_state *prev,
                             const struct health_state *cur);
#endif
