/* Handing a message to relay-queue; the contract and the choice of
 * temporary for 91 are in submit.h. */
#include "intake/submit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "base/netstring.h"
#include "base/prog.h"

#ifndef RELAY_BINDIR
#define RELAY_BINDIR "/usr/local/bin"
#endif

extern char **environ;

/* The one table of qmail-queue's exit codes: qmail-queue(8), the texts of
 * qmail's qmail.c, and relay-queue's own meaning of 54 and 55. */
static const struct {
	int code, temporary;
	const char *text;
} qq_table[] = {
	{ QQ_TOOLONG, 0, "address too long" },
	{ QQ_REFUSED, 0, "message refused" },
	{ QQ_NOMEM,   1, "out of memory" },
	{ QQ_TIMEOUT, 1, "timeout" },
	{ QQ_WRITE,   1, "queue write error or disk full" },
	{ QQ_READMSG, 1, "unable to read the message" },
	{ QQ_READENV, 1, "unable to read the envelope" },
	{ 56,         1, "trouble making a network connection" },
	{ 61,         1, "trouble in the queue's home directory" },
	{ 62,         1, "trouble creating files in the queue" },
	{ 63,         1, "trouble creating files in the queue" },
	{ 64,         1, "trouble creating files in the queue" },
	{ 65,         1, "trouble creating files in the queue" },
	{ 66,         1, "trouble creating files in the queue" },
	{ 71,         1, "mail server temporarily rejected the message" },
	{ 72,         1, "connection to the mail server timed out" },
	{ 73,         1, "connection to the mail server rejected" },
	{ 74,         1, "communication with the mail server failed" },
	{ QQ_BUG,     1, "internal bug" },
	{ QQ_BADENV,  1, "bad envelope" },
	{ QQ_EXEC,    1, "unable to run the queue program" },
};

int submit_exit_temporary(int code)
{
	size_t i;
	for (i = 0; i < sizeof qq_table / sizeof qq_table[0]; i++)
		if (qq_table[i].code == code)
			return qq_table[i].temporary;
	return !(code >= 11 && code <= 40);
}

const char *submit_exit_text(int code)
{
	size_t i;
	if (code == 0)
		return "queued";
	for (i = 0; i < sizeof qq_table / sizeof qq_table[0]; i++)
		if (qq_table[i].code == code)
			return qq_table[i].text;
	return submit_exit_temporary(code) ? "queue failure" : "permanent queue failure";
}

int submit_program(char *out, size_t cap)
{
	return prog_find("relay-queue", "RELAYQUEUE", out, cap);
}

int submit_envelope(struct buf *env, const char *class, const char *sender,
                    char *const *rcpt, size_t nrcpt)
{
	size_t i;
	env->len = 0;
	if (class && *class && (buf_addc(env, 'C') < 0 || buf_add(env, class, strlen(class) + 1) < 0))
		return -1;
	if (buf_addc(env, 'F') < 0 || buf_add(env, sender, strlen(sender) + 1) < 0)
		return -1;
	for (i = 0; i < nrcpt; i++)
		if (buf_addc(env, 'T') < 0 || buf_add(env, rcpt[i], strlen(rcpt[i]) + 1) < 0)
			return -1;
	return buf_addc(env, 0);
}

/* A pipe whose ends are close-on-exec and above 2, so that the child's
 * dup2 onto 0 and 1 never clobbers another of its fds. */
static int pipe_high(int p[2])
{
	int i;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (p[i] < 3) {
			int h = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
			if (h < 0) {
				int e = errno;
				close(p[0]);
				close(p[1]);
				errno = e;
				return -1;
			}
			close(p[i]);
			p[i] = h;
		}
	}
	return 0;
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int fail(struct submit *s, const char *what)
{
	s->err = errno;
	s->failed = what;
	closefd(&s->msg_fd);
	closefd(&s->env_fd);
	closefd(&s->id_fd);
	return EXIT_TEMP;
}

