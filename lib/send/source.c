/* The FCrDNS check of etc/source: see source.h. */
#include "send/source.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/diag.h"
#include "net/dns.h"

static int same_addr(const struct dns_addr *a, const char *text)
{
	unsigned char b[16];
	const struct sockaddr *sa = (const struct sockaddr *)&a->sa;
	if (sa->sa_family == AF_INET && inet_pton(AF_INET, text, b) == 1)
		return !memcmp(&((const struct sockaddr_in *)sa)->sin_addr, b, 4);
	if (sa->sa_family == AF_INET6 && inet_pton(AF_INET6, text, b) == 1)
		return !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, b, 16);
	return 0;
}

static void check_one(struct dns_ctx *dns, const char *key, const struct conf_source *s)
{
	struct dns_addr addrs[DNS_ADDRS_MAX];
	char e[256], ptr[256];
	size_t n = 0, i, k;
	int rc = dns_addrs(dns, s->helo, addrs, DNS_ADDRS_MAX, &n, e, sizeof e);
	for (i = 0; i < s->n; i++) {
		int found = 0;
		for (k = 0; rc == DNS_OK && k < n; k++)
			found |= same_addr(&addrs[k], s->bind[i]);
		if (!found)
			warn_("etc/source %s: helo %s does not resolve to %s%s%s", key, s->helo,
			      s->bind[i], rc == DNS_OK ? "" : ": ", rc == DNS_OK ? "" : e);
		if (dns_ptr(dns, s->bind[i], ptr, sizeof ptr, e, sizeof e) != DNS_OK)
			warn_("etc/source %s: %s: no PTR record (%s)", key, s->bind[i], e);
		else if (strcasecmp(ptr, s->helo) != 0)
			warn_("etc/source %s: the PTR of %s is %s, not helo %s", key, s->bind[i], ptr, s->helo);
	}
}

void source_check(struct sendconf *c)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct dns_ctx *dns = NULL;
	char e[256];
	int r;
	conf_rewind(&c->source);
	while ((r = conf_each(&c->source, &k, &v)) == 1) {
		struct conf_source s;
		if (conf_parse_source(v.p, &s, e, sizeof e) < 0 || !s.n || !s.helo[0])
			continue;
		if (!dns && !(dns = dns_new(c->dns_config[0] ? c->dns_config : NULL, e, sizeof e))) {
			warn_("etc/source: cannot check helo names: %s", e);
			break;
		}
		check_one(dns, k.p, &s);
	}
	dns_free(dns);
	buf_free(&k);
	buf_free(&v);
}
