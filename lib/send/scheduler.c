/* relay-send's loop (scheduler.h). sched_run owns one struct sched and
 * passes its parts, by pointer, to the modules that keep them:
 *   qindex.h    the queue index (hash, heap by due time, ready list)
 *   sendconf.h  the configuration (tables, pools, settings, health marks)
 *   children.h  the workers, the DKIM signer and relay-bounce
 *   record.h    info lines, removal, quarantine, events, counters
 *   deliver.h   routing, dispatch to workers, their results
 *   attempt.h   one message's attempt, from reading it to its conclusion
 * What stays here: start-up and the end, signals (SIGHUP reload, SIGALRM
 * flush, SIGTERM, SIGCHLD), the queue scan and inotify, housekeeping, and
 * the wait in poll. */
#include "send/scheduler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/evlog.h"
#include "base/evspool.h"
#include "base/fileio.h"
#include "bounce/unsub.h"   /* httpd (issue 13) */
#include "send/children.h"
#include "send/deliver.h"
#include "send/histrec.h"   /* issue 13 */
#include "send/lanes.h"
#include "send/journal.h"   /* prod (issue 10) */
#include "send/qindex.h"
#include "send/record.h"
#include "send/sendconf.h"
#include "send/shaping.h"   /* cluster (issue 16) */
#include "send/share.h"     /* issue 16 share */

#define HOUSEKEEP_S   3600.0   /* tmp/ and orphan clean-up */
#define UNSUB_S       10.0     /* httpd (issue 13): state/unsub/ applied this often */

struct sched {
	const struct sched_opts *o;
	const char *home;
	struct sendconf conf;
	struct qindex index;
	struct children kids;
	struct record rec;
	struct deliver dl;          /* borrows the four above */
	int inotify_fd;             /* the queue's msg/ buckets, or -1 (-1 mode) */
	double respawn_in;          /* seconds until a worker slot is tried again, 0: none */
	double housekeep_at;
	double unsub_at;            /* httpd (issue 13): next look at state/unsub/ */
	int restart;                /* 1: ends 111, for the supervisor to start it again */
	struct share *share;        /* issue 16 share: suppression list and health verdicts, or NULL */
};

/* The signal handler's view: file-local because a handler takes no
 * argument; nothing outside this file touches it. */
static struct {
	int pipe[2];
	volatile sig_atomic_t hup, alrm, term, chld;
} sig;

/* ------------------------------------------------------------ the queue on disk */

static void scan_queue(struct sched *s)
{
	char dir[PATH_MAX];
	int i;
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		DIR *d;
		struct dirent *de;
		snprintf(dir, sizeof dir, "%s/queue/msg/%02x", s->home, i);
		if (!(d = opendir(dir))) {
			warn_sys("unable to open %s", dir);
			continue;
		}
		while ((de = readdir(d)))
			if (queue_id_valid(de->d_name))
				qindex_found(&s->index, de->d_name);
		closedir(d);
	}
}

static void watch_queue(struct sched *s)
{
	char dir[PATH_MAX];
	int i;
	s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inotify_fd < 0)
		die_sys(EXIT_TEMP, "unable to start inotify");
	s->kids.loop_fds[2] = s->inotify_fd;
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		snprintf(dir, sizeof dir, "%s/queue/msg/%02x", s->home, i);
		if (inotify_add_watch(s->inotify_fd, dir, IN_MOVED_TO | IN_CREATE) < 0)
			die_sys(EXIT_TEMP, "unable to watch %s", dir);
	}
}

static void read_inotify(struct sched *s)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(s->inotify_fd, buf, sizeof buf), off = 0;
		if (n <= 0)
			return;
		while (off < n) {
			struct inotify_event *ev = (struct inotify_event *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW)
				scan_queue(s);
			else if (ev->len && queue_id_valid(ev->name))
				qindex_found(&s->index, ev->name);
			off += (ssize_t)sizeof *ev + ev->len;
		}
	}
}

/* ------------------------------------------------------------ the queue lock */

/* One relay-send per queue: a POSIX write lock on queue/lock, held for the
 * life of the process (not inherited by the workers it forks, released
 * by the kernel when it dies, even by kill -9). The file says who holds
 * it: "PID daemon" once the daemon takes signals, else "PID once" or
 * "PID starting". A second daemon exits 111; relay-send -1 beside a
 * daemon asks it to flush (SIGALRM, as relay-qctl flush) and exits 0. */
