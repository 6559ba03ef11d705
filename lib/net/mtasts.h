#ifndef RELAY_MTASTS_H
#define RELAY_MTASTS_H
/* MTA-STS (RFC 8461): the _mta-sts TXT record, the policy file and its
 * fetch over HTTPS (libcurl, certificate verified, no redirects, bounded
 * size and time), and which MX hosts a policy allows. The policy and the
 * record are outside input: parsed strictly here (fuzz/fuzz_mtasts.c). */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "net/dns.h"

#define MTASTS_MX_MAX    16
#define MTASTS_POLICY_MAX 65536     /* RFC 8461 3.3: senders may cap it; 64 KiB */
#define MTASTS_MAX_AGE   31557600L  /* one year, RFC 8461 3.2 */

enum { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
	int mode;
	long max_age;                 /* seconds */
	size_t nmx;
	char mx[MTASTS_MX_MAX][256];  /* "mail.example.com" or "*.example.net", lowercase */
	char id[33];                  /* the TXT id it was fetched under */
	time_t fetched;               /* wall clock */
};

/* The id of a TXT record "v=STSv1; id=ID;" (RFC 8461 3.1: fields
 * separated by ";", id of 1-32 letters and digits). 0 and id filled, or
 * -1 when it is not an STSv1 record or not well formed. */
int mtasts_txt_id(const char *txt, char *id, size_t cap);

/* The policy file (RFC 8461 3.2): "key: value" lines ending in CRLF or
 * LF; version STSv1 first, mode, max_age, one or more mx (except for mode
 * none). Unknown keys are ignored; a missing or bad required field is an
 * error. 0, or -1 with err. */
int mtasts_parse(const char *text, size_t n, struct mtasts_policy *p, char *err, size_t errcap);

/* 1 if host (lowercase, no trailing dot) matches one of the policy's mx
 * patterns: exact, or "*.rest" matching one extra leftmost label. */
int mtasts_mx_match(const struct mtasts_policy *p, const char *host);

/* Fetch https://mta-sts.DOMAIN/.well-known/mta-sts.txt, connecting to
 * addrs (looked up by the caller through relay's resolver; port 443) and
 * verifying the certificate for mta-sts.DOMAIN against ca_file (NULL:
 * the system store). No redirects (RFC 8461 3.3), 200 only, Content-Type
 * text/plain, at most MTASTS_POLICY_MAX bytes, timeout_s for all of it.
 * 0 with body in out, or -1 with err. */
int mtasts_fetch(const char *domain, const struct dns_addr *addrs, size_t naddrs,
                 const char *ca_file, long timeout_s, struct buf *out, char *err, size_t errcap);

/* The cache line of a policy: "id fetched max_age mode mx,mx,...", and
 * back. */
int mtasts_format(const struct mtasts_policy *p, struct buf *out);
int mtasts_unformat(const char *line, struct mtasts_policy *p);
#endif
