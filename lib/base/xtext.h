#ifndef RELAY_XTEXT_H
#define RELAY_XTEXT_H
/* xtext (RFC 3461 4) and the values of the DSN parameters it carries:
 * MAIL RET= and ENVID=, RCPT NOTIFY= and ORCPT=. Pure syntax, no I/O:
 * relay-queue (static, libc only), intake/, net/ and bounce/ share it.
 *
 *   xtext  = *( xchar / "+" 2HEXUPPER ), xchar = "!".."~" but "+" and "="
 *   RET    = FULL | HDRS (stored upper case)
 *   ENVID  = xtext, at most DSN_ENVID_MAX octets encoded, its decoded form
 *            printable US-ASCII (RFC 3461 4.4)
 *   NOTIFY = NEVER | 1#(SUCCESS | FAILURE | DELAY) (stored upper case)
 *   ORCPT  = addr-type ";" xtext, addr-type an atom (RFC 3461 4.2), at
 *            most DSN_ORCPT_MAX octets, decoded printable US-ASCII */
#include <stddef.h>

#define DSN_ENVID_MAX  100
#define DSN_ORCPT_MAX  500
#define DSN_NOTIFY_MAX 24   /* "SUCCESS,FAILURE,DELAY" */
#define DSN_ADDRTYPE_MAX 32

/* NOTIFY as bits; 0 is "not given" (the default: failures and delays). */
#define DSN_N_NEVER   1u
#define DSN_N_SUCCESS 2u
#define DSN_N_FAILURE 4u
#define DSN_N_DELAY   8u

/* 1 when s[0..n) is xtext, else 0. */
int xtext_valid(const char *s, size_t n);
/* Decode xtext s[0..n) into out (cap >= n + 1 always suffices); the
 * decoded length, or -1 when s is not xtext or out too small. out is
 * NUL-terminated (a decoded NUL is refused: -1). */
int xtext_decode(const char *s, size_t n, char *out, size_t cap);
/* Encode s[0..n) as xtext into out (cap >= 3n + 1 suffices); the length,
 * or -1 when out is too small. */
int xtext_encode(const char *s, size_t n, char *out, size_t cap);

/* Each check: 1 valid, 0 not, with *why (a short text) when not given
 * NULL. The normalizers write the stored form (upper case) into out. */
int dsn_ret_norm(const char *v, size_t n, char out[5], const char **why);
int dsn_envid_valid(const char *v, size_t n, const char **why);
int dsn_notify_norm(const char *v, size_t n, char out[DSN_NOTIFY_MAX + 1], const char **why);
int dsn_orcpt_valid(const char *v, size_t n, const char **why);
/* The bits of a stored (valid) NOTIFY value; NULL or "" is 0. */
unsigned dsn_notify_bits(const char *v);
#endif
