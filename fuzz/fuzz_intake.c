/* libFuzzer harness for intake normalisation and the header section
 * (intake/msg.h, complete.h, envelope.h with -t): what relay-inject
 * does to a submitted message before relay-queue. Built and run by
 * scripts/fuzz-run intake. The first byte picks dot_ends and -t. */
#include "base/bounds.h"
#include "base/buf.h"
#include "intake/addr.h"
#include "intake/complete.h"
#include "intake/envelope.h"
#include "intake/msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int count_addr(const char *s, size_t n, void *arg)
{
	size_t *k = arg;
	(void)s;
	if (n)
		(void)s[n - 1];
	(*k)++;
	return 0;
}

/* CRLF only, lines of at most 998 octets plus CRLF, no NUL */
static void check_crlf(const char *p, size_t n)
{
	size_t i, col = 0;
	for (i = 0; i < n; i++) {
		if (p[i] == 0)
			abort();
		if (p[i] == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				abort();
			i++;
			col = 0;
			continue;
		}
		if (p[i] == '\n')
			abort();
		if (++col > 998)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf m = BUF_INIT, out = BUF_INIT, v = BUF_INIT;
	struct msg_headers h;
	struct envelope e;
	char err[300];
	size_t i;
	int r;
	if (size < 1)
		return 0;
	memset(&h, 0, sizeof h);
	r = complete_parse((const char *)data + 1, size - 1, data[0] & 1, &m, &h, err, sizeof err);
	if (r != 0)
		goto done;
	check_crlf(m.p ? m.p : "", m.len);
	if (h.end > m.len || h.body > m.len || h.end > h.body)
		abort();
	for (i = 0; i < h.n; i++) {
		size_t k = 0;
		if (h.f[i].off + h.f[i].len > h.end || h.f[i].name_len >= h.f[i].len)
			abort();
		v.len = 0;
		if (msg_value(m.p, &h.f[i], &v) == 0 && v.len) {
			if (memchr(v.p, '\n', v.len))
				abort();
			(void)msg_addrlist(v.p, v.len, count_addr, &k);
		}
	}
	(void)complete_one_from(m.p, &h, err, sizeof err);
	envelope_init(&e, "host.example");
	if (envelope_header(&e, m.p, &h, data[0] & 2, err, sizeof err) == 0) {
		const char *why;
		for (i = 0; i < e.nrcpt; i++)
			if (addr_check(e.rcpt[i], strlen(e.rcpt[i]), 0, &why) != ADDR_OK)
				abort();
		if (e.class && !envelope_class_valid(e.class, strlen(e.class)) &&
		    envelope_class_check(&e, err, sizeof err) == 0)
			abort();
	}
	envelope_free(&e);
	{
		struct complete c = {"host.example", "a@b.example", data[0] & 4 ? "Full \"Name\"" : NULL,
		                     "(fuzz invoked by uid 1)", 1700000000, MSG_SIZE_DEFAULT};
		if (complete_message(&c, m.p, m.len, &h, &out, err, sizeof err) == 0) {
			struct msg_headers h2;
			check_crlf(out.p, out.len);
			if (out.len < 10 || memcmp(out.p, "Received: ", 10))
				abort();
			/* the completed message parses again, with no Bcc: */
			memset(&h2, 0, sizeof h2);
			if (msg_headers(out.p, out.len, &h2, err, sizeof err) != 0)
				abort();
			if (msg_find(out.p, &h2, "Bcc", 0) >= 0 || msg_find(out.p, &h2, "X-Relay-Class", 0) >= 0)
				abort();
			msg_headers_free(&h2);
		}
	}
done:
	msg_headers_free(&h);
	buf_free(&m);
	buf_free(&out);
	buf_free(&v);
	return 0;
}
