/* SMTP client: see smtp.h for the contract. */
#include "net/smtp.h"
#include "base/buf.h"
#include "base/diag.h"
#include "net/dns.h"
#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* ============================================================ reply parser */

int smtp_parse_reply_line(const char *line, size_t len, int *code, int *last, size_t *text)
{
	size_t i;
	if (len < 3)
		return -1;
	for (i = 0; i < len; i++)
		if (line[i] == 0 || line[i] == '\r')
			return -1;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3) {
		*last = 1;
		*text = 3;
		return 0;
	}
	if (line[3] == ' ')
		*last = 1;
	else if (line[3] == '-')
		*last = 0;
	else
		return -1;
	*text = 4;
	return 0;
}

const char *smtp_parse_error(int pe)
{
	switch (pe) {
	case SMTP_PE_NONE: return "no error";
	case SMTP_PE_SYNTAX: return "malformed reply line";
	case SMTP_PE_LONG: return "reply line too long";
	case SMTP_PE_LINES: return "too many reply lines";
	case SMTP_PE_MIXED: return "reply codes differ across lines";
	case SMTP_PE_CR: return "bare CR in reply";
	case SMTP_PE_NUL: return "NUL in reply";
	default: return "bad reply";
	}
}

void smtp_reply_init(struct smtp_reply *r)
{
	void (*cb)(void *, const char *, size_t) = r->on_line;
	void *arg = r->arg;
	r->code = 0;
	r->done = 0;
	r->err = 0;
	r->enh[0] = 0;
	r->text[0] = 0;
	r->textlen = 0;
	r->nlines = 0;
	r->linelen = 0;
	r->cr = 0;
	r->on_line = cb;
	r->arg = arg;
}

/* "X.Y.Z" at the start of t, X matching the class of the code. */
static void get_enh(struct smtp_reply *r, const char *t, size_t n)
{
	size_t i = 0, part, digits;
	if (n < 5 || t[0] - '0' != r->code / 100)
		return;
	i = 1;
	for (part = 0; part < 2; part++) {
		if (i >= n || t[i] != '.')
			return;
		i++;
		for (digits = 0; i < n && t[i] >= '0' && t[i] <= '9' && digits < 3; i++)
			digits++;
		if (!digits)
			return;
	}
	if (i < n && t[i] != ' ')
		return;
	if (i < sizeof r->enh) {
		memcpy(r->enh, t, i);
		r->enh[i] = 0;
	}
}

static void add_text(struct smtp_reply *r, const char *t, size_t n)
{
	size_t cap = sizeof r->text;
	if (r->nlines > 1 && r->textlen + 3 < cap) {
		memcpy(r->text + r->textlen, " / ", 3);
		r->textlen += 3;
		r->text[r->textlen] = 0;
	}
	if (r->textlen + 1 < cap)
		r->textlen += safe_text(r->text + r->textlen, cap - r->textlen, t, n);
}

/* A complete line in r->line: 1 done, 0 more lines, -1 malformed. */
static int end_line(struct smtp_reply *r)
{
	int code, last;
	size_t off;
	if (smtp_parse_reply_line(r->line, r->linelen, &code, &last, &off) < 0) {
		r->err = SMTP_PE_SYNTAX;
		return -1;
	}
	if (r->nlines == 0)
		r->code = code;
	else if (code != r->code) {
		r->err = SMTP_PE_MIXED;
		return -1;
	}
	if (++r->nlines > REPLY_LINES_MAX) {
		r->err = SMTP_PE_LINES;
		return -1;
	}
	if (r->nlines == 1)
		get_enh(r, r->line + off, r->linelen - off);
	add_text(r, r->line + off, r->linelen - off);
	if (r->on_line)
		r->on_line(r->arg, r->line + off, r->linelen - off);
	r->linelen = 0;
	if (last) {
		r->done = 1;
		return 1;
	}
	return 0;
}

int smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used)
{
	size_t i;
	int rc;
	*used = 0;
	if (r->err)
		return -1;
	if (r->done)
		return 1;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n') {
			/* CRLF, or a bare LF taken leniently as a line end */
			r->cr = 0;
			rc = end_line(r);
			if (rc != 0) {
				*used = i + 1;
				return rc;
			}
			continue;
		}
		if (r->cr) {
			r->err = SMTP_PE_CR;
			*used = i;
			return -1;
		}
		if (c == '\r') {
			r->cr = 1;
			continue;
		}
		if (c == 0) {
			r->err = SMTP_PE_NUL;
			*used = i;
			return -1;
		}
		if (r->linelen >= sizeof r->line) {
			r->err = SMTP_PE_LONG;
			*used = i;
			return -1;
		}
		r->line[r->linelen++] = c;
	}
	*used = n;
	return 0;
}

/* ========================================================= data encoding */

void smtp_dot_init(struct smtp_dot *d)
{
	d->bol = 1;
	d->cr = 0;
	d->any = 0;
}

