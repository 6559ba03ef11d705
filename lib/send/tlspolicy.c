/* The TLS policy of one session: see tlspolicy.h. */
#include "send/tlspolicy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int ip_literal(const char *h)
{
	unsigned char b[16];
	return h[0] == '[' || inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

static void set(struct tls_pick *p, enum conf_tls_mode mode, const char *name)
{
	p->mode = mode;
	snprintf(p->policy, sizeof p->policy, "%s", name);
}

/* No TLSA records that count: dane goes on opportunistically, dane-only
 * does not go. */
static int without(struct tls_pick *p, enum conf_tls_mode mode, const char *host,
                   const char *why, char *err, size_t errcap)
{
	if (mode == CONF_TLS_DANE) {
		set(p, CONF_TLS_MAY, "may");
		return 0;
	}
	snprintf(err, errcap, "TLS policy dane-only: %s for %s", why, host);
	return -1;
}

/* DANE where etc/tls asks for it; see tlspolicy.h. */
static int dane_pick(struct dns_ctx *dns, enum conf_tls_mode mode, const char *host,
                     unsigned port, int names_secure, struct tls_pick *p, char *err, size_t errcap)
{
	char e[300];
	int rc;
	if (mode != CONF_TLS_DANE && mode != CONF_TLS_DANE_ONLY) {
		set(p, mode, conf_tls_mode_name(mode));
		return 0;
	}
	if (ip_literal(host))
		return without(p, mode, host, "no TLSA records for an address", err, errcap);
	if (!names_secure)
		return without(p, mode, host, "the MX records are not DNSSEC-signed", err, errcap);
	if (!dns) {
		snprintf(err, errcap, "TLSA lookup for %s: no resolver", host);
		return -1;
	}
	/* RFC 7672 2.2.2: the host's address records must be validated too */
	{
		int asec = 0;
		e[0] = 0;
		rc = dns_addrs_secure(dns, host, &asec, e, sizeof e);
		if (rc == DNS_TEMP) {
			snprintf(err, errcap, "address lookup for %s failed: %s", host,
			         e[0] ? e : "temporary failure");
			return -1;
		}
		if (rc == DNS_OK && !asec)
			return without(p, mode, host, "the address records are not DNSSEC-signed", err, errcap);
	}
	e[0] = 0;
	rc = dns_tlsa(dns, host, port, &p->set, e, sizeof e);
	if (rc != DNS_OK) {
		snprintf(err, errcap, "TLSA lookup for _%u._tcp.%s failed: %s", port, host,
		         e[0] ? e : "temporary failure");
		return -1;
	}
	if (!p->set.secure)
		return without(p, mode, host, "the TLSA answer is not DNSSEC-signed", err, errcap);
	if (p->set.n) {
		p->dane = &p->set;
		set(p, CONF_TLS_ENCRYPT, "dane");  /* smtp_open: required, by the records */
		return 0;
	}
	if (p->set.unusable) {
		set(p, CONF_TLS_ENCRYPT, "encrypt");
		return 0;
	}
	return without(p, mode, host, "no TLSA records", err, errcap);
}

static int pick(struct dns_ctx *dns, enum conf_tls_mode mode, const char *host,
                unsigned port, int names_secure, const struct mtasts_policy *sts,
                const char *sts_ca, struct tls_pick *p, char *err, size_t errcap)
{
	if (dane_pick(dns, mode, host, port, names_secure, p, err, errcap) < 0)
		return -1;
	/* MTA-STS where DANE did not decide (RFC 8461 2), over the modes
	 * that do not check certificates; none and verify are the
	 * operator's own word for the domain */
	if (!sts || p->dane || (mode != CONF_TLS_MAY && mode != CONF_TLS_ENCRYPT && mode != CONF_TLS_DANE))
		return 0;
	if (sts->mode == MTASTS_ENFORCE) {
		set(p, CONF_TLS_VERIFY, "mta-sts");
		p->ca = sts_ca && *sts_ca ? sts_ca : NULL;
	} else if (sts->mode == MTASTS_TESTING) {
		snprintf(p->policy, sizeof p->policy, "mta-sts-testing");
	}
	return 0;
}

int tlspolicy_verified(const struct tls_pick *p, int names_secure)
{
	if (p->dane)
		return 1;   /* the records checked by OpenSSL's DANE code */
	if (p->mode != CONF_TLS_VERIFY)
		return 0;
	/* MTA-STS enforce lists the MX names itself; verify checks the
	 * certificate against a name that must come from a validated answer */
	return strcmp(p->policy, "mta-sts") == 0 || names_secure;
}

int tlspolicy_pick(struct dns_ctx *dns, enum conf_tls_mode mode, const char *host,
                   unsigned port, int names_secure, const struct mtasts_policy *sts,
                   const char *sts_ca, const struct msgtls *mt, struct tls_pick *p,
                   char *err, size_t errcap)
{
	memset(p, 0, sizeof *p);
	if (mt && mt->tls_optional && !mt->requiretls) {
		/* TLS-Required: No (RFC 8689 5): the domain's DANE records and
		 * MTA-STS policy are not applied; STARTTLS still when offered */
		if (mode == CONF_TLS_DANE || mode == CONF_TLS_MAY || mode == CONF_TLS_ENCRYPT) {
			set(p, mode == CONF_TLS_DANE ? CONF_TLS_MAY : mode, "tls-required-no");
			return 0;
		}
		sts = NULL;   /* none, verify, dane-only: the operator's word stands */
	}
	if (pick(dns, mode, host, port, names_secure, sts, sts_ca, p, err, errcap) < 0)
		return -1;
	if (mt && mt->requiretls && !tlspolicy_verified(p, names_secure)) {
		snprintf(err, errcap, "REQUIRETLS: TLS to %s would not be verified (tls_policy=%s%s)", host,
		         p->policy, p->mode == CONF_TLS_VERIFY ? ", the MX answer not DNSSEC-signed" : "");
		return -2;
	}
	return 0;
}
