#ifndef RELAY_HEALTH_REPORT_H
#define RELAY_HEALTH_REPORT_H
/* What relay-health prints and writes after a run (doc/relay-health.8,
 * "Output"): one key=value line per member, or one JSON document, and
 * the Prometheus textfile (prom.h writes the format). */
#include <time.h>

#include "base/buf.h"
#include "health/run.h"

/* One line per member, in etc/pools order. 0, or -1 (ENOMEM). */
int health_report_lines(struct buf *b, const struct health_run *run, time_t now);
/* {"time":N,"status":N,"members":[...]} and a newline. 0, or -1 (ENOMEM). */
int health_report_json(struct buf *b, const struct health_run *run, time_t now, int status);
/* The metrics of the run (members, probe steps, certificates, counters,
 * the queue by state and class) written atomically to path. run_s: how
 * long the run took. 0, or -1 (warned). */
int health_report_prom(const struct health_run *run, const char *path, time_t now, double run_s);

#endif