int smtp_dot_add(struct smtp_dot *d, struct buf *out, const char *in, size_t n)
{
	size_t i, start;
	/* worst case every byte doubles (".\n" -> "..\r\n") */
	if (n > (SIZE_MAX - 8) / 2 || buf_reserve(out, 2 * n + 8) < 0)
		return -1;
	for (i = 0; i < n; ) {
		char c = in[i];
		if (d->cr) {
			d->cr = 0;
			out->p[out->len++] = '\r';
			out->p[out->len++] = '\n';
			d->bol = 1;
			if (c == '\n') {
				i++;
				continue;
			}
			/* a bare CR became CRLF; now handle c */
		}
		if (c == '\r') {
			d->cr = 1;
			i++;
			continue;
		}
		if (c == '\n') {
			out->p[out->len++] = '\r';
			out->p[out->len++] = '\n';
			d->bol = 1;
			i++;
			continue;
		}
		if (d->bol && c == '.')
			out->p[out->len++] = '.';
		d->bol = 0;
		/* copy the run of ordinary bytes */
		start = i;
		while (i < n && in[i] != '\r' && in[i] != '\n')
			i++;
		memcpy(out->p + out->len, in + start, i - start);
		out->len += i - start;
	}
	if (n)
		d->any = 1;
	out->p[out->len] = 0;
	return 0;
}

int smtp_dot_end(struct smtp_dot *d, struct buf *out)
{
	if (buf_reserve(out, 8) < 0)
		return -1;
	if (d->cr || !d->bol) {
		out->p[out->len++] = '\r';
		out->p[out->len++] = '\n';
	}
	d->cr = 0;
	d->bol = 1;
	memcpy(out->p + out->len, ".\r\n", 3);
	out->len += 3;
	out->p[out->len] = 0;
	return 0;
}

/* ================================================================ session */

struct smtp_session {
	int fd;
	struct tls_conn *tls;
	int broken;              /* must not be used for another command */
	unsigned caps;
	unsigned long size_max;
	struct smtp_timeouts to;
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

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tmo(int v, int def)
{
	return v > 0 ? v : def;
}

static void timeouts_default(struct smtp_timeouts *t, const struct smtp_timeouts *in)
{
	t->connect = tmo(in->connect, 30000);
	t->greeting = tmo(in->greeting, 300000);
	t->ehlo = tmo(in->ehlo, 300000);
	t->starttls = tmo(in->starttls, 120000);
	t->tls = tmo(in->tls, 60000);
	t->auth = tmo(in->auth, 120000);
	t->mail = tmo(in->mail, 300000);
	t->rcpt = tmo(in->rcpt, 300000);
	t->data_init = tmo(in->data_init, 120000);
	t->data_block = tmo(in->data_block, 180000);
	t->dot = tmo(in->dot, 600000);
	t->rset = tmo(in->rset, 120000);
	t->quit = tmo(in->quit, 5000);
	t->reply_max = in->reply_max > 0 ? in->reply_max : 0;
}

static void res_set(struct smtp_result *r, const char *stage, int code, const char *enh,
	int temp, int member, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void res_set(struct smtp_result *r, const char *stage, int code, const char *enh,
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

/* A server reply as a result; member_fault for 421. */
static void res_reply(struct smtp_result *r, const char *stage, const struct smtp_reply *rep)
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

/* ------------------------------------------------------------------ I/O */

/* Wait for fd to be ready (events) until the earlier of the two
 * deadlines. 0 ready, -1 timeout (errno ETIMEDOUT), -1 other. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		int64_t left = deadline - now_ms();
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

/* Read some bytes. >0 bytes, 0 EOF, -1 error (errno; ETIMEDOUT). The
 * wait ends at the earlier of idle and abs. */
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
			if (wait_fd(s->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0)
				return -1;
		} else {
			ssize_t r = recv(s->fd, p, n, 0);
			if (r >= 0)
				return r;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				snprintf(err, errcap, "%s", strerror(errno));
				return -1;
			}
			if (wait_fd(s->fd, POLLIN, deadline) < 0)
				return -1;
		}
	}
}

