/* libFuzzer harness for the PROXY header parser (net/proxy.h), pure.
 * Built and run by scripts/fuzz-run proxy. For any input: a header is
 * never longer than its bound; every shorter prefix of a header asks
 * for more (so the exact reads of smtpd_io_proxy never go past it); the
 * bytes after a header do not change it; a refusal stays a refusal
 * when more bytes come; the addresses are NUL-terminated text. */
#include "net/proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct proxy_hdr h, h2;
	const char *why;
	size_t k;
	int r = proxy_parse(d, n, &h, &why);
	if (r > 0) {
		if ((size_t)r > n || (size_t)r > PROXY_V2_MAX || (h.version != 1 && h.version != 2))
			abort();
		if (memchr(h.src, 0, sizeof h.src) == NULL || memchr(h.dst, 0, sizeof h.dst) == NULL)
			abort();
		if (h.sport > 65535 || h.dport > 65535 || (!h.local && !h.src[0]))
			abort();
		if (proxy_parse(d, (size_t)r, &h2, &why) != r || memcmp(&h, &h2, sizeof h))
			abort();
		for (k = 0; k < (size_t)r; k++)
			if (proxy_parse(d, k, &h2, &why) != PROXY_MORE)
				abort();
	} else if (r < 0) {
		if (r != PROXY_BAD && r != PROXY_LONG)
			abort();
		if (!why)
			abort();
		for (k = n + 1; k <= n + 4 && n + 4 <= PROXY_V2_MAX; k++) {
			uint8_t t[PROXY_V2_MAX];
			memcpy(t, d, n);
			memset(t + n, '\n', k - n);
			if (proxy_parse(t, k, &h2, &why) >= 0)
				abort();
		}
	} else if (n >= PROXY_V2_MAX) {
		abort();   /* never "more" past the bound */
	}
	return 0;
}
