/* The SMTP reply parser and the DATA encoder against hostile input
 * (hostile-inputs.md items 30, 3, 4, 5). */
#include "base/buf.h"
#include "check.h"
#include "net/smtp.h"

#include <stdlib.h>

/* Feed s (n bytes) in one piece; return the feed result. */
static int feed(struct smtp_reply *r, const char *s, size_t n, size_t *used)
{
	smtp_reply_init(r);
	return smtp_reply_feed(r, s, n, used);
}

/* Feed one byte at a time; the result must not depend on how bytes arrive. */
static int feed_bytes(struct smtp_reply *r, const char *s, size_t n, size_t *total)
{
	size_t i, u;
	int rc = 0;
	smtp_reply_init(r);
	*total = 0;
	for (i = 0; i < n; i++) {
		rc = smtp_reply_feed(r, s + i, 1, &u);
		*total += u;
		if (rc != 0)
			return rc;
	}
	return rc;
}

static int lines_seen;
static void count_line(void *arg, const char *t, size_t n)
{
	(void)arg; (void)t; (void)n;
	lines_seen++;
}

static char *encode(const char *in, size_t n, size_t step, size_t *outlen)
{
	struct smtp_dot d;
	struct buf b = BUF_INIT;
	size_t off = 0;
	smtp_dot_init(&d);
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		if (smtp_dot_add(&d, &b, in + off, k) < 0)
			abort();
		off += k;
	}
	if (smtp_dot_end(&d, &b) < 0)
		abort();
	*outlen = b.len;
	return b.p;
}

#define ENC(in, want) do { \
	size_t ol_, st_; \
	for (st_ = 1; st_ <= sizeof(in); st_++) { \
		char *o_ = encode(in, sizeof(in) - 1, st_, &ol_); \
		CHECK_MEM(o_, ol_, want, sizeof(want) - 1); \
		free(o_); \
	} \
} while (0)

