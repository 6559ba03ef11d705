/* relay-bounce: delivery status notifications, reply classification, the
 * suppression list and the delivery counters. Wiring only: the logic is
 * in lib/dsn.c, lib/classify.c, lib/suppress.c and lib/counters.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "bounce/classify.h"
#include "health/counters.h"
#include "conf/conf.h"
#include "base/diag.h"
#include "bounce/dsn.h"
#include "base/fileio.h"
#include "bounce/suppress.h"

/* How much of the queue file to read: the largest envelope, the largest
 * header section, and the message up to bounce_size_limit. A bigger
 * message comes back as headers only, so reading on would be waste. */
#define ORIGINAL_CAP(limit) ((size_t)RCPT_MAX * (ADDR_PATH_MAX + 3) + 4096 + \
                             HEADER_MAX + (size_t)(limit))
#define RECORDS_MAX  (16UL * 1024 * 1024)

static const char *home;

static void __attribute__((noreturn)) usage(void)
{
	die(EXIT_PERM, "usage: relay-bounce dsn 3<records <queuefile | "
	    "classify REPLY | suppress list [--json] | suppress add ADDR [REASON] | "
	    "suppress remove ADDR | suppress check ADDR | suppress rebuild | "
	    "counters relay|domain NAME [SECONDS] | "
	    "counters add relay|domain NAME delivered|deferred|bounced N");
}

/* ---- settings: etc/settings.cdb, key = setting name; absent file or
 * key = the default. A read error is not "absent": exit 111. */

static int setting(const char *key, char *val, size_t cap)
{
	struct buf v = BUF_INIT;
	int r = conf_setting(home, key, &v);
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
	if (r > 0) {
		if (v.len >= cap)
			die(EXIT_TEMP, "setting %s: value too long", key);
		memcpy(val, v.p, v.len + 1);
	}
	buf_free(&v);
	return r;
}

/* "90d", "12h", "30m", "45s", "2w" or plain seconds. */
static long setting_duration(const char *key, long def)
{
	char v[64], *end;
	long n, mul = 1;
	if (!setting(key, v, sizeof v))
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	switch (*end) {
	case 0: case 's': break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 7 * 86400; break;
	default: end = v;
	}
	if (errno || end == v || n < 0 || (*end && end[1]) || n > 3650L * 86400 / mul)
		die(EXIT_TEMP, "setting %s: bad duration: %s", key, v);
	return n * mul;
}

static long setting_number(const char *key, long def)
{
	char v[64], *end;
	long n;
	if (!setting(key, v, sizeof v))
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 0)
		die(EXIT_TEMP, "setting %s: bad number: %s", key, v);
	return n;
}

