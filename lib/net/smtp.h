#ifndef RELAY_SMTP_H
#define RELAY_SMTP_H
/* SMTP client: one blocking session on one socket, with poll()-based
 * timeouts. Made for a long-lived network worker process that runs one
 * session at a time: smtp_open, then smtp_send (and smtp_reset) for each
 * message, then smtp_close. Use it from one thread: sessions share only
 * the cached TLS context (tls.h), which is not locked. A worker keeps one
 * struct dns_ctx (dns.h) for its lifetime and passes it in opts.dns.
 *
 * Never raises SIGPIPE (MSG_NOSIGNAL on plain sockets, and a socket BIO
 * that uses MSG_NOSIGNAL under TLS); callers should still ignore SIGPIPE.
 *
 * How a caller reads the outcome of smtp_send for recipient i:
 *   if rcpt_res[i].code is 2xx  ->  the outcome is txn
 *   else                        ->  the outcome is rcpt_res[i]
 * An outcome with code 2xx is delivered; temp=1 means defer (retry, maybe
 * through another member when member_fault=1); temp=0 means a permanent
 * failure (DSN). Every result with member_fault=1 also has temp=1: a fault
 * of the relay (connect, greeting even 5xx, TLS, AUTH even 535, 421,
 * malformed replies, timeouts, lost connections) never bounces mail.
 * A local refusal (8-bit or UTF-8 not offered by this server, message
 * over the advertised SIZE, an address that cannot go into a command) has
 * code 5xx and temp=0, member_fault=0, local=1: another member that offers
 * the extension could still take it, so a pool may try others first.
 *
 * Reply text is made safe (diag.h safe_text) before it is stored: it can
 * be logged, queued or put in a DSN as it is.
 *
 * Bare LF in replies: accepted leniently as a line end (many servers and
 * middleboxes send it; it changes nothing we write). A CR that is not
 * followed by LF, a NUL, a line over REPLY_LINE_MAX, more than
 * REPLY_LINES_MAX lines, a code that is not three digits 2-5/0-9/0-9
 * followed by SP, '-' or the line end, codes that differ across the lines
 * of one reply, and data that arrives when no reply is expected are all
 * protocol errors: code 0, temp, member_fault (the parser: reply.h).
 *
 * Each step of a session (connect, TLS, greeting, EHLO, STARTTLS, AUTH,
 * MAIL, RCPT, DATA, the dot, RSET, NOOP, QUIT) can be timed through
 * opts.on_step: relay-health's probe is a session like relay-send's,
 * with a hook that records what each step took. */
#include <stddef.h>
#include <time.h>
#include "base/bounds.h"
#include "conf/conf.h"   /* enum conf_tls_mode: the one TLS policy */
#include "net/dot.h"     /* the DATA encoder (pure) */
#include "net/reply.h"   /* the reply parser (pure) */

/* ---------------------------------------------------------------- results */
struct smtp_result {
	int code;          /* 3-digit reply code, or 0 for a local/network failure */
	char enh[16];      /* enhanced status code "5.1.1" or "" */
	char text[512];    /* safe text; multi-line replies joined with " / " */
	char stage[12];    /* connect greeting ehlo starttls tls auth mail rcpt data dot rset noop quit */
	int temp;          /* 1 if temporary */
	int member_fault;  /* 1 if the relay is at fault: fail over (implies temp) */
	int local;         /* 1 if refused here without asking the server */
	int possible_dup;  /* 1 if the data may have been delivered anyway (RFC 1047) */
};

/* ---------------------------------------------------------------- options */
/* Milliseconds; 0 = the default in brackets (RFC 5321 4.5.3.2 where it
 * names one). Each stage timeout is an idle timeout: the longest wait
 * with no byte arriving (or, for data_block, no byte leaving). reply_max
 * is an absolute deadline for one whole reply from the moment we start
 * waiting for it, never extended by arriving bytes, so a server that
 * drips one byte a second cannot hold a worker forever; 0 = the stage
 * timeout, i.e. the whole reply must arrive within the stage timeout. */
struct smtp_timeouts {
	int connect;    /* [30 s] TCP connect, per address */
	int greeting;   /* [300 s] */
	int ehlo;       /* [300 s] EHLO or HELO reply */
	int starttls;   /* [120 s] reply to STARTTLS */
	int tls;        /* [60 s] the whole TLS handshake (absolute) */
	int auth;       /* [120 s] each AUTH reply */
	int mail;       /* [300 s] */
	int rcpt;       /* [300 s] */
	int data_init;  /* [120 s] reply to DATA */
	int data_block; /* [180 s] each write of message data */
	int dot;        /* [600 s] reply to the final dot */
	int rset;       /* [120 s] */
	int quit;       /* [5 s] we do not need the QUIT reply */
	int reply_max;  /* [0] absolute cap on one reply, see above */
	int session;    /* [0 = none] absolute cap on the whole session from
	                 * the start of smtp_open: every wait ends by then
	                 * (relay-health's one deadline per probe) */
};

