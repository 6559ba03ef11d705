#ifndef RELAY_ADDR_H
#define RELAY_ADDR_H
/* Envelope addresses (RFC 5321 4.1.2 Mailbox, 4.5.3.1 limits).
 * An address here is the bare mailbox, without angle brackets. */
#include <stddef.h>

enum addr_status {
	ADDR_OK = 0,
	ADDR_TOOLONG = 1,  /* local part > 64, domain > 255, path > 256 */
	ADDR_BAD = 2       /* syntax, control bytes, malformed UTF-8 */
};

/* Check a mailbox. flags: ADDR_ALLOW_EMPTY (the null sender). On failure
 * *why is a short static reason. Keeps quoted local parts as they are. */
#define ADDR_ALLOW_EMPTY 1
#define ADDR_ALLOW_NODOMAIN 2
int addr_check(const char *a, size_t n, int flags, const char **why);

/* Turn a path as users write it ("<a@b>", "<@r1,@r2:a@b>", " a@b ") into
 * the bare mailbox in out (cap bytes): strips brackets, a source route and
 * surrounding white space. Returns length, or -1 (too long / unbalanced). */
int addr_strip(const char *in, size_t n, char *out, size_t cap);

/* 1 if the mailbox has bytes >= 0x80 (needs SMTPUTF8). */
int addr_is_utf8(const char *a, size_t n);
/* Pointer to the domain (after the last '@' outside quotes) or NULL. */
const char *addr_domain(const char *a);

#endif
