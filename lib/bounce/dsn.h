#ifndef RELAY_DSN_H
#define RELAY_DSN_H
/* RFC 3464 delivery status notifications: the failure records relay-send
 * hands to relay-bounce, the parts of a queue file a DSN needs, and the
 * DSN itself. doc/bounce.md explains the choices.
 *
 * A failure record is one line, fields separated by TAB:
 *   rcpt  action  status  remote-mta  diagnostic  last-attempt-epoch
 * action: failed | delayed | relayed; status: 5.1.1 style (class 4 or 5;
 * delayed needs class 4, relayed class 2); remote-mta: a host name or empty; diagnostic: the
 * remote reply, made safe (no CR, LF, NUL), any length (capped here). */
#include <stddef.h>
#include <time.h>
#include "base/bounds.h"
#include "base/buf.h"

#define DSN_FAILED  0
#define DSN_DELAYED 1
#define DSN_RELAYED 2   /* delivered to a next hop that does not offer DSN
                           (RFC 3461 6.2.2), for NOTIFY=SUCCESS; status 2.x.x */
#define DSN_RECORDS_MAX   10000      /* records in one report: more are split */
#define DSN_RECORDS_CALL_MAX RCPT_MAX /* records in one call: one per recipient */
#define DSN_RECORD_MAX    8192       /* bytes in one record line */
#define DSN_DIAG_MAX      2000       /* diagnostic text kept, in bytes */
#define DSN_HEADERS_MAX   (64 * 1024) /* original headers returned */

struct dsn_record {
	char *rcpt;
	int action;             /* DSN_FAILED | DSN_DELAYED */
	char status[16];
	char *remote_mta;       /* "" when unknown */
	char *diag;             /* "" when none */
	long long last_attempt; /* 0 when unknown */
	/* from the queue file (dsn_apply_params): the recipient's RFC 3461
	 * NOTIFY (base/xtext.h DSN_N_* bits, 0 not given) and ORCPT (xtext,
	 * NULL when not given) */
	unsigned notify;
	const char *orcpt;
};

struct dsn_records {
	struct dsn_record *r;
	size_t n, cap;
};
#define DSN_RECORDS_INIT {0, 0, 0}

/* Parse the records in data (modified: fields become NUL-terminated in
 * place; out points into it). 0, or -1 with the reason in err (bad line:
 * a permanent error) or errno ENOMEM with err "out of memory". */
int dsn_parse_records(char *data, size_t len, struct dsn_records *out,
                      char *err, size_t errcap);
void dsn_records_free(struct dsn_records *rs);

/* What a DSN needs from a queue file (queue/queue.h format). */
struct dsn_original {
	time_t arrival;
	const char *sender;     /* "" for the null sender */
	const char *msg;        /* the message (CRLF) */
	size_t msglen;
	size_t hdrlen;          /* header section, without the empty line */
	unsigned long received; /* Received: header lines */
	const char *envid;      /* RFC 3461 ENVID (xtext), NULL when not given */
	const char *ret;        /* "FULL", "HDRS", NULL when not given */
	/* the recipients with NOTIFY or ORCPT, in queue order (NULL, 0 when
	 * none: no memory is taken then); freed by dsn_original_free */
	struct dsn_rcpt_param {
		const char *rcpt, *notify, *orcpt;
	} *rp;
	size_t nrp;
};
/* Parse a queue file in data (modified: envelope newlines become NULs):
 * the envelope with queue_parse(), then the header section of the
 * message for its length and its Received: lines (a loop check). 0, or
 * -1 with *why; errno ENOMEM when it ran out of memory (temporary),
 * else the file is bad. */
int dsn_parse_original(char *data, size_t len, struct dsn_original *o,
                       const char **why);
void dsn_original_free(struct dsn_original *o);
/* Give each record its recipient's NOTIFY and ORCPT from o: the first
 * recipient of that address (case-insensitive) not given to an earlier
 * record, looked for from where the last one was found (records come in
 * queue order). */
void dsn_apply_params(const struct dsn_original *o, struct dsn_records *rs);
/* 1 when the recipient's NOTIFY asks for a report of this record's action
 * (no NOTIFY: failures and delays; NEVER: nothing; relayed: SUCCESS). */
int dsn_wanted(const struct dsn_record *r);

struct dsn_opts {
	const char *hostname;   /* Reporting-MTA and MAILER-DAEMON@ */
	const char *to;         /* DSN recipient: the envelope sender, or the postmaster */
	const char *why_not_sender; /* NULL, or why the postmaster gets it */
	long size_limit;        /* whole message when smaller; 0: headers only */
	time_t now;
	int truncated;          /* the message was read only in part */
};
/* Build the DSN (CRLF line endings) into out. With o->envid an
 * Original-Envelope-Id field, with a record's orcpt an Original-Recipient
 * field (both xtext-decoded). RET=HDRS returns only the header section,
 * as does a report of relayed recipients only. 0 or -1 (ENOMEM). A call
 * of more than DSN_RECORDS_MAX records is given as several reports, of at
 * most DSN_RECORDS_MAX each (dsn_parts). */
int dsn_build(const struct dsn_opts *opt, const struct dsn_original *o,
              const struct dsn_record *r, size_t n, struct buf *out);

/* How many reports n records make: ceil(n / DSN_RECORDS_MAX). */
static inline size_t dsn_parts(size_t n) { return (n + DSN_RECORDS_MAX - 1) / DSN_RECORDS_MAX; }

/* RFC 5322 date in UTC: "Mon, 23 Nov 2026 19:27:18 +0000". */
void dsn_date(char *out, size_t cap, time_t t);
/* Append "name" then value as a folded header field (lines of at most 78
 * octets where the words allow, never more than 998; every continuation
 * line starts with a space, so no value can start a field). The value is
 * made safe first: control bytes to '_', non-ASCII to '?', runs of white
 * space to one space, at most DSN_DIAG_MAX bytes. Ends with CRLF. */
int dsn_fold(struct buf *b, const char *name, const char *value);

#endif
