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
 * No DNSSEC trust anchor is configured here (DANE is future work). */
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

#endif