/* Write everything; each wait for progress is at most idle_ms. 0 or -1. */
static int io_write(struct smtp_session *s, const char *p, size_t n, int idle_ms, char *err, size_t errcap)
{
	int64_t deadline = now_ms() + idle_ms;
	while (n) {
		if (s->tls) {
			size_t put;
			int rc = tls_write(s->tls, p, n, &put);
			if (rc == TLS_OK) {
				p += put;
				n -= put;
				deadline = now_ms() + idle_ms;
				continue;
			}
			if (rc == TLS_ERR) {
				tls_error(s->tls, err, errcap);
				return -1;
			}
			if (wait_fd(s->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0) {
				snprintf(err, errcap, "%s", errno == ETIMEDOUT ? "timeout while sending" : strerror(errno));
				return -1;
			}
		} else {
			ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w > 0) {
				p += w;
				n -= (size_t)w;
				deadline = now_ms() + idle_ms;
				continue;
			}
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				snprintf(err, errcap, "%s", strerror(errno));
				return -1;
			}
			if (wait_fd(s->fd, POLLOUT, deadline) < 0) {
				snprintf(err, errcap, "%s", errno == ETIMEDOUT ? "timeout while sending" : strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

/* Read one reply. 0 with rep complete; -1 with r filled (code 0, temp,
 * member_fault) and the session marked broken. */
static int read_reply(struct smtp_session *s, const char *stage, int idle_ms,
	struct smtp_reply *rep, struct smtp_result *r)
{
	int64_t start = now_ms();
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
				res_set(r, stage, 0, "", 1, 1, "protocol error: %s", smtp_parse_error(rep->err));
				return -1;
			}
		}
		{
			ssize_t got = io_read(s, s->rbuf, sizeof s->rbuf,
				idle < abs ? idle : abs, err, sizeof err);
			s->rpos = 0;
			s->rlen = got > 0 ? (size_t)got : 0;
			if (got > 0) {
				idle = now_ms() + idle_ms;
				continue;
			}
			s->broken = 1;
			if (got == 0)
				res_set(r, stage, 0, "", 1, 1, "connection closed by server");
			else if (errno == ETIMEDOUT)
				res_set(r, stage, 0, "", 1, 1, "%s waiting for reply",
					now_ms() >= abs && abs < idle ? "reply deadline exceeded" : "timeout");
			else
				res_set(r, stage, 0, "", 1, 1, "read error: %s", err);
			return -1;
		}
	}
}

/* Before a command: no reply may be pending. Unsolicited data or an EOF
 * here is a protocol failure. 0 quiet, -1 with r filled. */
static int check_quiet(struct smtp_session *s, const char *stage, struct smtp_result *r)
{
	char b[512], err[256];
	ssize_t got;
	if (s->broken) {
		res_set(r, stage, 0, "", 1, 1, "session unusable after an earlier failure");
		return -1;
	}
	if (s->rpos < s->rlen) {
		s->broken = 1;
		res_set(r, stage, 0, "", 1, 1, "protocol error: unsolicited data from server");
		return -1;
	}
	if (s->tls && tls_pending(s->tls) == 0) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		if (poll(&p, 1, 0) <= 0)
			return 0;
	}
	got = io_read(s, b, sizeof b, now_ms(), err, sizeof err);
	if (got < 0 && errno == ETIMEDOUT)
		return 0;
	s->broken = 1;
	if (got > 0)
		res_set(r, stage, 0, "", 1, 1, "protocol error: unsolicited data from server");
	else if (got == 0)
		res_set(r, stage, 0, "", 1, 1, "connection closed by server");
	else
		res_set(r, stage, 0, "", 1, 1, "read error: %s", err);
	return -1;
}

/* Send a command line (CRLF added). 0, or -1 with r filled. */
static int send_cmd(struct smtp_session *s, const char *stage, const char *line, int idle_ms,
	struct smtp_result *r)
{
	char b[1024], err[256] = "";
	size_t n = strlen(line);
	if (n + 2 > sizeof b) {
		res_set(r, stage, 0, "", 1, 0, "command too long");
		return -1;
	}
	memcpy(b, line, n);
	memcpy(b + n, "\r\n", 2);
	if (io_write(s, b, n + 2, idle_ms, err, sizeof err) < 0) {
		s->broken = 1;
		res_set(r, stage, 0, "", 1, 1, "write error: %s", err);
		return -1;
	}
	return 0;
}

/* Command then reply. 0 with rep, or -1 with r filled. */
static int command(struct smtp_session *s, const char *stage, const char *line, int idle_ms,
	struct smtp_reply *rep, struct smtp_result *r)
{
	if (check_quiet(s, stage, r) < 0 || send_cmd(s, stage, line, idle_ms, r) < 0)
		return -1;
	return read_reply(s, stage, idle_ms, rep, r);
}

/* -------------------------------------------------------------- connect */

static void fmt_peer(char *out, size_t cap, const struct sockaddr *sa)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(out, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(out, cap, "%s:%u", a, ntohs(s4->sin_port));
	}
}

