#ifndef RELAY_DKIM_HASH_H
#define RELAY_DKIM_HASH_H
/* Inside dkim/ only (key.c, sign.c, verify.c share it through hash.c);
 * the API is dkim/dkim.h. */
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "dkim/dkim_canon.h"

/* Format a reason into why (if why and wn) and return code. */
int dkim_say(int code, char *why, size_t wn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The canonical body's SHA-256, hashing at most limit bytes; returns
 * the whole canonical length, or UINT64_MAX if OpenSSL failed. */
uint64_t dkim_hash_body(const char *body, size_t len, int relaxed, uint64_t limit,
                        unsigned char out[32]);
int dkim_sha256(const void *p, size_t n, unsigned char out[32]);

/* A list of header field names (h=), pointing into other memory. */
struct dkim_names {
	const char **p;
	size_t *len;
	size_t n, cap;
};
int dkim_names_add(struct dkim_names *s, const char *p, size_t n);
/* 1 if the list holds name p[0..n) (case-insensitive). */
int dkim_names_has(const struct dkim_names *s, const char *p, size_t n);
/* Split "a:b:c" into s (pointers into list). -1 on an empty or bad name. */
int dkim_names_split(struct dkim_names *s, const char *list);
/* Append the canonical form of the fields names select, bottom-up
 * (RFC 6376 5.4.2), to data. 0 or -1 (ENOMEM). */
int dkim_hash_headers(struct buf *data, const char *msg, const struct msg_headers *h,
                      const char *const *names, const size_t *nlen, size_t n, int relaxed);
#endif
