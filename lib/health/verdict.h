#ifndef RELAY_HEALTH_VERDICT_H
#define RELAY_HEALTH_VERDICT_H
/* relay-health's verdict on each pool member (doc/relay-health.8,
 * "Verdicts" and "Error-rate ejection"): from its probe, its latency,
 * its certificate, its error rate in state/counters (counters.h, the one
 * reader), and its line in the last state/health. */
#include <time.h>

#include "health/counters.h"
#include "health/health.h"
#include "health/run.h"

/* The verdict on counts c alone: HS_DOWN (over eject_pct), HS_DEGRADED
 * (over warn_pct), HS_UP (under, or fewer than min events). *pct gets
 * the rate. */
int health_error_verdict(const struct health_eject *t, const struct counts *c, double *pct);

/* The probe's steps added up (the test message left out): what --slow
 * compares. */
long health_probe_ms(const struct probe_result *r);
/* Whole days the certificate has left at now; negative once expired. */
long health_cert_days(const struct probe_result *r, time_t now);

/* Read each relay's counters: the ejection window (only the events
 * since the member last changed state, from prev) and the last hour;
 * then its error verdict. A counters file that cannot be read is a
 * warning and counts nothing. */
void health_run_counts(struct health_run *run, const struct health_state *prev, time_t now);
/* A verdict for every row (after the probes and health_run_counts);
 * returns the run's Nagios status: OK, WARNING (a member not up), or
 * CRITICAL (a pool with no live member). Ejections and returns after
 * the cool-down are logged (warn_). */
int health_run_judge(struct health_run *run, const struct health_state *prev, time_t now);

#endif
