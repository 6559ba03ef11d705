/* libFuzzer harness for relay-bounce's inputs (bounce/dsn.h): the failure
 * records on fd 3 (dsn_parse_records) and the queue file
 * (dsn_parse_original), then the DSN built from both. Built and run by
 * scripts/fuzz-run dsn. The input is records, a NUL, the queue file. */
#include "base/buf.h"
#include "bounce/dsn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* every line ends CRLF and is at most 998 octets; 7-bit */
static void check_dsn(const char *p, size_t n)
{
	size_t i, col = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				abort();
			i++;
			col = 0;
			continue;
		}
		if (c == '\n' || c == 0)
			abort();
		if (++col > 998)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0, size);
	size_t rl = sep ? (size_t)(sep - data) : size, ql = sep ? size - rl - 1 : 0;
	char *rec = malloc(rl + 1), *q = malloc(ql + 1), err[200];
	struct dsn_records rs = DSN_RECORDS_INIT;
	struct dsn_original o;
	const char *why = NULL;
	int have_rec, have_orig;
	if (!rec || !q)
		goto out;
	memcpy(rec, data, rl);
	rec[rl] = 0;
	if (ql)
		memcpy(q, sep + 1, ql);
	q[ql] = 0;
	have_rec = dsn_parse_records(rec, rl, &rs, err, sizeof err) == 0;
	if (have_rec && (rs.n == 0 || rs.n > DSN_RECORDS_MAX))
		abort();
	have_orig = dsn_parse_original(q, ql, &o, &why) == 0;
	if (have_orig && (o.hdrlen > o.msglen || o.msg + o.msglen != q + ql))
		abort();
	if (have_rec && have_orig) {
		struct buf b = BUF_INIT;
		struct dsn_opts opt = {"relay.example", o.sender[0] ? o.sender : "postmaster@relay.example",
		                       o.sender[0] ? NULL : "null sender", (long)(rl & 0xfff), 1700000000, 0};
		dsn_apply_params(&o, &rs);   /* the queue file's NOTIFY and ORCPT */
		if (dsn_build(&opt, &o, rs.r, rs.n, &b) == 0)
			check_dsn(b.p, b.len);
		buf_free(&b);
	}
	dsn_records_free(&rs);
	if (have_orig)
		dsn_original_free(&o);
out:
	free(rec);
	free(q);
	return 0;
}
