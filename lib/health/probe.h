#ifndef RELAY_PROBE_H
#define RELAY_PROBE_H
/* One health probe of one relay, step by step, with the time each step
 * took: TCP connect (DNS included), banner, EHLO, STARTTLS and the TLS
 * handshake and the second EHLO (per the member's policy), AUTH (when
 * credentials are given), MAIL FROM:<> then RSET, and QUIT. Optionally a
 * test message (send_to). Everything runs against one absolute deadline,
 * so a stalled relay costs at most deadline_ms. Blocking, for a probe
 * process of its own (relay-health forks one per relay).
 *
 * The probe is a session of the one SMTP client (net/smtp.h), the one
 * relay-send delivers with: the same TLS policy, AUTH rules and reply
 * parser; the client's step hook gives the times. */
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

enum { PROBE_CONNECT, PROBE_BANNER, PROBE_EHLO, PROBE_TLS, PROBE_AUTH, PROBE_MAIL,
       PROBE_SEND, PROBE_NSTEPS };
extern const char *const probe_step_names[PROBE_NSTEPS]; /* "connect" ... "send" */

struct probe_opts {
	const char *host;
	unsigned port;
	const char *helo;
	enum conf_tls_mode tls;  /* CONF_TLS_NONE .. CONF_TLS_VERIFY */
	int implicit_tls;        /* TLS from connect (smtps) */
	const char *ca_file;     /* NULL: system store */
	const char *user, *pass; /* NULL: no AUTH */
	int auth_plaintext_ok;   /* AUTH without TLS (only with tls CONF_TLS_NONE) */
	const char *send_from;   /* envelope sender of the test message */
	const char *send_to;     /* NULL: no test message */
	int deadline_ms;
};

struct probe_result {
	int ok;                  /* every step passed */
	char stage[12];          /* the step that failed: connect banner ehlo starttls tls auth mail rset send timeout */
	int code;                /* the reply code that failed it, 0 if none */
	char reason[256];        /* safe text */
	long ms[PROBE_NSTEPS];   /* -1: not done */
	char tls_version[16];    /* "" without TLS */
	int have_cert;
	long long not_after;     /* epoch */
	int send_code;           /* reply to the test message's dot, 0 if none */
	char send_text[200];
};

/* Run the probe; r is always filled. Returns 0 if ok, -1 otherwise. */
int probe_run(const struct probe_opts *o, struct probe_result *r);

#endif
