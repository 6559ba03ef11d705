#ifndef RELAY_SMTPIN_H
#define RELAY_SMTPIN_H
/* The SMTP intake: what relay-smtpd does with an envelope and a message
 * (the protocol is net/smtpd.h's). The sender and each recipient are
 * checked as relay-inject checks them (intake/envelope.c); the message
 * is completed by intake/complete.c (Received first, Date and
 * Message-ID when missing) and handed to the queue program by
 * intake/submit.c (one relay-queue -S for the session, or one run per
 * message: smtpin.session), which returns only once the message is on
 * disk and synced, so the reply to the final dot comes after that.
 *
 * Each call returns an SMTP reply code and the rest of the reply in r:
 * 250/251 ok; 451 temporary (a queue failure, out of memory); 550..555
 * permanent. */
#include <stddef.h>

#include "base/buf.h"
#include "conf/users.h"
#include "intake/envelope.h"
#include "intake/submit.h"

/* Who sent it, for the Received: line. Text from the client (helo) is
 * cleaned here. */
struct smtpin_trace {
	const char *helo;
	const char *client;          /* "192.0.2.1", "2001:db8::1" or "local" */
	const char *tls_version;     /* NULL: no TLS */
	const char *tls_cipher;
	const char *user;            /* NULL: not authenticated */
	int esmtp;
	int hide_user;               /* the operator hides the user */
};

struct smtpin {
	const char *home;
	const char *host;            /* settings hostname */
	unsigned long long maxsize;
	const struct conf_user *account; /* the AUTH user's entry, or NULL */
	struct envelope e;
	int in_txn;
	char id[SUBMIT_ID_MAX + 1];  /* the last queue id */
	/* how messages are committed: one relay-queue -S for the whole
	 * session (submit.h), or one relay-queue run per message (exec):
	 * always with $RELAYQUEUE set, or with the setting smtpd_commit exec */
	int session;
	struct submit_session ss;
};

/* 1 when messages go through a session (smtpin.session), 0 for one run
 * per message. */
int smtpin_commit_mode(const char *home);
void smtpin_init(struct smtpin *in, const char *home, const char *host,
                 unsigned long long maxsize);
void smtpin_reset(struct smtpin *in);
void smtpin_free(struct smtpin *in);
/* MAIL FROM: path (without <>; "" is the null sender). smtputf8: the
 * SMTPUTF8 parameter was given. */
int smtpin_mail(struct smtpin *in, const char *path, int smtputf8, char *r, size_t cap);
/* RCPT TO: path (a domain is required, except for postmaster). */
int smtpin_rcpt(struct smtpin *in, const char *path, int smtputf8, char *r, size_t cap);
/* The message (CRLF, dots removed): complete, check From: against the
 * account's from=, queue. */
int smtpin_data(struct smtpin *in, const struct smtpin_trace *t, const char *msg, size_t n,
                char *r, size_t cap);
/* The Received: clauses before the date (exposed for tests). */
void smtpin_received(const struct smtpin_trace *t, const char *host, char *out, size_t cap);
#endif
