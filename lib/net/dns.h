#ifndef RELAY_DNS_H
#define RELAY_DNS_H
/* DNS through libunbound: MX lists for direct delivery, and host
 * addresses. One context per process (workers are long-lived; the
 * context caches). A test or an operator can give an unbound config file
 * (settings: dns_config) that is loaded with ub_ctx_config; tests use it
 * to serve records from local data only, e.g.
 *     server:
 *       local-zone: "test." static
 *       local-data: "example.test. MX 10 mx1.example.test."
 *       local-data: "mx1.example.test. A 127.0.0.1"
 * With no config file, the system's resolv.conf and hosts are used.
 * DNSSEC: the config file may name a trust anchor (trust-anchor-file:,
 * auto-trust-anchor-file:); answers then carry unbound's verdict. A bogus
 * answer is always DNS_TEMP (never a denial), and dns_mx and dns_tlsa say
 * whether what they return was validated (secure), for DANE. */
#include <stddef.h>
#include <sys/socket.h>

#define DNS_MX_MAX    16
#define DNS_ADDRS_MAX 16

/* Return values: found, temporary failure, and the two permanent ones. */
enum {
	DNS_OK = 0,
	DNS_TEMP = -1,     /* SERVFAIL, timeout, no answer we can use: defer (4.4.3) */
	DNS_NXDOMAIN = -2, /* the domain does not exist: permanent 5.1.2 */
	DNS_NULLMX = -3,   /* RFC 7505 "0 .": accepts no mail: permanent 5.1.10 */
	DNS_NOADDR = -4    /* name exists but has no MX, A or AAAA: permanent 5.1.2 */
};
/* "4.4.3", "5.1.2", "5.1.10" for the values above ("2.0.0" for DNS_OK). */
const char *dns_status_enh(int rc);

struct dns_ctx;
/* config: an unbound config file or NULL. NULL and err filled on failure. */
struct dns_ctx *dns_new(const char *config, char *err, size_t errcap);
void dns_free(struct dns_ctx *d);

struct mx_host {
	char name[256];   /* lowercase, no trailing dot */
	int pref;
};
struct mx_list {
	size_t n;
	int implicit;     /* 1: no MX records, the domain itself (RFC 5321 5.1) */
	int secure;       /* 1: the MX answer was DNSSEC-validated (implicit: the
	                     MX denial and the domain's A/AAAA answers were) */
	struct mx_host h[DNS_MX_MAX];
};
/* MX hosts of domain, sorted by preference (ties keep answer order; the
 * caller may shuffle equal preferences). No MX but an A or AAAA: one
 * implicit host, the domain. Returns DNS_* and err filled when not OK. */
int dns_mx(struct dns_ctx *d, const char *domain, struct mx_list *out, char *err, size_t errcap);

struct dns_addr {
	struct sockaddr_storage sa;   /* port 0 */
	socklen_t len;
};
/* AAAA then A addresses of host, at most max. DNS_OK with *n >= 1,
 * DNS_NOADDR, DNS_NXDOMAIN or DNS_TEMP. */
int dns_addrs(struct dns_ctx *d, const char *host, struct dns_addr *out, size_t max,
	size_t *n, char *err, size_t errcap);

/* Whether host's AAAA and A answers (denials included) were both
 * DNSSEC-validated (RFC 7672 2.2.2: TLSA records count only then). DNS_OK
 * with *secure, DNS_NOADDR, DNS_NXDOMAIN, or DNS_TEMP (bogus too). */
int dns_addrs_secure(struct dns_ctx *d, const char *host, int *secure, char *err, size_t errcap);

/* TLSA records of _PORT._tcp.HOST (RFC 6698) that SMTP can use: usage
 * DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching type 0, 1 (SHA-256,
 * 32 octets) or 2 (SHA-512, 64 octets); others are counted in unusable and
 * not kept (RFC 7672 3.1.3). DNS_OK with n >= 0 (0 with no records: a
 * denial) and secure set when the answer or the denial was validated;
 * DNS_TEMP for SERVFAIL, a timeout or a bogus answer. */
#define DNS_TLSA_MAX 8
struct dns_tlsa {
	unsigned char usage, selector, mtype;
	unsigned short len;
	unsigned char data[4096];  /* a digest, or a full key or certificate (matching
	                              type 0) up to 4096 octets; longer is unusable */
};
struct dns_tlsa_set {
	size_t n;
	size_t unusable;
	int secure;
	struct dns_tlsa r[DNS_TLSA_MAX];
};
int dns_tlsa(struct dns_ctx *d, const char *host, unsigned port, struct dns_tlsa_set *out,
	char *err, size_t errcap);
/* The TXT records of name that begin with prefix (e.g. "v=STSv1"): n of
 * them, the first in text (its character-strings joined; NUL bytes or an
 * overlong record make it not count). DNS_OK (n may be 0), DNS_NXDOMAIN,
 * or DNS_TEMP (SERVFAIL, timeout, bogus). */
struct dns_txt {
	size_t n;
	int secure;
	char text[1024];
};
int dns_txt(struct dns_ctx *d, const char *name, const char *prefix, struct dns_txt *out,
	char *err, size_t errcap);
/* The PTR name of an IPv4 or IPv6 address (the first record): DNS_OK
 * with name, else DNS_NOADDR, DNS_NXDOMAIN or DNS_TEMP with err. */
int dns_ptr(struct dns_ctx *d, const char *addr, char *name, size_t cap, char *err, size_t errcap);
/* One TLSA RDATA (n octets from the answer) into out: kept, or counted
 * unusable. Reads nothing past p + n. */
void dns_tlsa_rdata(const unsigned char *p, size_t n, struct dns_tlsa_set *out);

#endif
