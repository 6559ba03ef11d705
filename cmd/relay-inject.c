/* relay-inject: reads a message on stdin, checks it, completes its header
 * and hands it to relay-queue (or $RELAYQUEUE). sendmail compatible: as
 * sendmail, mailq or newaliases, and -bs (relay-smtpd), -bp, -bi, -q.
 * Wiring only: the options are lib/intake/sendopts.c, the envelope is lib/intake/envelope.c, local names
 * lib/intake/aliases.c, the completion lib/intake/complete.c, the
 * hand-over lib/intake/submit.c, the queue walk lib/queue/admin.c. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
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
#include "base/prog.h"
#include "bounce/suppress.h"
#include "bounce/unsub.h"
#include "events/intake.h"   /* events: the suppressed record */
#include "conf/conf.h"
#include "intake/aliases.h"
#include "intake/complete.h"
#include "intake/envelope.h"
#include "intake/msg.h"
#include "intake/sendopts.h"
#include "intake/submit.h"
#include "queue/admin.h"
#include "queue/queue.h"
#include "send/explain.h"   /* shape2 (issue 12): -bv */

/* Settings hostname and maxsize (0 means the default). */
static void settings(const char *home, char *host, size_t cap, unsigned long *maxsize)
{
	struct buf v = BUF_INIT;
	int r = conf_setting_value(home, "hostname", &v);
	if (r < 0 || conf_setting_number(home, "maxsize", maxsize) < 0)
		die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
	if (r == 0 || v.len >= cap)
		die(EXIT_TEMP, "setting hostname: no usable host name");
	memcpy(host, v.p, v.len + 1);
	buf_free(&v);
	if (*maxsize == 0)
		*maxsize = MSG_SIZE_DEFAULT;
}

static void check(int status, const char *err)
{
	if (status)
		die(status, "%s", err);
}

/* The suppression list: hard bounces of the past (relay-bounce). */
static void check_suppressed(const char *home, const struct envelope *e)
{
	size_t k;
	for (k = 0; k < e->nrcpt; k++) {
		struct suppress_entry se;
		/* the plain key, then the one scoped to the sender's domain (RFC 8058) */
		int s = unsub_suppressed(home, e->rcpt[k], e->sender, &se);
		if (s < 0)
			die_sys(EXIT_TEMP, "unable to read the suppression list");
		if (s > 0) {
			events_suppressed(home, "relay-inject", e->rcpt[k], e->sender, se.reason);   /* events */
			die(EXIT_PERM, "refused: <%s> is suppressed (%s); "
			    "remove it with: relay-bounce suppress remove %s", e->rcpt[k], se.reason, se.addr);
		}
	}
}

/* -bs: the SMTP dialogue on fd 0/1 is relay-smtpd's, for the local
 * user as the authenticated identity. */
static void smtp(const char *user)
{
	char prog[PATH_MAX];
	if (prog_find("relay-smtpd", "RELAYSMTPD", prog, sizeof prog) < 0)
		die_sys(EXIT_TEMP, "unable to find relay-smtpd");
	execl(prog, prog, "-u", user, (char *)NULL);
	if (errno == ENOENT)
		die(EXIT_PERM, "option -bs is not supported here: no relay-smtpd at %s", prog);
	die_sys(EXIT_TEMP, "unable to run %s", prog);
}

