#ifndef RELAY_QSCAN_H
#define RELAY_QSCAN_H
/* Queue depth by state and class, for metrics: every queue/msg/XX/ID
 * envelope (its C line) is "queued", or "deferred" when info/XX/ID has a
 * retry line (R...: at least one attempt failed); every queue/hold/ID is
 * "held". Read-only, no lock: a message moving during the scan may be
 * counted in the old or the new place, or missed once. */
#include <stddef.h>
#include <time.h>
#include "conf/conf.h"

#define QSCAN_CLASSES_MAX 256   /* more distinct classes go to "other" */

struct qscan_class {
	char name[CONF_NAME_MAX + 1];
	unsigned long queued, deferred, held;
};
struct qscan {
	size_t n;
	struct qscan_class c[QSCAN_CLASSES_MAX];
	unsigned long unreadable;   /* envelopes that did not parse */
	time_t oldest;              /* the earliest arrival in queue/msg/ (held mail not counted), 0: none */
};

/* 0, or -1 when queue/ cannot be read (errno). */
int qscan_run(const char *home, struct qscan *q);

#endif
