/* libFuzzer harness for relay-httpd's JSON to MIME builder (http/mime.h):
 * the one parser of the JSON of POST /v1/messages. Built and run by
 * scripts/fuzz-httpmsg. For any input: no crash or leak; a built message
 * has CRLF line ends only, no line over 998 octets, no
 * 8-bit byte, a header that intake/msg.c parses, no Bcc field, and at
 * least one recipient in the envelope; a refusal names a field. */
#include "base/buf.h"
#include "http/mime.h"
#include "intake/envelope.h"
#include "intake/msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const char *p, size_t n)
{
	struct msg_headers h = {0};
	char err[256];
	size_t i, col = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n') {
			if (i == 0 || p[i - 1] != '\r')
				abort();          /* a bare LF */
			col = 0;
			continue;
		}
		if (c == '\r' && (i + 1 >= n || p[i + 1] != '\n'))
			abort();                  /* a bare CR */
		if (c >= 0x80 || c == 0)
			abort();                  /* 8-bit or NUL */
		if (c != '\r' && ++col > 998)
			abort();
	}
	if (msg_headers(p, n, &h, err, sizeof err) < 0)
		abort();
	if (msg_find(p, &h, "Bcc", 0) >= 0 || msg_find(p, &h, "From", 0) != 0)
		abort();
	msg_headers_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct envelope e;
	struct buf out = BUF_INIT;
	struct httpmsg_err err;
	char class[ENVELOPE_CLASS_MAX + 1];
	int r;
	envelope_init(&e, "relay.test");
	r = httpmsg_build((const char *)d, n, &e, class, sizeof class, &out, &err);
	if (r == 0) {
		if (e.nrcpt == 0 || !e.sender[0])
			abort();
		check(out.p, out.len);
	} else if (r == -1 && (!err.field[0] || !err.text[0])) {
		abort();
	}
	envelope_free(&e);
	buf_free(&out);
	return 0;
}
