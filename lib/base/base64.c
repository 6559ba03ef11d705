/* base64 over libsodium's codec (constant-time, strict about padding
 * and the unused low bits); this file only adapts it to struct buf. */
#include "base/base64.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

#define VARIANT sodium_base64_VARIANT_ORIGINAL

int base64_encode(struct buf *out, const void *p, size_t n)
{
	size_t len;
	if (n / 3 >= SIZE_MAX / 4 - 2) {
		errno = ENOMEM;
		return -1;
	}
	len = sodium_base64_ENCODED_LEN(n, VARIANT); /* with the NUL */
	if (buf_reserve(out, len) < 0)
		return -1;
	sodium_bin2base64(out->p + out->len, len, p, n, VARIANT);
	out->len += len - 1;
	return 0;
}

int base64_decode(struct buf *out, const char *s, size_t n)
{
	size_t cap = n / 4 * 3 + 3, got = 0;
	/* libsodium finds the characters to skip with strchr, which also
	 * matches the terminating NUL: refuse NUL bytes here. */
	if (n && memchr(s, 0, n)) {
		errno = EINVAL;
		return -1;
	}
	if (buf_reserve(out, cap) < 0)
		return -1;
	if (sodium_base642bin((unsigned char *)out->p + out->len, cap, s, n, " \t\r\n",
	                      &got, NULL, VARIANT) != 0) {
		out->p[out->len] = 0;
		errno = EINVAL;
		return -1;
	}
	out->len += got;
	out->p[out->len] = 0;
	return 0;
}
