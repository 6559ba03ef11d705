/* libFuzzer harness for RFC 8058 tokens (bounce/unsub.h), the one parser
 * of /u/TOKEN in relay-httpd. Built and run by scripts/fuzz-unsub. For
 * any input: no crash or leak; a token that checks names a domain and a
 * recipient whose token is the input again (one form per pair, so a
 * changed byte can never check); for input split at its first NUL into
 * a domain and a recipient, a made token checks and names them. */
#include "base/buf.h"
#include "bounce/unsub.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char key[UNSUB_KEY_LEN] = "0123456789abcdef0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char d[300], r[300];
	struct buf b = BUF_INIT;
	const char *p = (const char *)data;
	const char *nul = memchr(p, 0, size);
	if (unsub_token_check(key, p, size, d, sizeof d, r, sizeof r) == 0) {
		if (unsub_token(key, d, r, &b) < 0 || b.len != size || memcmp(b.p, p, size) != 0)
			abort();
		b.len = 0;
	} else if (errno != EINVAL && errno != EACCES)
		abort();
	if (nul && size - (size_t)(nul - p) - 1 < 290 && (size_t)(nul - p) < 290) {
		char dom[300], rc[300];
		memcpy(dom, p, (size_t)(nul - p));
		dom[nul - p] = 0;
		memcpy(rc, nul + 1, size - (size_t)(nul - p) - 1);
		rc[size - (size_t)(nul - p) - 1] = 0;
		if (unsub_token(key, dom, rc, &b) == 0) {
			if (unsub_token_check(key, b.p, b.len, d, sizeof d, r, sizeof r) < 0 || strcmp(r, rc) != 0 ||
			    strcasecmp(d, dom) != 0)
				abort();
		}
	}
	buf_free(&b);
	return 0;
}
