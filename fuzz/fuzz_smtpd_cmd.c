/* libFuzzer harness for relay-smtpd's parsers (net/smtpd_cmd.h): the
 * command line assembler, the command parser and the DATA reader (DATA
 * and BDAT's raw mode), all
 * pure. Built by scripts/fuzz-smtpd. The first byte picks how the rest
 * is cut into pieces; the result must not depend on the cut, and the
 * checks below must hold for any input. */
#include "base/buf.h"
#include "net/smtpd_cmd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_lines(const uint8_t *d, size_t n, size_t step)
{
	static struct smtpd_line l;
	size_t off = 0;
	smtpd_line_init(&l);
	while (off < n) {
		size_t k = n - off < step ? n - off : step, used = 0;
		int r = smtpd_line_feed(&l, (const char *)d + off, k, &used);
		if (used > k || (r == 0 && used != k))
			abort();
		off += used;
		if (l.len > SMTPD_CMD_MAX)
			abort();
		if (r == 1) {
			struct smtpd_cmd c;
			const char *why = NULL;
			char copy[SMTPD_CMD_MAX + 1];
			memcpy(copy, l.p, l.len + 1);
			if (smtpd_cmd_parse(copy, l.len, &c, &why) < 0 && (!why || strlen(why) < 5))
				abort();
			if (strlen(c.path) > ADDR_PATH_MAX || strlen(c.prm.envid) >= sizeof c.prm.envid ||
			    strlen(c.prm.orcpt) >= sizeof c.prm.orcpt)
				abort();
			smtpd_line_init(&l);
		}
	}
}

/* DATA: the message kept never holds a bare CR or LF, a line over 998
 * or more than max bytes; the end is at CRLF.CRLF only; the same bytes
 * cut differently give the same result. */
static int run_data(const uint8_t *d, size_t n, size_t step, struct buf *out, size_t *used, int *err,
                    int raw)
{
	struct smtpd_data s;
	size_t off = 0;
	int r = 0;
	smtpd_data_init(&s, out, 4096);
	s.raw = raw;
	while (off < n) {
		size_t k = n - off < step ? n - off : step, u = 0;
		r = smtpd_data_feed(&s, (const char *)d + off, k, &u);
		if (u > k || (r == 0 && u != k))
			abort();
		off += u;
		if (r != 0)
			break;
	}
	if (raw) {
		/* BDAT: chunks never end the message; LAST closes it */
		if (r != 0 || off != n || smtpd_data_end(&s) < 0)
			abort();
	}
	*used = off;
	*err = s.err;
	return r;
}

static void check_data(const uint8_t *d, size_t n, size_t step, int raw)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t ua, ub, i, line = 0;
	int ea, eb, ra = run_data(d, n, step, &a, &ua, &ea, raw),
	    rb = run_data(d, n, n ? n : 1, &b, &ub, &eb, raw);
	if (ra != rb || ua != ub || ea != eb || a.len != b.len || (a.len && memcmp(a.p, b.p, a.len)))
		abort();
	if (ra == 1) {
		/* the end: CRLF.CRLF, or ".\r\n" at the very start */
		if (!(ua == 3 && !memcmp(d, ".\r\n", 3)) && (ua < 5 || memcmp(d + ua - 5, "\r\n.\r\n", 5)))
			abort();
	}
	if (ea == 0) {
		if (a.len > 4096 || (raw && a.len && (a.len < 2 || memcmp(a.p + a.len - 2, "\r\n", 2))))
			abort();
		for (i = 0; i < a.len; i++) {
			if (a.p[i] == '\r' && (i + 1 >= a.len || a.p[i + 1] != '\n'))
				abort();
			if (a.p[i] == '\n' && (i == 0 || a.p[i - 1] != '\r'))
				abort();
			if (a.p[i] == 0)
				abort();
			line = a.p[i] == '\n' ? 0 : line + 1;
			if (line > LINE_MAX_OCTETS + 1)
				abort();
		}
	}
	buf_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;
	if (size < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	check_lines(data + 1, size - 1, step);
	check_data(data + 1, size - 1, step, 0);
	check_data(data + 1, size - 1, step, 1);   /* BDAT */
	return 0;
}
