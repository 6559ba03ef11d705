/* lib/intake/msg.c (line endings, the header section under both rule
 * sets, address lists, dates) and lib/intake/complete.c (header
 * completion). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "base/bounds.h"
#include "base/diag.h"
#include "intake/complete.h"
#include "intake/msg.h"

static char err[512];

/* msg_normalize of in (n bytes); returns its result, the output in out */
static int norm(const char *in, size_t n, int dot_ends, struct buf *out)
{
	out->len = 0;
	err[0] = 0;
	return msg_normalize(in, n, dot_ends, out, err, sizeof err);
}
#define NORM(s, dot, out) norm(s, sizeof s - 1, dot, out)

static void normalize(void)
{
	struct buf o = BUF_INIT, big = BUF_INIT;
	CHECK(NORM("a\nb\n", 0, &o) == 0);
	CHECK_MEM(o.p, o.len, "a\r\nb\r\n", 6);
	CHECK(NORM("a\r\nb\r\n", 0, &o) == 0);          /* CRLF kept as it is */
	CHECK_MEM(o.p, o.len, "a\r\nb\r\n", 6);
	CHECK(NORM("a\r\nb\nc", 0, &o) == 0);           /* mixed; no final newline */
	CHECK_MEM(o.p, o.len, "a\r\nb\r\nc\r\n", 9);
	CHECK(NORM("", 0, &o) == 0);
	CHECK(o.len == 0);
	CHECK(NORM("\n\n", 0, &o) == 0);
	CHECK_MEM(o.p, o.len, "\r\n\r\n", 4);
	CHECK(NORM("a\nb\rc\n", 0, &o) == -1);
	CHECK_STR(err, "line 2 contains a bare CR");
	CHECK(NORM("a\r", 0, &o) == -1);                  /* CR at the very end */
	CHECK_STR(err, "line 1 contains a bare CR");
	CHECK(NORM("a\nb\nc\0d\n", 0, &o) == -1);
	CHECK_STR(err, "line 3 contains a NUL byte");
	/* a lone dot ends the message only with dot_ends */
	CHECK(NORM("a\n.\nb\n", 1, &o) == 0);
	CHECK_MEM(o.p, o.len, "a\r\n", 3);
	CHECK(NORM("a\r\n.\r\nb\n", 1, &o) == 0);
	CHECK_MEM(o.p, o.len, "a\r\n", 3);
	CHECK(NORM("a\n.\nb\n", 0, &o) == 0);
	CHECK_MEM(o.p, o.len, "a\r\n.\r\nb\r\n", 9);
	CHECK(NORM("a\n..\n", 1, &o) == 0);               /* not a lone dot */
	CHECK_MEM(o.p, o.len, "a\r\n..\r\n", 7);
	/* 998 octets per line, not counting the line ending */
	while (big.len < LINE_MAX_OCTETS)
		buf_addc(&big, 'x');
	buf_adds(&big, "\r\n");
	CHECK(norm(big.p, big.len, 0, &o) == 0 && o.len == LINE_MAX_OCTETS + 2);
	big.len -= 2;
	buf_adds(&big, "x\n");
	CHECK(norm(big.p, big.len, 0, &o) == -1);
	CHECK_STR(err, "line 1 is longer than 998 octets");
	buf_free(&big);
	buf_free(&o);
}

static int headers(const char *m, struct msg_headers *h)
{
	err[0] = 0;
	return msg_headers(m, strlen(m), h, err, sizeof err);
}

