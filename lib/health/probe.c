#include "health/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/diag.h"
#include "net/smtp.h"
#include "net/tls.h"

const char *const probe_step_names[PROBE_NSTEPS] = {
	"connect", "banner", "ehlo", "tls", "auth", "mail", "send"
};

enum { CAP_STARTTLS = 1, CAP_PLAIN = 2, CAP_LOGIN = 4 };

struct pc {
	int fd;
	struct tls_conn *tls;
	int64_t deadline;
	unsigned caps;
	struct probe_result *r;
	char buf[4096];
	size_t pos, len;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(struct probe_result *r, const char *stage, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct probe_result *r, const char *stage, int code, const char *fmt, ...)
{
	va_list ap;
	char raw[512];
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	r->ok = 0;
	snprintf(r->stage, sizeof r->stage, "%s", stage);
	r->code = code;
	safe_text(r->reason, sizeof r->reason, raw, strlen(raw));
}

/* 0 ready, -1 timed out or failed (errno) */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, ev, 0 };
		int64_t left = deadline - now_ms();
		int n;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static void io_fail(struct pc *c, const char *stage, const char *what)
{
	if (errno == ETIMEDOUT)
		fail(c->r, "timeout", 0, "timed out in %s", stage);
	else
		fail(c->r, stage, 0, "%s: %s", what, errno ? strerror(errno) : "connection closed");
}

/* Fill the buffer: 0, or -1 with r filled. */
static int fill(struct pc *c, const char *stage)
{
	for (;;) {
		if (c->tls) {
			size_t got = 0;
			int rc = tls_read(c->tls, c->buf, sizeof c->buf, &got);
			if (rc == TLS_OK) {
				c->pos = 0;
				c->len = got;
				return 0;
			}
			if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
				if (wait_fd(c->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, c->deadline) < 0) {
					io_fail(c, stage, "read");
					return -1;
				}
				continue;
			}
			errno = 0;
			io_fail(c, stage, "TLS read");
			return -1;
		} else {
			ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
			if (n > 0) {
				c->pos = 0;
				c->len = (size_t)n;
				return 0;
			}
			if (n == 0) {
				errno = 0;
				io_fail(c, stage, "read");
				return -1;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (wait_fd(c->fd, POLLIN, c->deadline) < 0) {
					io_fail(c, stage, "read");
					return -1;
				}
				continue;
			}
			io_fail(c, stage, "read");
			return -1;
		}
	}
}

static int put(struct pc *c, const char *p, size_t n, const char *stage)
{
	while (n) {
		if (c->tls) {
			size_t w = 0;
			int rc = tls_write(c->tls, p, n, &w);
			if (rc == TLS_OK) {
				p += w;
				n -= w;
				continue;
			}
			if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
				if (wait_fd(c->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, c->deadline) < 0) {
					io_fail(c, stage, "write");
					return -1;
				}
				continue;
			}
			errno = 0;
			io_fail(c, stage, "TLS write");
			return -1;
		} else {
			ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w > 0) {
				p += w;
				n -= (size_t)w;
				continue;
			}
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				if (wait_fd(c->fd, POLLOUT, c->deadline) < 0) {
					io_fail(c, stage, "write");
					return -1;
				}
				continue;
			}
			io_fail(c, stage, "write");
			return -1;
		}
	}
	return 0;
}

static int reply(struct pc *c, struct smtp_reply *rep, const char *stage)
{
	smtp_reply_init(rep);
	for (;;) {
		size_t used = 0;
		int rc;
		if (c->pos == c->len && fill(c, stage) < 0)
			return -1;
		rc = smtp_reply_feed(rep, c->buf + c->pos, c->len - c->pos, &used);
		c->pos += used;
		if (rc == 1)
			return 0;
		if (rc < 0) {
			fail(c->r, stage, 0, "malformed reply: %s", smtp_parse_error(rep->err));
			return -1;
		}
	}
}

static int command(struct pc *c, const char *line, struct smtp_reply *rep, const char *stage)
{
	char b[1100];
	int n = snprintf(b, sizeof b, "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof b) {
		fail(c->r, stage, 0, "command too long");
		return -1;
	}
	if (put(c, b, (size_t)n, stage) < 0)
		return -1;
	return reply(c, rep, stage);
}

