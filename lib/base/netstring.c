#include "base/netstring.h"

#include <errno.h>
#include <stdio.h>
#include "base/fileio.h"

int netstring_len_byte(char c, unsigned long long *n, int *digits)
{
	if (c == ':' && *digits > 0)
		return 1;
	if (c < '0' || c > '9' || ++*digits > 15 || (*digits > 1 && *n == 0)) {
		errno = EPROTO;
		return -1;
	}
	*n = *n * 10 + (unsigned)(c - '0');
	return 0;
}

int netstring_len_eof(int digits)
{
	if (digits == 0)
		return 1;
	errno = EPROTO;
	return -1;
}

int netstring_read(int fd, struct buf *b, size_t max)
{
	unsigned long long n = 0;
	int digits = 0;
	char c;
	ssize_t r;
	b->len = 0;
	for (;;) {
		int k;
		r = read_full(fd, &c, 1);
		if (r < 0)
			return -1;
		if (r == 0)
			return netstring_len_eof(digits);
		if ((k = netstring_len_byte(c, &n, &digits)) != 0) {
			if (k < 0)
				return -1;
			break;
		}
	}
	if (n > max) {
		char junk[65536];
		while (n) {
			size_t k = n < sizeof junk ? (size_t)n : sizeof junk;
			if ((r = read_full(fd, junk, k)) < 0)
				return -1;
			if ((size_t)r < k) {
				errno = EPROTO;
				return -1;
			}
			n -= k;
		}
		if (read_full(fd, &c, 1) != 1 || c != ',') {
			errno = EPROTO;
			return -1;
		}
		errno = EFBIG;
		return -1;
	}
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	if ((r = read_full(fd, b->p, (size_t)n)) < 0)
		return -1;
	if ((size_t)r < n || read_full(fd, &c, 1) != 1 || c != ',') {
		errno = EPROTO;
		return -1;
	}
	b->len = (size_t)n;
	b->p[n] = 0;
	return 0;
}

int netstring_write(int fd, const void *p, size_t n)
{
	char head[32];
	int k = snprintf(head, sizeof head, "%zu:", n);
	if (write_all(fd, head, (size_t)k) < 0 || write_all(fd, p, n) < 0 ||
	    write_all(fd, ",", 1) < 0)
		return -1;
	return 0;
}
