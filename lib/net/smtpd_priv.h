#ifndef RELAY_SMTPD_PRIV_H
#define RELAY_SMTPD_PRIV_H
/* Inside the SMTP server session: what smtpd.c, smtpd_auth.c and
 * smtpd_bdat.c share. Not for callers (they use net/smtpd.h). */
#include "net/smtpd.h"

enum { ST_START, ST_HELO, ST_MAIL };

const char *smtpd_safe(const char *s, char *out, size_t cap);
/* A reply; 5xx replies count as errors. */
void smtpd_reply(struct smtpd_session *s, int code, const char *text);
/* The next command line: 1, 0 end of input, -1 error, -2 timeout. */
int smtpd_read_line(struct smtpd_session *s);
/* s->end for a read result of 0, -1 or -2 (421 first on a timeout). */
void smtpd_set_end(struct smtpd_session *s, int r);
void smtpd_reset_txn(struct smtpd_session *s);
/* The end of a message (DATA's dot, BDAT LAST): the hook, the log, the
 * reply, the transaction reset. */
void smtpd_finish(struct smtpd_session *s, const struct smtpd_data *d);

void smtpd_auth(struct smtpd_session *s, const struct smtpd_cmd *c);
/* BDAT (RFC 3030): 1 go on, 0 the session ends. */
int smtpd_bdat(struct smtpd_session *s, const struct smtpd_cmd *c);
#endif
