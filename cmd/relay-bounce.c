/* relay-bounce: delivery status notifications, reply classification, the
 * suppression list and the delivery counters. Wiring only: the logic is
 * in lib/bounce/ (bounce.c: the steps of "dsn"; dsn.c, classify.c,
 * suppress.c) and lib/health/counters.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "bounce/bounce.h"
#include "bounce/classify.h"
#include "bounce/dsn.h"
#include "bounce/suppress.h"
#include "bounce/unsub.h"   /* httpd (issue 13) */
#include "health/counters.h"
#include "intake/submit.h"

static const char *home;

static void __attribute__((noreturn)) usage(void)
{
	die(EXIT_PERM, "usage: relay-bounce dsn 3<records <queuefile | "
	    "classify REPLY | suppress list [--json] | suppress add ADDR [REASON] | "
	    "suppress remove ADDR | suppress check ADDR | suppress rebuild | "
	    "counters relay|domain NAME [SECONDS] | "
	    "counters add relay|domain NAME delivered|deferred|bounced N | "
	    "unsubscribe");   /* httpd (issue 13) */
}

static int enqueue(const struct buf *msg, const char *to);

/* ---- relay-bounce dsn */

static int cmd_dsn(void)
{
	struct buf orig = BUF_INIT, recs = BUF_INIT, dsn = BUF_INIT;
	struct bounce_dsn d;
	char err[512];
	int truncated = 0, code;
	long limit;

	if (read_fd(3, &recs, BOUNCE_RECORDS_MAX) < 0) {
		if (errno == EBADF)
			die(EXIT_PERM, "no failure records on fd 3");
		if (errno == EFBIG)
			die(EXIT_PERM, "failure records larger than %zu bytes", BOUNCE_RECORDS_MAX);
		die_errno("unable to read the failure records");
	}
	close(3);  /* not for the queue program */
	if (bounce_size_limit(home, &limit, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
	if (read_fd(0, &orig, BOUNCE_ORIGINAL_CAP(limit)) < 0) {
		if (errno == EBADF)
			die(EXIT_PERM, "no queue file on fd 0");
		if (errno != EFBIG)
			die_sys(EXIT_TEMP, "unable to read the queue file");
		truncated = 1;  /* enough for the envelope and headers */
	}
	code = bounce_dsn_prepare(&d, home, &recs, &orig, limit, truncated, time(NULL),
	                          err, sizeof err);
	if (code)
		die(code, "%s", err);
	if (!d.opt.to) {
		char s[300];
		safe_text(s, sizeof s, d.o.sender, strlen(d.o.sender));
		warn_("no DSN for sender <%s>: %s: dropped", s, d.why);
		bounce_suppress_failed(home, &d, time(NULL));
		code = 0;
	} else {
		/* more than DSN_RECORDS_MAX: one report per part, so that every
		 * message reaches a terminal state. A failure after a part was
		 * queued repeats that part at the next attempt (a duplicate,
		 * never a loss). */
		size_t i, k;
		for (i = 0, code = 0; i < d.nrep && code == 0; i += k) {
			k = d.nrep - i < DSN_RECORDS_MAX ? d.nrep - i : DSN_RECORDS_MAX;
			dsn.len = 0;
			if (dsn_build(&d.opt, &d.o, d.rep + i, k, &dsn) < 0)
				die_sys(EXIT_TEMP, "unable to build the DSN");
			code = enqueue(&dsn, d.opt.to);
		}
		if (code == 0 && dsn_parts(d.nrep) > 1)
			warn_("%zu failed recipients: %zu DSNs queued", d.nrep, dsn_parts(d.nrep));
		if (code == 0)
			bounce_suppress_failed(home, &d, time(NULL));
	}
	buf_free(&dsn);
	buf_free(&orig);
	buf_free(&recs);
	bounce_dsn_free(&d);
	return code;
}

/* ---- relay-bounce classify */

static int cmd_classify(int argc, char **argv)
{
	struct classify_table t = CLASSIFY_TABLE_INIT;
	struct classify_result r;
	char err[512];
	if (argc != 3)
		usage();
	if (classify_load_home(&t, home, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
	classify(&t, 0, NULL, argv[2], &r);
	printf("category=%s kind=%s action=%s rule=%s\n", classify_category_name(r.category),
	       classify_kind_name(r.kind), classify_action_name(r.action),
	       r.rule >= 0 ? "etc/classify" : "default");
	classify_table_free(&t);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

/* ---- relay-bounce suppress */

static void __attribute__((noreturn)) die_list(const char *what)
{
	if (errno == EPROTO)
		die(EXIT_PERM, "%s/state/suppress: a line does not parse; fix it, then "
		    "run relay-bounce suppress rebuild", home);
	die_errno("unable to %s %s/state/suppress", what, home);
}

struct listing {
	int json;
	size_t n;
	time_t now;
	struct buf out;
};

static int list_one(const struct suppress_entry *e, void *arg)
{
	struct listing *l = arg;
	l->out.len = 0;
	if ((l->json && l->n++ && buf_adds(&l->out, ",\n ") < 0) ||
	    suppress_format(&l->out, e, l->json, l->now) < 0) {
		errno = ENOMEM;
		return -1;
	}
	fwrite(l->out.p, 1, l->out.len, stdout);
	return 0;
}

static int cmd_suppress(int argc, char **argv)
{
	const char *sub = argc > 2 ? argv[2] : "";
	char err[512];
	if (strcmp(sub, "list") == 0) {
		struct listing l = {argc == 4 && strcmp(argv[3], "--json") == 0, 0, time(NULL), BUF_INIT};
		if (argc > 4 || (argc == 4 && !l.json))
			usage();
		if (l.json)
			putchar('[');
		if (suppress_each(home, list_one, &l) < 0)
			die_list("read");
		if (l.json)
			puts("]");
		buf_free(&l.out);
	} else if (strcmp(sub, "add") == 0 && (argc == 4 || argc == 5)) {
		char a[ADDR_PATH_MAX + 1];
		unsigned long expiry;
		if (suppress_normalize(argv[3], a, sizeof a) < 0)
			die(EXIT_PERM, "not an address: %s", argv[3]);
		if (bounce_expiry(home, &expiry, err, sizeof err) < 0)
			die(EXIT_TEMP, "%s", err);
		if (suppress_add(home, a, argc == 5 ? argv[4] : "added by hand", time(NULL),
		                 (long)expiry) < 0)
			die_list("update");
	} else if (strcmp(sub, "remove") == 0 && argc == 4) {
		int r = suppress_remove(home, argv[3]);
		if (r < 0)
			die_list("update");
		if (r == 0)
			warn_("%s was not on the suppression list", argv[3]);
	} else if (strcmp(sub, "check") == 0 && argc == 4) {
		struct suppress_entry e;
		int r = suppress_lookup(home, argv[3], &e);
		if (r < 0)
			die_sys(EXIT_TEMP, "unable to read %s/state/suppress.cdb", home);
		printf("suppressed=%s\n", r ? "yes" : "no");
	} else if (strcmp(sub, "rebuild") == 0 && argc == 3) {
		if (suppress_rebuild(home) < 0)
			die_list("rebuild");
	} else
		usage();
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

/* ---- relay-bounce counters */

static int cmd_counters(int argc, char **argv)
{
	struct counts c = {0, 0, 0};
	if (argc == 7 && strcmp(argv[2], "add") == 0) {
		char *end;
		unsigned long n = strtoul(argv[6], &end, 10);
		enum counter_type ty;
		if (!*argv[6] || *end)
			usage();
		if (strcmp(argv[5], "delivered") == 0)
			ty = COUNTER_DELIVERED;
		else if (strcmp(argv[5], "deferred") == 0)
			ty = COUNTER_DEFERRED;
		else if (strcmp(argv[5], "bounced") == 0)
			ty = COUNTER_BOUNCED;
		else
			usage();
		if (counters_add(home, argv[3], argv[4], ty, n) < 0)
			die_errno("unable to update counters for %s %s", argv[3], argv[4]);
		return 0;
	}
	if (argc != 4 && argc != 5)
		usage();
	if (counters_window(home, argv[2], argv[3],
	                    argc == 5 ? strtol(argv[4], NULL, 10) : 3600, &c) < 0)
		die_errno("unable to read counters for %s %s", argv[2], argv[3]);
	printf("delivered=%llu deferred=%llu bounced=%llu\n", c.delivered, c.deferred, c.bounced);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

int main(int argc, char **argv)
{
	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	home = getenv("RELAY_HOME");
	if (!home || !*home)
		home = "/var/relay";
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "dsn") == 0 && argc == 2)
		return cmd_dsn();
	if (strcmp(argv[1], "classify") == 0)
		return cmd_classify(argc, argv);
	if (strcmp(argv[1], "suppress") == 0)
		return cmd_suppress(argc, argv);
	if (strcmp(argv[1], "counters") == 0)
		return cmd_counters(argc, argv);
	/* httpd (issue 13): apply relay-httpd's one-click unsubscribe requests
	 * (state/unsub/, bounce/unsub.h) as relay-bounce's uid */
	if (strcmp(argv[1], "unsubscribe") == 0 && argc == 2) {
		size_t n, bad;
		if (unsub_apply(home, time(NULL), &n, &bad) < 0)
			die_errno("unable to apply the requests in %s/state/unsub", home);
		printf("applied=%zu bad=%zu\n", n, bad);
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	usage();
}

/* ---- the queue program: lib/intake/submit.c */

/* Hand msg to the queue program with envelope F<> T<to>. Returns the
 * exit code for relay-bounce: 0, EXIT_TEMP or EXIT_PERM. */
static int enqueue(const struct buf *msg, const char *to)
{
	struct buf env = BUF_INIT;
	struct submit s;
	char *rcpt[1] = {(char *)to}, why[PATH_MAX + 256];
	int r;
	if (submit_envelope(&env, NULL, "", rcpt, 1) < 0)
		die_sys(EXIT_TEMP, "out of memory");
	r = submit(&s, msg->p, msg->len, env.p, env.len, 0);
	buf_free(&env);
	if (r && s.code > 0 && s.code != QQ_EXEC)
		warn_("%s exited %d: DSN not queued (%s, %s)", s.prog, s.code,
		      submit_exit_text(s.code), r == EXIT_PERM ? "permanent" : "temporary");
	else if (r) {
		submit_describe(&s, why, sizeof why);
		warn_("DSN not queued: %s", why);
	}
	return r;
}
