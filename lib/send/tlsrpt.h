#ifndef RELAY_TLSRPT_H
#define RELAY_TLSRPT_H
/* SMTP TLS Reporting (RFC 8460, issue 15).
 *
 * The network worker notes the TLS outcome of every session it opens
 * for direct MX delivery in an append-only file of the day (UTC) in the
 * MTA-STS state directory, which is already the worker's own:
 *   state/mta-sts/.tls-rpt-YYYY-MM-DD   (a leading dot: never a domain)
 * one line per session, written with one write(2) under O_APPEND (whole
 * lines even with many workers):
 *   EPOCH DOMAIN POLICY-TYPE RESULT MX-HOST RECEIVING-IP
 * POLICY-TYPE sts | tlsa | no-policy-found; RESULT "ok" or an RFC 8460
 * 4.3 result-type (starttls-not-supported, certificate-host-mismatch,
 * certificate-expired, certificate-not-trusted, validation-failure,
 * tlsa-invalid, dnssec-invalid, dane-required); "-" for an unknown
 * address. No record passes the result protocol (send/job.h unchanged).
 * relay-qctl tls-report reads the day back (tlsrpt_day_read) and writes
 * the report (tlsrpt_report_json); tlsrpt_send.c sends it to the rua of
 * the domain's _smtp._tls TXT record. */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "net/smtp.h"
#include "net/tlsrpt_txt.h"


/* The RFC 8460 result-type of a session that failed to open with err
 * under policy (tlspolicy.h's names), or NULL: not a TLS outcome (a
 * connection or greeting failure). */
const char *tlsrpt_result_type(const char *policy, const struct smtp_result *err);
/* The policy-type of a policy name: "sts", "tlsa", "no-policy-found". */
const char *tlsrpt_policy_type(const char *policy);

/* Note one session (err NULL: TLS as the policy wanted). Quietly does
 * nothing on a write error (a report is best effort; delivery is not
 * held for it). */
void tlsrpt_note(const char *dir, const char *domain, const char *policy, const char *mx,
                 const char *peer, const struct smtp_result *err, time_t now);

/* The day's figures, by policy domain and type. */
struct tlsrpt_fail {
	char result[32], mx[256], ip[64];
	unsigned long n;
};
struct tlsrpt_pol {
	char domain[256], ptype[20];
	unsigned long ok, failed;
	struct tlsrpt_fail *f;
	size_t nf;
};
struct tlsrpt_day {
	char day[11];   /* YYYY-MM-DD */
	struct tlsrpt_pol *p;
	size_t n;
};
/* "YYYY-MM-DD" of t (UTC). */
void tlsrpt_day_name(time_t t, char out[11]);
/* Read dir/.tls-rpt-DAY. 0 (a missing file is a day without sessions),
 * -1 with errno (a read error). Malformed lines are skipped. */
int tlsrpt_day_read(const char *dir, const char *day, struct tlsrpt_day *d);
void tlsrpt_day_free(struct tlsrpt_day *d);

/* The RFC 8460 4 JSON report of domain for the day (every policy type
 * seen for it); sts_dir gives the cached MTA-STS policy for
 * policy-string. 0, or -1 (out of memory, or domain not in d). */
int tlsrpt_report_json(const struct tlsrpt_day *d, const char *domain, const char *org,
                       const char *contact, const char *report_id, const char *sts_dir,
                       struct buf *out);

/* relay-qctl tls-report [--json] [--send] [--day YYYY-MM-DD]
 * (tlsrpt_send.c): prints the day's figures (default today), or the JSON
 * reports, or sends them (default yesterday). Returns the exit code. */
int tlsrpt_cmd(const char *home, int argc, char **argv);
#endif
