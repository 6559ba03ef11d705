#ifndef RELAY_HEALTH_RUN_H
#define RELAY_HEALTH_RUN_H
/* One relay-health run, as data passed from step to step (no globals):
 * the members of every pool in etc/pools and the relays behind them,
 * each relay probed once however many pools name it. The steps, in the
 * order cmd/relay-health.c wires them:
 *   health_run_load       etc/pools, etc/tls, etc/auth, etc/settings (here)
 *   probeset_run          the probes (probeset.h) on run.jobs
 *   health_run_counts     state/counters of each relay (verdict.h)
 *   health_run_judge      a verdict for each member (verdict.h)
 *   health_report_*       lines, JSON, Prometheus (report.h)
 *   health_run_state      the new state/health (here) */
#include <limits.h>
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"
#include "health/counters.h"
#include "health/health.h"
#include "health/probeset.h"

/* The exit codes of relay-health: Nagios's. */
enum { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };

#define HEALTH_POOLS_MAX 256

/* Error-rate ejection: thresholds (relay-health options, defaults here). */
struct health_eject {
	long window;        /* seconds of counters looked at [600] */
	unsigned long min;  /* fewer events than this: no verdict [20] */
	double eject_pct;   /* deferred+bounced over this percentage: down [5] */
	double warn_pct;    /* over this: degraded [2] */
	long cooldown;      /* an ejected member stays down this long at least [600] */
};
#define HEALTH_EJECT_DEFAULTS {600, 20, 5.0, 2.0, 600}

struct health_opts {
	const char *home;
	const char *only_pool;   /* -p: NULL for every pool */
	const char *send_to;     /* --send-test: NULL for none */
	int deadline_s;          /* -t: one deadline per probe [20] */
	long slow_ms;            /* --slow [5000] */
	long cert_days;          /* --cert-days [14] */
	struct health_eject ej;
};

struct health_target {          /* one relay, probed once for every pool naming it */
	char key[HEALTH_MEMBER_MAX + 1]; /* host:port, lowercase */
	char host[CONF_HOST_MAX + 1];
	char ca[PATH_MAX];
	struct conf_auth au;        /* wiped once the probes ran */
	struct counts win, hour;    /* state/counters: the ejection window, the last hour */
	int err_verdict;            /* HS_* by the error rate alone */
	double err_pct;
};

struct health_row {             /* one pool member */
	size_t pool;
	int target;                 /* index into targets; -1: mx, not probed */
	int state;                  /* HS_* */
	char reason[HEALTH_REASON_MAX + 1];
	time_t since;
};

struct health_run {
	const struct health_opts *o;
	char (*pools)[CONF_NAME_MAX + 1];
	size_t npools;
	struct health_target *targets;
	struct probe_job *jobs;     /* jobs[i] probes targets[i] */
	size_t nt;
	struct health_row *rows;    /* in etc/pools order */
	size_t nr;
	char helo[256];             /* settings: helo */
	char sender[300];           /* settings: postmaster, the test message's sender */
};

/* Read the pools (only o->only_pool when set) and each relay's TLS and
 * AUTH policy (conf_member_policy, as relay-send does). 0, or -1 with
 * err filled (the run is UNKNOWN); run is zeroed first and needs
 * health_run_free either way. */
int health_run_load(struct health_run *run, const struct health_opts *o, char *err, size_t errcap);
/* Wipe the AUTH passwords: once the probes ran they are not needed. */
void health_run_wipe_auth(struct health_run *run);
void health_run_free(struct health_run *run);
/* The member name of a row: its relay's key, or "mx". */
const char *health_row_member(const struct health_run *run, const struct health_row *w);
/* The state/health to write after the run: the rows, and with -p the
 * other pools' lines from prev. 0, or -1 (ENOMEM). */
int health_run_state(const struct health_run *run, const struct health_state *prev,
                     time_t now, long interval, struct health_state *cur);

#endif
