#ifndef RELAY_JOB_H
#define RELAY_JOB_H
/* The scheduler <-> network worker protocol of relay-send, over a
 * SOCK_SEQPACKET socketpair: one datagram per job or result.
 *
 * A job carries the queued message as a read-only fd (SCM_RIGHTS) and
 * everything the worker needs to deliver it, including that member's
 * credentials: the worker reads neither etc/ nor the queue directories.
 * With a relay name, it carries the worker slot's journal too, open
 * for appending only (send/journal.h): a worker that cannot send its
 * result (the scheduler was killed) appends there the D lines of the
 * recipients it delivered, which the next scheduler applies, so that
 * it does not send the message again.
 * Job records are NUL-terminated, each starting with a one-letter type.
 * A result is a fixed header and one struct smtp_result per recipient;
 * the scheduler does not trust it blindly: job_result_recv refuses a
 * datagram of the wrong size or with too many recipients, terminates and
 * makes safe every string in it, and deliver.c checks that it answers for
 * the recipients of the job it sent (same job id, same count). */
#include <stddef.h>
#include "base/buf.h"
#include "net/smtp.h"

#define JOB_RCPT_MAX 100   /* recipients per transaction (RFC 5321 4.5.3.1.8) */

struct job {
	unsigned long id;
	int mx;                 /* 1: deliver to the MX hosts of domain */
	const char *host;       /* a relay, or the recipient domain for mx */
	unsigned port;
	int tls;                /* enum conf_tls_mode: CONF_TLS_NONE .. CONF_TLS_DANE_ONLY */
	int implicit_tls;
	const char *ca;         /* "" = system store */
	const char *user, *pass;/* "" = no AUTH */
	int auth_plaintext_ok;
	const char *helo;
	const char *bind;       /* source address (etc/source); "" = the kernel's */
	int family;             /* 4, 6, or 0 = any (etc/source) */
	const char *dns_config; /* "" = system resolver */
	const char *sts_dir;    /* MTA-STS policy cache (state/mta-sts); "" = MTA-STS off */
	const char *sts_ca;     /* CAs for MTA-STS (policy fetch, MX certificates); "" = system */
	unsigned long body_off; /* where the message starts in the fd */
	const char *prefix;     /* header fields to send first (DKIM); may be "" */
	size_t prefix_len;
	int timeout_ms;         /* stage timeouts; 0 = RFC defaults */
	const char *sender;
	const char *rcpt[JOB_RCPT_MAX];
	size_t n;
	/* RFC 3461 parameters as queued (queue/dsnrec.h), NULL when absent;
	 * the worker passes them on when the next hop offers DSN */
	const char *ret, *envid;
	const char *notify[JOB_RCPT_MAX], *orcpt[JOB_RCPT_MAX];
	/* for the journal: with relay (the member's name for the D lines;
	 * NULL: nothing to journal) and msgid (the queue id), jfd (the
	 * journal, O_APPEND, sent with the job; -1: none) and idx[k], the
	 * queue index of rcpt[k] */
	const char *relay, *msgid;
	int jfd;
	size_t idx[JOB_RCPT_MAX];
};

struct queue_env;
/* The DSN parameters of the job's recipients from the queue file's
 * envelope: env as queue_parse left it, e parsed from it, idx[k] the
 * queue index of j->rcpt[k] (k < j->n). */
void job_dsn_fill(struct job *j, const char *env, const struct queue_env *e, const size_t *idx);
/* The smtp_send_dsn parameters of j (pointing into j). */
void job_dsn(const struct job *j, struct smtp_dsn *d);

/* 0, or -1 with errno. j->jfd goes with the job when j->relay and
 * j->msgid are set (the scheduler keeps its own). */
int job_send(int sock, const struct job *j, int msgfd);
/* 1 a job (strings point into store; j->jfd the journal or -1, to
 * be closed by the caller, as msgfd), 0 the peer closed, -1 error. */
int job_recv(int sock, struct job *j, int *msgfd, struct buf *store);

struct job_result {
	unsigned long id;
	int conn_failed;            /* the session could not be opened */
	struct smtp_result conn;    /* why, when conn_failed */
	char tls[16];               /* "TLSv1.3" or "" */
	char tls_policy[16];        /* the session's policy (send/tlspolicy.h) or "" */
	char peer[64];              /* the address actually used */
	int dsn;                    /* the next hop offered DSN (RFC 3461): it
	                               reports success itself; else relay may
	                               report "relayed" (6.2.2) */
	size_t n;
	struct smtp_result r[JOB_RCPT_MAX]; /* final outcome per recipient */
};

int job_result_send(int sock, const struct job_result *r);
/* 1, 0 closed, -1 error (a short or malformed datagram is EPROTO). */
int job_result_recv(int sock, struct job_result *r);

#endif
