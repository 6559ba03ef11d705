#ifndef RELAY_SMTP_SESSION_H
#define RELAY_SMTP_SESSION_H
/* Inside the SMTP client: the session and what the files of the session
 * share (smtp_io.c: I/O with timeouts, results, the step hook;
 * smtp_connect.c; smtp_auth.c; smtp_send.c; smtp.c: open and close).
 * Included by lib/net/smtp*.c only; the contract is smtp.h. */
#include <stdint.h>
#include "net/smtp.h"

struct tls_conn;

struct smtp_session {
	int fd;
	struct tls_conn *tls;
	int broken;              /* must not be used for another command */
	unsigned caps;
	unsigned long size_max;
	struct smtp_timeouts to;
	int64_t end;             /* to.session as a sess_now() time; 0 = none */
	smtp_step_fn *on_step;   /* opts.on_step */
	void *step_arg;
	enum smtp_step_end fail; /* how the last failure ended, for on_step */
	int fail_pe;             /* and the parser's reason when malformed */
	char rbuf[8192];
	size_t rpos, rlen;
	char peer[80];
	char peer_name[128];
	char helo[256];
	/* EHLO parsing */
	unsigned ncaps;
	unsigned long nsize;
	char npeer[128];
};

/* ---- smtp_io.c */
int64_t sess_now(void);                               /* monotonic ms */
/* now + ms, or the session's deadline when that comes first */
int64_t sess_until(const struct smtp_session *s, int ms);
/* Wait for fd to be ready (events) until deadline. 0 ready, -1 timeout
 * (errno ETIMEDOUT), -1 other. */
int sess_wait(int fd, short events, int64_t deadline);

void sess_res_set(struct smtp_result *r, const char *stage, int code, const char *enh,
	int temp, int member, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* A server reply as a result; member_fault for 421. */
void sess_res_reply(struct smtp_result *r, const char *stage, const struct smtp_reply *rep);

/* Write everything; each wait for progress is at most idle_ms. 0, or -1
 * with err filled and s->fail set. */
int sess_write(struct smtp_session *s, const char *p, size_t n, int idle_ms, char *err, size_t errcap);
/* Read one reply. 0 with rep complete; -1 with r filled (code 0, temp,
 * member_fault), s->fail set and the session marked broken. */
int sess_read_reply(struct smtp_session *s, const char *stage, int idle_ms,
	struct smtp_reply *rep, struct smtp_result *r);
/* Before a command: no reply may be pending. Unsolicited data or an EOF
 * here is a protocol failure. 0 quiet, -1 with r filled. */
int sess_check_quiet(struct smtp_session *s, const char *stage, struct smtp_result *r);
/* Send a command line (CRLF added). 0, or -1 with r filled. */
int sess_send_cmd(struct smtp_session *s, const char *stage, const char *line, int idle_ms,
	struct smtp_result *r);
/* Command then reply. 0 with rep, or -1 with r filled. */
int sess_command(struct smtp_session *s, const char *stage, const char *line, int idle_ms,
	struct smtp_reply *rep, struct smtp_result *r);
/* The end of step id, begun at t0, for opts.on_step: ok; else refused
 * by the reply code (code > 0); else the failure recorded in s->fail. */
void sess_step(struct smtp_session *s, enum smtp_step_id id, int64_t t0, int ok, int code);

/* ---- smtp_connect.c: resolve o->host and connect (SMTP_STEP_CONNECT);
 * sets s->fd and s->peer. 0, or -1 with r filled. */
int sess_connect(struct smtp_session *s, const struct smtp_opts *o, int port, struct smtp_result *r);
/* ---- smtp_auth.c: AUTH per smtp.h (SMTP_STEP_AUTH). 0, or -1 with r filled. */
int sess_auth(struct smtp_session *s, const struct smtp_opts *o, struct smtp_result *r);
/* ---- smtp_send.c: RSET (SMTP_STEP_RSET); 0 on 2xx, -1 with r (may
 * be NULL) filled and the session broken. */
int sess_rset(struct smtp_session *s, struct smtp_result *r);

#endif