static void header_section(void)
{
	struct msg_headers h;
	struct buf v = BUF_INIT, big = BUF_INIT;
	const char *m = "Subject: hi\r\n there\r\nTo: a@b.c\r\nX-Empty:\r\n\r\nbody\r\n";
	CHECK(headers(m, &h) == 0);
	CHECK(h.n == 3 && h.has_sep);
	CHECK(h.f[0].off == 0 && h.f[0].name_len == 7 && h.f[0].len == 21);
	CHECK(h.end == strlen("Subject: hi\r\n there\r\nTo: a@b.c\r\nX-Empty:\r\n"));
	CHECK(h.body == h.end + 2);
	CHECK_STR(m + h.body, "body\r\n");
	CHECK(msg_find(m, &h, "subject", 0) == 0);        /* names match in any case */
	CHECK(msg_find(m, &h, "TO", 0) == 1);
	CHECK(msg_find(m, &h, "To", 2) == -1);
	CHECK(msg_find(m, &h, "From", 0) == -1);
	CHECK(msg_value(m, &h.f[0], &v) == 0);
	CHECK_STR(v.p, "hi there");                        /* unfolded */
	CHECK(msg_value(m, &h.f[2], &v) == 0);
	CHECK_STR(v.p, "");
	msg_headers_free(&h);
	CHECK(h.f == NULL && h.n == 0);

	/* no separator: header only */
	CHECK(headers("A: 1\r\nB: 2\r\n", &h) == 0);
	CHECK(h.n == 2 && !h.has_sep && h.end == 12 && h.body == 12);
	msg_headers_free(&h);
	/* a first line that is no field: all body */
	CHECK(headers("just text\r\nA: 1\r\n", &h) == 0);
	CHECK(h.n == 0 && h.body == 0);
	msg_headers_free(&h);
	/* an empty message */
	CHECK(headers("", &h) == 0);
	CHECK(h.n == 0 && h.body == 0);
	msg_headers_free(&h);
	/* refusals */
	CHECK(headers(" x: y\r\n\r\n", &h) == -1);
	CHECK_STR(err, "line 1 starts with white space (a continuation of nothing)");
	msg_headers_free(&h);
	CHECK(headers("A: 1\r\nno colon here\r\n\r\n", &h) == -1);
	CHECK_STR(err, "malformed header line 2 (no field name and colon)");
	msg_headers_free(&h);
	CHECK(headers("A: 1\r\nB c: 2\r\n\r\n", &h) == -1);   /* a space in a name */
	msg_headers_free(&h);
	buf_adds(&big, "Subject: x\r\n");
	while (big.len <= HEADER_MAX + 10)
		buf_adds(&big, " y\r\n");
	buf_adds(&big, "\r\nbody\r\n");
	CHECK(msg_headers(big.p, big.len, &h, err, sizeof err) == -1);
	CHECK(strstr(err, "header section larger than") != NULL);
	msg_headers_free(&h);
	buf_free(&big);
	buf_free(&v);
}

/* The two rule sets of the one splitter, side by side: flags 0 for
 * relay-inject, MSG_HDR_DKIM for the signer and verifier. */
static int dkim_headers(const char *m, size_t n, struct msg_headers *h)
{
	err[0] = 0;
	errno = 0;
	return msg_headers_flags(m, n, MSG_HDR_DKIM, h, err, sizeof err);
}
#define DKIM_HEADERS(s, h) dkim_headers(s, sizeof s - 1, h)

static void header_section_dkim(void)
{
	struct msg_headers h;
	struct buf v = BUF_INIT, big = BUF_INIT;
	size_t k;
	/* white space before the colon: a field for DKIM, not its name */
	CHECK(DKIM_HEADERS("From \t: a@x.test\r\nTo: b\r\n\r\nbody", &h) == 0);
	CHECK(h.n == 2 && h.f[0].name_len == 4 && h.f[0].len == 18 && h.has_sep);
	CHECK(h.end == 25 && h.body == 27);
	CHECK(msg_find("From \t: a@x.test\r\n", &h, "from", 0) == 0);
	CHECK(msg_value("From \t: a@x.test\r\n", &h.f[0], &v) == 0);
	CHECK_STR(v.p, "a@x.test");
	msg_headers_free(&h);
	CHECK(headers("From : a@x.test\r\n\r\n", &h) == 0);   /* intake: all body */
	CHECK(h.n == 0 && h.body == 0);
	msg_headers_free(&h);
	/* lines end at CRLF only: a bare LF or CR stays inside the field */
	CHECK(DKIM_HEADERS("A: 1\nB: 2\rC\r\n\r\n", &h) == 0);
	CHECK(h.n == 1 && h.f[0].len == 13 && h.body == 15);
	msg_headers_free(&h);
	CHECK(DKIM_HEADERS("A: 1", &h) == 0);             /* no CRLF at all */
	CHECK(h.n == 1 && h.f[0].len == 4 && !h.has_sep && h.body == 4);
	msg_headers_free(&h);
	/* every line that is no field is refused, the first one too */
	CHECK(DKIM_HEADERS("just text\r\nA: 1\r\n\r\n", &h) == -1 && errno == EINVAL);
	CHECK_STR(err, "header line without a colon");
	CHECK(h.f == NULL && h.n == 0);
	CHECK(DKIM_HEADERS("A: 1\r\n: 2\r\n\r\n", &h) == -1 && errno == EINVAL);
	CHECK_STR(err, "header field with an empty name");
	CHECK(DKIM_HEADERS("A: 1\r\nB c: 2\r\n\r\n", &h) == -1 && errno == EINVAL);
	CHECK_STR(err, "header field name with a byte outside 33..126");
	CHECK(DKIM_HEADERS("X-Caf\xc3\xa9: 1\r\n\r\n", &h) == -1);
	CHECK_STR(err, "header field name with a byte outside 33..126");
	CHECK(DKIM_HEADERS("A\nB: 1\r\n\r\n", &h) == -1);   /* a bare LF in the name */
	CHECK_STR(err, "header field name with a byte outside 33..126");
	CHECK(DKIM_HEADERS(" A: 1\r\n\r\n", &h) == -1 && errno == EINVAL);
	CHECK_STR(err, "message starts with a continuation line");
	/* intake's refusals say EINVAL too (ENOMEM is the temporary one) */
	errno = 0;
	CHECK(headers("A: 1\r\nno colon here\r\n\r\n", &h) == -1 && errno == EINVAL);
	CHECK(h.f == NULL && h.n == 0);

	/* HEADER_MAX: intake counts the header before a line, DKIM through
	 * it. 12 + 4 * 65533 octets make exactly HEADER_MAX. */
	buf_adds(&big, "Subject: x\r\n");
	for (k = 0; big.len < HEADER_MAX; k++)
		buf_adds(&big, " y\r\n");
	CHECK(big.len == HEADER_MAX);
	buf_adds(&big, "\r\n");
	CHECK(msg_headers(big.p, big.len, &h, err, sizeof err) == 0 && h.n == 1);
	msg_headers_free(&h);
	CHECK(dkim_headers(big.p, big.len, &h) == 0 && h.n == 1 && h.body == big.len);
	msg_headers_free(&h);
	big.len -= 2;                            /* one line more, starting at HEADER_MAX */
	buf_adds(&big, " y\r\n\r\n");
	CHECK(msg_headers(big.p, big.len, &h, err, sizeof err) == 0 && h.n == 1);
	msg_headers_free(&h);
	CHECK(dkim_headers(big.p, big.len, &h) == -1 && errno == EINVAL);
	CHECK_STR(err, "header section too large");
	big.len -= 2;                            /* and one past it */
	buf_adds(&big, " y\r\n\r\n");
	CHECK(msg_headers(big.p, big.len, &h, err, sizeof err) == -1);
	CHECK_STR(err, "header section larger than 262144 octets");
	buf_free(&big);
	buf_free(&v);
}

