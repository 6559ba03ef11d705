#include "base/base64.h"

#include <errno.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(struct buf *out, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	char q[4];
	if (buf_reserve(out, (n + 2) / 3 * 4) < 0)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		q[0] = alphabet[s[i] >> 2];
		q[1] = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = alphabet[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		q[3] = alphabet[s[i + 2] & 63];
		buf_add(out, q, 4);
	}
	if (i < n) {
		q[0] = alphabet[s[i] >> 2];
		if (i + 1 < n) {
			q[1] = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
			q[2] = alphabet[(s[i + 1] & 15) << 2];
		} else {
			q[1] = alphabet[(s[i] & 3) << 4];
			q[2] = '=';
		}
		q[3] = '=';
		buf_add(out, q, 4);
	}
	return 0;
}

static int value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int base64_decode(struct buf *out, const char *s, size_t n)
{
	unsigned acc = 0;
	int nq = 0, pad = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* padding only in the last two places of a quantum */
			if (nq < 2)
				goto bad;
			pad++;
			nq++;
			if (nq == 4) {
				if (pad == 2 ? (acc & 0xf) : (acc & 0x3))
					goto bad; /* non-canonical low bits */
				if (pad == 2) {
					char b = (char)(acc >> 4);
					if (buf_add(out, &b, 1) < 0) return -1;
				} else {
					char b[2] = {(char)(acc >> 10), (char)(acc >> 2)};
					if (buf_add(out, b, 2) < 0) return -1;
				}
				nq = 0;
				acc = 0;
				/* nothing but white space may follow */
				for (i++; i < n; i++) {
					c = (unsigned char)s[i];
					if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
						goto bad;
				}
				return 0;
			}
			continue;
		}
		if (pad || (v = value(c)) < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		if (++nq == 4) {
			char b[3] = {(char)(acc >> 16), (char)(acc >> 8), (char)acc};
			if (buf_add(out, b, 3) < 0)
				return -1;
			nq = 0;
			acc = 0;
		}
	}
	if (nq == 0)
		return 0;
bad:
	errno = EINVAL;
	return -1;
}
