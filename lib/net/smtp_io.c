/* The SMTP client's I/O: poll()-based timeouts over a plain or TLS
 * socket, reading one reply through the parser (reply.h), commands,
 * results, and the step hook. See smtp.h for the contract. */
#include "net/smtp_session.h"
#include "base/diag.h"
#include "net/tls.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int64_t sess_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sess_until(const struct smtp_session *s, int ms)
{
	int64_t d = sess_now() + ms;
	return s->end && s->end < d ? s->end : d;
}

void sess_res_set(struct smtp_result *r, const char *stage, int code, const char *enh,
	int temp, int member, const char *fmt, ...)
{
	va_list ap;
	char raw[512];
	memset(r, 0, sizeof *r);
	r->code = code;
	snprintf(r->enh, sizeof r->enh, "%s", enh ? enh : "");
	snprintf(r->stage, sizeof r->stage, "%s", stage);
	r->temp = temp || member;
	r->member_fault = member;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	safe_text(r->text, sizeof r->text, raw, strlen(raw));
}

void sess_res_reply(struct smtp_result *r, const char *stage, const struct smtp_reply *rep)
{
	memset(r, 0, sizeof *r);
	r->code = rep->code;
	memcpy(r->enh, rep->enh, sizeof r->enh);
	memcpy(r->text, rep->text, sizeof r->text);
	snprintf(r->stage, sizeof r->stage, "%s", stage);
	r->temp = rep->code / 100 == 4;
	if (rep->code == 421) {
		r->member_fault = 1;
		r->temp = 1;
	}
}

/* ----------------------------------------------------------- step hook */

const char *smtp_step_name(enum smtp_step_id id)
{
	static const char *const names[SMTP_NSTEPS] = {
		"connect", "tls", "greeting", "ehlo", "starttls", "auth", "mail", "rcpt",
		"data", "dot", "rset", "noop", "quit"
	};
	return (unsigned)id < SMTP_NSTEPS ? names[id] : "?";
}

void sess_step(struct smtp_session *s, enum smtp_step_id id, int64_t t0, int ok, int code)
{
	struct smtp_step st;
	if (s->on_step) {
		st.id = id;
		st.end = ok ? SMTP_END_OK : code > 0 ? SMTP_END_REFUSED : s->fail;
		st.code = code;
		st.pe = st.end == SMTP_END_MALFORMED ? s->fail_pe : SMTP_PE_NONE;
		st.ms = (long)(sess_now() - t0);
		s->on_step(s->step_arg, s, &st);
	}
	s->fail = SMTP_END_ERROR;
}

/* ------------------------------------------------------------------ I/O */

int sess_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		int64_t left = deadline - sess_now();
		int rc;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* Read some bytes. >0 bytes, 0 EOF, -1 error (errno; ETIMEDOUT at
 * deadline). */
static ssize_t io_read(struct smtp_session *s, char *p, size_t n, int64_t deadline, char *err, size_t errcap)
{
	for (;;) {
		if (s->tls) {
			size_t got;
			int rc = tls_read(s->tls, p, n, &got);
			if (rc == TLS_OK)
				return (ssize_t)got;
			if (rc == TLS_EOF)
				return 0;
			if (rc == TLS_ERR) {
				tls_error(s->tls, err, errcap);
				errno = EPROTO;
				return -1;
			}
			if (sess_wait(s->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0)
				return -1;
		} else {
			ssize_t r = recv(s->fd, p, n, 0);
			if (r >= 0)
				return r;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				snprintf(err, errcap, "%s", strerror(errno));
				return -1;
			}
			if (sess_wait(s->fd, POLLIN, deadline) < 0)
				return -1;
		}
	}
}

static int write_stalled(struct smtp_session *s, char *err, size_t errcap)
{
	s->fail = errno == ETIMEDOUT ? SMTP_END_TIMEOUT : SMTP_END_ERROR;
	snprintf(err, errcap, "%s", errno == ETIMEDOUT ? "timeout while sending" : strerror(errno));
	return -1;
}

int sess_write(struct smtp_session *s, const char *p, size_t n, int idle_ms, char *err, size_t errcap)
{
	int64_t deadline = sess_until(s, idle_ms);
	while (n) {
		if (s->tls) {
			size_t put;
			int rc = tls_write(s->tls, p, n, &put);
			if (rc == TLS_OK) {
				p += put;
				n -= put;
				deadline = sess_until(s, idle_ms);
				continue;
			}
			if (rc == TLS_ERR) {
				s->fail = SMTP_END_ERROR;
				tls_error(s->tls, err, errcap);
				return -1;
			}
			if (sess_wait(s->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0)
				return write_stalled(s, err, errcap);
		} else {
			ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w > 0) {
				p += w;
				n -= (size_t)w;
				deadline = sess_until(s, idle_ms);
				continue;
			}
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				s->fail = SMTP_END_ERROR;
				snprintf(err, errcap, "%s", strerror(errno));
				return -1;
			}
			if (sess_wait(s->fd, POLLOUT, deadline) < 0)
				return write_stalled(s, err, errcap);
		}
	}
	return 0;
}

