/* relay-health: probe every member of every pool (lib/health/probe.c,
 * in parallel by probeset.c), judge each (probe, latency, certificate,
 * error rate from the counters: verdict.c), print one line per member
 * or JSON (report.c), record state/health for relay-send, optionally
 * write a Prometheus textfile. The run's data is lib/health/run.h.
 * Exit codes are Nagios's: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 * doc/relay-health.8 is the reference. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/diag.h"
#include "health/health.h"
#include "health/probeset.h"
#include "health/report.h"
#include "health/run.h"
#include "health/verdict.h"
#include "health/changes.h"   /* events: member_down, member_up */

static struct health_opts O = {
	NULL, NULL, NULL, 20, 5000, 14, HEALTH_EJECT_DEFAULTS
};
static const char *prom;
static int interval = HEALTH_INTERVAL_DEFAULT, json, no_state;
static size_t maxpar;

static void usage(void)
{
	die(NAGIOS_UNKNOWN,
	    "usage: relay-health [-d HOME] [-p POOL] [-t SECONDS] [-i SECONDS] [-j N] [--json] [--prom FILE]\n"
	    "  [--send-test ADDRESS] [--no-state] [--slow MS] [--cert-days N] [--error-window SECONDS]\n"
	    "  [--error-min N] [--error-eject PCT] [--error-warn PCT] [--cooldown SECONDS]");
}

static long num(const char *s, long min, long max)
{
	char *e;
	long v;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < min || v > max)
		usage();
	return v;
}

static double pct(const char *s)
{
	char *e;
	double v = strtod(s, &e);
	if (e == s || *e || !(v >= 0 && v <= 100))
		usage();
	return v;
}

static void options(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'J' }, { "prom", required_argument, 0, 'P' },
		{ "send-test", required_argument, 0, 'S' }, { "no-state", no_argument, 0, 'N' },
		{ "slow", required_argument, 0, 's' }, { "cert-days", required_argument, 0, 'c' },
		{ "error-window", required_argument, 0, 'w' }, { "error-min", required_argument, 0, 'm' },
		{ "error-eject", required_argument, 0, 'e' }, { "error-warn", required_argument, 0, 'W' },
		{ "cooldown", required_argument, 0, 'C' }, { 0, 0, 0, 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "d:p:t:i:j:", lo, NULL)) != -1) {
		switch (c) {
		case 'd': O.home = optarg; break;
		case 'p': O.only_pool = optarg; break;
		case 't': O.deadline_s = (int)num(optarg, 1, 3600); break;
		case 'i': interval = (int)num(optarg, 1, 86400); break;
		case 'j': maxpar = (size_t)num(optarg, 1, 1024); break;
		case 'J': json = 1; break;
		case 'P': prom = optarg; break;
		case 'S': O.send_to = optarg; break;
		case 'N': no_state = 1; break;
		case 's': O.slow_ms = num(optarg, 1, 3600000); break;
		case 'c': O.cert_days = num(optarg, 0, 3650); break;
		case 'w': O.ej.window = num(optarg, 60, 3600); break;
		case 'm': O.ej.min = (unsigned long)num(optarg, 1, 1000000000); break;
		case 'e': O.ej.eject_pct = pct(optarg); break;
		case 'W': O.ej.warn_pct = pct(optarg); break;
		case 'C': O.ej.cooldown = num(optarg, 0, 86400); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!O.home)
		O.home = getenv("RELAY_HOME");
	if (!O.home || !*O.home)
		O.home = "/var/relay";
}

int main(int argc, char **argv)
{
	struct health_state prev = HEALTH_STATE_INIT, cur = HEALTH_STATE_INIT;
	struct health_run run;
	struct buf out = BUF_INIT;
	struct timespec t0, t1;
	char err[512];
	time_t now;
	int status;

	diag_init(argv[0]);
	options(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (health_run_load(&run, &O, err, sizeof err) < 0)
		die(NAGIOS_UNKNOWN, "%s", err);
	if (health_read(O.home, &prev) < 0) {
		warn_sys("unable to read %s/%s; starting afresh", O.home, HEALTH_FILE);
		health_free(&prev);
	}
	fflush(stdout);
	if (probeset_run(run.jobs, run.nt, maxpar) < 0)
		die_sys(NAGIOS_UNKNOWN, "unable to start probes");
	health_run_wipe_auth(&run);
	now = time(NULL);
	health_run_counts(&run, &prev, now);
	status = health_run_judge(&run, &prev, now);

	if ((json ? health_report_json(&out, &run, now, status) : health_report_lines(&out, &run, now)) < 0)
		die(NAGIOS_UNKNOWN, "out of memory");
	fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);

	if (!no_state) {
		if (health_run_state(&run, &prev, now, interval, &cur) < 0)
			die(NAGIOS_UNKNOWN, "out of memory");
		/* events: the verdict changes, recorded before the file that
		 * holds them (a crash between repeats them, never loses one) */
		health_record_changes(O.home, &prev, &cur);
		if (health_write(O.home, &cur) < 0) {
			warn_sys("unable to write %s/%s", O.home, HEALTH_FILE);
			status = NAGIOS_UNKNOWN;
		}
	}
	if (prom) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (health_report_prom(&run, prom, now,
		                       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9) < 0)
			status = NAGIOS_UNKNOWN;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		status = NAGIOS_UNKNOWN;
	health_run_free(&run);
	health_free(&prev);
	health_free(&cur);
	return status;
}
