#ifndef RELAY_NETSTRING_H
#define RELAY_NETSTRING_H
/* Netstrings ("LEN:BYTES,", D. J. Bernstein) on file descriptors. */
#include <stddef.h>
#include "base/buf.h"

/* Read one netstring from fd into b (replacing its contents).
 * Returns 0; 1 at a clean end of input before the first byte; -1 with
 * errno: EPROTO (bad framing or EOF inside), EFBIG (longer than max:
 * the payload was read and thrown away, so the stream stays in step),
 * or what read() said. */
int netstring_read(int fd, struct buf *b, size_t max);
int netstring_write(int fd, const void *p, size_t n);
/* One byte c of a netstring's length, for readers with a byte source of
 * their own: 1 at the ':' that ends it, 0 for a digit added to *n (start
 * with *n = 0, *digits = 0), -1 with errno EPROTO for anything else (no
 * digit before ':', more than 15 digits, a leading zero). */
int netstring_len_byte(char c, unsigned long long *n, int *digits);
/* The input ended while reading a length: 1 (a clean end) before any
 * digit, else -1 with errno EPROTO. */
int netstring_len_eof(int digits);
#endif
