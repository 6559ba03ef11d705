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
#endif
