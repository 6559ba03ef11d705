#ifndef RELAY_COMPLETE_H
#define RELAY_COMPLETE_H
/* Header completion: a submitted message made into the message relay
 * queues, the same for relay-inject and (to come) the SMTP listener and
 * the HTTP API:
 *   Received: TRACE;<CRLF><TAB>DATE      first, always
 *   the fields as given, less Bcc: and X-Relay-Class:
 *   Date:        when missing (local time, RFC 5322 3.3)
 *   Message-ID:  when missing: <time.random.pid@host>
 *   From:        when missing: "Full Name" <sender>, or
 *                <MAILER-DAEMON@host> for the null sender
 *   the empty line, the body.
 * Each call returns 0, or EXIT_PERM or EXIT_TEMP (base/diag.h) with the
 * reason in err. */
#include <stddef.h>

#include "base/buf.h"
#include "intake/msg.h"

/* Normalize raw (msg_normalize: CRLF, no NUL or bare CR, lines of at most
 * 998 octets; with dot_ends a lone "." ends it) into m and parse its
 * header section into h. Refusals read "refused: REASON". */
int complete_parse(const char *raw, size_t n, int dot_ends, struct buf *m,
                   struct msg_headers *h, char *err, size_t errcap);

/* At most one From: field (RFC 5322 3.6: From: occurs once). */
int complete_one_from(const char *m, const struct msg_headers *h, char *err, size_t errcap);

/* 1 if the field is one relay removes before queueing: Bcc: (the
 * recipients are in the envelope) and X-Relay-Class: (read into it). */
int complete_drops(const char *m, const struct msg_field *f);

struct complete {
	const char *host;      /* Message-ID's right side, MAILER-DAEMON@host */
	const char *sender;    /* the envelope sender, for an added From: */
	const char *fullname;  /* display name for that From:, or NULL */
	const char *trace;     /* Received: clauses before the date, e.g.
	                          "(relay-inject invoked by uid 1000)" */
	long long now;         /* Received: and Date: */
	unsigned long long maxsize;  /* the completed message's limit */
};

/* The completed form of message m (its header h) into out, replaced. */
int complete_message(const struct complete *c, const char *m, size_t len,
                     const struct msg_headers *h, struct buf *out,
                     char *err, size_t errcap);

#endif
