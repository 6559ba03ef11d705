#ifndef RELAY_ENVELOPE_H
#define RELAY_ENVELOPE_H
/* The envelope of a new message as users write it: the sender (-f, or
 * user@host), the recipients (arguments, or the header with -t) and the
 * class (-C, or X-Relay-Class:). Every address is checked here with
 * addr_check(), the check relay-queue makes, so relay-queue refusing an
 * envelope is a bug (submit.h, exit 91).
 *
 * Each call returns 0, or EXIT_PERM or EXIT_TEMP (base/diag.h) with the
 * reason in err: the one line relay-inject prints. */
#include <stddef.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/xtext.h"
#include "intake/msg.h"

#define ENVELOPE_ADDR_CAP  (ADDR_PATH_MAX + 64)
#define ENVELOPE_CLASS_MAX 63

struct envelope {
	const char *host;     /* qualifies an address without a domain; at
	                         most 255 octets */
	char sender[ENVELOPE_ADDR_CAP];  /* "" is the null sender <> */
	const char *class;    /* NULL: none given (relay-queue writes
	                         "default"); set it to -C's value before
	                         envelope_header() */
	char class_buf[ENVELOPE_CLASS_MAX + 1]; /* X-Relay-Class's value */
	char **rcpt;
	size_t nrcpt, cap;
	/* DSN parameters (RFC 3461; queue/dsnrec.h stores them), "" or NULL
	 * when not given: RET and ENVID of the message; NOTIFY for every
	 * recipient without its own (relay-inject -N); per recipient NOTIFY
	 * and ORCPT (relay-smtpd's RCPT), dsn_cap entries, made on first use */
	char ret[5];
	char envid[DSN_ENVID_MAX + 1];
	char notify_all[DSN_NOTIFY_MAX + 1];
	char (*notify)[DSN_NOTIFY_MAX + 1];
	char **orcpt;
	size_t dsn_cap;
	int requiretls;       /* requiretls (issue 15): MAIL REQUIRETLS (RFC
	                         8689), the Q record of queue/dsnrec.h */
};

void envelope_init(struct envelope *e, const char *host);
void envelope_free(struct envelope *e);

/* The sender as given ("a@b", "<a@b>", "<>", a source route), or with
 * given NULL user@host. */
int envelope_sender(struct envelope *e, const char *given, const char *user,
                    char *err, size_t errcap);
/* Recipients from one command-line argument: an address list
 * ("a@b, Name <c@d>"). "root" becomes root@host. At most RCPT_MAX. */
int envelope_rcpt_arg(struct envelope *e, const char *arg, char *err, size_t errcap);
/* From the header section: with take_rcpts (-t), the addresses in every
 * To:, Cc: and Bcc: field, in field order; the class from the first
 * X-Relay-Class: field (cut to 63 octets) unless e->class is set. */
int envelope_header(struct envelope *e, const char *m, const struct msg_headers *h,
                    int take_rcpts, char *err, size_t errcap);
/* A class name: 1 to 63 letters, digits, '-', '_' or '.'. 1 valid, 0
 * not. Inline: relay-queue checks the C record with it and, linked
 * statically, should not pull in the rest of intake/. */
static inline int envelope_class_valid(const char *c, size_t n)
{
	size_t i;
	if (n == 0 || n > ENVELOPE_CLASS_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
		      (c[i] >= '0' && c[i] <= '9') || c[i] == '-' || c[i] == '_' || c[i] == '.'))
			return 0;
	return 1;
}
/* The class, if any, is valid. */
int envelope_class_check(const struct envelope *e, char *err, size_t errcap);
/* DSN parameters, checked as relay-queue checks them (base/xtext.h):
 * RET and ENVID of the message (each NULL or "" when not given); NOTIFY
 * for all recipients (relay-inject -N); NOTIFY and ORCPT of recipient k
 * (relay-smtpd's RCPT; a later recipient at the same index, after the
 * caller dropped k, starts clean). Values as given on the wire (xtext
 * encoded); -V's envid may also be plain text: encoded here. 0, or
 * EXIT_PERM / EXIT_TEMP with err. */
int envelope_dsn_mail(struct envelope *e, const char *ret, const char *envid,
                      char *err, size_t errcap);
int envelope_dsn_notify_all(struct envelope *e, const char *notify, char *err, size_t errcap);
int envelope_dsn_rcpt(struct envelope *e, size_t k, const char *notify, const char *orcpt,
                      char *err, size_t errcap);
/* 1 when the DSN records go to the queue program: it is relay-queue
 * ($RELAYQUEUE not set), or $RELAYQUEUE_DSN is "1" (a filter that hands
 * fd 1 on to relay-queue as it is). A qmail-queue refuses records it does
 * not know (91), so a filter is given qmail-queue's protocol unchanged. */
int envelope_dsn_wanted(void);
/* The records for relay-queue's fd 1 (submit_envelope, plus the DSN
 * records of queue/dsnrec.h when there are some and envelope_dsn_wanted).
 * 0 or -1. */
int envelope_records(const struct envelope *e, struct buf *env);

#endif
