/* The worker fork server of a privileged relay-send (forker.h). */
#include "send/forker.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "send/fdpass.h"
#include "send/worker.h"

#define FORKER_REPLY_MS 10000  /* a server that does not answer a spawn in this is stuck */

struct forker_msg {
	char type;
	int err;
	pid_t pid;
	int status;
};

static int send_msg(int sock, const struct forker_msg *m, int fd)
{
	return fdpass_send(sock, m, sizeof *m, &fd, fd >= 0 ? 1 : 0);
}

/* 1 with a message (and *fd, or -1), 0 at EOF, -1 (errno; EAGAIN with
 * flags MSG_DONTWAIT and nothing there). A malformed packet is EPROTO. */
static int recv_msg(int sock, struct forker_msg *m, int *fd, int flags)
{
	ssize_t n = fdpass_recv(sock, m, sizeof *m, fd, 1, flags);
	if (n <= 0)
		return (int)n;
	if (n != (ssize_t)sizeof *m) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EPROTO;
		return -1;
	}
	return 1;
}

/* ------------------------------------------------------------ the server */

static void spawn_one(int sock, int sfd, const sigset_t *chld)
{
	struct forker_msg m;
	int sv[2];
	pid_t pid;
	memset(&m, 0, sizeof m);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		m.type = 'E';
		m.err = errno;
		send_msg(sock, &m, -1);
		return;
	}
	pid = fork();
	if (pid < 0) {
		m.type = 'E';
		m.err = errno;
		close(sv[0]);
		close(sv[1]);
		send_msg(sock, &m, -1);
		return;
	}
	if (pid == 0) {
		close(sock);
		close(sfd);
		close(sv[0]);
		prctl(PR_SET_NAME, "relay-send");
		sigprocmask(SIG_UNBLOCK, chld, NULL);
		/* no PR_SET_PDEATHSIG: the server dies with the scheduler, and
		 * then a session before its data is dropped at once and one past
		 * it finishes and records its deliveries (worker.c) */
		worker_run(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	m.type = 'W';
	m.pid = pid;
	send_msg(sock, &m, sv[0]);
	close(sv[0]);
}

static void reap_all(int sock)
{
	pid_t pid;
	int st;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct forker_msg m;
		memset(&m, 0, sizeof m);
		m.type = 'X';
		m.pid = pid;
		m.status = st;
		send_msg(sock, &m, -1);
	}
}

static void serve(int sock)
{
	sigset_t chld;
	int sfd;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0 || (sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		die_sys(EXIT_TEMP, "worker fork server: unable to watch its workers");
	for (;;) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_sys(EXIT_TEMP, "worker fork server: poll");
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
			reap_all(sock);
		}
		if (p[0].revents) {
			struct forker_msg m;
			int fd, r = recv_msg(sock, &m, &fd, MSG_DONTWAIT);
			if (fd >= 0)
				close(fd);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EPROTO))
				break;	/* the scheduler closed it, or is gone */
			if (r > 0 && m.type == 'S')
				spawn_one(sock, sfd, &chld);
		}
	}
	/* the workers end when the scheduler closes their sockets */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	_exit(0);
}

int forker_start(struct forker *f, uid_t uid, gid_t gid)
{
	int sv[2];
	pid_t pid, parent = getpid();
	memset(f, 0, sizeof *f);
	f->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		warn_sys("unable to make a socketpair for the worker fork server");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		warn_sys("unable to fork the worker fork server");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		int s = sv[1];
		close(sv[0]);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			die_sys(EXIT_TEMP, "worker fork server: unable to drop privileges");
		/* after the uid change, which clears the setting */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		prctl(PR_SET_NAME, "relay-send-fork");	/* for ps; its workers are "relay-send" */
		signal(SIGHUP, SIG_IGN);
		signal(SIGALRM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		/* nothing of the scheduler's but its socket and the log */
		if (s != 3) {
			if (dup2(s, 3) < 0)
				die_sys(EXIT_TEMP, "worker fork server: dup2");
			s = 3;
		}
		if (close_range(4, ~0U, 0) < 0) {
			int k;
			for (k = 4; k < 4096; k++)
				close(k);
		}
		serve(s);
	}
	close(sv[1]);
	f->pid = pid;
	f->sock = sv[0];
	return 0;
}

static void keep_exit(struct forker *f, pid_t pid, int status)
{
	if (f->npend == f->cap) {
		size_t n = f->cap ? f->cap * 2 : 8;
		struct forker_exit *p = realloc(f->pend, n * sizeof *p);
		if (!p)
			die(EXIT_TEMP, "out of memory");
		f->pend = p;
		f->cap = n;
	}
	f->pend[f->npend].pid = pid;
	f->pend[f->npend++].status = status;
}

static void gone(struct forker *f)
{
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
}

int forker_spawn(struct forker *f, pid_t *pid, int *sock)
{
	struct forker_msg m;
	int fd, r;
	if (f->sock < 0) {
		errno = EPIPE;
		return -1;
	}
	memset(&m, 0, sizeof m);
	m.type = 'S';
	if (send_msg(f->sock, &m, -1) < 0) {
		int e = errno;
		gone(f);
		errno = e == EAGAIN ? EAGAIN : EPIPE;
		return -1;
	}
	for (;;) {
		struct pollfd p = { f->sock, POLLIN, 0 };
		r = poll(&p, 1, FORKER_REPLY_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			errno = ETIMEDOUT;	/* a late 'W' is closed by forker_exited */
			return -1;
		}
		r = recv_msg(f->sock, &m, &fd, 0);
		if (r <= 0) {
			if (r < 0 && errno == EPROTO)
				continue;
			gone(f);
			errno = EPIPE;
			return -1;
		}
		switch (m.type) {
		case 'W':
			if (fd < 0)
				continue;
			*pid = m.pid;
			*sock = fd;
			return 0;
		case 'E':
			if (fd >= 0)
				close(fd);
			errno = m.err ? m.err : EAGAIN;
			return -1;
		case 'X':
			keep_exit(f, m.pid, m.status);
			break;
		}
		if (fd >= 0)
			close(fd);
	}
}

int forker_exited(struct forker *f, struct forker_exit *e)
{
	struct forker_msg m;
	int fd, r;
	for (;;) {
		if (f->npend) {
			*e = f->pend[0];
			memmove(f->pend, f->pend + 1, --f->npend * sizeof *f->pend);
			return 1;
		}
		if (f->sock < 0)
			return -1;
		r = recv_msg(f->sock, &m, &fd, MSG_DONTWAIT);
		if (fd >= 0)
			close(fd);	/* a 'W' for a spawn that timed out: that worker ends */
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r < 0 && errno == EPROTO)
			continue;
		if (r <= 0) {
			gone(f);
			return -1;
		}
		if (m.type == 'X')
			keep_exit(f, m.pid, m.status);
	}
}

void forker_stop(struct forker *f)
{
	gone(f);
	if (f->pid > 0)
		while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
			;
	f->pid = 0;
	free(f->pend);
	f->pend = NULL;
	f->npend = f->cap = 0;
}
