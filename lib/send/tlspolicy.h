#ifndef RELAY_TLSPOLICY_H
#define RELAY_TLSPOLICY_H
/* The TLS policy of one session, made concrete for the host about to be
 * tried (issue 15). etc/tls's none, may, encrypt and verify go as they
 * are. dane and dane-only (RFC 7672) look up the host's TLSA records
 * (_PORT._tcp.HOST) through the validating resolver:
 *   validated, usable records   TLS required, the peer authenticated by
 *                               them (OpenSSL's DANE code): "dane"
 *   validated, none usable      TLS required, not authenticated (RFC 7672
 *                               2.2: "encrypt")
 *   a validated denial, or an   dane: "may" (opportunistic);
 *   answer not validated (the   dane-only: the host is not tried
 *   zone is not signed, or the
 *   MX answer was not)
 *   bogus, SERVFAIL, timeout    the host is not tried (temporary): a
 *                               failed lookup never means "no DANE"
 * names_secure: the names that led here were validated (the MX answer for
 * direct delivery; 1 for a relay named in etc/pools). */
#include <stddef.h>

#include "conf/conf.h"
#include "net/dns.h"
#include "net/mtasts.h"
#include "send/msgtls.h"

struct tls_pick {
	enum conf_tls_mode mode;            /* what smtp_open gets */
	const struct dns_tlsa_set *dane;    /* NULL, or the records (set) */
	const char *ca;                     /* for verify by MTA-STS: its CA file; NULL = as given */
	struct dns_tlsa_set set;
	char policy[16];                    /* for the log: tls_policy=... */
};

/* MTA-STS (sts: the recipient domain's policy, or NULL) applies where
 * DANE did not decide, over may, encrypt and dane: enforce means verify
 * (the certificate must be valid for host, against sts_ca or the
 * system's CAs: "mta-sts"); testing changes nothing but the log
 * ("mta-sts-testing"). none and verify in etc/tls stay as they are. The
 * caller has already left out the MX hosts an enforced policy does not
 * list.
 * mt (NULL: none) is the message's own word (send/msgtls.h): with
 * tls_optional, dane is may and sts is not applied: dane, may and
 * encrypt log "tls-required-no";
 * with requiretls the pick must verify the peer: DANE ("dane"), MTA-STS
 * enforce ("mta-sts"), or verify over validated names.
 * 0 with p filled; -1 with err filled: do not try this host now; -2
 * with err: the host cannot meet the message's REQUIRETLS (not tried). */
int tlspolicy_pick(struct dns_ctx *dns, enum conf_tls_mode mode, const char *host,
                   unsigned port, int names_secure, const struct mtasts_policy *sts,
                   const char *sts_ca, const struct msgtls *mt, struct tls_pick *p,
                   char *err, size_t errcap);
/* A session opened with p meets REQUIRETLS when its peer is verified:
 * 1 or 0. */
int tlspolicy_verified(const struct tls_pick *p, int names_secure);
#endif