/* The environment for the queue program: ours without RELAYQUEUE_IDFD,
 * plus RELAYQUEUE_IDFD=fd when the id is wanted. Made before fork, so
 * the child only calls what is safe after fork. events: and
 * RELAYQUEUE_SOURCE=our name, for relay-queue's "received" record. */
static char **child_env(int idfd, char *idvar, size_t cap)
{
	static char srcvar[sizeof SUBMIT_SOURCE_ENV + 80];
	size_t n = 0, k = 0, l = strlen(SUBMIT_IDFD_ENV "="), ls = strlen(SUBMIT_SOURCE_ENV "=");
	char **e;
	while (environ && environ[n])
		n++;
	if (!(e = malloc((n + 3) * sizeof *e)))
		return NULL;
	for (n = 0; environ && environ[n]; n++)
		if (strncmp(environ[n], SUBMIT_IDFD_ENV "=", l) != 0 &&
		    strncmp(environ[n], SUBMIT_SOURCE_ENV "=", ls) != 0)
			e[k++] = environ[n];
	snprintf(srcvar, sizeof srcvar, "%s=%s", SUBMIT_SOURCE_ENV, progname ? progname : "");
	e[k++] = srcvar;
	if (idfd >= 0) {
		snprintf(idvar, cap, "%s=%d", SUBMIT_IDFD_ENV, idfd);
		e[k++] = idvar;
	}
	e[k] = NULL;
	return e;
}

static void child(const struct submit *s, const char *arg, int msg_r, int env_r, int id_w,
                  char **envp)
{
	char *argv[3];
	static const char what[] = ": warning: unable to run ";
	const char *e;
	argv[0] = (char *)s->prog;
	argv[1] = (char *)arg;
	argv[2] = NULL;
	if (dup2(msg_r, 0) < 0 || dup2(env_r, 1) < 0)
		_exit(QQ_EXEC);
	if (id_w >= 0 && fcntl(id_w, F_SETFD, 0) < 0)
		_exit(QQ_EXEC);
	signal(SIGPIPE, SIG_DFL);   /* SIG_IGN would survive exec */
	execve(s->prog, argv, envp);
	e = strerror(errno);
	if (write(2, progname, strlen(progname)) < 0 || write(2, what, sizeof what - 1) < 0 ||
	    write(2, s->prog, strlen(s->prog)) < 0 || write(2, ": ", 2) < 0 ||
	    write(2, e, strlen(e)) < 0 || write(2, "\n", 1) < 0)
		_exit(QQ_EXEC);
	_exit(QQ_EXEC);
}

int submit_start(struct submit *s, int want_id)
{
	int m[2], e[2], id[2] = {-1, -1};
	char idvar[sizeof SUBMIT_IDFD_ENV + 16], **envp;

	memset(s, 0, sizeof *s);
	s->msg_fd = s->env_fd = s->id_fd = -1;
	s->code = -1;
	if (submit_program(s->prog, sizeof s->prog) < 0)
		return fail(s, "find");
	if (pipe_high(m) < 0)
		return fail(s, "make a pipe for");
	s->msg_fd = m[1];
	if (pipe_high(e) < 0) {
		close(m[0]);
		return fail(s, "make a pipe for");
	}
	s->env_fd = e[1];
	if (want_id && pipe_high(id) < 0) {
		close(m[0]);
		close(e[0]);
		return fail(s, "make a pipe for");
	}
	s->id_fd = id[0];
	if (!(envp = child_env(id[1], idvar, sizeof idvar))) {
		close(m[0]);
		close(e[0]);
		if (id[1] >= 0)
			close(id[1]);
		return fail(s, "start");
	}
	s->pid = fork();
	if (s->pid == 0)
		child(s, NULL, m[0], e[0], id[1], envp);
	free(envp);
	close(m[0]);
	close(e[0]);
	if (id[1] >= 0)
		close(id[1]);
	if (s->pid < 0)
		return fail(s, "fork");
	return 0;
}