/* ------------------------------------------------------- step timing */
/* The steps of a session, each reported to opts.on_step when it ends,
 * on success and on failure. */
enum smtp_step_id {
	SMTP_STEP_CONNECT,  /* name resolution and TCP connect, every address tried */
	SMTP_STEP_TLS,      /* the TLS handshake: before the greeting (implicit TLS) or after STARTTLS */
	SMTP_STEP_GREETING,
	SMTP_STEP_EHLO,     /* EHLO (and HELO when EHLO got 5xx); again after STARTTLS */
	SMTP_STEP_STARTTLS, /* the STARTTLS command and its reply */
	SMTP_STEP_AUTH,     /* the whole AUTH exchange */
	SMTP_STEP_MAIL, SMTP_STEP_RCPT, SMTP_STEP_DATA,
	SMTP_STEP_DOT,      /* the message data and the reply to the final dot */
	SMTP_STEP_RSET, SMTP_STEP_NOOP, SMTP_STEP_QUIT,
	SMTP_NSTEPS
};
enum smtp_step_end {
	SMTP_END_OK,        /* done; the reply, if any, was the one wanted */
	SMTP_END_REFUSED,   /* the server replied, not as wanted (code) */
	SMTP_END_TIMEOUT,   /* a timeout or deadline of struct smtp_timeouts ran out */
	SMTP_END_CLOSED,    /* the server closed the connection */
	SMTP_END_MALFORMED, /* the reply broke the grammar of reply.h (pe says how) */
	SMTP_END_ERROR      /* anything else: I/O, TLS, protocol, a local refusal */
};
struct smtp_step {
	enum smtp_step_id id;
	enum smtp_step_end end;
	int code;           /* the reply that ended the step, 0 if none */
	int pe;             /* SMTP_PE_* when end is SMTP_END_MALFORMED */
	long ms;            /* how long it took (monotonic clock). MAIL and
	                     * RCPT under PIPELINING: from the end of the
	                     * step before (their replies come together) */
};
struct smtp_session;
/* Called before the function running the step returns. s is the session
 * (smtp_tls_version, smtp_tls_not_after, ... may be asked; nothing else
 * may be done with it). */
typedef void smtp_step_fn(void *arg, struct smtp_session *s, const struct smtp_step *st);
const char *smtp_step_name(enum smtp_step_id id); /* "connect" ... "quit" */

struct dns_ctx;
struct dns_tlsa_set;

struct smtp_opts {
	const char *host;      /* name, IPv4 literal, IPv6 literal, or [literal] */
	int port;              /* 0 = 25, or 465 when implicit_tls */
	const char *helo;      /* our name in EHLO/HELO; NULL = "localhost" */
	enum conf_tls_mode tls; /* CONF_TLS_NONE, _MAY, _ENCRYPT, _VERIFY */
	int implicit_tls;      /* TLS before the greeting (port 465); policy none/may act as encrypt */
	const char *ca_file;   /* CA bundle for verify; NULL = system store */
	const char *tls_name;  /* SNI and the name verified; NULL = host */
	const char *auth_user, *auth_pass; /* NULL = no AUTH */
	int auth_plaintext_ok; /* allow AUTH without TLS; honoured only with tls CONF_TLS_NONE */
	struct dns_ctx *dns;   /* resolve host through dns_addrs; NULL = getaddrinfo */
	const char *bind;      /* source address (IPv4 or IPv6 literal); NULL = the kernel's */
	int family;            /* 4 or 6: only addresses of that family; 0 = any */
	const struct dns_tlsa_set *dane; /* DANE: TLS required, the peer authenticated
	                        * by these TLSA records (net/tls.h tls_dane); NULL = none */
	struct smtp_timeouts to;
	smtp_step_fn *on_step; /* NULL = steps are not reported */
	void *step_arg;
};

/* Connect (each address of host in turn, at most SMTP_ADDRS_MAX, until
 * one accepts the TCP connection), read the greeting, EHLO (HELO when
 * EHLO gets 5xx), STARTTLS per policy, AUTH. 0 and *s set, or -1 with r
 * filled (member_fault=1, temp=1) and *s NULL.
 * STARTTLS: after the 220, buffered plaintext is discarded before the
 * handshake; EHLO is sent again after it and every pre-TLS capability is
 * forgotten. encrypt/verify never continue in plaintext. may: STARTTLS
 * when offered; if the server answers STARTTLS with 4xx/5xx (not 421) the
 * session continues in plaintext (nothing was negotiated yet); a failed
 * handshake fails the attempt (no silent plaintext retry).
 * AUTH: PLAIN when offered, else LOGIN; never without TLS unless
 * auth_plaintext_ok and tls == CONF_TLS_NONE; 535 and every other AUTH
 * failure is member_fault, temp (never a bounce); credentials given but AUTH not offered is a failure.
 * Credentials never appear in results. */
