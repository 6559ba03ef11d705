/* relay-queue: reads a message on fd 0 and an envelope on fd 1 (the
 * qmail-queue protocol) and commits both to the queue as one file.
 * See doc/relay-queue.8 and doc/queue.md for the crash argument. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/evlog.h"     /* events: the received record */
#include "base/evspool.h"   /* events */
#include "base/fileio.h"
#include "queue/commit.h"
#include "queue/queue.h"
#include "queue/dsnrec.h"   /* dsn: the E R N O records */
#include "conf/conf.h"
#include "base/timers.h"
#include "intake/qqread.h"
#include "intake/submit.h"   /* qmail-queue's exit codes, QQ_* */

/* The commit in progress: the alarm handler removes c.tmp while c.ours. */
static struct queue_commit c;
/* the largest envelope on fd 1 */
#define ENV_MAX ((size_t)RCPT_MAX * (ADDR_PATH_MAX + 2) + 1024)
/* relay-queue -S (the session mode, submit.h): a failure is answered on
 * fd 1 before the exit */
static int session_mode;

#ifdef __SANITIZE_ADDRESS__
/* The sanitizer build: LeakSanitizer cannot run in a setuid program (it
 * needs ptrace-like access to itself); ASan's other checks stay on. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

static void reply(int code, const char *id)
{
	char p[64], line[80];
	int n = id ? snprintf(p, sizeof p, "0 %s", id) : snprintf(p, sizeof p, "%d", code);
	n = snprintf(line, sizeof line, "%d:%s,", n, p);
	/* a caller that went away learns nothing more; the message is
	 * queued or not whatever happens here */
	(void)!write_all(1, line, (size_t)n);
}

static void quit(int code, const char *why)
{
	if (c.ours)
		unlink(c.tmp);
	if (session_mode)
		reply(code, NULL);
	if (why)
		fprintf(stderr, "relay-queue: fatal: %s\n", why);
	_exit(code);
}

static void quit_sys(int code, const char *what)
{
	char m[PATH_MAX + 128];
	snprintf(m, sizeof m, "%s: %s", what, strerror(errno));
	quit(code, m);
}

/* Only async-signal-safe calls here (unlink, write, _exit). An alarm
 * after the rename exits 53 with the message published: a duplicate if
 * the caller retries, never a loss. */
static void on_alarm(int sig)
{
	static const char m[] = "relay-queue: fatal: timed out\n";
	(void)sig;
	if (c.ours)
		unlink(c.tmp);
	if (write(2, m, sizeof m - 1) < 0) {
		/* nothing more can be said */
	}
	_exit(QQ_WRITE);
}

/* Setting maxsize: absent or 0 means MSG_SIZE_DEFAULT. A file that cannot
 * be read, or a value relay-config would not write, is never taken for
 * the default (EPROTO covers both, so both are temporary). */
static unsigned long long max_size(void)
{
	unsigned long v;
	int r = conf_setting_number(relay_home(), "maxsize", &v);
	if (r < 0)
		quit_sys(QQ_WRITE, "unable to read etc/settings.cdb");
	return r == 0 || v == 0 ? MSG_SIZE_DEFAULT : v;
}

static void report_id(const char *id)
{
	const char *s = getenv(SUBMIT_IDFD_ENV);
	char line[QUEUE_ID_LEN + 2];
	int fd;
	if (!s || !*s)
		return;
	fd = atoi(s);
	if (fd < 3)
		return;
	snprintf(line, sizeof line, "%s\n", id);
	/* the message is queued whatever happens here; the id is a courtesy */
	(void)!write_all(fd, line, strlen(line));
}

static void create(void)
{
	if (queue_commit_begin(&c) < 0) {
		char m[PATH_MAX + 64];
		if (errno == EEXIST || !c.tmp[0])
			quit(QQ_WRITE, c.what);
		snprintf(m, sizeof m, "unable to create %s", c.tmp);
		c.tmp[0] = 0;
		quit_sys(QQ_WRITE, m);
	}
}

/* dsn: the E R N O items of fd 1, checked and placed by queue/dsnrec.c */
static int dsn_item(void *arg, const char *p, size_t avail, struct buf *recs, size_t *used,
                    const char **why)
{
	return dsnrec_item(arg, p, avail, recs, used, why);
}

/* events: the "received" record (doc/events.md), after the commit, for
 * every caller: relay-queue is the one program every message goes
 * through, and (setuid relayq) it may write the spool when its caller
 * (relay-inject, run by anyone) may not. The writer is named here, never
 * taken from argv[0]; source is the caller's word, uid the real uid.
 * The envelope was checked by qq_parse_envelope. */
