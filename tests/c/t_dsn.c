/* DSN: failure records, the queue file parts, folding, the built report,
 * and relay-bounce dsn's steps (lib/bounce/bounce.c): settings, who gets
 * the report, what is suppressed. */
#include <cdb.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "base/diag.h"
#include "bounce/bounce.h"
#include "bounce/dsn.h"
#include "bounce/suppress.h"

static char *sdup(const char *s) { return strdup(s); }

/* 1 if dsn_parse_original refuses s, with a reason. */
static int original_refused(const char *s)
{
	struct dsn_original o;
	const char *why = NULL;
	char *d = sdup(s);
	int r = dsn_parse_original(d, strlen(d), &o, &why) == -1 && why && *why;
	free(d);
	return r;
}

/* home/etc/settings.cdb from "key", "value" pairs (NULL ends), with the
 * version record relay-config writes. */
static void settings(const char *home, ...)
{
	char p[512];
	struct cdb_make m;
	const char *k;
	va_list ap;
	int fd;
	snprintf(p, sizeof p, "%s/etc/settings.cdb", home);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	cdb_make_start(&m, fd);
	cdb_make_add(&m, "", 0, "1", 1);
	va_start(ap, home);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		cdb_make_add(&m, k, (unsigned)strlen(k), v, (unsigned)strlen(v));
	}
	va_end(ap);
	CHECK(cdb_make_finish(&m) == 0);
	close(fd);
}

/* bounce_dsn_prepare on copies of records and queue file text. */
static int prepare(struct bounce_dsn *d, const char *home, const char *recs,
                   const char *qf, char *err, size_t errcap, struct buf *rb, struct buf *qb)
{
	rb->len = qb->len = 0;
	buf_adds(rb, recs);
	buf_adds(qb, qf);
	return bounce_dsn_prepare(d, home, rb, qb, 50000, 0, 1700000200, err, errcap);
}