int sess_read_reply(struct smtp_session *s, const char *stage, int idle_ms,
	struct smtp_reply *rep, struct smtp_result *r)
{
	int64_t start = sess_now();
	int64_t abs = start + (s->to.reply_max > 0 ? s->to.reply_max : idle_ms);
	int64_t idle = start + idle_ms;
	char err[256] = "";
	smtp_reply_init(rep);
	for (;;) {
		if (s->rpos < s->rlen) {
			size_t used;
			int rc = smtp_reply_feed(rep, s->rbuf + s->rpos, s->rlen - s->rpos, &used);
			s->rpos += used;
			if (s->rpos == s->rlen)
				s->rpos = s->rlen = 0;
			if (rc == 1)
				return 0;
			if (rc < 0) {
				s->broken = 1;
				s->fail = SMTP_END_MALFORMED;
				s->fail_pe = rep->err;
				sess_res_set(r, stage, 0, "", 1, 1, "protocol error: %s", smtp_parse_error(rep->err));
				return -1;
			}
		}
		{
			int64_t lim = idle < abs ? idle : abs;
			int by_session = s->end && s->end < lim;
			ssize_t got = io_read(s, s->rbuf, sizeof s->rbuf, by_session ? s->end : lim,
				err, sizeof err);
			s->rpos = 0;
			s->rlen = got > 0 ? (size_t)got : 0;
			if (got > 0) {
				idle = sess_now() + idle_ms;
				continue;
			}
			s->broken = 1;
			s->fail = SMTP_END_ERROR;
			if (got == 0) {
				s->fail = SMTP_END_CLOSED;
				sess_res_set(r, stage, 0, "", 1, 1, "connection closed by server");
			} else if (errno == ETIMEDOUT) {
				s->fail = SMTP_END_TIMEOUT;
				sess_res_set(r, stage, 0, "", 1, 1, "%s waiting for reply",
					by_session ? "session deadline exceeded" :
					abs < idle ? "reply deadline exceeded" : "timeout");
			} else {
				sess_res_set(r, stage, 0, "", 1, 1, "read error: %s", err);
			}
			return -1;
		}
	}
}

int sess_check_quiet(struct smtp_session *s, const char *stage, struct smtp_result *r)
{
	char b[512], err[256];
	ssize_t got;
	s->fail = SMTP_END_ERROR;
	if (s->broken) {
		sess_res_set(r, stage, 0, "", 1, 1, "session unusable after an earlier failure");
		return -1;
	}
	if (s->rpos < s->rlen) {
		s->broken = 1;
		sess_res_set(r, stage, 0, "", 1, 1, "protocol error: unsolicited data from server");
		return -1;
	}
	if (s->tls && tls_pending(s->tls) == 0) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		if (poll(&p, 1, 0) <= 0)
			return 0;
	}
	got = io_read(s, b, sizeof b, sess_now(), err, sizeof err);
	if (got < 0 && errno == ETIMEDOUT)
		return 0;
	s->broken = 1;
	if (got > 0) {
		sess_res_set(r, stage, 0, "", 1, 1, "protocol error: unsolicited data from server");
	} else if (got == 0) {
		s->fail = SMTP_END_CLOSED;
		sess_res_set(r, stage, 0, "", 1, 1, "connection closed by server");
	} else {
		sess_res_set(r, stage, 0, "", 1, 1, "read error: %s", err);
	}
	return -1;
}

int sess_send_cmd(struct smtp_session *s, const char *stage, const char *line, int idle_ms,
	struct smtp_result *r)
{
	char b[1024], err[256] = "";
	size_t n = strlen(line);
	if (n + 2 > sizeof b) {
		s->fail = SMTP_END_ERROR;
		sess_res_set(r, stage, 0, "", 1, 0, "command too long");
		return -1;
	}
	memcpy(b, line, n);
	memcpy(b + n, "\r\n", 2);
	if (sess_write(s, b, n + 2, idle_ms, err, sizeof err) < 0) {
		s->broken = 1;
		sess_res_set(r, stage, 0, "", 1, 1, "write error: %s", err);
		return -1;
	}
	return 0;
}

int sess_command(struct smtp_session *s, const char *stage, const char *line, int idle_ms,
	struct smtp_reply *rep, struct smtp_result *r)
{
	if (sess_check_quiet(s, stage, r) < 0 || sess_send_cmd(s, stage, line, idle_ms, r) < 0)
		return -1;
	return sess_read_reply(s, stage, idle_ms, rep, r);
}