static void hostname(char *out, size_t cap)
{
	size_t n;
	if (!setting("hostname", out, cap) && gethostname(out, cap - 1) < 0)
		die_sys(EXIT_TEMP, "unable to get the host name");
	out[cap - 1] = 0;
	n = strlen(out);
	if (n == 0 || strspn(out, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
		die(EXIT_TEMP, "setting hostname: not a host name");
}

static void load_rules(struct classify_table *t)
{
	char p[PATH_MAX], err[512];
	snprintf(p, sizeof p, "%s/etc/classify", home);
	if (classify_load(t, p, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
}

/* ---- the queue program */

static void queue_program(char *out, size_t cap)
{
	const char *q = getenv("RELAYQUEUE");
	char self[PATH_MAX];
	ssize_t n;
	if (q && *q) {
		snprintf(out, cap, "%s", q);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *s;
		self[n] = 0;
		s = strrchr(self, '/');
		if (s && (size_t)(s - self) + sizeof "/relay-queue" <= cap) {
			memcpy(out, self, (size_t)(s - self));
			strcpy(out + (s - self), "/relay-queue");
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, cap, "relay-queue");
}

/* Hand msg to the queue program with envelope F<> T<to>. Returns the
 * exit code for relay-bounce: 0, EXIT_TEMP or EXIT_PERM. */
static int enqueue(const struct buf *msg, const char *to)
{
	char prog[PATH_MAX];
	int m[2], e[2], st, werr = 0;
	struct buf env = BUF_INIT;
	pid_t pid;

	queue_program(prog, sizeof prog);
	if (buf_add(&env, "F\0T", 3) < 0 || buf_add(&env, to, strlen(to) + 1) < 0 ||
	    buf_add(&env, "", 1) < 0)
		die_sys(EXIT_TEMP, "out of memory");
	if (pipe(m) < 0 || pipe(e) < 0)
		die_sys(EXIT_TEMP, "unable to make a pipe");
	pid = fork();
	if (pid < 0)
		die_sys(EXIT_TEMP, "unable to fork");
	if (pid == 0) {
		char *argv[] = {prog, NULL};
		if (dup2(m[0], 0) < 0 || dup2(e[0], 1) < 0)
			_exit(81);
		close(m[0]); close(m[1]); close(e[0]); close(e[1]);
		signal(SIGPIPE, SIG_DFL);  /* SIG_IGN would survive exec */
		execvp(prog, argv);
		warn_sys("unable to run %s", prog);
		_exit(81);  /* qmail-queue's "internal bug": temporary */
	}
	close(m[0]);
	close(e[0]);
	/* qmail-queue reads the whole message, then the envelope. */
	if (write_all(m[1], msg->p, msg->len) < 0)
		werr = errno;
	close(m[1]);
	if (!werr && write_all(e[1], env.p, env.len) < 0)
		werr = errno;
	close(e[1]);
	buf_free(&env);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die_sys(EXIT_TEMP, "unable to wait for %s", prog);
	if (WIFSIGNALED(st)) {
		warn_("%s killed by signal %d: DSN not queued", prog, WTERMSIG(st));
		return EXIT_TEMP;
	}
	st = WEXITSTATUS(st);
	if (st == 0 && werr) {
		errno = werr;
		warn_sys("%s exited 0 but did not take the whole DSN", prog);
		return EXIT_TEMP;
	}
	if (st == 0)
		return 0;
	/* qmail-queue: 11..40 permanent, every other code temporary. */
	warn_("%s exited %d: DSN not queued (%s)", prog, st,
	      st >= 11 && st <= 40 ? "permanent" : "temporary");
	return st >= 11 && st <= 40 ? EXIT_PERM : EXIT_TEMP;
}

/* ---- relay-bounce dsn */

static void suppress_failed(const struct dsn_records *rs, const struct classify_table *t)
{
	long expiry = setting_duration("suppression_expiry", SUPPRESS_EXPIRY_DEFAULT);
	size_t i;
	for (i = 0; i < rs->n; i++) {
		const struct dsn_record *r = &rs->r[i];
		struct classify_result cr;
		char reason[512], safe[SUPPRESS_REASON_MAX + 1];
		if (r->action != DSN_FAILED || r->status[0] != '5')
			continue;
		classify(t, 0, r->status, r->diag, &cr);
		if (!classify_suppressible(&cr))
			continue;
		safe_text(safe, sizeof safe, r->diag, strlen(r->diag));
		snprintf(reason, sizeof reason, "%s %s %s",
		         classify_category_name(cr.category), r->status, safe);
		if (suppress_add(home, r->rcpt, reason, time(NULL), expiry) < 0)
			warn_sys("unable to add %s to the suppression list", r->rcpt);
	}
}

static int cmd_dsn(void)
{
	struct buf orig = BUF_INIT, recs = BUF_INIT, dsn = BUF_INIT;
	struct dsn_records rs = DSN_RECORDS_INIT;
	struct dsn_original o;
	struct dsn_opts opt;
	struct classify_table t = CLASSIFY_TABLE_INIT;
	char host[256], pm[ADDR_PATH_MAX + 1], err[256], why[128];
	const char *reason;
	int truncated = 0, code;
	long hops, limit;

	if (read_fd(3, &recs, RECORDS_MAX) < 0) {
		if (errno == EBADF)
			die(EXIT_PERM, "no failure records on fd 3");
		if (errno == EFBIG)
			die(EXIT_PERM, "failure records larger than %lu bytes", RECORDS_MAX);
		die_errno("unable to read the failure records");
	}
	close(3);  /* not for the queue program */
	limit = setting_number("bounce_size_limit", DSN_SIZE_LIMIT_DEFAULT);
	if (limit > 1L << 30)
		limit = 1L << 30;
	if (read_fd(0, &orig, ORIGINAL_CAP(limit)) < 0) {
		if (errno == EBADF)
			die(EXIT_PERM, "no queue file on fd 0");
		if (errno != EFBIG)
			die_sys(EXIT_TEMP, "unable to read the queue file");
		truncated = 1;  /* enough for the envelope and headers */
	}
	if (dsn_parse_records(recs.p ? recs.p : "", recs.len, &rs, err, sizeof err) < 0)
		die(errno == ENOMEM ? EXIT_TEMP : EXIT_PERM, "%s", err);
	if (dsn_parse_original(orig.p ? orig.p : "", orig.len, &o, &reason) < 0)
		die(EXIT_PERM, "%s", reason);
	hostname(host, sizeof host);
	load_rules(&t);
	hops = setting_number("hopcount_limit", DSN_HOPCOUNT_DEFAULT);

	memset(&opt, 0, sizeof opt);
	opt.hostname = host;
	opt.to = o.sender;
	opt.size_limit = limit;
	opt.now = time(NULL);
	opt.truncated = truncated;
	why[0] = 0;
	if (!o.sender[0])
		snprintf(why, sizeof why, "the message had the null sender <>");
	else if (hops && o.received > (unsigned long)hops)
		snprintf(why, sizeof why, "the message has %lu Received: lines (a mail loop?)",
		         o.received);
	if (why[0]) {
		if (!setting("postmaster", pm, sizeof pm) || !pm[0]) {
			char s[300];
			safe_text(s, sizeof s, o.sender, strlen(o.sender));
			warn_("no DSN for sender <%s>: %s; no postmaster set: dropped", s, why);
			suppress_failed(&rs, &t);
			code = 0;
			goto done;
		}
		opt.to = pm;
		opt.why_not_sender = why;
	}
	if (dsn_build(&opt, &o, rs.r, rs.n, &dsn) < 0)
		die_sys(EXIT_TEMP, "unable to build the DSN");
	code = enqueue(&dsn, opt.to);
	if (code == 0)
		suppress_failed(&rs, &t);
done:
	buf_free(&dsn);
	buf_free(&orig);
	buf_free(&recs);
	dsn_records_free(&rs);
	classify_table_free(&t);
	return code;
}

/* ---- relay-bounce classify */

static int cmd_classify(int argc, char **argv)
{
	struct classify_table t = CLASSIFY_TABLE_INIT;
	struct classify_result r;
	if (argc != 3)
		usage();
	load_rules(&t);
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

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int list_one(const struct suppress_entry *e, void *arg)
{
	int *json = arg;
	char f[64], l[64], x[64];
	time_t now = time(NULL);
	if (*json) {
		printf("%s{\"address\":", json[1]++ ? ",\n " : "");
		json_str(e->addr);
		printf(",\"first_seen\":%lld,\"last_seen\":%lld,\"expires\":%lld,\"expired\":%s,\"reason\":",
		       (long long)e->first, (long long)e->last, (long long)e->expires,
		       e->expires && e->expires <= now ? "true" : "false");
		json_str(e->reason);
		putchar('}');
		return 0;
	}
	strftime(f, sizeof f, "%Y-%m-%dT%H:%M:%SZ", gmtime(&e->first));
	strftime(l, sizeof l, "%Y-%m-%dT%H:%M:%SZ", gmtime(&e->last));
	if (e->expires)
		strftime(x, sizeof x, "%Y-%m-%dT%H:%M:%SZ", gmtime(&e->expires));
	else
		strcpy(x, "never");
	printf("%s first=%s last=%s expires=%s%s reason=%s\n", e->addr, f, l, x,
	       e->expires && e->expires <= now ? " (expired)" : "", e->reason);
	return 0;
}

static int cmd_suppress(int argc, char **argv)
{
	const char *sub = argc > 2 ? argv[2] : "";
	if (strcmp(sub, "list") == 0) {
		int json[2] = {argc == 4 && strcmp(argv[3], "--json") == 0, 0};
		if (argc > 4 || (argc == 4 && !json[0]))
			usage();
		if (json[0])
			putchar('[');
		if (suppress_each(home, list_one, json) < 0)
			die_list("read");
		if (json[0])
			puts("]");
	} else if (strcmp(sub, "add") == 0 && (argc == 4 || argc == 5)) {
		char a[ADDR_PATH_MAX + 1];
		if (suppress_normalize(argv[3], a, sizeof a) < 0)
			die(EXIT_PERM, "not an address: %s", argv[3]);
		if (suppress_add(home, a, argc == 5 ? argv[4] : "added by hand", time(NULL),
		                 setting_duration("suppression_expiry", SUPPRESS_EXPIRY_DEFAULT)) < 0)
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
	usage();
}