static void t_bounce(void)
{
	char home[] = "/tmp/t_dsn.XXXXXX", p[512], err[512];
	const char *rec = "Bob@Y.example\tfailed\t5.1.1\tmx.y.example\t550 5.1.1 user unknown\t1700000100\n"
	                  "c@y.example\tfailed\t5.7.1\t\t550 5.7.1 spam\t1700000100\n"
	                  "d@y.example\tdelayed\t4.4.1\t\t421 4.4.1 timeout\t1700000100\n";
	const char *qf = "RQ1\nA1700000000\nCdefault\nFs@x.example\nTBob@Y.example\nTc@y.example\n"
	                 "Td@y.example\n\nSubject: s\r\n\r\nbody\r\n";
	const char *nullqf = "RQ1\nA1700000000\nCdefault\nF\nTBob@Y.example\n\nSubject: s\r\n\r\nb\r\n";
	struct buf rb = BUF_INIT, qb = BUF_INIT, loop = BUF_INIT;
	struct bounce_dsn d;
	struct suppress_entry e;
	unsigned long secs;
	long limit;
	int i;

	CHECK(mkdtemp(home) != NULL);
	snprintf(p, sizeof p, "%s/etc", home);
	CHECK(mkdir(p, 0755) == 0);

	/* The defaults of etc/settings (no settings.cdb). */
	CHECK(bounce_size_limit(home, &limit, err, sizeof err) == 0 && limit == 50000);
	CHECK(bounce_expiry(home, &secs, err, sizeof err) == 0 && secs == 90UL * 86400);
	settings(home, "hostname", "relay.test", "bounce_size_limit", "4000000000",
	         "suppression_expiry", "2d", (char *)NULL);
	CHECK(bounce_size_limit(home, &limit, err, sizeof err) == 0 && limit == BOUNCE_SIZE_LIMIT_MAX);
	CHECK(bounce_expiry(home, &secs, err, sizeof err) == 0 && secs == 2UL * 86400);
	settings(home, "hostname", "relay.test", "suppression_expiry", "90", (char *)NULL);
	CHECK(bounce_expiry(home, &secs, err, sizeof err) == -1);  /* no unit: not canonical */
	CHECK(strstr(err, "suppression_expiry") != NULL);

	/* The sender gets the report. */
	settings(home, "hostname", "relay.test", (char *)NULL);
	CHECK(prepare(&d, home, rec, qf, err, sizeof err, &rb, &qb) == 0);
	CHECK_STR(d.opt.to, "s@x.example");
	CHECK_STR(d.opt.hostname, "relay.test");
	CHECK(d.opt.why_not_sender == NULL && d.opt.now == 1700000200 && d.opt.size_limit == 50000);
	CHECK(d.rs.n == 3 && d.o.arrival == 1700000000);
	/* Only the bad mailbox is suppressed; policy and delays are not. */
	bounce_suppress_failed(home, &d, 1700000300);
	CHECK(suppress_lookup_at(home, "Bob@y.example", 1700000301, &e) == 1);
	CHECK_STR(e.reason, "bad-mailbox 5.1.1 550 5.1.1 user unknown");
	CHECK(e.expires == 1700000300 + 90L * 86400);
	CHECK(suppress_lookup_at(home, "c@y.example", 1700000301, &e) == 0);
	CHECK(suppress_lookup_at(home, "d@y.example", 1700000301, &e) == 0);
	bounce_dsn_free(&d);

	/* The null sender: the default postmaster@hostname without a
	 * postmaster setting, else the postmaster. */
	CHECK(prepare(&d, home, rec, nullqf, err, sizeof err, &rb, &qb) == 0);
	CHECK_STR(d.opt.to, "postmaster@relay.test");
	CHECK(strstr(d.why, "null sender") != NULL);
	bounce_dsn_free(&d);
	settings(home, "hostname", "relay.test", "postmaster", "pm@relay.test", (char *)NULL);
	CHECK(prepare(&d, home, rec, nullqf, err, sizeof err, &rb, &qb) == 0);
	CHECK_STR(d.opt.to, "pm@relay.test");
	CHECK(d.opt.why_not_sender == d.why);
	bounce_dsn_free(&d);

	/* A loop: more than hopcount_limit Received: lines. */
	settings(home, "hostname", "relay.test", "hopcount_limit", "3", (char *)NULL);
	buf_adds(&loop, "RQ1\nA1\nCdefault\nFs@x.example\nTr@y.example\n\n");
	for (i = 0; i < 4; i++)
		buf_adds(&loop, "Received: from a by b\r\n");
	buf_adds(&loop, "\r\nbody\r\n");
	CHECK(prepare(&d, home, rec, loop.p, err, sizeof err, &rb, &qb) == 0);
	CHECK_STR(d.opt.to, "postmaster@relay.test");
	CHECK(strstr(d.why, "4 Received: lines") != NULL);
	bounce_dsn_free(&d);

	/* Bad input is permanent; a bad setting or etc/classify temporary. */
	CHECK(prepare(&d, home, "x\n", qf, err, sizeof err, &rb, &qb) == EXIT_PERM);
	bounce_dsn_free(&d);
	CHECK(prepare(&d, home, rec, "not a queue file", err, sizeof err, &rb, &qb) == EXIT_PERM);
	CHECK(strncmp(err, "queue file: ", 12) == 0);
	bounce_dsn_free(&d);
	settings(home, "hostname", "bad host!", (char *)NULL);
	CHECK(prepare(&d, home, rec, qf, err, sizeof err, &rb, &qb) == EXIT_TEMP);
	CHECK_STR(err, "setting hostname: not a host name");
	bounce_dsn_free(&d);
	settings(home, "hostname", "relay.test", (char *)NULL);
	snprintf(p, sizeof p, "%s/etc/classify", home);
	{
		FILE *f = fopen(p, "w");
		CHECK(f != NULL);
		fputs("550 5.1.1 * -> nonsense hard\n", f);
		fclose(f);
	}
	CHECK(prepare(&d, home, rec, qf, err, sizeof err, &rb, &qb) == EXIT_TEMP);
	CHECK(strstr(err, "etc/classify: line 1: bad category") != NULL);
	bounce_dsn_free(&d);

	buf_free(&rb);
	buf_free(&qb);
	buf_free(&loop);
	snprintf(p, sizeof p, "rm -rf %s", home);
	CHECK(system(p) == 0);
}

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
	d = sdup("a@b.example\tfailed\t5.1.1\tmx.b.example\t550 5.1.1 no\t1700000000\n"
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
			d = sdup(bad[i]);
			if (dsn_parse_records(d, strlen(d), &rs, err, sizeof err) != -1)
				fprintf(stderr, "accepted bad record %zu\n", i);
			CHECK(rs.n == 0);
			dsn_records_free(&rs);
			free(d);
		}
	}

	/* The queue file. */
	d = sdup("RQ1\nA1700000000\nCdefault\nFs@x.example\nTr@y.example\n\n"
	        "Received: a\r\nreceived : b\r\nX-Received: no\r\nSubject: s\r\n"
	        "\r\nReceived: in the body\r\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == 0);
	CHECK(o.arrival == 1700000000);
	CHECK_STR(o.sender, "s@x.example");
	CHECK(o.received == 2);
	CHECK(o.hdrlen == strlen("Received: a\r\nreceived : b\r\nX-Received: no\r\nSubject: s\r\n"));
	free(d);
	d = sdup("RQ1\nA1\nCdefault\nF\nTr@y\n\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == 0);
	CHECK_STR(o.sender, "");
	CHECK(o.msglen == 0);
	free(d);
	/* The envelope is queue_parse()'s: a queue file relay-send would
	 * quarantine is refused here too. */
	CHECK(original_refused("RQ1\nA1\nCdefault\nF\n\nx"));      /* no recipient */
	CHECK(original_refused("RQ2\nA1\nCdefault\nF\nTr\n\n"));  /* magic */
	CHECK(original_refused("RQ1\nA1\nCdefault\nF\nTr\n"));     /* envelope never ends */
	CHECK(original_refused("RQ1\nA1\nF\nTr\n\n"));             /* no class */
	CHECK(original_refused("RQ1\nA1\nCdefault\nF\nTr\nZnew\n\n"));
	CHECK(original_refused("RQ1\nAx\nCdefault\nF\nTr\n\n"));
	CHECK(original_refused(""));

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
	d = sdup("RQ1\nA1700000000\nCdefault\nFs@x.example\nTr@y.example\n\n"
	        "From: s@x.example\r\nSubject: orig\r\n\r\nbody\r\n");
	CHECK(dsn_parse_original(d, strlen(d), &o, &why) == 0);
	{
		char *recs = sdup("r@y.example\tfailed\t5.1.1\t\t550 5.1.1 unknown\t1700000100\n");
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
	t_bounce();
	CHECK_DONE();
}