/* expect a reply class; else fail with the reply's text */
static int expect(struct pc *c, struct smtp_reply *rep, int cls, const char *stage)
{
	if (rep->code / 100 == cls)
		return 0;
	fail(c->r, stage, rep->code, "%d %s", rep->code, rep->text);
	return -1;
}

static void ehlo_line(void *arg, const char *t, size_t n)
{
	struct pc *c = arg;
	char w[600];
	size_t i;
	if (n >= sizeof w)
		n = sizeof w - 1;
	memcpy(w, t, n);
	w[n] = 0;
	if (!strcasecmp(w, "STARTTLS"))
		c->caps |= CAP_STARTTLS;
	if (!strncasecmp(w, "AUTH", 4) && (w[4] == ' ' || w[4] == '=')) {
		for (i = 4; w[i]; i++)
			w[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
		if (strstr(w + 4, "PLAIN"))
			c->caps |= CAP_PLAIN;
		if (strstr(w + 4, "LOGIN"))
			c->caps |= CAP_LOGIN;
	}
}

static int ehlo(struct pc *c, const char *helo, const char *stage)
{
	struct smtp_reply rep;
	char line[300];
	rep.on_line = ehlo_line; /* the first line is the server's name: no keyword matches it */
	rep.arg = c;
	c->caps = 0;
	snprintf(line, sizeof line, "EHLO %s", helo);
	if (command(c, line, &rep, stage) < 0)
		return -1;
	if (rep.code / 100 == 5 && rep.code != 421) {
		snprintf(line, sizeof line, "HELO %s", helo);
		rep.on_line = NULL;
		c->caps = 0;
		if (command(c, line, &rep, stage) < 0)
			return -1;
	}
	return expect(c, &rep, 2, stage);
}

static int connect_to(struct pc *c, const struct probe_opts *o)
{
	struct addrinfo hints, *res = NULL, *a;
	char host[300], port[8];
	size_t n = strlen(o->host);
	int rc, err = 0;
	if (n >= 2 && n < sizeof host && o->host[0] == '[' && o->host[n - 1] == ']') {
		memcpy(host, o->host + 1, n - 2);
		host[n - 2] = 0;
	} else {
		snprintf(host, sizeof host, "%s", o->host);
	}
	snprintf(port, sizeof port, "%u", o->port);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fail(c->r, "connect", 0, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (a = res; a && c->fd < 0; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			err = errno;
			close(fd);
			continue;
		}
		if (wait_fd(fd, POLLOUT, c->deadline) < 0) {
			err = errno;
			close(fd);
			if (err == ETIMEDOUT)
				break;
			continue;
		}
		{
			int e = 0;
			socklen_t l = sizeof e;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e) {
				err = e ? e : errno;
				close(fd);
				continue;
			}
		}
		c->fd = fd;
	}
	freeaddrinfo(res);
	if (c->fd < 0) {
		if (err == ETIMEDOUT)
			fail(c->r, "timeout", 0, "timed out in connect");
		else
			fail(c->r, "connect", 0, "cannot connect to %s port %u: %s", host, o->port,
			     err ? strerror(err) : "no address");
		return -1;
	}
	{
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return 0;
}

static int handshake(struct pc *c, const struct probe_opts *o, int policy)
{
	char err[300] = "", name[300];
	size_t n = strlen(o->host);
	time_t na;
	if (n >= 2 && n < sizeof name && o->host[0] == '[' && o->host[n - 1] == ']') {
		memcpy(name, o->host + 1, n - 2);
		name[n - 2] = 0;
	} else {
		snprintf(name, sizeof name, "%s", o->host);
	}
	if (tls_new(&c->tls, c->fd, policy, o->ca_file, name, err, sizeof err) < 0) {
		fail(c->r, "tls", 0, "%s", err);
		return -1;
	}
	for (;;) {
		int rc = tls_handshake(c->tls, err, sizeof err);
		if (rc == TLS_OK)
			break;
		if (rc == TLS_ERR || rc == TLS_EOF) {
			fail(c->r, "tls", 0, "%s", err[0] ? err : "TLS handshake failed");
			return -1;
		}
		if (wait_fd(c->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, c->deadline) < 0) {
			io_fail(c, "tls", "TLS handshake");
			return -1;
		}
	}
	snprintf(c->r->tls_version, sizeof c->r->tls_version, "%s", tls_version(c->tls));
	if (tls_not_after(c->tls, &na)) {
		c->r->have_cert = 1;
		c->r->not_after = (long long)na;
	}
	c->pos = c->len = 0; /* nothing from before the handshake survives it */
	return 0;
}

static void b64(char *out, size_t cap, const char *in, size_t n)
{
	if (4 * ((n + 2) / 3) + 1 <= cap)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
	else
		out[0] = 0;
}

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static int auth(struct pc *c, const struct probe_opts *o, int policy)
{
	struct smtp_reply rep;
	char raw[600], line[900];
	size_t ul = strlen(o->user), pl = o->pass ? strlen(o->pass) : 0;
	int rc = -1;
	rep.on_line = NULL;
	rep.arg = NULL;
	if (!c->tls && !(o->auth_plaintext_ok && policy == TLS_NONE)) {
		fail(c->r, "auth", 0, "refusing to send AUTH credentials without TLS");
		return -1;
	}
	if (ul + pl + 2 > 256 || strpbrk(o->user, "\r\n") || (o->pass && strpbrk(o->pass, "\r\n"))) {
		fail(c->r, "auth", 0, "AUTH credentials too long or malformed");
		return -1;
	}
	if (c->caps & CAP_PLAIN) {
		raw[0] = 0;
		memcpy(raw + 1, o->user, ul);
		raw[1 + ul] = 0;
		if (pl)
			memcpy(raw + 2 + ul, o->pass, pl);
		memcpy(line, "AUTH PLAIN ", 11);
		b64(line + 11, sizeof line - 11, raw, ul + pl + 2);
		if (command(c, line, &rep, "auth") == 0 && expect(c, &rep, 2, "auth") == 0)
			rc = 0;
	} else if (c->caps & CAP_LOGIN) {
		const char *vals[2] = { o->user, o->pass ? o->pass : "" };
		int i;
		if (command(c, "AUTH LOGIN", &rep, "auth") < 0)
			goto out;
		for (i = 0; i < 2; i++) {
			if (expect(c, &rep, 3, "auth") < 0)
				goto out;
			b64(line, sizeof line, vals[i], strlen(vals[i]));
			if (command(c, line, &rep, "auth") < 0)
				goto out;
		}
		if (expect(c, &rep, 2, "auth") == 0)
			rc = 0;
	} else {
		fail(c->r, "auth", 0, "credentials configured but the server offers no AUTH PLAIN or LOGIN");
	}
out:
	wipe(raw, sizeof raw);
	wipe(line, sizeof line);
	return rc;
}

static int send_test(struct pc *c, const struct probe_opts *o)
{
	struct smtp_reply rep;
	struct buf msg = BUF_INIT, wire = BUF_INIT;
	struct smtp_dot d;
	char line[600], date[64];
	time_t t = time(NULL);
	struct tm tm;
	int rc = -1;
	rep.on_line = NULL;
	rep.arg = NULL;
	if (strpbrk(o->send_to, "\r\n<> ") || strpbrk(o->send_from, "\r\n<> ") || strlen(o->send_to) > 254 ||
	    strlen(o->send_from) > 254) {
		fail(c->r, "send", 0, "bad test address");
		return -1;
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(line, sizeof line, "MAIL FROM:<%s>", o->send_from);
	if (command(c, line, &rep, "send") < 0 || expect(c, &rep, 2, "send") < 0)
		goto out;
	snprintf(line, sizeof line, "RCPT TO:<%s>", o->send_to);
	if (command(c, line, &rep, "send") < 0 || expect(c, &rep, 2, "send") < 0)
		goto out;
	if (command(c, "DATA", &rep, "send") < 0 || expect(c, &rep, 3, "send") < 0)
		goto out;
	buf_printf(&msg, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nSubject: relay-health test through %s:%u\r\n"
	           "Auto-Submitted: auto-generated\r\n\r\nrelay-health sent this test message through %s port %u.\r\n",
	           o->send_from, o->send_to, date, o->host, o->port, o->host, o->port);
	smtp_dot_init(&d);
	if (!msg.p || smtp_dot_add(&d, &wire, msg.p, msg.len) < 0 || smtp_dot_end(&d, &wire) < 0) {
		fail(c->r, "send", 0, "out of memory");
		goto out;
	}
	if (put(c, wire.p, wire.len, "send") < 0 || reply(c, &rep, "send") < 0)
		goto out;
	c->r->send_code = rep.code;
	safe_text(c->r->send_text, sizeof c->r->send_text, rep.text, strlen(rep.text));
	if (expect(c, &rep, 2, "send") < 0)
		goto out;
	rc = 0;
out:
	buf_free(&msg);
	buf_free(&wire);
	return rc;
}

int probe_run(const struct probe_opts *o, struct probe_result *r)
{
	struct pc c;
	struct smtp_reply rep;
	int64_t t0, start = now_ms();
	int policy = o->tls, i, rc = -1;
	const char *helo = o->helo && *o->helo ? o->helo : "localhost";

	memset(r, 0, sizeof *r);
	for (i = 0; i < PROBE_NSTEPS; i++)
		r->ms[i] = -1;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.r = r;
	c.deadline = start + (o->deadline_ms > 0 ? o->deadline_ms : 20000);
	rep.on_line = NULL;
	rep.arg = NULL;
	if (o->implicit_tls && policy < TLS_ENCRYPT)
		policy = TLS_ENCRYPT;

	t0 = now_ms();
	if (connect_to(&c, o) < 0)
		goto out;
	r->ms[PROBE_CONNECT] = (long)(now_ms() - t0);

	t0 = now_ms();
	if (o->implicit_tls && handshake(&c, o, policy) < 0)
		goto out;
	if (reply(&c, &rep, "banner") < 0)
		goto out;
	if (rep.code != 220) {
		fail(r, "banner", rep.code, "%d %s", rep.code, rep.text);
		goto out;
	}
	r->ms[PROBE_BANNER] = (long)(now_ms() - t0);

	t0 = now_ms();
	if (ehlo(&c, helo, "ehlo") < 0)
		goto out;
	r->ms[PROBE_EHLO] = (long)(now_ms() - t0);

	if (!c.tls && policy != TLS_NONE) {
		t0 = now_ms();
		if (!(c.caps & CAP_STARTTLS)) {
			if (policy != TLS_MAY) {
				fail(r, "starttls", 0, "TLS required but STARTTLS not offered");
				goto out;
			}
		} else {
			if (command(&c, "STARTTLS", &rep, "starttls") < 0)
				goto out;
			if (rep.code == 220) {
				c.pos = c.len = 0; /* plaintext after the 220 is an injection */
				if (handshake(&c, o, policy) < 0 || ehlo(&c, helo, "ehlo") < 0)
					goto out;
			} else if (policy != TLS_MAY || rep.code == 421) {
				fail(r, "starttls", rep.code, "%d %s", rep.code, rep.text);
				goto out;
			}
			r->ms[PROBE_TLS] = (long)(now_ms() - t0);
		}
	}

	if (o->user && *o->user) {
		t0 = now_ms();
		if (auth(&c, o, policy) < 0)
			goto out;
		r->ms[PROBE_AUTH] = (long)(now_ms() - t0);
	}

	t0 = now_ms();
	if (command(&c, "MAIL FROM:<>", &rep, "mail") < 0 || expect(&c, &rep, 2, "mail") < 0)
		goto out;
	if (command(&c, "RSET", &rep, "rset") < 0 || expect(&c, &rep, 2, "rset") < 0)
		goto out;
	r->ms[PROBE_MAIL] = (long)(now_ms() - t0);

	if (o->send_to) {
		t0 = now_ms();
		if (send_test(&c, o) < 0)
			goto out;
		r->ms[PROBE_SEND] = (long)(now_ms() - t0);
	}

	/* QUIT: the reply is read only while the deadline allows; not a verdict */
	{
		int64_t d = now_ms() + 2000;
		if (d < c.deadline)
			c.deadline = d;
		if (put(&c, "QUIT\r\n", 6, "quit") == 0)
			reply(&c, &rep, "quit");
	}
	r->ok = 1;
	r->stage[0] = 0;
	r->code = 0;
	snprintf(r->reason, sizeof r->reason, "ok");
	rc = 0;
out:
	tls_free(c.tls);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}