/* msg_addrlist's addresses, joined by '|' */
static char got[1024];
static int collect(const char *a, size_t n, void *arg)
{
	(void)arg;
	if (got[0])
		strcat(got, "|");
	strncat(got, a, n);
	return 0;
}
static int list(const char *v)
{
	got[0] = 0;
	return msg_addrlist(v, strlen(v), collect, NULL);
}

static void addrlists(void)
{
	CHECK(list("a@b.c") == 0);
	CHECK_STR(got, "a@b.c");
	CHECK(list("\"Doe, J\" <j@example.net>, k@example.net (K, a comment)") == 0);
	CHECK_STR(got, "j@example.net|k@example.net");
	CHECK(list("team: l@example.net, m@example.net;, n@example.net") == 0);
	CHECK_STR(got, "l@example.net|m@example.net|n@example.net");
	CHECK(list("x@[IPv6:2001:db8::1], <y@d.example>") == 0);
	CHECK_STR(got, "x@[IPv6:2001:db8::1]|y@d.example");
	CHECK(list("\"a b\"@example.net") == 0);
	CHECK_STR(got, "\"a b\"@example.net");
	CHECK(list("undisclosed-recipients:;") == 0);
	CHECK_STR(got, "");
	CHECK(list("") == 0);
	CHECK(list("\"unterminated <a@b.c>") == -1);
	CHECK(list("(open comment a@b.c") == -1);
	CHECK(list("<a@b.c") == -1);
	CHECK(list("a@b.c>") == -1);
	CHECK(list("x@[1.2.3.4") == -1);
}

static void dates(void)
{
	char d[64];
	setenv("TZ", "UTC", 1);
	tzset();
	msg_date(d, sizeof d, 0);
	CHECK_STR(d, "Thu, 1 Jan 1970 00:00:00 +0000");
	msg_date(d, sizeof d, 1700000000);
	CHECK_STR(d, "Tue, 14 Nov 2023 22:13:20 +0000");
	setenv("TZ", "EST5", 1);
	tzset();
	msg_date(d, sizeof d, 1700000000);
	CHECK_STR(d, "Tue, 14 Nov 2023 17:13:20 -0500");
	setenv("TZ", "UTC", 1);
	tzset();
}

/* complete_parse and complete_message of raw; the result in out */
static int complete(const char *raw, const struct complete *c, struct buf *out)
{
	struct buf m = BUF_INIT;
	struct msg_headers h;
	int r = complete_parse(raw, strlen(raw), 0, &m, &h, err, sizeof err);
	if (r == 0)
		r = complete_one_from(m.p, &h, err, sizeof err);
	if (r == 0)
		r = complete_message(c, m.p, m.len, &h, out, err, sizeof err);
	msg_headers_free(&h);
	buf_free(&m);
	return r;
}

