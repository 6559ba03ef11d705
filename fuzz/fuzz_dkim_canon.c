/* libFuzzer harness for the DKIM canonicalizers and the header parser
 * (lib/dkim/dkim_canon.c, over lib/intake/msg.c), built by scripts/fuzz-dkim. For each input it checks
 * properties, not just the absence of crashes:
 *  - the body canonicalizers give the same output fed whole, byte by
 *    byte, and in the split the first input byte chooses;
 *  - the output length equals what dkim_body_final reports, and a limit
 *    (l=) never lets more than limit bytes out;
 *  - relaxed output has no WSP before CRLF, no WSP run, no empty last
 *    line; simple output ends in CRLF; both are idempotent;
 *  - the header parser's fields lie inside the message and do not
 *    overlap; relaxed header canonicalization ends in CRLF and is
 *    idempotent; the signer and verifier never crash on the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "dkim/dkim.h"
#include "dkim/dkim_canon.h"

static void sink(void *ctx, const void *p, size_t n) { buf_add(ctx, p, n); }

static void canon(const char *p, size_t n, int relaxed, size_t step, uint64_t limit,
                  struct buf *out, uint64_t *total)
{
	struct dkim_body b;
	size_t i;
	out->len = 0;
	dkim_body_init(&b, relaxed, sink, out);
	b.limit = limit;
	if (step == 0)
		step = n ? n : 1;
	for (i = 0; i < n; i += step)
		dkim_body_update(&b, p + i, n - i < step ? n - i : step);
	*total = dkim_body_final(&b);
}

static int no_key(void *ctx, const char *s, const char *d, struct buf *out)
{
	return buf_adds(out, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=") < 0 ||
	       buf_addc(out, 0) < 0 ? DKIM_TEMP : DKIM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	uint64_t ta, tb, tc;
	int relaxed;
	size_t step = size ? (size_t)data[0] % 17 + 1 : 1;

	for (relaxed = 0; relaxed <= 1; relaxed++) {
		canon(p, size, relaxed, 0, UINT64_MAX, &a, &ta);
		canon(p, size, relaxed, 1, UINT64_MAX, &b, &tb);
		canon(p, size, relaxed, step, UINT64_MAX, &c, &tc);
		if (ta != a.len || tb != ta || tc != ta || b.len != a.len || c.len != a.len ||
		    (a.len && (memcmp(a.p, b.p, a.len) || memcmp(a.p, c.p, a.len))))
			abort();
		if (!relaxed && (a.len < 2 || a.p[a.len - 2] != '\r' || a.p[a.len - 1] != '\n'))
			abort();
		if (relaxed && a.len) {
			size_t i;
			if (a.len < 2 || a.p[a.len - 2] != '\r' || a.p[a.len - 1] != '\n')
				abort();
			if (a.len >= 4 && !memcmp(a.p + a.len - 4, "\r\n\r\n", 4))
				abort();
			for (i = 0; i + 1 < a.len; i++) {
				int w = a.p[i] == ' ' || a.p[i] == '\t';
				if (a.p[i] == '\t' || (w && (a.p[i + 1] == ' ' || a.p[i + 1] == '\t')))
					abort();
				if (w && i + 2 < a.len && a.p[i + 1] == '\r' && a.p[i + 2] == '\n')
					abort();
			}
		}
		/* the whole-buffer hash (simple has a fast path) agrees */
		{
			unsigned char h1[32], h2[32];
			dkim_body_hash(p, size, relaxed, h1);
			crypto_hash_sha256(h2, (const unsigned char *)(a.p ? a.p : ""), a.len);
			if (memcmp(h1, h2, 32))
				abort();
		}
		/* canonical output is a fixed point */
		{
			struct buf a2 = BUF_INIT;
			uint64_t t2;
			canon(a.p ? a.p : "", a.len, relaxed, 0, UINT64_MAX, &a2, &t2);
			if (a2.len != a.len || (a.len && memcmp(a.p, a2.p, a.len)))
				abort();
			buf_free(&a2);
		}
		/* l=: never more than the limit out, the same prefix */
		{
			uint64_t lim = size ? data[size - 1] : 0;
			canon(p, size, relaxed, step, lim, &b, &tb);
			if (tb != ta || b.len != (ta < lim ? ta : lim) || (b.len && memcmp(a.p, b.p, b.len)))
				abort();
		}
	}

	/* header parser and relaxed header canonicalization */
	{
		struct msg_headers h;
		if (dkim_headers_parse(&h, p, size, NULL, 0) == DKIM_OK) {
			size_t i, end = 0;
			if (h.body > size)
				abort();
			for (i = 0; i < h.n; i++) {
				struct buf x = BUF_INIT, y = BUF_INIT;
				if (h.f[i].off < end || h.f[i].off + h.f[i].len > size ||
				    h.f[i].name_len == 0 || h.f[i].name_len > h.f[i].len)
					abort();
				end = h.f[i].off + h.f[i].len;
				dkim_canon_header(&x, 1, p + h.f[i].off, h.f[i].len);
				if (x.len < 3 || x.p[x.len - 2] != '\r' || x.p[x.len - 1] != '\n')
					abort();
				dkim_canon_header(&y, 1, x.p, x.len);
				if (y.len != x.len || memcmp(x.p, y.p, x.len))
					abort();
				buf_free(&x);
				buf_free(&y);
			}
			msg_headers_free(&h);
		}
	}
	/* the verifier on hostile input: no crash, no out-of-bounds read */
	{
		struct buf rep = BUF_INIT;
		char dom[256], why[256];
		dkim_verify_message(p, size, no_key, NULL, 0, &rep);
		dkim_from_domain(p, size, dom, sizeof dom, why, sizeof why);
		buf_free(&rep);
	}
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