int main(void)
{
	static struct smtp_reply r; /* large: keep off the stack */
	size_t used;
	int code, last;
	size_t off;

	/* line parser */
	CHECK(smtp_parse_reply_line("250 ok", 6, &code, &last, &off) == 0 && code == 250 && last && off == 4);
	CHECK(smtp_parse_reply_line("250-ok", 6, &code, &last, &off) == 0 && !last);
	CHECK(smtp_parse_reply_line("250", 3, &code, &last, &off) == 0 && last);
	CHECK(smtp_parse_reply_line("2500 ok", 7, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("2x0 ok", 6, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("250ok", 5, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("25", 2, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("", 0, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("650 ok", 6, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("150 ok", 6, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("25a ok", 6, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("250 o\0k", 7, &code, &last, &off) < 0);
	CHECK(smtp_parse_reply_line("250 o\rk", 7, &code, &last, &off) < 0);

	/* a plain reply, with enhanced code */
	CHECK(feed(&r, "250 2.1.5 ok\r\n", 14, &used) == 1);
	CHECK(r.code == 250 && used == 14);
	CHECK_STR(r.enh, "2.1.5");
	CHECK_STR(r.text, "2.1.5 ok");
	/* an enhanced code of the wrong class is not taken */
	CHECK(feed(&r, "250 5.1.1 ok\r\n", 14, &used) == 1);
	CHECK_STR(r.enh, "");
	/* multi-line, joined; stops at the end of the reply */
	{
		const char m[] = "250-mx.test hi\r\n250-PIPELINING\r\n250 SIZE 100\r\n354 next";
		CHECK(feed(&r, m, sizeof m - 1, &used) == 1);
		CHECK(used == sizeof m - 1 - 8);
		CHECK(r.nlines == 3);
		CHECK_STR(r.text, "mx.test hi / PIPELINING / SIZE 100");
		CHECK(feed_bytes(&r, m, sizeof m - 1, &used) == 1 && used == sizeof m - 1 - 8);
	}
	/* a bare "220" line */
	CHECK(feed(&r, "220\r\n", 5, &used) == 1 && r.code == 220);
	/* incomplete: needs more */
	CHECK(feed(&r, "250-a\r\n250 b", 12, &used) == 0 && used == 12);

	/* item 30, one by one */
	/* 250-... followed by 550 */
	CHECK(feed(&r, "250-ok\r\n550 no\r\n", 16, &used) == -1 && r.err == SMTP_PE_MIXED);
	/* code 2500 */
	CHECK(feed(&r, "2500 ok\r\n", 9, &used) == -1 && r.err == SMTP_PE_SYNTAX);
	/* non-digit code */
	CHECK(feed(&r, "2x0 ok\r\n", 8, &used) == -1 && r.err == SMTP_PE_SYNTAX);
	CHECK(feed(&r, "abc ok\r\n", 8, &used) == -1);
	/* missing separator */
	CHECK(feed(&r, "250ok\r\n", 7, &used) == -1 && r.err == SMTP_PE_SYNTAX);
	/* NUL */
	CHECK(feed(&r, "250 o\0k\r\n", 9, &used) == -1 && r.err == SMTP_PE_NUL);
	CHECK(feed(&r, "\0", 1, &used) == -1);
	/* bare CR inside a line */
	CHECK(feed(&r, "250 o\rk\r\n", 9, &used) == -1 && r.err == SMTP_PE_CR);
	/* bare LF: accepted leniently (documented in smtp.h) */
	CHECK(feed(&r, "250-a\n250 b\n", 12, &used) == 1 && r.code == 250 && r.nlines == 2);
	/* empty line */
	CHECK(feed(&r, "\r\n", 2, &used) == -1);
	/* a line over REPLY_LINE_MAX, with no line end at all */
	{
		size_t n = REPLY_LINE_MAX + 100;
		char *p = malloc(n);
		memset(p, 'a', n);
		memcpy(p, "250 ", 4);
		CHECK(feed(&r, p, n, &used) == -1 && r.err == SMTP_PE_LONG);
		CHECK(used <= REPLY_LINE_MAX + 1);
		/* exactly REPLY_LINE_MAX is fine; the kept text is bounded */
		memcpy(p + REPLY_LINE_MAX, "\r\n", 2);
		CHECK(feed(&r, p, REPLY_LINE_MAX + 2, &used) == 1 && r.code == 250);
		CHECK(strlen(r.text) < sizeof r.text);
		/* a 600-byte line (over RFC 5321's 512) is accepted leniently */
		memcpy(p + 600, "\r\n", 2);
		CHECK(feed(&r, p, 602, &used) == 1);
		free(p);
	}
	/* 100k continuation lines: refused after REPLY_LINES_MAX */
	{
		size_t i, n = 100000;
		struct buf b = BUF_INIT;
		for (i = 0; i < n; i++)
			buf_adds(&b, "250-x\r\n");
		buf_adds(&b, "250 end\r\n");
		lines_seen = 0;
		r.on_line = count_line;
		r.arg = NULL;
		CHECK(feed(&r, b.p, b.len, &used) == -1 && r.err == SMTP_PE_LINES);
		CHECK(lines_seen == REPLY_LINES_MAX);
		CHECK(used <= 7 * (REPLY_LINES_MAX + 1));
		r.on_line = NULL;
		buf_free(&b);
		/* exactly REPLY_LINES_MAX lines pass */
		for (i = 0; i + 1 < REPLY_LINES_MAX; i++)
			buf_adds(&b, "250-x\r\n");
		buf_adds(&b, "250 end\r\n");
		CHECK(feed(&r, b.p, b.len, &used) == 1 && r.nlines == REPLY_LINES_MAX);
		CHECK(strlen(r.text) < sizeof r.text);
		buf_free(&b);
	}
	/* control bytes and 8-bit bytes come out safe */
	CHECK(feed(&r, "550 a\tb\x1b[31m\xff\r\n", 15, &used) == 1);
	CHECK_STR(r.text, "a_b_[31m_");
	/* text cannot start a new log record: there is no newline in it */
	CHECK(feed(&r, "550-x\r\n550 F1 evil\n", 19, &used) == 1);
	CHECK(strchr(r.text, '\n') == NULL && strchr(r.text, '\r') == NULL);
	/* after an error, the parser stays failed */
	CHECK(feed(&r, "2x0\r\n", 5, &used) == -1);
	CHECK(smtp_reply_feed(&r, "250 ok\r\n", 8, &used) == -1);

	/* DATA encoding: dot-stuffing and line ends (items 1-5) */
	ENC("", ".\r\n");
	ENC("a\r\n", "a\r\n.\r\n");
	ENC("a", "a\r\n.\r\n");
	ENC(".\r\n", "..\r\n.\r\n");
	ENC("..\r\n", "...\r\n.\r\n");
	ENC(".foo\r\nbar\r\n.", "..foo\r\nbar\r\n..\r\n.\r\n");
	ENC("a\nb\n", "a\r\nb\r\n.\r\n");
	ENC("cr\rlf\n", "cr\r\nlf\r\n.\r\n");
	ENC("x\r", "x\r\n.\r\n");
	ENC("\r\n", "\r\n.\r\n");
	/* smuggling payloads (smtpsmug): every one stays inside the body */
	ENC("a\n.\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\n.\r\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\r\n.\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\r.\rMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\r.\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\n.\rMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\r.\r\nMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\r\n.\rMAIL", "a\r\n..\r\nMAIL\r\n.\r\n");
	ENC("a\r\n\0.\r\nMAIL", "a\r\n\0.\r\nMAIL\r\n.\r\n");
	CHECK_DONE();
}