static int lock_fd = -1;

static void lock_say(const char *what)
{
	char b[64];
	int n = snprintf(b, sizeof b, "%ld %s\n", (long)getpid(), what);
	if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, b, (size_t)n, 0) != n)
		warn_sys("unable to write queue/lock");
}

/* 0 locked; 1 relay-send -1 asked the daemon to flush (exit 0). Dies 111
 * otherwise. */
static int lock_queue(const struct sched_opts *o)
{
	char path[PATH_MAX];
	int tries;
	snprintf(path, sizeof path, "%s/queue/lock", relay_home());
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lock_fd < 0)
		die_sys(EXIT_TEMP, "unable to open %s", path);
	for (tries = 0; tries < 100; tries++) {
		struct flock fl;
		char b[64] = "";
		ssize_t n;
		long pid;
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(lock_fd, F_SETLK, &fl) == 0) {
			lock_say(o->once ? "once" : "starting");
			return 0;
		}
		if (errno != EACCES && errno != EAGAIN)
			die_sys(EXIT_TEMP, "unable to lock %s", path);
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(lock_fd, F_GETLK, &fl) < 0)
			die_sys(EXIT_TEMP, "unable to lock %s", path);
		if (fl.l_type == F_UNLCK)
			continue;	/* the holder just ended: try again */
		pid = (long)fl.l_pid;
		n = pread(lock_fd, b, sizeof b - 1, 0);
		b[n > 0 ? n : 0] = 0;
		if (o->once && strstr(b, " daemon") && kill((pid_t)pid, SIGALRM) == 0) {
			printf("relay-send: a relay-send daemon (pid %ld) runs on this queue: asked it to flush\n", pid);
			fflush(stdout);
			return 1;
		}
		die(EXIT_TEMP, "another relay-send (pid %ld) runs on this queue (%s); not started",
		    pid, o->once ? "not a daemon taking flushes yet" : "one daemon per queue");
	}
	die(EXIT_TEMP, "unable to lock %s: it keeps changing hands", path);
	return -1;
}

/* ------------------------------------------------------------ signals */

static void on_signal(int signo)
{
	int e = errno;
	switch (signo) {
	case SIGHUP: sig.hup = 1; break;
	case SIGALRM: sig.alrm = 1; break;
	case SIGTERM: case SIGINT: sig.term = 1; break;
	case SIGCHLD: sig.chld = 1; break;
	}
	(void)!write(sig.pipe[1], "", 1);
	errno = e;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
}

/* SIGALRM (relay-qctl flush): every message due now, every member warm. */
static void flush_all(struct sched *s)
{
	size_t i, p;
	qindex_flush(&s->index);
	for (p = 0; p < s->conf.npools; p++)
		for (i = 0; i < s->conf.pools[p].cfg.n; i++)
			pool_succeeded(&s->conf.pools[p], (int)i);
}

/* A reload that fails keeps the configuration the daemon runs with. */
static void reload(struct sched *s)
{
	char err[512];
	if (sendconf_reload(&s->conf, err, sizeof err) < 0) {
		warn_("reload failed, the old configuration stays: %s", err);
		return;
	}
	record_history_config(&s->rec, &s->conf);   /* issue 13: the relays of the new tables */
	share_free(s->share);   /* issue 16 share: setting shared again (the cursor is on disk) */
	s->share = share_new(s->home);
	if (s->kids.dkim_pid <= 0) {
		int dk = children_dkim_configured(&s->kids);
		if (dk < 0)
			warn_sys("unable to read etc/dkim.cdb; the signer is not started");
		else if (dk && !s->o->drop)
			children_dkim_start(&s->kids);
		else if (dk)
			warn_("etc/dkim has keys now: restart relay-send to start the signer");
	}
	ev_begin("reload");
	ev_num("pools", (long long)s->conf.npools);
	ev_end();
}