static void received_record(const struct buf *msg, const struct buf *env)
{
	static int opened;
	const char *p = env->p, *end = env->p + env->len, *z, *sender = NULL;
	const char *src = getenv(SUBMIT_SOURCE_ENV);
	long long n = 0;
	if (!opened++)
		ev_spool(relay_home(), "relay-queue", 0);   /* fd 1 is the envelope: not a log */
	if (!evspool_enabled() || !p)
		return;
	for (; p < end && (z = memchr(p, 0, (size_t)(end - p))) && z > p; p = z + 1) {
		if (*p == 'F' && !sender)
			sender = p + 1;
		else if (*p == 'T')
			n++;
	}
	ev_begin("received");
	ev_str("id", c.id);
	ev_str("sender", sender ? sender : "");
	ev_num("recipients", n);
	ev_num("size", (long long)msg->len);
	ev_str("source", src && evspool_name_ok(src) ? src : "unknown");
	ev_num("uid", (long long)getuid());
	ev_end();
}

/* The commit of one message and its envelope, as read. */
static void commit(const struct buf *msg, const struct buf *env, time_t now)
{
	struct buf recs = BUF_INIT, trace = BUF_INIT;
	struct dsnrec_seq ds;
	const char *why = NULL;
	int code;
	if (qq_trace(&trace, (unsigned long)getuid(), now) < 0)
		quit(QQ_NOMEM, "out of memory");
	ds = (struct dsnrec_seq)DSNREC_SEQ_INIT;
	if ((code = qq_parse_envelope(env->p ? env->p : "", env->len, &recs, dsn_item, &ds, &why)) != 0)
		quit(code, why);
	if (queue_commit_finish(&c, now, &recs, trace.p, trace.len, msg->p, msg->len) < 0)
		quit_sys(QQ_WRITE, c.what);
	received_record(msg, env);   /* events */
	buf_free(&recs);
	buf_free(&trace);
}

/* -S: netstring requests, the message then its envelope, until the end
 * of fd 0; each answered on fd 1 by a netstring "0 ID" once the message
 * is durably queued, or "CODE" before an exit on a failure. The same
 * checks, trace and commit as one message per run. */
static int session(void)
{
	static struct qq_in in;   /* 64 KiB: not on the stack */
	struct buf raw = BUF_INIT, msg = BUF_INIT, env = BUF_INIT;
	/* the size limit of the session, read once (relay-smtpd reads its
	 * own once too) */
	unsigned long long limit = max_size();
	session_mode = 1;
	in.fd = 0;
	for (;;) {
		const char *why = NULL;
		int cr = 0, code, r;
		time_t now;
		r = qq_netstring(&in, &raw, limit > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)limit);
		if (r == 1)
			break;
		if (r < 0 && errno == EFBIG)
			quit(QQ_REFUSED, "message larger than the size limit");
		if (r < 0)
			quit_sys(QQ_READMSG, "unable to read message");
		now = time(NULL);
		msg.len = 0;
		if ((code = qq_msg_add(&msg, raw.p, raw.len, &cr, limit, &why)) != 0 ||
		    (code = qq_msg_end(cr, &why)) != 0)
			quit(code, why);
		if (qq_netstring(&in, &env, ENV_MAX) != 0)
			quit(errno == EFBIG ? QQ_BADENV : QQ_READENV, "unable to read envelope");
		create();
		commit(&msg, &env, now);
		reply(0, c.id);
	}
	buf_free(&raw);
	buf_free(&msg);
	buf_free(&env);
	return 0;
}

int main(int argc, char **argv)
{
	struct buf msg = BUF_INIT, env = BUF_INIT;
	const char *why = NULL;
	int code;
	time_t now = time(NULL);
	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit (ulimit -f) is a write error (EFBIG), which
	 * removes tmp/ID and exits 53; the signal would kill us and leave it */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(QUEUE_MAX_RUN);
	umask(027);
	if (argc > 1 && strcmp(argv[1], SUBMIT_SESSION_ARG) == 0)
		return session();

	create();
	if ((code = qq_read_message(0, &msg, max_size(), &why)) != 0) {
		if (code == QQ_READMSG)
			quit_sys(code, why);
		quit(code, why);
	}
	if (read_fd(1, &env, ENV_MAX) < 0)
		quit(errno == EFBIG ? QQ_BADENV : QQ_READENV, "unable to read envelope");
	commit(&msg, &env, now);
	report_id(c.id);
	buf_free(&msg);
	buf_free(&env);
	return 0;
}