static void completion(void)
{
	struct complete c = { .host = "relay.test", .sender = "joe@example.org",
	                      .fullname = "Joe \"Q\" Public", .trace = "(test invoked by uid 7)",
	                      .now = 1700000000, .maxsize = 100000 };
	struct buf o = BUF_INIT;
	char want[512];

	/* everything missing: Received first, then Date, Message-ID, From */
	CHECK(complete("Subject: s\n\nbody\n", &c, &o) == 0);
	CHECK(strncmp(o.p, "Received: (test invoked by uid 7);\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\n"
	                   "Subject: s\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <",
	              strlen("Received: (test invoked by uid 7);\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\n"
	                     "Subject: s\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <")) == 0);
	snprintf(want, sizeof want, "<%llx.", 1700000000LL);
	CHECK(strstr(o.p, want) != NULL);
	CHECK(strstr(o.p, "@relay.test>\r\nFrom: \"Joe \\\"Q\\\" Public\" <joe@example.org>\r\n\r\nbody\r\n") != NULL);

	/* present fields are kept, not doubled; Bcc and X-Relay-Class go */
	CHECK(complete("Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\nFrom: a@b.c\n"
	               "BCC: hidden@example.net\nX-Relay-Class: bulk\nx-relay-class: other\nTo: t@example.net\n\nz\n", &c, &o) == 0);
	CHECK_STR(o.p, "Received: (test invoked by uid 7);\r\n\tTue, 14 Nov 2023 22:13:20 +0000\r\n"
	               "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\nFrom: a@b.c\r\n"
	               "To: t@example.net\r\n\r\nz\r\n");

	/* no full name; the null sender; control bytes out of the name */
	c.fullname = NULL;
	CHECK(complete("Message-ID: <m@x>\nDate: d\n\nb\n", &c, &o) == 0);
	CHECK(strstr(o.p, "\r\nFrom: <joe@example.org>\r\n\r\nb\r\n") != NULL);
	c.sender = "";
	CHECK(complete("Message-ID: <m@x>\nDate: d\n\nb\n", &c, &o) == 0);
	CHECK(strstr(o.p, "\r\nFrom: <MAILER-DAEMON@relay.test>\r\n\r\nb\r\n") != NULL);
	c.sender = "joe@example.org";
	c.fullname = "A\tB\\C\x7f";
	CHECK(complete("Message-ID: <m@x>\nDate: d\n\nb\n", &c, &o) == 0);
	CHECK(strstr(o.p, "\r\nFrom: \"AB\\\\C\" <joe@example.org>\r\n") != NULL);
	c.fullname = NULL;

	/* an empty message is completed, not refused; a message without a
	 * header section is all body */
	CHECK(complete("", &c, &o) == 0);
	CHECK(strstr(o.p, "\r\nMessage-ID: <") != NULL);
	CHECK(o.len >= 5 && memcmp(o.p + o.len - 5, ">\r\n\r\n", 5) == 0);
	CHECK(complete("no header here\n", &c, &o) == 0);
	CHECK(o.len > 18 && strcmp(o.p + o.len - 18, "\r\nno header here\r\n") == 0);

	/* refusals */
	CHECK(complete("From: a@b.c\nFrom: d@e.f\n\nx\n", &c, &o) == EXIT_PERM);
	CHECK_STR(err, "refused: the message has more than one From: field");
	CHECK(complete("Subject: a\n\ncr\rlf\n", &c, &o) == EXIT_PERM);
	CHECK_STR(err, "refused: line 3 contains a bare CR");
	CHECK(complete("Subject: a\nno colon\n\nx\n", &c, &o) == EXIT_PERM);
	CHECK_STR(err, "refused: malformed header line 2 (no field name and colon)");
	c.maxsize = 200;
	CHECK(complete("Subject: s\n\nbody\n", &c, &o) == EXIT_PERM);
	CHECK_STR(err, "message larger than the limit of 200 bytes");
	c.maxsize = 100000;

	/* complete_drops names exactly the two fields */
	{
		struct msg_headers h;
		const char *m = "Bcc: x\r\nBccx: y\r\nX-Relay-Class: c\r\nX-Relay-Classy: d\r\n\r\n";
		CHECK(headers(m, &h) == 0 && h.n == 4);
		CHECK(complete_drops(m, &h.f[0]) && !complete_drops(m, &h.f[1]));
		CHECK(complete_drops(m, &h.f[2]) && !complete_drops(m, &h.f[3]));
		msg_headers_free(&h);
	}
	buf_free(&o);
}

int main(void)
{
	normalize();
	header_section();
	header_section_dkim();
	addrlists();
	dates();
	completion();
	CHECK_DONE();
}
