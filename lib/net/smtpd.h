#ifndef RELAY_SMTPD_H
#define RELAY_SMTPD_H
/* The SMTP server session of relay-smtpd: the protocol and who may
 * relay (RFC 5321, 2920, 1870, 6152, 6531, 2034, 3461, 3207, 4954).
 * What happens to an envelope and a message is the caller's, through
 * hooks (relay-smtpd wires lib/intake/smtpin.c): this wing does not
 * know the queue.
 *
 * The rules it keeps (doc/relay-smtpd.8 has them for the operator):
 *   - nothing relays without a relay line in etc/clients or a
 *     successful AUTH: MAIL and RCPT answer 530 5.7.0 otherwise;
 *   - AUTH (PLAIN, LOGIN) is offered and taken only over TLS, unless
 *     the listener allows plaintext (-p, for loopback);
 *   - after STARTTLS the input buffered before the handshake is
 *     discarded and the session is back at the greeting (EHLO again);
 *   - only CRLF.CRLF ends DATA (net/smtpd_cmd.h); a message with a bare
 *     CR or LF, a NUL, a line over 998 octets, too many header lines or
 *     over the size limit is refused whole, nothing is handed on;
 *   - the reply to the final dot is the data hook's, given only after
 *     it returns (relay-smtpd: after the message is queued and synced);
 *   - with strict_sync, a client that sends more before the reply to
 *     EHLO, HELO or DATA, or pipelines at all before EHLO (no
 *     PIPELINING offered yet), is dropped: 554 5.5.0 (Postfix's
 *     smtpd_forbid_unauth_pipelining);
 *   - more than max_errors 5xx replies, an HTTP request, input before
 *     the greeting, a timeout: the connection is dropped (421 first
 *     where that makes sense). */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "conf/clients.h"
#include "conf/users.h"
#include "net/smtpd_cmd.h"
#include "net/smtpd_io.h"

struct smtpd_conf {
	const char *hostname;
	unsigned long long maxsize;
	unsigned max_rcpt;
	unsigned max_errors;
	unsigned auth_delay;         /* seconds after the first failure; doubles */
	unsigned greeting_delay;     /* seconds: input before the greeting drops */
	int tls_ok;                  /* a certificate is loaded: offer STARTTLS */
	int implicit_tls;            /* -s: TLS from the first byte */
	int auth_plain_ok;           /* -p: AUTH without TLS */
	int strict_sync;             /* drop unauthorized pipelining (RFC 2920) */
	int hide_user;               /* no "authenticated user" in Received */
	enum conf_client_action action;
	const char *client;          /* the client's address, for logs */
	const char *proxy_peer;      /* -P: the balancer's address, or NULL */
	const char *local_user;      /* -u USER: authenticated from the start */
	struct conf *users;          /* etc/users.cdb */
	const char *state_dir;       /* state/smtpd (net/smtpd_state.h), NULL none */
};

struct smtpd_session;

/* Each hook returns an SMTP reply code and writes the rest of the reply
 * ("2.1.0 ok") into r. */
struct smtpd_hooks {
	void *arg;
	int (*mail)(void *arg, const struct smtpd_session *s, const struct smtpd_cmd *c,
	            char *r, size_t cap);
	int (*rcpt)(void *arg, const struct smtpd_session *s, const struct smtpd_cmd *c,
	            char *r, size_t cap);
	/* The message (CRLF lines, dots removed) after CRLF.CRLF. */
	int (*data)(void *arg, const struct smtpd_session *s, const struct buf *msg,
	            char *r, size_t cap);
	void (*reset)(void *arg);    /* RSET, a new MAIL, after DATA */
};

struct smtpd_session {
	const struct smtpd_conf *cf;
	struct smtpd_io *io;
	const struct smtpd_hooks *h;
	char helo[256];               /* safe text */
	int esmtp;
	int state;                    /* internal */
	int authed;
	char user[CONF_USER_MAX + 1]; /* the authenticated identity */
	struct conf_user account;     /* its etc/users entry (from=, class=) */
	unsigned errors, auth_fails, nrcpt, rcpt_over, messages, refused;
	char sender[ADDR_PATH_MAX + 1];
	struct smtpd_params mail;     /* the MAIL parameters of this transaction */
	int bdat;                     /* BDAT chunks are coming: bd reads them */
	struct smtpd_data bd;
	int rate_held;                /* this transaction took one of the user's rate= */
	time_t rate_when;
	char end[80];                 /* why the session ended, for the log */
	struct smtpd_line line;
	struct buf msg;
};

/* Run one session to its end. The caller has set up io (and TLS for
 * -s) and opened cf->users. Logs one line per message and one per
 * session on stderr. */
void smtpd_run(struct smtpd_session *s, const struct smtpd_conf *cf, struct smtpd_io *io,
               const struct smtpd_hooks *h);
#endif