static void worker_gone(struct sched *s, pid_t pid)
{
	int i = children_worker_of(&s->kids, pid);
	if (i < 0)
		return;
	if (!s->dl.terminating)
		warn_("network worker %ld exited", (long)pid);
	if (s->kids.w[i].sock >= 0)
		deliver_worker_lost(&s->dl, i);
	children_worker_exited(&s->kids, i, qindex_clock());
	/* the loop respawns it (children_respawn, with a back-off) */
}

static void reap(struct sched *s)
{
	pid_t pid;
	int st;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (children_dkim_exited(&s->kids, pid) || children_forker_exited(&s->kids, pid))
			continue;
		worker_gone(s, pid);
	}
}

/* Privileged: the fork server reaps the workers and says which exited. */
static void forker_reports(struct sched *s)
{
	pid_t pid;
	while (children_forker_exit(&s->kids, &pid) > 0)
		worker_gone(s, pid);
}

static void take_signals(struct sched *s)
{
	if (sig.hup) {
		sig.hup = 0;
		reload(s);
	}
	if (sig.alrm) {
		sig.alrm = 0;
		flush_all(s);
		ev_begin("flush");
		ev_end();
	}
	if (sig.term && !s->dl.terminating) {
		s->dl.terminating = 1;
		/* sessions before their data end now; the rest finish */
		children_quiesce(&s->kids);
		ev_begin("stopping");
		ev_num("in_flight", (long long)s->dl.active);
		ev_end();
	}
	if (sig.chld) {
		sig.chld = 0;
		reap(s);
	}
}

/* ------------------------------------------------------------ the loop */

/* Wait for signals, inotify and workers; wake for the next due message,
 * the first cooling member that tasks wait for, or housekeeping. */
static void wait_events(struct sched *s, double now)
{
	struct qmsg *next = qindex_next(&s->index);
	struct pollfd *pf = calloc((size_t)s->kids.nw + 3, sizeof *pf);
	int np = 0, timeout = -1, i, k = 0, fk = s->kids.fk.sock;
	if (!pf)
		die(EXIT_TEMP, "out of memory");
	pf[np].fd = sig.pipe[0];
	pf[np++].events = POLLIN;
	if (s->inotify_fd >= 0) {
		pf[np].fd = s->inotify_fd;
		pf[np++].events = POLLIN;
	}
	for (i = 0; i < s->kids.nw; i++) {
		pf[np].fd = s->kids.w[i].sock;
		pf[np++].events = POLLIN;
	}
	pf[np].fd = fk;	/* -1 (ignored by poll) unless privileged */
	pf[np++].events = POLLIN;
	if (next) {
		double d = next->due - now;
		timeout = d <= 0 ? 0 : (int)(d * 1000) + 1;
	}
	if (s->dl.thead && (timeout < 0 || 1000 < timeout))
		timeout = 1000;	/* tasks wait for a member slot: cooling needs a timer */
	{	/* cluster (issue 16): heartbeat, reconnection, a shared token due */
		int cw = shaping_cluster_wait_ms(&s->conf);
		if (cw >= 0 && (timeout < 0 || cw < timeout))
			timeout = cw;
		cw = share_wait_ms(s->share);   /* issue 16 share */
		if (cw >= 0 && (timeout < 0 || cw < timeout))
			timeout = cw;
	}
	if (s->respawn_in > 0) {
		int rt = (int)(s->respawn_in * 1000) + 1;
		if (timeout < 0 || rt < timeout)
			timeout = rt;
	}
	if (!s->o->once) {
		int hk = (int)((s->housekeep_at - now) * 1000) + 1;
		int uk = (int)((s->unsub_at - now) * 1000) + 1;   /* httpd (issue 13) */
		if (uk < hk)
			hk = uk;
		if (timeout < 0 || hk < timeout)
			timeout = hk < 0 ? 0 : hk;
	}
	/* events: unsynced spool records are synced within EVSPOOL_SYNC_MS */
	{
		long ev = evspool_due_ms();
		if (ev >= 0 && (timeout < 0 || ev < timeout))
			timeout = (int)ev;
	}
	if (poll(pf, (nfds_t)np, timeout) > 0) {
		if (pf[k++].revents) {
			char b[64];
			while (read(sig.pipe[0], b, sizeof b) > 0)
				;
		}
		if (s->inotify_fd >= 0 && pf[k++].revents)
			read_inotify(s);
		for (i = 0; i < s->kids.nw; i++, k++)
			if (pf[k].revents && s->kids.w[i].sock >= 0)
				deliver_read(&s->dl, i);
		if (fk >= 0 && pf[k].revents)
			forker_reports(s);
	}
	free(pf);
}

