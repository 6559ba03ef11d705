#ifndef RELAY_MSGTLS_H
#define RELAY_MSGTLS_H
/* A message's own word on TLS (RFC 8689, issue 15), read by relay-send's
 * network worker from what the job gives it: the queue file's fd (its
 * envelope, [0, body_off), holds the Q record of queue/dsnrec.h when the
 * message came with MAIL REQUIRETLS) and the message bytes (a
 * "TLS-Required: No" header field).
 *
 *   requiretls     only over TLS verified by DANE, by an enforced
 *                  MTA-STS policy, or by etc/tls verify (then the MX
 *                  answer must be DNSSEC-validated; a relay named in
 *                  etc/pools counts as validated), and only to a next hop
 *                  that offers REQUIRETLS, which is passed on; else 5.7.30
 *   tls_optional   "TLS-Required: No" and no REQUIRETLS: the recipient
 *                  domain's published policies are ignored for the
 *                  message (RFC 8689 5): etc/tls dane is may, MTA-STS is
 *                  not applied; STARTTLS is still used when offered, and
 *                  the operator's own none, may, encrypt, verify and
 *                  dane-only stay as they are */
#include <stddef.h>

struct msgtls {
	int requiretls;
	int tls_optional;
};

/* 0 with m filled; -1 when the envelope cannot be read (the job fails
 * temporarily: a read error never drops the requirement). */
int msgtls_read(int fd, unsigned long body_off, const char *msg, size_t len, struct msgtls *m);
/* The header-field test alone: 1 when the header section of msg holds a
 * TLS-Required field whose value is "No" (case-insensitive, white space
 * around it ignored). */
int msgtls_header_no(const char *msg, size_t len);
/* The envelope test alone: 1 when env[0..n) (a queue file's envelope
 * lines) holds the line "Q". */
int msgtls_env_requiretls(const char *env, size_t n);
#endif