#define SMTP_ADDRS_MAX 8
int smtp_open(struct smtp_session **s, const struct smtp_opts *o, struct smtp_result *r);

/* One transaction. from may be "" (null sender); rcpt[0..n-1] are bare
 * addresses (no <>); msg is the message with CRLF line ends, sent with
 * dot-stuffing; bare CR or LF are sent as CRLF (never on the wire as
 * such). eightbit: the message needs 8BITMIME (also set here when msg has
 * a byte >= 0x80); smtputf8: an address or header needs SMTPUTF8.
 * MAIL carries SIZE= when advertised, BODY=8BITMIME when eightbit and
 * offered, SMTPUTF8 when smtputf8. MAIL and the RCPTs are pipelined when
 * PIPELINING is offered (in groups, never past DATA); DATA is sent on its
 * own only when at least one RCPT got 2xx, else RSET.
 * Results: rcpt_res[i] per recipient (a MAIL failure is copied into each),
 * txn for DATA and the dot. A lost connection or timeout after the dot:
 * txn code 451 4.4.2, possible_dup=1, text "connection lost after data,
 * possible duplicate" (or "timeout after data, ..."): the caller keeps
 * the message queued.
 * Returns 0 if the session can carry another message (after smtp_reset
 * if the caller wants; smtp_send leaves the session clean after a 2xx
 * dot reply or after its own RSET), -1 if it must be closed. */
int smtp_send(struct smtp_session *s, const char *from, const char *const *rcpt, size_t n,
	const char *msg, size_t len, int eightbit, int smtputf8,
	struct smtp_result *rcpt_res, struct smtp_result *txn);

/* The RFC 3461 parameters of one transaction, as queued (xtext kept
 * encoded, RET and NOTIFY upper case; queue/dsnrec.h). NULL pointers and
 * "" are absent; notify and orcpt are NULL or have n entries. */
struct smtp_dsn {
	const char *ret, *envid;
	const char *const *notify, *const *orcpt;
	int requiretls;   /* requiretls (issue 15): MAIL REQUIRETLS, only to a
	                     server that offers it, DSN or not */
};
/* smtp_send with DSN parameters: MAIL carries RET= and ENVID=, each RCPT
 * NOTIFY= and ORCPT=, only when the server offers DSN (SMTP_CAP_DSN);
 * never otherwise (the caller sees smtp_caps and may report "relayed",
 * RFC 3461 6.2.2). A value with a byte outside "!".."~" is not sent.
 * dsn NULL is smtp_send. */
int smtp_send_dsn(struct smtp_session *s, const char *from, const char *const *rcpt, size_t n,
	const char *msg, size_t len, int eightbit, int smtputf8, const struct smtp_dsn *dsn,
	struct smtp_result *rcpt_res, struct smtp_result *txn);

/* RSET; 0 if the server said 2xx, -1 if the session must be closed. */
int smtp_reset(struct smtp_session *s);
/* NOOP: is the session still usable (the test driver's --noop).
 * 0 on 2xx; -1 with r filled (member_fault=1) otherwise. */
int smtp_noop(struct smtp_session *s, struct smtp_result *r);
/* MAIL FROM:<from> (no parameters) then RSET: would the server take mail
 * now, without sending any (relay-health's probe). 0 when both got 2xx;
 * -1 with r filled (stage mail or rset, member_fault=1, temp=1). from
 * may be "" (the null sender). */
int smtp_try_mail(struct smtp_session *s, const char *from, struct smtp_result *r);
/* QUIT (the reply is waited for at most to.quit and ignored), close, free.
 * NULL is fine. */
void smtp_close(struct smtp_session *s);

/* Information about an open session (valid until smtp_close). */
const char *smtp_tls_version(struct smtp_session *s); /* "TLSv1.3" or NULL */
/* The peer certificate's notAfter: 1 and *when, or 0 (no TLS, no certificate). */
int smtp_tls_not_after(struct smtp_session *s, time_t *when);
const char *smtp_peer(struct smtp_session *s);        /* "127.0.0.1:2525", "[::1]:25" */
const char *smtp_peer_name(struct smtp_session *s);   /* first word of the (last) EHLO reply, safe */
enum {
	SMTP_CAP_PIPELINING = 1, SMTP_CAP_8BITMIME = 2, SMTP_CAP_SMTPUTF8 = 4,
	SMTP_CAP_STARTTLS = 8, SMTP_CAP_SIZE = 16, SMTP_CAP_AUTH_PLAIN = 32,
	SMTP_CAP_AUTH_LOGIN = 64, SMTP_CAP_ESMTP = 128, SMTP_CAP_DSN = 256,
	SMTP_CAP_REQUIRETLS = 512   /* requiretls (issue 15): RFC 8689 */
};
unsigned smtp_caps(struct smtp_session *s);
unsigned long smtp_size_limit(struct smtp_session *s); /* SIZE value, 0 = none */

#endif
