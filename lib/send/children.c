/* The processes relay-send runs (children.h): network workers, the DKIM
 * signer co-process and relay-bounce; their pids, sockets and pipes are
 * in struct children. */
#include "send/children.h"
#include "send/qindex.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/evlog.h"
#include "base/fileio.h"
#include "base/prog.h"
#include "base/netstring.h"
#include "conf/conf.h"
#include "queue/queue.h"
#include "send/worker.h"

/* A program beside relay-send (or named by envname, for tests). */
static int drop_to(uid_t uid, gid_t gid)
{
	return setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ workers */

void children_init(struct children *ch, const struct sched_opts *o, const char *home, int nw)
{
	int i;
	memset(ch, 0, sizeof *ch);
	ch->o = o;
	ch->home = home;
	ch->nw = nw;
	for (i = 0; i < 3; i++)
		ch->loop_fds[i] = -1;
	ch->w = calloc((size_t)nw, sizeof *ch->w);
	if (!ch->w)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < nw; i++) {
		ch->w[i].sock = -1;
		ch->w[i].jfd = -1;
	}
	ch->fk.sock = -1;
}

void children_use_forker(struct children *ch, const struct forker *fk)
{
	ch->fk = *fk;
	ch->forked = 1;
}

int children_can_spawn(const struct children *ch)
{
	return !ch->forked || ch->fk.sock >= 0;
}

int children_forker_exit(struct children *ch, pid_t *pid)
{
	struct forker_exit e;
	int r;
	if (!ch->forked || ch->fk.sock < 0)
		return 0;
	r = forker_exited(&ch->fk, &e);
	if (r > 0)
		*pid = e.pid;
	else if (r < 0)
		warn_("the worker fork server is gone: workers that die cannot be replaced");
	return r;
}

int children_forker_exited(struct children *ch, pid_t pid)
{
	if (!ch->forked || pid != ch->fk.pid)
		return 0;
	if (ch->fk.sock >= 0) {
		warn_("the worker fork server exited: workers that die cannot be replaced");
		close(ch->fk.sock);
		ch->fk.sock = -1;
	}
	ch->fk.pid = 0;
	return 1;
}