/* -bp, mailq: lib/queue/admin.c */
static int list(void)
{
	char err[PATH_MAX + 64];
	if (qadmin_mailq(stdout, err, sizeof err) < 0)
		die_sys(EXIT_TEMP, "%s", err);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

/* -bi, newaliases: relay-config's compile (every table, all or nothing),
 * then what etc/aliases holds, in sendmail's words. */
static int newaliases(const char *home)
{
	struct conf c;
	struct buf k = BUF_INIT, v = BUF_INIT;
	unsigned long n = 0;
	size_t longest = 0, total = 0;
	int r = conf_compile(home, 0);
	if (r != 0)
		return r > 0 ? EXIT_PERM : EXIT_TEMP;
	if (conf_open(&c, home, "aliases") < 0)
		die_sys(EXIT_TEMP, "unable to read etc/aliases.cdb");
	conf_rewind(&c);
	while ((r = conf_each(&c, &k, &v)) == 1) {
		size_t len = k.len + 2 + v.len;  /* "name: value" */
		n++;
		total += len;
		if (len > longest)
			longest = len;
	}
	conf_close(&c);
	buf_free(&k);
	buf_free(&v);
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read etc/aliases.cdb");
	printf("%s/etc/aliases: %lu alias%s, longest %zu bytes, %zu bytes total "
	       "(every table in etc/ compiled, as by relay-config)\n",
	       home, n, n == 1 ? "" : "es", longest, total);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

int main(int argc, char **argv)
{
	struct sendopts o = {0};
	const char *home;
	char host[256], user[64], err[512], trace[64];
	unsigned long maxsize;
	struct buf in = BUF_INIT, m = BUF_INIT, out = BUF_INIT, env = BUF_INIT;
	struct msg_headers h;
	struct envelope e;
	struct complete c;
	struct submit s;
	struct passwd *pw;
	int i, r;

	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	home = relay_home();
	if (strcmp(progname, "mailq") == 0)
		o.mode = M_LIST;
	else if (strcmp(progname, "newaliases") == 0)
		o.mode = M_ALIASES;
	/* shape2 (issue 12): -bv is relay-qctl explain for the envelope
	 * relay-inject would make (lib/send/explain.c); nothing queued */
	if (explain_bv_asked(argc, argv)) {
		pw = getpwuid(getuid());
		return explain_bv(home, pw && pw->pw_name ? pw->pw_name : "nobody", argc, argv);
	}
	i = sendopts_parse(argc, argv, &o);
	if (o.mode != M_SUBMIT && i < argc)
		die(EXIT_PERM, "no recipients with -bs, -bp, -bi or -q (or as mailq or newaliases)");
	pw = getpwuid(getuid());
	snprintf(user, sizeof user, "%s", pw && pw->pw_name ? pw->pw_name : "nobody");
	switch (o.mode) {
	case M_SUBMIT: break;
	case M_SMTP: smtp(user); break;
	case M_LIST: return list();
	case M_ALIASES: return newaliases(home);
	case M_NOTHING: return 0;
	case M_FLUSH:
		errno = 0;
		if (qadmin_wake() == 0)
			return 0;
		/* the pid file or the process is another uid's */
		if (errno == EACCES || errno == EPERM)
			die_sys(EXIT_TEMP, "unable to wake relay-send (run sendmail -q as root)");
		die(EXIT_TEMP, "relay-send is not running (no queue/relay-send.pid or no such process)");
	}
	settings(home, host, sizeof host, &maxsize);

	/* 1. the message, normalized, and its header section */
	if (read_fd(0, &in, (size_t)maxsize) < 0) {
		if (errno == EFBIG)
			die(EXIT_PERM, "message larger than the limit of %lu bytes", maxsize);
		die_sys(EXIT_TEMP, "unable to read the message");
	}
	check(complete_parse(in.p ? in.p : "", in.len, !o.i, &m, &h, err, sizeof err), err);
	buf_free(&in);

	/* 2. the envelope: sender, recipients (local names through
	 * etc/aliases unless -n), class */
	envelope_init(&e, host);
	check(envelope_sender(&e, o.sender, user, err, sizeof err), err);
	check(complete_one_from(m.p, &h, err, sizeof err), err);
	for (; i < argc; i++)
		check(envelope_rcpt_arg(&e, argv[i], err, sizeof err), err);
	e.class = o.class;
	check(envelope_dsn_mail(&e, o.dsn_ret, o.dsn_envid, err, sizeof err), err);
	check(envelope_dsn_notify_all(&e, o.dsn_notify, err, sizeof err), err);
	check(envelope_header(&e, m.p, &h, o.t, err, sizeof err), err);
	if (!o.n)
		check(aliases_expand(home, &e, err, sizeof err), err);
	if (e.nrcpt == 0)
		die(EXIT_PERM, "refused: no recipients");
	check_suppressed(home, &e);
	check(envelope_class_check(&e, err, sizeof err), err);

	/* 3. the message as queued, and the hand-over */
	snprintf(trace, sizeof trace, "(relay-inject invoked by uid %lu)", (unsigned long)getuid());
	c = (struct complete){ .host = host, .sender = e.sender, .fullname = o.fullname,
	                       .trace = trace, .now = (long long)time(NULL), .maxsize = maxsize };
	check(complete_message(&c, m.p, m.len, &h, &out, err, sizeof err), err);
	if (envelope_records(&e, &env) < 0)
		die(EXIT_TEMP, "out of memory");
	if ((r = submit(&s, out.p, out.len, env.p, env.len, o.v)) != 0) {
		submit_describe(&s, err, sizeof err);
		die(r, "%s", err);
	}
	if (o.v && s.id[0])
		printf("%s\n", s.id);

	envelope_free(&e);
	msg_headers_free(&h);
	buf_free(&m);
	buf_free(&out);
	buf_free(&env);
	return 0;
}
