/* DSN: failure records, the queue file parts, folding, the built report. */
#include <stdlib.h>
#include "check.h"
#include "bounce/dsn.h"

static char *dup(const char *s) { return strdup(s); }

/* Every line of b: at most max octets, ends in CRLF, no bare CR or LF. */
static int lines_ok(const struct buf *b, size_t max)
{
	size_t i, col = 0;
	for (i = 0; i < b->len; i++) {
		if (b->p[i] == '\r') {
			if (i + 1 >= b->len || b->p[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
		} else if (b->p[i] == '\n' || b->p[i] == 0)
			return 0;
		else if (++col > max)
			return 0;
	}
	return col == 0;
}

int main(void)
{
	struct dsn_records rs = DSN_RECORDS_INIT;
	struct dsn_original o;
	struct dsn_opts opt;
	struct buf b = BUF_INIT;
	char err[200], date[64], *d;
	const char *why;

	/* Records. */
	d = dup("a@b.example\tfailed\t5.1.1\tmx.b.example\t550 5.1.1 no\t1700000000\n"
	        "c@d.example\tdelayed\t4.4.1\t\t\t0\n");
	CHECK(dsn_parse_records(d, strlen(d), &rs, err, sizeof err) == 0);
	CHECK(rs.n == 2);
	CHECK_STR(rs.r[0].rcpt, "a@b.example");
	CHECK(rs.r[0].action == DSN_FAILED);
	CHECK_STR(rs.r[0].status, "5.1.1");
	CHECK_STR(rs.r[0].remote_mta, "mx.b.example");
	CHECK_STR(rs.r[0].diag, "550 5.1.1 no");
	CHECK(rs.r[0].last_attempt == 1700000000);
	CHECK(rs.r[1].action == DSN_DELAYED);
	CHECK_STR(rs.r[1].remote_mta, "");
	dsn_records_free(&rs);
	free(d);
	{
		static const char *const bad[] = {
			"", "a@b\tfailed\t5.1.1\t\tx\t1",         /* no newline */
			"a@b\tfailed\t5.1.1\t\tx\n",               /* 5 fields */
			"a@b\tfailed\t5.1.1\t\tx\t1\textra\n",
			"a@b\tdelayed\t5.1.1\t\tx\t1\n",
			"a@b\tfailed\t2.0.0\t\tx\t1\n",
			"a@b\tfailed\t5.1.1000\t\tx\t1\n",
			"a@b\tfailed\t5.1.1\tmx b\tx\t1\n",
			"a@b\tfailed\t5.1.1\t\tx\t1x\n",
			"a@b\tfailed\t5.1.1\t\tx\t\n",
			"a@b\tfailed\t5.1.1\t\tx\r y\t1\n",
			"\tfailed\t5.1.1\t\tx\t1\n",
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			d = dup(bad[i]);
			if (dsn_parse_records(d, strlen(d), &rs, err, sizeof err) != -1)
				fprintf(stderr, "accepted bad record %zu\n", i);
			CHECK(rs.n == 0);
			dsn_records_free(&rs);
			free(d);
		}
	}

	/* The queue file. */
	d = dup("RQ1\nA1700000000\nCdefault\nFs@x.example\nTr@y.example\n\n"
	        "Received: a\r\nreceived : b\r\nX-Received: no\r\nSubject: s\r\n"
	        "\r\nReceived: in the body\r\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == 0);
	CHECK(o.arrival == 1700000000);
	CHECK_STR(o.sender, "s@x.example");
	CHECK(o.received == 2);
	CHECK(o.hdrlen == strlen("Received: a\r\nreceived : b\r\nX-Received: no\r\nSubject: s\r\n"));
	free(d);
	d = dup("RQ1\nA1\nCdefault\nF\nTr@y\n\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == 0);
	CHECK_STR(o.sender, "");
	CHECK(o.msglen == 0);
	free(d);
	d = dup("RQ1\nA1\nF\n\nx");  /* no recipient */
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == -1);
	free(d);
	d = dup("RQ2\nA1\nF\nTr\n\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == -1);
	free(d);
	d = dup("RQ1\nA1\nF\nTr\n");  /* envelope never ends */
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == -1);
	free(d);

	/* Dates. */
	dsn_date(date, sizeof date, 1700000000);
	CHECK_STR(date, "Tue, 14 Nov 2023 22:13:20 +0000");
	dsn_date(date, sizeof date, 0);
	CHECK_STR(date, "Thu, 1 Jan 1970 00:00:00 +0000");

	/* Folding: continuation lines start with a space, lines <= 78 when
	 * words allow, never > 998, control bytes and 8-bit made safe. */
	{
		struct buf f = BUF_INIT;
		char big[3000];
		memset(big, 'z', sizeof big - 1);
		big[sizeof big - 1] = 0;
		CHECK(dsn_fold(&f, "Diagnostic-Code: smtp; ",
		               "550 5.1.1 aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii Bcc: x@y.example") == 0);
		CHECK(lines_ok(&f, 78));
		CHECK(strstr(f.p, "\r\n Bcc: x@y.example\r\n") != NULL);
		f.len = 0;
		CHECK(dsn_fold(&f, "X: ", "  a\t\tb \x01 c\xff  ") == 0);
		CHECK_STR(f.p, "X: a b _ c?\r\n");
		f.len = 0;
		CHECK(dsn_fold(&f, "X: ", big) == 0);
		CHECK(lines_ok(&f, 998));
		CHECK(strstr(f.p, "...") != NULL);  /* capped at DSN_DIAG_MAX */
		buf_free(&f);
	}

	/* A whole DSN. */
	d = dup("RQ1\nA1700000000\nCdefault\nFs@x.example\nTr@y.example\n\n"
	        "From: s@x.example\r\nSubject: orig\r\n\r\nbody\r\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == 0);
	{
		char *recs = dup("r@y.example\tfailed\t5.1.1\t\t550 5.1.1 unknown\t1700000100\n");
		CHECK(dsn_parse_records(recs, strlen(recs), &rs, err, sizeof err) == 0);
		memset(&opt, 0, sizeof opt);
		opt.hostname = "relay.test";
		opt.to = o.sender;
		opt.size_limit = 50000;
		opt.now = 1700000200;
		CHECK(dsn_build(&opt, &o, rs.r, rs.n, &b) == 0);
		CHECK(lines_ok(&b, 998));
		CHECK(strncmp(b.p, "From: MAILER-DAEMON@relay.test", 30) == 0);
		CHECK(strstr(b.p, "\r\nTo: <s@x.example>\r\n") != NULL);
		CHECK(strstr(b.p, "\r\nAuto-Submitted: auto-replied\r\n") != NULL);
		CHECK(strstr(b.p, "\r\nDate: Tue, 14 Nov 2023 22:16:40 +0000\r\n") != NULL);
		CHECK(strstr(b.p, "multipart/report; report-type=delivery-status;") != NULL);
		CHECK(strstr(b.p, "\r\n\r\nReporting-MTA: dns; relay.test\r\n"
		                  "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\n"
		                  "Final-Recipient: rfc822; r@y.example\r\nAction: failed\r\n"
		                  "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 unknown\r\n"
		                  "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n") != NULL);
		CHECK(strstr(b.p, "Content-Type: message/rfc822\r\n") != NULL);
		CHECK(strstr(b.p, "\r\n\r\nFrom: s@x.example\r\nSubject: orig\r\n\r\nbody\r\n") != NULL);
		/* The original Subject appears once: inside the returned message. */
		CHECK(strstr(b.p, "Subject: orig") == strrchr(strstr(b.p, "Subject: orig"), 'S'));
		/* Headers only when asked. */
		b.len = 0;
		opt.size_limit = 0;
		CHECK(dsn_build(&opt, &o, rs.r, rs.n, &b) == 0);
		CHECK(strstr(b.p, "Content-Type: text/rfc822-headers\r\n") != NULL);
		CHECK(strstr(b.p, "body\r\n") == NULL);
		/* Postmaster copy says why. */
		b.len = 0;
		opt.to = "pm@relay.test";
		opt.why_not_sender = "the message had the null sender <>";
		CHECK(dsn_build(&opt, &o, rs.r, rs.n, &b) == 0);
		CHECK(strstr(b.p, "To: <pm@relay.test>\r\n") != NULL);
		CHECK(strstr(b.p, "null sender") != NULL);
		dsn_records_free(&rs);
		free(recs);
	}
	free(d);
	buf_free(&b);
	CHECK_DONE();
}
