/* relay-queue: reads a message on fd 0 and an envelope on fd 1 (the
 * qmail-queue protocol) and commits both to the queue as one file.
 * See doc/relay-queue.8 and doc/queue.md for the crash argument. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "intake/addr.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "queue/queue.h"
#include "queue/dsnrec.h"   /* dsn: the E R N O records */
#include "conf/conf.h"
#include "base/timers.h"
#include "intake/envelope.h"  /* envelope_class_valid */
#include "intake/msg.h"       /* msg_date */
#include "intake/submit.h"   /* qmail-queue's exit codes, QQ_* */

static char tmppath[PATH_MAX];
/* tmppath names our own tmp file (created, not yet published): only then
 * may quit() or the alarm remove it. Set and read in a signal handler. */
static volatile sig_atomic_t tmp_ours;

#ifdef __SANITIZE_ADDRESS__
/* The sanitizer build: LeakSanitizer cannot run in a setuid program (it
 * needs ptrace-like access to itself); ASan's other checks stay on. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

static void quit(int code, const char *why)
{
	if (tmp_ours)
		unlink(tmppath);
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
	if (tmp_ours)
		unlink(tmppath);
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

/* Read the message, turning bare LF into CRLF; bare CR and NUL refused. */
static void read_message(struct buf *m, unsigned long long limit)
{
	char in[65536];
	int cr = 0;
	for (;;) {
		ssize_t r = read(0, in, sizeof in), i;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			quit_sys(QQ_READMSG, "unable to read message");
		}
		if (r == 0)
			break;
		if (buf_reserve(m, (size_t)r * 2) < 0)
			quit(QQ_NOMEM, "out of memory");
		for (i = 0; i < r; i++) {
			char c = in[i];
			if (cr && c != '\n')
				quit(QQ_REFUSED, "message contains a bare CR");
			if (c == 0)
				quit(QQ_REFUSED, "message contains a NUL byte");
			if (c == '\n' && !cr)
				m->p[m->len++] = '\r';
			cr = c == '\r';
			m->p[m->len++] = c;
		}
		if (m->len > limit)
			quit(QQ_REFUSED, "message larger than the size limit");
	}
	if (cr)
		quit(QQ_REFUSED, "message ends with a bare CR");
}

/* Envelope: [C class NUL] F sender NUL (T rcpt NUL)+ NUL */
static void read_envelope(struct buf *h, time_t now, size_t msglen)
{
	struct buf e = BUF_INIT;
	size_t pos = 0, nrcpt = 0;
	int have_sender = 0;
	struct dsnrec_seq ds = DSNREC_SEQ_INIT; /* dsn */
	const char *why;
	const size_t cap = (size_t)RCPT_MAX * (ADDR_PATH_MAX + 2) + 1024;
	if (read_fd(1, &e, cap) < 0)
		quit(errno == EFBIG ? QQ_BADENV : QQ_READENV, "unable to read envelope");
	if (buf_printf(h, "%sA%lld\n", QUEUE_MAGIC, (long long)now) < 0)
		quit(QQ_NOMEM, "out of memory");
	if (pos < e.len && e.p[pos] == 'C') {
		size_t l = strnlen(e.p + pos, e.len - pos);
		if (pos + l >= e.len)
			quit(QQ_BADENV, "bad class record");
		if (!envelope_class_valid(e.p + pos + 1, l - 1))
			quit(QQ_BADENV, "bad class name");
		if (buf_printf(h, "C%s\n", e.p + pos + 1) < 0)
			quit(QQ_NOMEM, "out of memory");
		pos += l + 1;
	} else if (buf_adds(h, "Cdefault\n") < 0)
		quit(QQ_NOMEM, "out of memory");
	for (;;) {
		size_t l;
		char type;
		int st;
		if (pos >= e.len)
			quit(QQ_BADENV, "envelope ends early");
		type = e.p[pos];
		/* dsn: E R N O items are checked and copied by queue/dsnrec.c */
		{
			size_t used = 0;
			int d = dsnrec_item(&ds, e.p + pos, e.len - pos, h, &used, &why);
			if (d < 0)
				quit(d == -2 ? QQ_NOMEM : QQ_BADENV, why);
			if (d > 0) {
				pos += used;
				continue;
			}
		}
		if (type == 0) {
			if (pos + 1 != e.len)
				quit(QQ_BADENV, "data after the envelope");
			break;
		}
		l = strnlen(e.p + pos, e.len - pos);
		if (pos + l >= e.len)
			quit(QQ_BADENV, "envelope record not terminated");
		if (type == 'F') {
			if (have_sender)
				quit(QQ_BADENV, "sender record out of place");
			have_sender = 1;
			st = addr_check(e.p + pos + 1, l - 1, ADDR_ALLOW_EMPTY, &why);
		} else if (type == 'T') {
			if (!have_sender)
				quit(QQ_BADENV, "recipient before sender");
			st = addr_check(e.p + pos + 1, l - 1, 0, &why);
			nrcpt++;
		} else
			quit(QQ_BADENV, "unknown envelope record");
		if (st == ADDR_TOOLONG)
			quit(QQ_TOOLONG, why);
		if (st != ADDR_OK)
			quit(QQ_BADENV, why);
		if (buf_addc(h, type) < 0 || buf_add(h, e.p + pos + 1, l - 1) < 0 || buf_addc(h, '\n') < 0)
			quit(QQ_NOMEM, "out of memory");
		pos += l + 1;
	}
	if (nrcpt == 0)
		quit(QQ_BADENV, "no recipients");
	/* the message length, checked before every delivery (queue.h) */
	if (buf_printf(h, "L%zu\n\n", msglen) < 0)
		quit(QQ_NOMEM, "out of memory");
	buf_free(&e);
}