static void start(struct sched *s, const struct sched_opts *o)
{
	int i;
	struct forker fk;
	s->o = o;
	s->home = relay_home();
	s->inotify_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	/* Privileged: the workers' fork server first, before any table is
	 * read (a worker holds nothing of etc/) and while root can still
	 * make it relayn; it replaces workers after the drop (forker.h) */
	if (o->drop) {
		fflush(stdout);
		if (forker_start(&fk, o->worker_uid, o->worker_gid) < 0)
			die(EXIT_TEMP, "unable to start the worker fork server");
	}
	if (pipe2(sig.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys(EXIT_TEMP, "unable to make a pipe");
	s->conf.home = s->home;
	s->rec.home = s->home;
	qindex_init(&s->index);
	s->dl.home = s->home;
	s->dl.conf = &s->conf;
	s->dl.index = &s->index;
	s->dl.kids = &s->kids;
	s->dl.rec = &s->rec;
	sendconf_load(&s->conf);
	record_history_config(&s->rec, &s->conf);   /* issue 13: state/history/ */
	lanes_attach(&s->index, &s->conf);   /* lanes: a new message's priority from its class, before scan_queue */
	children_init(&s->kids, o, s->home, sendconf_workers(&s->conf, o->workers));
	if (o->drop)
		children_use_forker(&s->kids, &fk);
	s->kids.loop_fds[0] = sig.pipe[0];
	s->kids.loop_fds[1] = sig.pipe[1];
	s->dl.max_active = (size_t)s->kids.nw * 4 + 16;
	/* workers and the signer first, before the scheduler drops to its uid */
	for (i = 0; i < s->kids.nw; i++)
		children_spawn_worker(&s->kids, i);
	children_dkim_start(&s->kids);
	/* The scheduler keeps relayq's supplementary groups (relayauth): a
	 * reload re-reads etc/auth.cdb, root:relayauth 0640 (doc/security.md). */
	if (o->drop) {
		struct passwd *pw = getpwuid(o->sched_uid);
		if (!pw)
			die(EXIT_TEMP, "unable to drop privileges: no user with uid %ld", (long)o->sched_uid);
		if (initgroups(pw->pw_name, o->sched_gid) < 0 || setgid(o->sched_gid) < 0 ||
		    setuid(o->sched_uid) < 0)
			die_sys(EXIT_TEMP, "unable to drop privileges");
	}
	catch_signals();
	if (!o->once) {
		char pidf[PATH_MAX], pidv[32];
		watch_queue(s);
		snprintf(pidf, sizeof pidf, "%s/queue/relay-send.pid", s->home);
		snprintf(pidv, sizeof pidv, "%ld\n", (long)getpid());
		if (atomic_write(pidf, pidv, strlen(pidv), 0644) < 0)
			warn_sys("unable to write %s (relay-qctl flush will not reach us)", pidf);
	}
	/* prod (issue 10): the deliveries of workers of a relay-send that
	 * was killed, before any message is tried (send/journal.h) */
	if (journal_apply() < 0)
		warn_sys("unable to apply every journal (kept for the next start)");
	scan_queue(s);
	s->share = share_new(s->home);   /* issue 16 share */
	ev_begin("start");
	ev_num("workers", s->kids.nw);
	ev_num("queued", (long long)s->index.count);
	ev_num("pools", (long long)s->conf.npools);
	ev_end();
	ev_flush();
}

/* One turn: take signals, start what is due within bounds, dispatch.
 * 0 to go on, 1 when done, -1 when no worker is left. */
static int turn(struct sched *s, double now)
{
	struct qmsg *m, *next;
	record_counters_flush(&s->rec, now, 0);
	{	/* issue 13: the queue's minute in state/history/ (send/histrec.h) */
		size_t l, due = 0;
		for (l = 0; l < QLANES; l++)
			due += s->index.nready[l];
		record_history_queue(&s->rec, s->index.count, s->dl.active, due);
	}
	take_signals(s);
	if (!s->dl.terminating && children_dkim_lost(&s->kids)) {
		/* relayq cannot start a relayd process: finish what is in
		 * flight and end; meanwhile nothing goes out unsigned */
		warn_("relay-dkim serve is gone and cannot be started again after the drop: stopping for the supervisor to restart relay-send");
		s->dl.terminating = 1;
		s->restart = 1;
		ev_begin("stopping");
		ev_num("in_flight", (long long)s->dl.active);
		ev_end();
	}
	if (!s->o->once && !s->dl.terminating && now >= s->housekeep_at) {
		record_housekeeping(s->home);
		s->housekeep_at = now + HOUSEKEEP_S;
	}
	if (!s->dl.terminating && now >= s->unsub_at) {
		/* httpd (issue 13): relay-httpd's one-click unsubscribe requests
		 * become scoped suppressions; relay-send's scheduler has the uid
		 * that owns the list (relayq), so no cron line is needed */
		size_t applied, bad;
		if (unsub_apply(s->home, time(NULL), &applied, &bad) < 0)
			warn_sys("unable to apply the unsubscribe requests in state/unsub/");
		else if (applied || bad) {
			ev_begin_log("unsubscribed");
			ev_num("applied", (long long)applied);
			ev_num("bad", (long long)bad);
			ev_end();
		}
		s->unsub_at = now + UNSUB_S;
	}
	while (!s->dl.terminating && (m = qindex_pop_due(&s->index, now)))
		qindex_ready_push(&s->index, m);
	while (!s->dl.terminating && s->dl.active < s->dl.max_active && (m = qindex_ready_pop(&s->index)))
		deliver_start(&s->dl, m);
	sendconf_health_refresh(&s->conf);
	shaping_cluster_tick(&s->conf, (unsigned long)s->index.count);   /* cluster (issue 16) */
	share_tick(s->share, &s->conf);   /* issue 16 share */
	/* workers lost are replaced (a transient fork failure is retried,
	 * never an exit); privileged, by the fork server */
	forker_reports(s);	/* exits it reported while we waited for a spawn */
	if (!s->dl.terminating && children_can_spawn(&s->kids))
		s->respawn_in = children_respawn(&s->kids, now);
	forker_reports(s);
	deliver_dispatch(&s->dl);
	ev_flush();

	if (s->dl.terminating && s->dl.active == 0)
		return s->restart ? -1 : 1;
	next = qindex_next(&s->index);
	if (s->o->once && s->dl.active == 0 && !s->index.rhead && (!next || next->due > now))
		return 1;
	if (children_alive(&s->kids) == 0 && !s->dl.terminating && !children_can_spawn(&s->kids)) {
		/* only when the fork server itself is gone (killed) */
		warn_("no network worker is left; exiting for the supervisor to restart");
		return -1;
	}
	return 0;
}

/* Free what the loop holds (children_stop first for a clean end). */
static void release(struct sched *s)
{
	share_free(s->share);   /* issue 16 share */
	children_free(&s->kids);
	record_free(&s->rec);
	sendconf_free(&s->conf);
	qindex_free(&s->index);
	if (s->inotify_fd >= 0)
		close(s->inotify_fd);
	close(sig.pipe[0]);
	close(sig.pipe[1]);
	free(s);
}

int sched_run(const struct sched_opts *o)
{
	/* on the heap: the pools alone are megabytes */
	struct sched *s = calloc(1, sizeof *s);
	int r;
	if (!s)
		die(EXIT_TEMP, "out of memory");
	if (lock_queue(o) == 1) {
		free(s);
		return 0;
	}
	start(s, o);
	if (!o->once)
		lock_say("daemon");	/* signals are taken from here on */
	for (;;) {
		double now = qindex_clock();
		if ((r = turn(s, now)) != 0)
			break;
		wait_events(s, now);
	}
	if (r < 0) {
		if (s->restart)
			children_stop(&s->kids);
		release(s);
		return EXIT_TEMP;
	}
	children_stop(&s->kids);
	record_counters_flush(&s->rec, 0, 1);
	release(s);
	ev_begin("stopped");
	ev_end();
	ev_flush();
	return 0;
}