/* Non-blocking connect within ms. fd, or -1 with errno. */
static int connect_one(const struct sockaddr *sa, socklen_t len, int ms)
{
	int fd, e;
	socklen_t el = sizeof e;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (wait_fd(fd, POLLOUT, now_ms() + ms) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		e = errno;
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct addrs {
	size_t n;
	struct dns_addr a[SMTP_ADDRS_MAX];
};

/* Addresses of host: an IP literal, then dns_addrs or getaddrinfo.
 * 0, or -1 with r filled. */
static int resolve(const struct smtp_opts *o, int port, struct addrs *out, struct smtp_result *r)
{
	char h[256];
	size_t n = strlen(o->host);
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	out->n = 0;
	if (n == 0 || n >= sizeof h) {
		res_set(r, "connect", 0, "", 1, 1, "bad host name");
		return -1;
	}
	if (o->host[0] == '[' && o->host[n - 1] == ']') {
		memcpy(h, o->host + 1, n - 2);
		h[n - 2] = 0;
		if (!strncasecmp(h, "IPv6:", 5))
			memmove(h, h + 5, strlen(h + 5) + 1);
	} else {
		memcpy(h, o->host, n + 1);
	}
	memset(&s4, 0, sizeof s4);
	memset(&s6, 0, sizeof s6);
	if (inet_pton(AF_INET, h, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		s4.sin_port = htons((uint16_t)port);
		memcpy(&out->a[0].sa, &s4, sizeof s4);
		out->a[0].len = sizeof s4;
		out->n = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, h, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((uint16_t)port);
		memcpy(&out->a[0].sa, &s6, sizeof s6);
		out->a[0].len = sizeof s6;
		out->n = 1;
		return 0;
	}
	if (o->dns) {
		char err[256] = "";
		size_t i, got = 0;
		int rc = dns_addrs(o->dns, h, out->a, SMTP_ADDRS_MAX, &got, err, sizeof err);
		if (rc != DNS_OK) {
			res_set(r, "connect", 0, dns_status_enh(rc), 1, 1, "cannot resolve %s: %s", h, err);
			return -1;
		}
		for (i = 0; i < got; i++) {
			struct sockaddr *sa = (struct sockaddr *)&out->a[i].sa;
			if (sa->sa_family == AF_INET6)
				((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
			else
				((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
		}
		out->n = got;
		return 0;
	} else {
		struct addrinfo hints, *res = NULL, *ai;
		char ps[16];
		int rc;
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_ADDRCONFIG;
		snprintf(ps, sizeof ps, "%d", port);
		rc = getaddrinfo(h, ps, &hints, &res);
		if (rc != 0) {
			res_set(r, "connect", 0, "", 1, 1, "cannot resolve %s: %s", h, gai_strerror(rc));
			return -1;
		}
		for (ai = res; ai && out->n < SMTP_ADDRS_MAX; ai = ai->ai_next) {
			if (ai->ai_addrlen > sizeof out->a[0].sa)
				continue;
			memcpy(&out->a[out->n].sa, ai->ai_addr, ai->ai_addrlen);
			out->a[out->n].len = ai->ai_addrlen;
			out->n++;
		}
		freeaddrinfo(res);
		if (!out->n) {
			res_set(r, "connect", 0, "", 1, 1, "no address for %s", h);
			return -1;
		}
		return 0;
	}
}

/* ------------------------------------------------------------------ EHLO */

static void ehlo_line(void *arg, const char *t, size_t n)
{
	struct smtp_session *s = arg;
	char w[64];
	size_t i, k;
	if (!s->npeer[0]) {
		/* first line: the server's name */
		for (i = 0; i < n && t[i] != ' '; i++)
			;
		safe_text(s->npeer, sizeof s->npeer, t, i);
		if (!s->npeer[0])
			snprintf(s->npeer, sizeof s->npeer, "?");
		return;
	}
	for (i = 0; i < n && t[i] != ' ' && t[i] != '=' && i + 1 < sizeof w; i++)
		w[i] = t[i];
	w[i] = 0;
	if (!strcasecmp(w, "PIPELINING"))
		s->ncaps |= SMTP_CAP_PIPELINING;
	else if (!strcasecmp(w, "8BITMIME"))
		s->ncaps |= SMTP_CAP_8BITMIME;
	else if (!strcasecmp(w, "SMTPUTF8"))
		s->ncaps |= SMTP_CAP_SMTPUTF8;
	else if (!strcasecmp(w, "STARTTLS"))
		s->ncaps |= SMTP_CAP_STARTTLS;
	else if (!strcasecmp(w, "SIZE")) {
		unsigned long v = 0;
		s->ncaps |= SMTP_CAP_SIZE;
		for (k = i; k < n && t[k] == ' '; k++)
			;
		for (; k < n && t[k] >= '0' && t[k] <= '9'; k++) {
			if (v > (ULONG_MAX - 9) / 10) {
				v = 0; /* absurd: treat as no limit */
				break;
			}
			v = v * 10 + (unsigned long)(t[k] - '0');
		}
		s->nsize = v;
	} else if (!strcasecmp(w, "AUTH")) {
		/* "AUTH PLAIN LOGIN" or the old "AUTH=PLAIN LOGIN" */
		k = i + 1;
		while (k < n) {
			size_t st = k, l;
			while (k < n && t[k] != ' ')
				k++;
			l = k - st;
			if (l == 5 && !strncasecmp(t + st, "PLAIN", 5))
				s->ncaps |= SMTP_CAP_AUTH_PLAIN;
			if (l == 5 && !strncasecmp(t + st, "LOGIN", 5))
				s->ncaps |= SMTP_CAP_AUTH_LOGIN;
			k++;
		}
	}
}

/* EHLO, or HELO when EHLO gets 5xx. Capabilities replace the old ones.
 * 0, or -1 with r filled. */
static int ehlo(struct smtp_session *s, struct smtp_result *r)
{
	struct smtp_reply rep;
	char line[300];
	rep.on_line = ehlo_line;
	rep.arg = s;
	s->ncaps = 0;
	s->nsize = 0;
	s->npeer[0] = 0;
	snprintf(line, sizeof line, "EHLO %s", s->helo);
	if (command(s, "ehlo", line, s->to.ehlo, &rep, r) < 0)
		return -1;
	if (rep.code / 100 == 2) {
		s->caps = s->ncaps | SMTP_CAP_ESMTP;
		s->size_max = s->nsize;
		memcpy(s->peer_name, s->npeer, sizeof s->peer_name);
		return 0;
	}
	if (rep.code / 100 != 5 || rep.code == 421) {
		res_reply(r, "ehlo", &rep);
		r->member_fault = r->temp = 1;
		return -1;
	}
	snprintf(line, sizeof line, "HELO %s", s->helo);
	s->npeer[0] = 0;
	if (command(s, "ehlo", line, s->to.ehlo, &rep, r) < 0)
		return -1;
	if (rep.code / 100 != 2) {
		res_reply(r, "ehlo", &rep);
		r->member_fault = r->temp = 1;
		return -1;
	}
	s->caps = 0;
	s->size_max = 0;
	memcpy(s->peer_name, s->npeer, sizeof s->peer_name);
	return 0;
}

/* ------------------------------------------------------------------- TLS */

static int handshake(struct smtp_session *s, const struct smtp_opts *o, int policy,
	struct smtp_result *r)
{
	char err[300] = "";
	const char *name = o->tls_name && *o->tls_name ? o->tls_name : o->host;
	char nb[256];
	int64_t deadline = now_ms() + s->to.tls;
	size_t n = strlen(name);
	/* "[1.2.3.4]" names the address 1.2.3.4 */
	if (n >= 2 && n < sizeof nb && name[0] == '[' && name[n - 1] == ']') {
		memcpy(nb, name + 1, n - 2);
		nb[n - 2] = 0;
		name = nb;
	}
	if (tls_new(&s->tls, s->fd, policy, o->ca_file, name, err, sizeof err) < 0) {
		s->broken = 1;
		res_set(r, "tls", 0, "", 1, 1, "%s", err);
		return -1;
	}
	for (;;) {
		int rc = tls_handshake(s->tls, err, sizeof err);
		if (rc == TLS_OK)
			return 0;
		if (rc == TLS_ERR || rc == TLS_EOF) {
			s->broken = 1;
			res_set(r, "tls", 0, "", 1, 1, "%s", err[0] ? err : "TLS handshake failed");
			return -1;
		}
		if (wait_fd(s->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0) {
			s->broken = 1;
			res_set(r, "tls", 0, "", 1, 1, "TLS handshake %s",
				errno == ETIMEDOUT ? "timed out" : strerror(errno));
			return -1;
		}
	}
}

/* ------------------------------------------------------------------ AUTH */

static int b64(char *out, size_t cap, const char *in, size_t n)
{
	if (4 * ((n + 2) / 3) + 1 > cap)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
	return 0;
}

/* A 334 challenge must be valid base64 (RFC 4954 4). */
static int b64_ok(const char *t)
{
	size_t n = strlen(t), i, pad = 0;
	unsigned char tmp[512];
	if (n % 4 || n > 600)
		return 0;
	for (i = 0; i < n; i++) {
		char c = t[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return 0;
	}
	return pad <= 2 && (n == 0 || EVP_DecodeBlock(tmp, (const unsigned char *)t, (int)n) >= 0);
}

static void auth_fail(struct smtp_result *r, const struct smtp_reply *rep)
{
	res_reply(r, "auth", rep);
	r->member_fault = 1; /* 535 too: defer and fail over, never bounce */
	r->temp = 1;
}

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static int auth(struct smtp_session *s, const struct smtp_opts *o, struct smtp_result *r)
{
	struct smtp_reply rep;
	char raw[600], line[900];
	size_t ul = strlen(o->auth_user), pl = o->auth_pass ? strlen(o->auth_pass) : 0;
	int rc = -1;
	rep.on_line = NULL;
	rep.arg = NULL;
	/* plaintext AUTH only when the policy is explicitly none: under
	 * "may" a stripped STARTTLS must not expose the password */
	if (!s->tls && !(o->auth_plaintext_ok && o->tls == TLS_NONE)) {
		res_set(r, "auth", 0, "", 1, 1, "refusing to send AUTH credentials without TLS");
		return -1;
	}
	if (ul + pl + 2 > 256 || strpbrk(o->auth_user, "\r\n") ||
	    (o->auth_pass && strpbrk(o->auth_pass, "\r\n"))) {
		res_set(r, "auth", 0, "", 1, 1, "AUTH credentials too long or malformed");
		return -1;
	}
	if (s->caps & SMTP_CAP_AUTH_PLAIN) {
		raw[0] = 0;
		memcpy(raw + 1, o->auth_user, ul);
		raw[1 + ul] = 0;
		if (pl)
			memcpy(raw + 2 + ul, o->auth_pass, pl);
		memcpy(line, "AUTH PLAIN ", 11);
		b64(line + 11, sizeof line - 11, raw, ul + pl + 2);
		if (command(s, "auth", line, s->to.auth, &rep, r) < 0)
			goto out;
		if (rep.code != 235) {
			auth_fail(r, &rep);
			goto out;
		}
		rc = 0;
	} else if (s->caps & SMTP_CAP_AUTH_LOGIN) {
		const char *vals[2] = { o->auth_user, o->auth_pass ? o->auth_pass : "" };
		int i;
		if (command(s, "auth", "AUTH LOGIN", s->to.auth, &rep, r) < 0)
			goto out;
		for (i = 0; i < 2; i++) {
			char chal[600];
			if (rep.code != 334) {
				auth_fail(r, &rep);
				goto out;
			}
			snprintf(chal, sizeof chal, "%s", rep.text);
			if (!b64_ok(chal)) {
				/* cancel the exchange (RFC 4954 4) and give up */
				if (send_cmd(s, "auth", "*", s->to.auth, r) == 0)
					read_reply(s, "auth", s->to.auth, &rep, r);
				s->broken = 1;
				res_set(r, "auth", 0, "", 1, 1, "AUTH LOGIN: malformed challenge");
				goto out;
			}
			b64(line, sizeof line, vals[i], strlen(vals[i]));
			if (command(s, "auth", line, s->to.auth, &rep, r) < 0)
				goto out;
		}
		if (rep.code != 235) {
			auth_fail(r, &rep);
			goto out;
		}
		rc = 0;
	} else {
		res_set(r, "auth", 0, "", 1, 1, "credentials configured but the server offers no AUTH PLAIN or LOGIN");
	}
out:
	wipe(raw, sizeof raw);
	wipe(line, sizeof line);
	return rc;
}

/* ------------------------------------------------------------------ open */

int smtp_open(struct smtp_session **sp, const struct smtp_opts *o, struct smtp_result *r)
{
	struct smtp_session *s;
	struct smtp_reply rep;
	struct addrs ad;
	int port = o->port > 0 ? o->port : (o->implicit_tls ? 465 : 25);
	int policy = o->tls;
	size_t i;
	int lasterr = 0;

	*sp = NULL;
	memset(r, 0, sizeof *r);
	if (!o->host) {
		res_set(r, "connect", 0, "", 1, 1, "no host");
		return -1;
	}
	if (o->implicit_tls && policy < TLS_ENCRYPT)
		policy = TLS_ENCRYPT;
	s = calloc(1, sizeof *s);
	if (!s) {
		res_set(r, "connect", 0, "", 1, 0, "out of memory");
		return -1;
	}
	s->fd = -1;
	timeouts_default(&s->to, &o->to);
	snprintf(s->helo, sizeof s->helo, "%s", o->helo && *o->helo ? o->helo : "localhost");
	if (strpbrk(s->helo, " \r\n\t")) {
		free(s);
		res_set(r, "connect", 0, "", 1, 0, "bad helo name");
		return -1;
	}
	if (resolve(o, port, &ad, r) < 0) {
		free(s);
		return -1;
	}
	for (i = 0; i < ad.n && s->fd < 0; i++) {
		s->fd = connect_one((struct sockaddr *)&ad.a[i].sa, ad.a[i].len, s->to.connect);
		if (s->fd < 0)
			lasterr = errno;
		else
			fmt_peer(s->peer, sizeof s->peer, (struct sockaddr *)&ad.a[i].sa);
	}
	if (s->fd < 0) {
		free(s);
		res_set(r, "connect", 0, "", 1, 1, "cannot connect to %s port %d: %s", o->host, port,
			lasterr == ETIMEDOUT ? "timed out" : strerror(lasterr));
		return -1;
	}
	{
		int one = 1;
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	rep.on_line = NULL;
	rep.arg = NULL;
	if (o->implicit_tls && handshake(s, o, policy, r) < 0)
		goto fail;
	if (read_reply(s, "greeting", s->to.greeting, &rep, r) < 0)
		goto fail;
	if (rep.code != 220) {
		/* 421, 554 or anything else: this member cannot take mail now */
		res_reply(r, "greeting", &rep);
		r->member_fault = r->temp = 1;
		goto fail;
	}
	if (ehlo(s, r) < 0)
		goto fail;
	if (!s->tls && policy != TLS_NONE) {
		if (!(s->caps & SMTP_CAP_STARTTLS)) {
			if (policy != TLS_MAY) {
				res_set(r, "starttls", 0, "", 1, 1, "TLS required but STARTTLS not offered");
				goto fail;
			}
		} else {
			if (command(s, "starttls", "STARTTLS", s->to.starttls, &rep, r) < 0)
				goto fail;
			if (rep.code != 220) {
				if (policy != TLS_MAY || rep.code == 421) {
					res_reply(r, "starttls", &rep);
					r->member_fault = r->temp = 1;
					goto fail;
				}
				/* may: nothing negotiated yet, go on in plaintext */
			} else {
				/* Plaintext after the 220 is an injection (CVE-2011-0411):
				 * drop it before the handshake. */
				s->rpos = s->rlen = 0;
				if (handshake(s, o, policy, r) < 0)
					goto fail;
				s->caps = 0;
				s->size_max = 0;
				if (ehlo(s, r) < 0)
					goto fail;
			}
		}
	}
	if (o->auth_user && auth(s, o, r) < 0)
		goto fail;
	if (check_quiet(s, "ehlo", r) < 0)
		goto fail;
	*sp = s;
	return 0;
fail:
	smtp_close(s);
	return -1;
}

/* ------------------------------------------------------------------ send */

static int addr_ok(const char *a)
{
	size_t n = strlen(a), i;
	if (n > ADDR_PATH_MAX - 2)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x21 || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

static int has_8bit(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

static void fill_all(struct smtp_result *res, size_t n, const struct smtp_result *r)
{
	size_t i;
	for (i = 0; i < n; i++)
		res[i] = *r;
}

static void local_refusal(struct smtp_result *r, int code, const char *enh, const char *fmt, const char *a)
{
	res_set(r, "mail", code, enh, 0, 0, fmt, a);
	r->local = 1;
}

/* After the dot: a lost connection or a timeout may hide a delivery. */
static void dup_risk(struct smtp_result *r, const struct smtp_result *why)
{
	char t[512];
	snprintf(t, sizeof t, "%s", why->text);
	res_set(r, "dot", 451, "4.4.2", 1, 1, "%s after data, possible duplicate (%s)",
		strstr(t, "timeout") || strstr(t, "deadline") ? "timeout" : "connection lost", t);
	r->possible_dup = 1;
}

/* RSET inside smtp_send; 0 ok, -1 broken. */
static int rset(struct smtp_session *s)
{
	struct smtp_reply rep;
	struct smtp_result r;
	rep.on_line = NULL;
	rep.arg = NULL;
	if (command(s, "rset", "RSET", s->to.rset, &rep, &r) < 0 || rep.code / 100 != 2) {
		s->broken = 1;
		return -1;
	}
	return 0;
}

int smtp_send(struct smtp_session *s, const char *from, const char *const *rcpt, size_t n,
	const char *msg, size_t len, int eightbit, int smtputf8,
	struct smtp_result *rcpt_res, struct smtp_result *txn)
{
	struct smtp_result r;
	struct smtp_reply rep;
	struct buf cmds = BUF_INIT;
	char line[600], err[256];
	size_t i, sent = 0, replied = 0, accepted = 0;
	int pipelining = (s->caps & SMTP_CAP_PIPELINING) != 0;
	int mail_ok = 0;

	rep.on_line = NULL;
	rep.arg = NULL;
	memset(txn, 0, sizeof *txn);
	if (n == 0) {
		res_set(txn, "rcpt", 0, "", 0, 0, "no recipients");
		txn->local = 1;
		return s->broken ? -1 : 0;
	}
	if (s->broken) {
		res_set(&r, "mail", 0, "", 1, 1, "session unusable after an earlier failure");
		fill_all(rcpt_res, n, &r);
		*txn = r;
		return -1;
	}
	/* Local refusals: nothing sent, session stays clean. */
	if (!eightbit)
		eightbit = has_8bit(msg, len);
	r.code = 0;
	if (!addr_ok(from))
		local_refusal(&r, 553, "5.1.7", "sender address %s cannot be sent", "unusable");
	for (i = 0; i < n && !r.code; i++)
		if (!addr_ok(rcpt[i]))
			local_refusal(&r, 553, "5.1.3", "recipient address %s cannot be sent", "unusable");
	if (!r.code && smtputf8 && !(s->caps & SMTP_CAP_SMTPUTF8))
		local_refusal(&r, 553, "5.6.7", "%s", "SMTPUTF8 needed but not offered by the server");
	if (!r.code && eightbit && !(s->caps & SMTP_CAP_8BITMIME))
		local_refusal(&r, 554, "5.6.3", "%s", "8-bit message but 8BITMIME not offered by the server");
	if (!r.code && s->size_max && len > s->size_max)
		local_refusal(&r, 552, "5.3.4", "%s", "message larger than the server's SIZE limit");
	if (r.code) {
		fill_all(rcpt_res, n, &r);
		*txn = r;
		return 0;
	}
	for (i = 0; i < n; i++)
		res_set(&rcpt_res[i], "rcpt", 0, "", 1, 1, "not attempted");

	if (check_quiet(s, "mail", &r) < 0)
		goto dead;
	/* MAIL and RCPTs: with PIPELINING in groups of about 4 KB (so that
	 * neither side blocks writing while the other writes), else one by one. */
	for (i = 0; i <= n; i++) {
		if (i == 0) {
			int k = snprintf(line, sizeof line, "MAIL FROM:<%s>", from);
			if (s->caps & SMTP_CAP_SIZE)
				k += snprintf(line + k, sizeof line - (size_t)k, " SIZE=%zu", len);
			if (eightbit && (s->caps & SMTP_CAP_8BITMIME))
				k += snprintf(line + k, sizeof line - (size_t)k, " BODY=8BITMIME");
			if (smtputf8)
				snprintf(line + k, sizeof line - (size_t)k, " SMTPUTF8");
		} else {
			snprintf(line, sizeof line, "RCPT TO:<%s>", rcpt[i - 1]);
		}
		if (buf_adds(&cmds, line) < 0 || buf_add(&cmds, "\r\n", 2) < 0) {
			res_set(&r, "mail", 0, "", 1, 0, "out of memory");
			goto dead;
		}
		sent++;
		if (pipelining && i < n && cmds.len < 4096)
			continue;
		if (!pipelining && i > 0 && !mail_ok)
			break; /* MAIL refused: no RCPT */
		if (io_write(s, cmds.p, cmds.len, i == 0 ? s->to.mail : s->to.rcpt, err, sizeof err) < 0) {
			s->broken = 1;
			res_set(&r, i == 0 ? "mail" : "rcpt", 0, "", 1, 1, "write error: %s", err);
			goto dead;
		}
		cmds.len = 0;
		for (; replied < sent; replied++) {
			const char *st = replied == 0 ? "mail" : "rcpt";
			if (read_reply(s, st, replied == 0 ? s->to.mail : s->to.rcpt, &rep, &r) < 0)
				goto dead;
			if (rep.code == 421) {
				res_reply(&r, st, &rep);
				s->broken = 1;
				goto dead;
			}
			if (replied == 0) {
				mail_ok = rep.code / 100 == 2;
				if (!mail_ok) {
					res_reply(&r, "mail", &rep);
					fill_all(rcpt_res, n, &r);
				}
			} else if (mail_ok) {
				res_reply(&rcpt_res[replied - 1], "rcpt", &rep);
				if (rep.code / 100 == 2)
					accepted++;
			}
		}
		if (!pipelining && !mail_ok)
			break;
	}
	buf_free(&cmds);
	if (!accepted) {
		res_set(txn, mail_ok ? "rcpt" : "mail", 0, "", 0, 0, "no recipients accepted");
		return rset(s);
	}

	/* DATA */
	if (command(s, "data", "DATA", s->to.data_init, &rep, &r) < 0)
		goto dead_txn;
	if (rep.code != 354) {
		res_reply(txn, "data", &rep);
		if (rep.code == 421 || rep.code / 100 == 2 || rep.code / 100 == 3) {
			/* 421, or a reply that makes no sense here */
			if (rep.code != 421) {
				txn->member_fault = txn->temp = 1;
				snprintf(txn->text, sizeof txn->text, "protocol error: unexpected reply %d to DATA", rep.code);
				txn->code = 0;
			}
			s->broken = 1;
			return -1;
		}
		return rset(s);
	}
	{
		struct smtp_dot d;
		struct buf out = BUF_INIT;
		size_t off = 0, chunk = 65536;
		smtp_dot_init(&d);
		do {
			size_t k = len - off < chunk ? len - off : chunk;
			out.len = 0;
			if (smtp_dot_add(&d, &out, msg + off, k) < 0 ||
			    (off + k == len && smtp_dot_end(&d, &out) < 0)) {
				buf_free(&out);
				s->broken = 1;
				res_set(txn, "data", 0, "", 1, 0, "out of memory");
				return -1;
			}
			off += k;
			if (io_write(s, out.p, out.len, s->to.data_block, err, sizeof err) < 0) {
				buf_free(&out);
				s->broken = 1;
				/* not all data left: the server cannot have the message */
				res_set(txn, "data", 0, "", 1, 1, "connection lost during data: %s", err);
				return -1;
			}
		} while (off < len);
		buf_free(&out);
	}
	if (read_reply(s, "dot", s->to.dot, &rep, &r) < 0) {
		dup_risk(txn, &r);
		return -1;
	}
	res_reply(txn, "dot", &rep);
	if (rep.code == 421) {
		s->broken = 1;
		return -1;
	}
	return 0;

dead:
	buf_free(&cmds);
	/* recipients not yet answered, or accepted but never given the data */
	for (i = 0; i < n; i++)
		if (rcpt_res[i].code == 0 || rcpt_res[i].code / 100 == 2)
			rcpt_res[i] = r;
	*txn = r;
	s->broken = 1;
	return -1;
dead_txn:
	*txn = r;
	s->broken = 1;
	return -1;
}

int smtp_reset(struct smtp_session *s)
{
	if (!s || s->broken)
		return -1;
	return rset(s);
}

int smtp_noop(struct smtp_session *s, struct smtp_result *r)
{
	struct smtp_reply rep;
	rep.on_line = NULL;
	rep.arg = NULL;
	if (command(s, "noop", "NOOP", s->to.rset, &rep, r) < 0)
		return -1;
	if (rep.code / 100 != 2) {
		res_reply(r, "noop", &rep);
		r->member_fault = r->temp = 1;
		if (rep.code == 421)
			s->broken = 1;
		return -1;
	}
	res_reply(r, "noop", &rep);
	return 0;
}

void smtp_close(struct smtp_session *s)
{
	if (!s)
		return;
	if (s->fd >= 0 && !s->broken) {
		struct smtp_reply rep;
		struct smtp_result r;
		rep.on_line = NULL;
		rep.arg = NULL;
		/* the QUIT reply does not matter (delivery is decided by the dot reply) */
		if (send_cmd(s, "quit", "QUIT", s->to.quit, &r) == 0)
			read_reply(s, "quit", s->to.quit, &rep, &r);
	}
	if (s->tls)
		tls_free(s->tls);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

const char *smtp_tls_version(struct smtp_session *s)
{
	return s && s->tls ? tls_version(s->tls) : NULL;
}

const char *smtp_peer(struct smtp_session *s)
{
	return s->peer;
}

const char *smtp_peer_name(struct smtp_session *s)
{
	return s->peer_name;
}

unsigned smtp_caps(struct smtp_session *s)
{
	return s->caps;
}

unsigned long smtp_size_limit(struct smtp_session *s)
{
	return s->size_max;
}
