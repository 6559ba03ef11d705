#ifndef RELAY_PROBESET_H
#define RELAY_PROBESET_H
/* Run many probes (probe.h) at once, one child process each, at most
 * maxpar at a time. Each child gets the deadline; the parent kills (SIGKILL)
 * a child still running PROBESET_GRACE_MS after its deadline and records
 * "timeout" for it, so one stalled relay never holds up the others and
 * the whole run ends within deadline + grace when n <= maxpar. */
#include <stddef.h>
#include "health/probe.h"

#define PROBESET_GRACE_MS 1000
#define PROBESET_PAR_DEFAULT 64

struct probe_job {
	struct probe_opts o;
	struct probe_result r;
};

/* 0, or -1 when no child could be started at all (errno). Jobs whose
 * child could not be started get stage "internal". */
int probeset_run(struct probe_job *jobs, size_t n, size_t maxpar);

#endif
