#ifndef RELAY_BASE64_H
#define RELAY_BASE64_H
/* Standard base64 (RFC 4648 section 4, with padding). */
#include <stddef.h>
#include "base/buf.h"

/* Append the encoding of n bytes to out; 0, or -1 (ENOMEM). */
int base64_encode(struct buf *out, const void *p, size_t n);
/* Decode s[0..n) into out, skipping white space (SP, TAB, CR, LF) as
 * DKIM's FWS inside b= and bh= requires. Strict otherwise: only the
 * alphabet, '=' only as final padding, length a multiple of 4, nothing
 * after the padding. 0, or -1 (errno EINVAL on bad input, ENOMEM). */
int base64_decode(struct buf *out, const char *s, size_t n);
#endif
