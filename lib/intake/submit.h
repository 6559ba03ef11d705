#ifndef RELAY_SUBMIT_H
#define RELAY_SUBMIT_H
/* Handing a message to relay-queue: the one way in (relay-inject today,
 * relay-bounce's DSNs, the coming SMTP listener and HTTP API).
 *
 * The protocol is qmail-queue's: the queue program is run with no
 * arguments, reads the message on fd 0 to EOF, then the envelope on fd 1
 *     [C class NUL] F sender NUL (T rcpt NUL)+ NUL
 * and exits with a code from the table below. With RELAYQUEUE_IDFD=N in
 * its environment it also writes "ID\n" on fd N once the message is on
 * disk (relay-inject -v).
 *
 * The queue program is $RELAYQUEUE if set and not empty (run by path,
 * never searched in PATH); else relay-queue in the directory of the
 * running executable (/proc/self/exe) if it is executable there; else
 * RELAY_BINDIR/relay-queue, the compiled-in bin directory.
 *
 * The exit-code table: 0 queued; 11 to 40 permanent; every other code
 * temporary, as qmail-queue(8) says and qmail-inject does. That includes
 * 91 (bad envelope format), which relay once called permanent in
 * relay-inject and temporary in relay-bounce. It is temporary here
 * because (1) qmail-inject maps 91 to "qq internal bug (#4.3.0)", a
 * temporary failure, and filters written for qmail expect that; (2) every
 * caller checks the addresses with addr_check() before writing the
 * envelope, so 91 means the caller and the queue program disagree (a bug
 * or a queue filter of another mind), not that the message is bad; and
 * (3) when in doubt, temporary: a deferred message can still go out once
 * the disagreement is mended, a refused one is lost. An envelope address
 * that is too long is 11, permanent, as in qmail. */
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

/* qmail-queue's exit codes, as relay-queue uses them. */
enum {
	QQ_OK       = 0,
	QQ_TOOLONG  = 11,   /* an envelope address is too long (permanent) */
	QQ_REFUSED  = 31,   /* the message is refused (permanent) */
	QQ_NOMEM    = 51,
	QQ_TIMEOUT  = 52,
	QQ_WRITE    = 53,   /* write error, disk full, unreadable settings */
	QQ_READMSG  = 54,   /* unable to read the message on fd 0 */
	QQ_READENV  = 55,   /* unable to read the envelope on fd 1 */
	QQ_BUG      = 81,   /* internal bug */
	QQ_BADENV   = 91,   /* envelope format error (temporary: see above) */
	QQ_EXEC     = 120   /* the queue program could not be run (qmail's
	                       "unable to exec qq"; set by submit's child) */
};

#define SUBMIT_IDFD_ENV "RELAYQUEUE_IDFD"
/* events: the program handing the message over (its name), for
 * relay-queue's "received" record (doc/events.md); the caller's word,
 * beside the uid relay-queue sees */
#define SUBMIT_SOURCE_ENV "RELAYQUEUE_SOURCE"
#define SUBMIT_ID_MAX   63   /* longest queue id line kept (without \n) */

/* The table. 1 if exit code code (nonzero) of the queue program is a
 * temporary failure, 0 if permanent. */
int submit_exit_temporary(int code);
/* Its text: "queue write error or disk full"; never NULL. */
const char *submit_exit_text(int code);

/* Where the queue program is (see above) into out. 0, or -1 with errno
 * ENAMETOOLONG. */
int submit_program(char *out, size_t cap);

/* The envelope records for fd 1. class NULL or "" means none (relay-queue
 * writes "default"); sender "" is the null sender. 0, or -1 (ENOMEM). */
int submit_envelope(struct buf *env, const char *class, const char *sender,
                    char *const *rcpt, size_t nrcpt);

/* One hand-over. The caller ignores SIGPIPE (a queue program that exits
 * early must not kill it) and does not reap children behind submit's
 * back (waitpid(-1), SIGCHLD set to SIG_IGN). */
struct submit {
	char prog[PATH_MAX];    /* the queue program run */
	pid_t pid;
	int msg_fd;             /* the message goes here (submit_write) */
	int env_fd;             /* the envelope goes here (submit_end) */
	int id_fd;              /* read end of the id pipe, or -1 */
	int werr;               /* errno of the first failed write, or 0 */
	int err;                /* errno of our own failure (pipe, fork, wait) */
	const char *failed;     /* what failed then: "fork", "wait for", ... */
	int code;               /* the queue program's exit code, -1 if none */
	int sig;                /* the signal that killed it, or 0 */
	char id[SUBMIT_ID_MAX + 1]; /* the queue id it reported, or "" */
};

/* Start the queue program (want_id: ask it for the queue id). Returns
 * what submit_end would; 0 when it runs. */
int submit_start(struct submit *s, int want_id);
/* Write message bytes (as often as needed). 0, or -1 once a write
 * failed: the rest is skipped and submit_end decides. */
int submit_write(struct submit *s, const void *p, size_t n);
/* End the message, write the envelope, wait, read the id. Returns 0 when
 * the message is queued, else EXIT_PERM or EXIT_TEMP (diag.h): exit code
 * 0 with a failed write is temporary (the queue program did not take the
 * whole message: qmail-inject's "qq read error"); a signal, a failure to
 * run it, pipe, fork or wait failing are temporary; an exit code goes
 * through the table. */
int submit_end(struct submit *s, const void *env, size_t envlen);
/* start, write, end in one call. */
int submit(struct submit *s, const void *msg, size_t len, const void *env,
           size_t envlen, int want_id);
/* One line for the log after a failure: "queue program /x/relay-queue:
 * queue write error or disk full (exit 53)". */
void submit_describe(const struct submit *s, char *out, size_t cap);


/* A session: many messages through one queue program, run as
 * "relay-queue -S" (one exec per SMTP session instead of one per
 * message). Requests on its fd 0 are two netstrings, the message then
 * the envelope above; each is answered on its fd 1 by a netstring, "0 ID"
 * once the message is on disk and synced (the same checks, trace and
 * commit as one message per run), or "CODE" (the exit-code table) just
 * before it exits. Only relay's own relay-queue speaks it: with
 * $RELAYQUEUE set (a filter, a test's stand-in) there is no session and
 * every message is a submit() of its own. */
#define SUBMIT_SESSION_ARG "-S"
struct submit_session {
	pid_t pid;              /* 0: none running */
	int to, from;           /* its fd 0 and fd 1 */
	char prog[PATH_MAX];    /* the program, found once: "" before */
};
/* 1 when sessions may be used: $RELAYQUEUE is unset or empty. */
int submit_session_possible(void);
void submit_session_init(struct submit_session *ss);
/* One message through the session, started on first use and again after
 * a failure ended it. Fills s as submit() does (for submit_describe) and
 * returns the same: 0 queued, EXIT_TEMP or EXIT_PERM. A queue program
 * that ends without answering is a temporary failure (the message may
 * be queued: a duplicate, never a loss, as with a signal in submit). */
int submit_session(struct submit_session *ss, struct submit *s, const void *msg, size_t len,
                   const void *env, size_t envlen);
/* End the session: close its input, wait for it. */
void submit_session_end(struct submit_session *ss);

#endif