/* The trace of who queued the message, first, as qmail-queue adds it:
 * the real uid of the caller, which a setuid relay-queue knows and its
 * caller cannot forge (a "Received: (... invoked by uid 0)" the caller
 * wrote stays below it, for what it is). */
static void add_trace(struct buf *t, time_t now)
{
	char date[64];
	msg_date(date, sizeof date, (long long)now);
	if (buf_printf(t, "Received: (relay-queue invoked by uid %lu);\r\n\t%s\r\n",
	               (unsigned long)getuid(), date) < 0)
		quit(QQ_NOMEM, "out of memory");
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

int main(int argc, char **argv)
{
	struct buf msg = BUF_INIT, hdr = BUF_INIT, trace = BUF_INIT;
	char id[QUEUE_ID_LEN + 1], dst[PATH_MAX], dir[PATH_MAX];
	struct iovec iov[3];
	int fd = -1, tries;
	time_t now = time(NULL);
	(void)argc;
	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit (ulimit -f) is a write error (EFBIG), which
	 * removes tmp/ID and exits 53; the signal would kill us and leave it */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(QUEUE_MAX_RUN);
	umask(027);

	for (tries = 0; tries < 10 && fd < 0; tries++) {
		queue_id_new(id);
		if (queue_path_flat(tmppath, sizeof tmppath, "tmp", id) < 0)
			quit(QQ_WRITE, "queue path too long");
		fd = open(tmppath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd >= 0)
			tmp_ours = 1;
		if (fd < 0 && errno != EEXIST) {
			{
				char m[PATH_MAX + 64];
				snprintf(m, sizeof m, "unable to create %s", tmppath);
				tmppath[0] = 0;
				quit_sys(QQ_WRITE, m);
			}
		}
	}
	if (fd < 0) {
		tmppath[0] = 0;
		quit(QQ_WRITE, "unable to find a free queue id");
	}
	crash_point("queue-created");
	read_message(&msg, max_size());
	add_trace(&trace, now);
	read_envelope(&hdr, now, trace.len + msg.len);

	iov[0].iov_base = hdr.p;
	iov[0].iov_len = hdr.len;
	iov[1].iov_base = trace.p;
	iov[1].iov_len = trace.len;
	iov[2].iov_base = msg.p ? msg.p : "";
	iov[2].iov_len = msg.len;
	{
		size_t total = hdr.len + trace.len + msg.len, done = 0;
		while (done < total) {
			ssize_t w = writev(fd, iov, 3);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				/* EFBIG (ulimit -f, SIGXFSZ ignored) and ENOSPC are
				 * temporary like every write error: 53 */
				quit_sys(QQ_WRITE, "unable to write to queue/tmp");
			}
			done += (size_t)w;
			/* advance the iovecs past what was written */
			while (w > 0) {
				int k = iov[0].iov_len ? 0 : iov[1].iov_len ? 1 : 2;
				size_t take = (size_t)w < iov[k].iov_len ? (size_t)w : iov[k].iov_len;
				iov[k].iov_base = (char *)iov[k].iov_base + take;
				iov[k].iov_len -= take;
				w -= (ssize_t)take;
			}
		}
	}
	crash_point("queue-written");
	if (fsync_checked(fd) < 0)
		quit_sys(QQ_WRITE, "unable to fsync queue file");
	if (close(fd) < 0)
		quit_sys(QQ_WRITE, "unable to close queue file");
	crash_point("queue-synced");

	/* Publish: one atomic rename that never replaces an existing message. */
	for (tries = 0;; tries++) {
		if (queue_path(dst, sizeof dst, "msg", id) < 0)
			quit(QQ_WRITE, "queue path too long");
		if (renameat2(AT_FDCWD, tmppath, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) {
			tmp_ours = 0;
			break;
		}
		if (errno == EINVAL || errno == ENOSYS) {
			/* file system without RENAME_NOREPLACE: link refuses to replace too */
			if (link(tmppath, dst) == 0) {
				tmp_ours = 0;
				unlink(tmppath);
				break;
			}
		}
		if (errno != EEXIST || tries >= 10)
			quit_sys(QQ_WRITE, "unable to publish queue file");
		queue_id_new(id);
	}
	tmppath[0] = 0;
	crash_point("queue-published");
	snprintf(dir, sizeof dir, "%s", dst);
	*strrchr(dir, '/') = 0;
	if (fsync_dir(dir) < 0) {
		/* Not known durable: withdraw it, so the caller's retry is not
		 * a duplicate. If relay-send already holds it open, a duplicate
		 * is possible; that beats a loss. */
		unlink(dst);
		quit_sys(QQ_WRITE, "unable to fsync queue directory");
	}
	crash_point("queue-dirsynced");
	report_id(id);
	buf_free(&msg);
	buf_free(&hdr);
	buf_free(&trace);
	return 0;
}