int submit_write(struct submit *s, const void *p, size_t n)
{
	if (s->werr || s->msg_fd < 0)
		return -1;
	if (write_all(s->msg_fd, p, n) < 0) {
		s->werr = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

/* The id line from a queue program that has exited: whatever is in the
 * pipe now (a grandchild holding the write end must not make us wait). */
static void read_id(struct submit *s)
{
	size_t got = 0;
	if (fcntl(s->id_fd, F_SETFL, O_NONBLOCK) < 0)
		return;
	while (got < SUBMIT_ID_MAX) {
		ssize_t r = read(s->id_fd, s->id + got, SUBMIT_ID_MAX - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	s->id[got] = 0;
	s->id[strcspn(s->id, "\n")] = 0;
}

static int outcome(const struct submit *s)
{
	if (s->err || s->sig)
		return EXIT_TEMP;
	if (s->code == 0)
		return s->werr ? EXIT_TEMP : 0;
	return submit_exit_temporary(s->code) ? EXIT_TEMP : EXIT_PERM;
}

int submit_end(struct submit *s, const void *env, size_t envlen)
{
	int st;
	if (s->err)
		return EXIT_TEMP;
	/* the queue program reads all of the message before the envelope */
	closefd(&s->msg_fd);
	if (!s->werr && write_all(s->env_fd, env, envlen) < 0)
		s->werr = errno ? errno : EIO;
	closefd(&s->env_fd);
	while (waitpid(s->pid, &st, 0) < 0)
		if (errno != EINTR)
			return fail(s, "wait for");
	if (WIFSIGNALED(st))
		s->sig = WTERMSIG(st);
	else
		s->code = WEXITSTATUS(st);
	if (s->id_fd >= 0 && s->code == 0)
		read_id(s);
	closefd(&s->id_fd);
	return outcome(s);
}

int submit(struct submit *s, const void *msg, size_t len, const void *env,
           size_t envlen, int want_id)
{
	int r = submit_start(s, want_id);
	if (r)
		return r;
	(void)submit_write(s, msg, len);
	r = submit_end(s, env, envlen);
	return r;
}

void submit_describe(const struct submit *s, char *out, size_t cap)
{
	if (s->err)
		snprintf(out, cap, "unable to %s the queue program %s: %s", s->failed, s->prog,
		         strerror(s->err));
	else if (s->sig)
		snprintf(out, cap, "queue program %s crashed (signal %d)", s->prog, s->sig);
	else if (s->code == QQ_EXEC)
		snprintf(out, cap, "unable to run the queue program %s", s->prog);
	else if (s->code == 0 && s->werr)
		snprintf(out, cap, "queue program %s exited 0 but did not take the whole message: %s",
		         s->prog, strerror(s->werr));
	else if (s->code == 0)
		snprintf(out, cap, "queue program %s: queued", s->prog);
	else
		snprintf(out, cap, "queue program %s: %s (exit %d)", s->prog,
		         submit_exit_text(s->code), s->code);
}

/* ---- sessions (submit.h) ---- */

int submit_session_possible(void)
{
	const char *q = getenv("RELAYQUEUE");
	return !q || !*q;
}

void submit_session_init(struct submit_session *ss)
{
	ss->pid = 0;
	ss->to = ss->from = -1;
	ss->prog[0] = 0;
}

/* Wait for the session's program; its end goes into s. */
static void session_reap(struct submit_session *ss, struct submit *s)
{
	int st;
	closefd(&ss->to);
	closefd(&ss->from);
	if (ss->pid > 0) {
		while (waitpid(ss->pid, &st, 0) < 0)
			if (errno != EINTR) {
				if (s) {
					s->err = errno;
					s->failed = "wait for";
				}
				ss->pid = 0;
				return;
			}
		if (s && WIFSIGNALED(st))
			s->sig = WTERMSIG(st);
		else if (s)
			s->code = WEXITSTATUS(st);
	}
	ss->pid = 0;
}

void submit_session_end(struct submit_session *ss)
{
	session_reap(ss, NULL);
}

static int session_start(struct submit_session *ss, struct submit *s)
{
	int in[2], out[2];
	char **envp;
	if (pipe_high(in) < 0)
		return fail(s, "make a pipe for");
	if (pipe_high(out) < 0) {
		close(in[0]);
		close(in[1]);
		return fail(s, "make a pipe for");
	}
	if (!(envp = child_env(-1, NULL, 0))) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return fail(s, "start");
	}
	ss->pid = fork();
	if (ss->pid == 0)
		child(s, SUBMIT_SESSION_ARG, in[0], out[1], -1, envp);
	free(envp);
	close(in[0]);
	close(out[1]);
	if (ss->pid < 0) {
		ss->pid = 0;
		close(in[1]);
		close(out[0]);
		return fail(s, "fork");
	}
	ss->to = in[1];
	ss->from = out[0];
	return 0;
}

/* Both netstrings in one writev (a short write is continued). -1 with
 * *none set when not one byte went out. */
static int session_send(int fd, const void *msg, size_t len, const void *env, size_t envlen,
                        int *none)
{
	char h1[32], h2[32];
	struct iovec v[6];
	int n1 = snprintf(h1, sizeof h1, "%zu:", len), n2 = snprintf(h2, sizeof h2, "%zu:", envlen);
	size_t total = (size_t)n1 + len + 1 + (size_t)n2 + envlen + 1, done = 0;
	int i;
	v[0] = (struct iovec){ h1, (size_t)n1 };
	v[1] = (struct iovec){ (void *)msg, len };
	v[2] = (struct iovec){ ",", 1 };
	v[3] = (struct iovec){ h2, (size_t)n2 };
	v[4] = (struct iovec){ (void *)env, envlen };
	v[5] = (struct iovec){ ",", 1 };
	while (done < total) {
		ssize_t w = writev(fd, v, 6);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			*none = done == 0;
			return -1;
		}
		done += (size_t)w;
		for (i = 0; i < 6 && w > 0; i++) {
			size_t take = (size_t)w < v[i].iov_len ? (size_t)w : v[i].iov_len;
			v[i].iov_base = (char *)v[i].iov_base + take;
			v[i].iov_len -= take;
			w -= (ssize_t)take;
		}
	}
	return 0;
}

int submit_session(struct submit_session *ss, struct submit *s, const void *msg, size_t len,
                   const void *env, size_t envlen)
{
	struct buf rep = BUF_INIT;
	int r, none = 0, tries;
	memset(s, 0, sizeof *s);
	s->msg_fd = s->env_fd = s->id_fd = -1;
	s->code = -1;
	if (!ss->prog[0] && submit_program(ss->prog, sizeof ss->prog) < 0)
		return fail(s, "find");
	memcpy(s->prog, ss->prog, sizeof s->prog);
	for (tries = 0;; tries++) {
		if (ss->pid <= 0 && session_start(ss, s) != 0)
			return EXIT_TEMP;
		if (session_send(ss->to, msg, len, env, envlen, &none) == 0)
			break;
		s->werr = errno ? errno : EIO;
		/* EPIPE before one byte went out: the program had ended
		 * between two messages (killed, its time limit) and cannot
		 * have read this one, so a new session may take it, once */
		if (!(s->werr == EPIPE && none && tries == 0))
			break;
		session_reap(ss, NULL);
		s->werr = 0;
	}
	r = netstring_read(ss->from, &rep, 64);
	if (r == 0 && rep.len > 2 && rep.p[0] == '0' && rep.p[1] == ' ' &&
	    rep.len - 2 <= SUBMIT_ID_MAX) {
		memcpy(s->id, rep.p + 2, rep.len - 1);
		s->code = 0;
		s->werr = 0;   /* it took the whole message: it said so */
		buf_free(&rep);
		return 0;
	}
	/* a refusal, or no answer: the program exits (or has); its exit
	 * code, or the signal that killed it, is the outcome */
	buf_free(&rep);
	session_reap(ss, s);
	if (s->code == 0 && !s->err && !s->sig)
		s->code = QQ_BUG;   /* ended without answering: temporary */
	return outcome(s);
}
