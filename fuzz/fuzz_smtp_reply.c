/* libFuzzer harness for the SMTP reply parser (net/reply.h) and the DATA
 * encoder (net/dot.h), both pure: no session, no socket, no TLS.
 * Built by scripts/fuzz-smtp. The first input byte picks how the rest is
 * cut into pieces, so that the parser sees the same bytes arriving in
 * different segments; the checks below must hold for any input. */
#include "base/buf.h"
#include "net/dot.h"
#include "net/reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void on_line(void *arg, const char *t, size_t n)
{
	size_t *total = arg;
	if (n > REPLY_LINE_MAX)
		abort();
	if (n)
		(void)t[n - 1]; /* ASan checks the range */
	*total += 1;
}

static void check_reply(const uint8_t *d, size_t n, size_t step)
{
	static struct smtp_reply r;
	size_t off = 0, lines = 0;
	int rc = 0;
	r.on_line = on_line;
	r.arg = &lines;
	smtp_reply_init(&r);
	while (off < n) {
		size_t k = n - off < step ? n - off : step, used = 0;
		rc = smtp_reply_feed(&r, (const char *)d + off, k, &used);
		if (used > k)
			abort();
		off += used;
		if (rc != 0)
			break;
		if (used != k)
			abort(); /* 0 means it wants more: it must have taken all */
	}
	if (strlen(r.text) >= sizeof r.text || strlen(r.enh) >= sizeof r.enh)
		abort();
	if (lines > REPLY_LINES_MAX)
		abort();
	if (rc == 1) {
		size_t i;
		if (r.code < 200 || r.code > 599)
			abort();
		for (i = 0; r.text[i]; i++)
			if ((unsigned char)r.text[i] < 0x20 || (unsigned char)r.text[i] >= 0x7f)
				abort(); /* safe text only */
	}
	if (rc < 0 && r.err == SMTP_PE_NONE)
		abort();
}

static void check_dot(const uint8_t *d, size_t n, size_t step)
{
	struct smtp_dot s;
	struct buf b = BUF_INIT;
	size_t off = 0, i;
	smtp_dot_init(&s);
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		if (smtp_dot_add(&s, &b, (const char *)d + off, k) < 0)
			abort();
		off += k;
	}
	if (smtp_dot_end(&s, &b) < 0)
		abort();
	/* no bare CR or LF; ends with CRLF.CRLF (or is just .CRLF);
	 * CRLF.CRLF occurs only at the end */
	for (i = 0; i < b.len; i++) {
		if (b.p[i] == '\r' && (i + 1 >= b.len || b.p[i + 1] != '\n'))
			abort();
		if (b.p[i] == '\n' && (i == 0 || b.p[i - 1] != '\r'))
			abort();
	}
	if (b.len < 3 || memcmp(b.p + b.len - 3, ".\r\n", 3))
		abort();
	if (b.len > 3 && (b.len < 5 || memcmp(b.p + b.len - 5, "\r\n.\r\n", 5)))
		abort();
	for (i = 0; i + 5 < b.len; i++)
		if (!memcmp(b.p + i, "\r\n.\r\n", 5))
			abort();
	if (b.len >= 3 && b.len - 3 > 0 && !memcmp(b.p, ".\r\n", 3) && b.len != 3)
		abort(); /* a first line "." must have been stuffed */
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;
	if (size < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	if (data[0] & 0x80)
		step = size; /* all at once */
	check_reply(data + 1, size - 1, step);
	check_dot(data + 1, size - 1, step);
	return 0;
}
