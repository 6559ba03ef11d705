/* The SMTP client's connect: the host's addresses (an IP literal,
 * dns_addrs, or getaddrinfo), tried in turn with a non-blocking connect
 * each. See smtp.h for the contract. */
#include "net/smtp_session.h"
#include "net/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* The source address to bind for family af: bind (an IPv4 or IPv6
 * literal) when it is of that family. 1 with out, 0 none to bind, -1 the
 * source is of the other family (EAFNOSUPPORT: this address cannot be
 * used from it). */
static int source_for(const char *from, int af, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
	memset(out, 0, sizeof *out);
	if (!from || !*from)
		return 0;
	if (af == AF_INET && inet_pton(AF_INET, from, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		*len = sizeof *s4;
		return 1;
	}
	if (af == AF_INET6 && inet_pton(AF_INET6, from, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		*len = sizeof *s6;
		return 1;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

/* Non-blocking connect by deadline, from bind when given (issue 15:
 * etc/source). fd, or -1 with errno. */
static int connect_one(const struct sockaddr *sa, socklen_t len, const char *from, int64_t deadline)
{
	struct sockaddr_storage src;
	socklen_t srclen = 0;
	int fd, e, b;
	socklen_t el = sizeof e;
	if ((b = source_for(from, sa->sa_family, &src, &srclen)) < 0)
		return -1;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (b && bind(fd, (struct sockaddr *)&src, srclen) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (sess_wait(fd, POLLOUT, deadline) < 0) {
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

/* h as an IPv4 or IPv6 literal: 1 with out its one address, or 0. */
static int literal(const char *h, int port, struct addrs *out)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const void *sa = NULL;
	socklen_t len = 0;
	memset(&s4, 0, sizeof s4);
	memset(&s6, 0, sizeof s6);
	if (inet_pton(AF_INET, h, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		s4.sin_port = htons((uint16_t)port);
		sa = &s4;
		len = sizeof s4;
	} else if (inet_pton(AF_INET6, h, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((uint16_t)port);
		sa = &s6;
		len = sizeof s6;
	} else {
		return 0;
	}
	memcpy(&out->a[0].sa, sa, len);
	out->a[0].len = len;
	out->n = 1;
	return 1;
}

/* Addresses of host: an IP literal, then dns_addrs or getaddrinfo.
 * 0, or -1 with r filled. */
static int resolve(const struct smtp_opts *o, int port, struct addrs *out, struct smtp_result *r)
{
	char h[256];
	size_t n = strlen(o->host);
	out->n = 0;
	if (n == 0 || n >= sizeof h) {
		sess_res_set(r, "connect", 0, "", 1, 1, "bad host name");
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
	if (literal(h, port, out))
		return 0;
	if (o->dns) {
		char err[256] = "";
		size_t i, got = 0;
		int rc = dns_addrs(o->dns, h, out->a, SMTP_ADDRS_MAX, &got, err, sizeof err);
		if (rc != DNS_OK) {
			sess_res_set(r, "connect", 0, dns_status_enh(rc), 1, 1, "cannot resolve %s: %s", h, err);
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
			sess_res_set(r, "connect", 0, "", 1, 1, "cannot resolve %s: %s", h, gai_strerror(rc));
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
			sess_res_set(r, "connect", 0, "", 1, 1, "no address for %s", h);
			return -1;
		}
		return 0;
	}
}

/* ------------------------------------------------------------------ EHLO */

int sess_connect(struct smtp_session *s, const struct smtp_opts *o, int port, struct smtp_result *r)
{
	struct addrs ad;
	int64_t t0 = sess_now();
	size_t i;
	int lasterr = 0, one = 1;
	if (resolve(o, port, &ad, r) < 0) {
		sess_step(s, SMTP_STEP_CONNECT, t0, 0, 0);
		return -1;
	}
	for (i = 0; i < ad.n && s->fd < 0; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&ad.a[i].sa;
		/* family=inet|inet6 pins it; a bind address pins its own */
		if ((o->family == 4 && sa->sa_family != AF_INET) ||
		    (o->family == 6 && sa->sa_family != AF_INET6)) {
			if (!lasterr)
				lasterr = EAFNOSUPPORT;
			continue;
		}
		s->fd = connect_one(sa, ad.a[i].len, o->bind, sess_until(s, s->to.connect));
		if (s->fd < 0)
			lasterr = errno;
		else
			fmt_peer(s->peer, sizeof s->peer, (struct sockaddr *)&ad.a[i].sa);
	}
	if (s->fd < 0) {
		s->fail = lasterr == ETIMEDOUT ? SMTP_END_TIMEOUT : SMTP_END_ERROR;
		sess_res_set(r, "connect", 0, "", 1, 1, "cannot connect to %s port %d: %s", o->host, port,
			lasterr == ETIMEDOUT ? "timed out" : strerror(lasterr));
		sess_step(s, SMTP_STEP_CONNECT, t0, 0, 0);
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	sess_step(s, SMTP_STEP_CONNECT, t0, 1, 0);
	return 0;
}