int children_spawn_worker(struct children *ch, int i)
{
	int sv[2];
	pid_t pid;
	if (ch->forked) {
		int s;
		if (forker_spawn(&ch->fk, &pid, &s) < 0) {
			warn_sys("unable to fork a worker");
			return -1;
		}
		sv[0] = s;
		goto started;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		warn_sys("unable to make a socketpair for a worker");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		warn_sys("unable to fork a worker");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		int k, s = sv[1];
		close(sv[0]);
		signal(SIGHUP, SIG_IGN);
		signal(SIGALRM, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (ch->o->drop && drop_to(ch->o->worker_uid, ch->o->worker_gid) < 0)
			die_sys(EXIT_TEMP, "worker: unable to drop privileges");
		/* nothing of the scheduler's but the socket and the log: no
		 * other worker's socket, and no queue file of an attempt in
		 * progress (its flock would outlive the attempt) */
		if (s != 3) {
			if (dup2(s, 3) < 0)
				die_sys(EXIT_TEMP, "worker: dup2");
			s = 3;
		}
		if (close_range(4, ~0U, 0) < 0)
			for (k = 4; k < 4096; k++)
				close(k);
		/* no PR_SET_PDEATHSIG: the scheduler gone, a session before its
		 * data is dropped at once and one past it finishes and records
		 * its deliveries (worker.c) */
		worker_run(s);
		_exit(0);
	}
	close(sv[1]);
started:
	ch->w[i].pid = pid;
	ch->w[i].sock = sv[0];
	ch->w[i].t = NULL;
	ch->w[i].key[0] = 0;
	ch->w[i].started = qindex_clock();
	return 0;
}

static void back_off(struct children *ch, double now)
{
	double d = 1;
	unsigned k;
	if (now < ch->respawn_at)
		return;	/* one step per round, not per worker */
	if (ch->respawn_fails < 16)
		ch->respawn_fails++;
	for (k = 1; k < ch->respawn_fails && d < 60; k++)
		d *= 2;
	ch->respawn_at = now + (d < 60 ? d : 60);
}

void children_worker_exited(struct children *ch, int i, double now)
{
	if (now - ch->w[i].started < 1.0)
		back_off(ch, now);	/* died at once: do not spin */
	else
		ch->respawn_fails = 0;
	ch->w[i].pid = 0;
}

double children_respawn(struct children *ch, double now)
{
	int i, empty = 0;
	for (i = 0; i < ch->nw; i++) {
		if (ch->w[i].pid > 0 || ch->w[i].sock >= 0)
			continue;
		if (now < ch->respawn_at) {
			empty = 1;
			continue;
		}
		if (children_spawn_worker(ch, i) < 0) {
			back_off(ch, now);
			empty = 1;
		}
	}
	if (!empty)
		return 0;
	return ch->respawn_at > now ? ch->respawn_at - now : 0.001;
}



int children_any_idle(const struct children *ch)
{
	int i;
	for (i = 0; i < ch->nw; i++)
		if (ch->w[i].sock >= 0 && !ch->w[i].t)
			return 1;
	return 0;
}

int children_idle_worker(const struct children *ch, const char *key)
{
	int i, any = -1;
	for (i = 0; i < ch->nw; i++) {
		if (ch->w[i].sock < 0 || ch->w[i].t)
			continue;
		if (strcmp(ch->w[i].key, key) == 0)
			return i;	/* it may still hold a connection there */
		if (any < 0 || !ch->w[any].key[0])
			any = i;
	}
	return any;
}

int children_alive(const struct children *ch)
{
	int i, n = 0;
	for (i = 0; i < ch->nw; i++)
		n += ch->w[i].sock >= 0;
	return n;
}

int children_worker_of(const struct children *ch, pid_t pid)
{
	int i;
	for (i = 0; i < ch->nw; i++)
		if (ch->w[i].pid == pid)
			return i;
	return -1;
}

void children_worker_close(struct children *ch, int i)
{
	close(ch->w[i].sock);
	ch->w[i].sock = -1;
}

void children_quiesce(struct children *ch)
{
	int i;
	for (i = 0; i < ch->nw; i++)
		if (ch->w[i].sock >= 0)
			shutdown(ch->w[i].sock, SHUT_WR);
}

void children_stop(struct children *ch)
{
	int i;
	for (i = 0; i < ch->nw; i++)
		if (ch->w[i].sock >= 0)
			close(ch->w[i].sock);
	if (ch->forked)
		forker_stop(&ch->fk);	/* it waits for its workers */
	else
		for (i = 0; i < ch->nw; i++)
			if (ch->w[i].pid > 0)
				waitpid(ch->w[i].pid, NULL, 0);
	children_dkim_stop(ch);
}

void children_free(struct children *ch)
{
	int i;
	for (i = 0; ch->w && i < ch->nw; i++)
		if (ch->w[i].jfd >= 0)
			close(ch->w[i].jfd);
	free(ch->w);
	ch->w = NULL;
	ch->nw = 0;
}

/* ------------------------------------------------------------ DKIM signer */

int children_dkim_configured(const struct children *ch)
{
	struct conf c;
	struct buf k = BUF_INIT, v = BUF_INIT;
	int r;
	if (conf_open(&c, ch->home, "dkim") < 0)
		return -1;
	conf_rewind(&c);
	r = conf_each(&c, &k, &v);
	conf_close(&c);
	buf_free(&k);
	buf_free(&v);
	return r < 0 ? -1 : r == 1;
}

/* relay-dkim serve, under its own uid: the only process that reads keys */
void children_dkim_start(struct children *ch)
{
	char prog[PATH_MAX];
	const char *p = prog;
	int in[2], out[2];
	int r;
	if (ch->dkim_pid > 0)
		return;
	if ((r = children_dkim_configured(ch)) < 0)
		die_sys(EXIT_TEMP, "unable to read etc/dkim.cdb");
	ch->dkim_wanted = r == 1;
	if (r == 0)
		return;
	if (prog_find("relay-dkim", "RELAYDKIM", prog, sizeof prog) < 0)
		die_sys(EXIT_TEMP, "RELAYDKIM");
	if (pipe2(in, O_CLOEXEC) < 0) {
		warn_sys("unable to make a pipe for relay-dkim serve");
		return;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		warn_sys("unable to make a pipe for relay-dkim serve");
		close(in[0]);
		close(in[1]);
		return;
	}
	ch->dkim_pid = fork();
	if (ch->dkim_pid < 0) {
		warn_sys("unable to fork relay-dkim serve");
		ch->dkim_pid = 0;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return;
	}
	if (ch->dkim_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (ch->o->drop && ch->o->dkim_uid && drop_to(ch->o->dkim_uid, ch->o->dkim_gid) < 0)
			die_sys(EXIT_TEMP, "relay-dkim: unable to drop privileges");
		execl(p, p, "serve", "-d", ch->home, (char *)NULL);
		die_sys(EXIT_TEMP, "unable to run %s", p);
	}
	close(in[0]);
	close(out[1]);
	ch->dkim_in = in[1];
	ch->dkim_out = out[0];
	ev_begin("dkim");
	ev_str("signer", p);
	ev_num("pid", ch->dkim_pid);
	ev_end();
}

void children_dkim_stop(struct children *ch)
{
	if (ch->dkim_pid <= 0)
		return;
	close(ch->dkim_in);
	close(ch->dkim_out);
	waitpid(ch->dkim_pid, NULL, 0);
	ch->dkim_pid = 0;
}

int children_dkim_lost(const struct children *ch)
{
	return ch->o->drop && ch->dkim_wanted && ch->dkim_pid <= 0;
}

int children_dkim_exited(struct children *ch, pid_t pid)
{
	if (pid != ch->dkim_pid)
		return 0;
	warn_("relay-dkim serve exited%s", ch->o->drop ? "" : "; signing restarts with the next message");
	close(ch->dkim_in);
	close(ch->dkim_out);
	ch->dkim_pid = 0;
	if (!ch->o->drop)
		children_dkim_start(ch);
	return 1;
}

enum dkim_outcome children_dkim_sign(struct children *ch, int fd, size_t body_off, struct buf *sig,
                                     char *why, size_t cap)
{
	struct buf m = BUF_INIT, r = BUF_INIT;
	struct stat st;
	enum dkim_outcome rc;
	if (ch->dkim_pid <= 0 && ch->dkim_wanted && !ch->o->drop)
		children_dkim_start(ch);
	if (ch->dkim_pid <= 0 && ch->dkim_wanted) {
		snprintf(why, cap, "the DKIM signer is not running");
		return DKIM_TEMP;
	}
	if (ch->dkim_pid <= 0)
		return DKIM_NONE;
	if (fstat(fd, &st) < 0 || buf_reserve(&m, (size_t)st.st_size) < 0 ||
	    pread(fd, m.p, (size_t)st.st_size - body_off, (off_t)body_off) !=
		    (ssize_t)((size_t)st.st_size - body_off)) {
		snprintf(why, cap, "unable to read the message for signing");
		buf_free(&m);
		return DKIM_TEMP;
	}
	m.len = (size_t)st.st_size - body_off;
	if (netstring_write(ch->dkim_in, m.p, m.len) < 0 || netstring_read(ch->dkim_out, &r, 1 << 20) != 0 ||
	    r.len == 0) {
		snprintf(why, cap, "the DKIM signer stopped answering");
		warn_("relay-dkim serve stopped answering; restarting it");
		children_dkim_stop(ch);
		if (!ch->o->drop)
			children_dkim_start(ch);
		buf_free(&m);
		buf_free(&r);
		return DKIM_TEMP;
	}
	buf_free(&m);
	switch (r.p[0]) {
	case 'K':
		sig->len = 0;
		buf_add(sig, r.p + 1, r.len - 1);
		rc = DKIM_SIGNED;
		break;
	case 'D':
		snprintf(why, cap, "DKIM: %.*s", (int)(r.len - 1), r.p + 1);
		rc = DKIM_PERM;
		break;
	default:
		snprintf(why, cap, "DKIM: %.*s", (int)(r.len > 1 ? r.len - 1 : 0), r.p + 1);
		rc = DKIM_TEMP;
	}
	buf_free(&r);
	return rc;
}

/* ------------------------------------------------------------ relay-bounce */

int children_bounce(const char *id, const struct buf *in)
{
	char path[PATH_MAX], prog[PATH_MAX];
	int p[2], st, fd, wr = 0;
	pid_t pid;
	const char *bp = prog;
	if (prog_find("relay-bounce", "RELAYBOUNCE", prog, sizeof prog) < 0)
		return -1;
	if (queue_path(path, sizeof path, "msg", id) < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pipe(p) < 0) {
		close(fd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fd, 0);
		dup2(p[0], 3);
		if (p[0] != 3)
			close(p[0]);
		close(p[1]);
		execl(bp, bp, "dsn", (char *)NULL);
		_exit(111);
	}
	close(fd);
	close(p[0]);
	/* every record must reach relay-bounce: a DSN for part of them is a
	 * failure (the rest would be taken as bounced), so a short write is
	 * one whatever relay-bounce says */
	if (pid > 0 && write_all(p[1], in->p ? in->p : "", in->len) < 0) {
		wr = errno;
		kill(pid, SIGTERM);
	}
	close(p[1]);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (wr) {
		errno = wr;
		warn_sys("unable to write the failure records to relay-bounce");
		return -1;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}
