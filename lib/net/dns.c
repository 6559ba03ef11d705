/* DNS through libunbound: see dns.h. */
#include "net/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#define RR_A    1
#define RR_MX   15
#define RR_AAAA 28
#define RR_PTR  12
#define RR_TXT  16
#define RR_TLSA 52
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3

struct dns_ctx {
	struct ub_ctx *ub;
};

const char *dns_status_enh(int rc)
{
	switch (rc) {
	case DNS_OK: return "2.0.0";
	case DNS_NXDOMAIN: case DNS_NOADDR: return "5.1.2";
	case DNS_NULLMX: return "5.1.10";
	default: return "4.4.3";
	}
}

struct dns_ctx *dns_new(const char *config, char *err, size_t errcap)
{
	struct dns_ctx *d = calloc(1, sizeof *d);
	int rc;
	if (!d) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	d->ub = ub_ctx_create();
	if (!d->ub) {
		snprintf(err, errcap, "cannot create resolver context");
		free(d);
		return NULL;
	}
	if (config) {
		rc = ub_ctx_config(d->ub, config);
		if (rc) {
			snprintf(err, errcap, "cannot load %s: %s", config, ub_strerror(rc));
			dns_free(d);
			return NULL;
		}
	} else {
		rc = ub_ctx_resolvconf(d->ub, NULL);
		if (rc) {
			snprintf(err, errcap, "cannot read resolv.conf: %s", ub_strerror(rc));
			dns_free(d);
			return NULL;
		}
		ub_ctx_hosts(d->ub, NULL); /* no hosts file is fine */
	}
	return d;
}

void dns_free(struct dns_ctx *d)
{
	if (!d)
		return;
	if (d->ub)
		ub_ctx_delete(d->ub);
	free(d);
}

/* A domain name in wire format (no compression in unbound results) to
 * text: lowercase, no trailing dot; the root is "". -1 if malformed. */
static int wire_name(const unsigned char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	for (;;) {
		size_t l, k;
		if (i >= n)
			return -1;
		l = p[i++];
		if (l == 0)
			break;
		if (l > 63 || i + l > n)
			return -1;
		if (o && o + 1 < cap)
			out[o++] = '.';
		for (k = 0; k < l; k++) {
			unsigned char c = p[i + k];
			/* only what a host name may hold (and '_' for safety of logs) */
			if (!(isalnum(c) || c == '-' || c == '_'))
				return -1;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)tolower(c);
		}
		i += l;
	}
	out[o] = 0;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s), i;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

static int resolve(struct dns_ctx *d, const char *name, int type, struct ub_result **res,
	char *err, size_t errcap)
{
	int rc = ub_resolve(d->ub, name, type, 1, res);
	if (rc) {
		snprintf(err, errcap, "lookup of %s failed: %s", name, ub_strerror(rc));
		*res = NULL;
		return DNS_TEMP;
	}
	/* bogus first: a forged denial (NXDOMAIN) must not pass for one,
	 * or it would bounce mail or switch DANE off */
	if ((*res)->bogus) {
		snprintf(err, errcap, "lookup of %s failed DNSSEC validation%s%s", name,
			(*res)->why_bogus ? ": " : "", (*res)->why_bogus ? (*res)->why_bogus : "");
		return DNS_TEMP;
	}
	if ((*res)->nxdomain)
		return DNS_NXDOMAIN;
	if ((*res)->rcode != 0) {
		snprintf(err, errcap, "lookup of %s failed: rcode %d%s", name, (*res)->rcode,
			(*res)->rcode == RCODE_SERVFAIL ? " (SERVFAIL)" : "");
		return DNS_TEMP;
	}
	return DNS_OK;
}

/* resolve() for the readers of records: *res NULL unless DNS_OK;
 * secure says whether the answer (or the denial) was validated. */
static int lookup_records(struct dns_ctx *d, const char *name, int type, struct ub_result **res,
	int *secure, char *err, size_t errcap)
{
	int rc = resolve(d, name, type, res, err, errcap);
	*secure = *res && (*res)->secure;
	if (rc != DNS_OK && *res) {
		ub_resolve_free(*res);
		*res = NULL;
	}
	return rc;
}

int dns_addrs(struct dns_ctx *d, const char *host, struct dns_addr *out, size_t max,
	size_t *n, char *err, size_t errcap)
{
	static const int types[2] = { RR_AAAA, RR_A };
	int t, nx = 0, temp = 0;
	*n = 0;
	if (!valid_name(host)) {
		snprintf(err, errcap, "bad host name");
		return DNS_NOADDR;
	}
	for (t = 0; t < 2; t++) {
		struct ub_result *res;
		int rc = resolve(d, host, types[t], &res, err, errcap), i;
		if (rc == DNS_NXDOMAIN)
			nx++;
		else if (rc == DNS_TEMP)
			temp++;
		else if (res->havedata) {
			for (i = 0; res->data[i] && *n < max; i++) {
				struct dns_addr *a = &out[*n];
				memset(a, 0, sizeof *a);
				if (types[t] == RR_AAAA && res->len[i] == 16) {
					struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;
					s6->sin6_family = AF_INET6;
					memcpy(&s6->sin6_addr, res->data[i], 16);
					a->len = sizeof *s6;
					(*n)++;
				} else if (types[t] == RR_A && res->len[i] == 4) {
					struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;
					s4->sin_family = AF_INET;
					memcpy(&s4->sin_addr, res->data[i], 4);
					a->len = sizeof *s4;
					(*n)++;
				}
			}
		}
		if (res)
			ub_resolve_free(res);
	}
	if (*n)
		return DNS_OK;
	if (temp)
		return DNS_TEMP;
	if (nx == 2) {
		snprintf(err, errcap, "%s: no such domain", host);
		return DNS_NXDOMAIN;
	}
	snprintf(err, errcap, "%s has no address", host);
	return DNS_NOADDR;
}

/* dane (issue 15): RFC 7672 2.2.2 */
int dns_addrs_secure(struct dns_ctx *d, const char *host, int *secure, char *err, size_t errcap)
{
	static const int types[2] = { RR_AAAA, RR_A };
	int t, have = 0, nx = 0;
	*secure = 1;
	if (!valid_name(host)) {
		snprintf(err, errcap, "bad host name");
		return DNS_NOADDR;
	}
	for (t = 0; t < 2; t++) {
		struct ub_result *res;
		int rc = resolve(d, host, types[t], &res, err, errcap);
		if (rc == DNS_TEMP) {
			if (res)
				ub_resolve_free(res);
			return DNS_TEMP;   /* bogus too: never "insecure" */
		}
		if (!res || !res->secure)
			*secure = 0;
		if (rc == DNS_NXDOMAIN)
			nx++;
		else if (res && res->havedata)
			have = 1;
		if (res)
			ub_resolve_free(res);
	}
	if (have)
		return DNS_OK;
	if (nx == 2) {
		snprintf(err, errcap, "%s: no such domain", host);
		return DNS_NXDOMAIN;
	}
	snprintf(err, errcap, "%s has no address", host);
	return DNS_NOADDR;
}

int dns_mx(struct dns_ctx *d, const char *domain, struct mx_list *out, char *err, size_t errcap)
{
	struct ub_result *res;
	int rc, i, nullmx = 0;
	size_t k;
	memset(out, 0, sizeof *out);
	if (!valid_name(domain)) {
		snprintf(err, errcap, "bad domain name");
		return DNS_NXDOMAIN;
	}
	rc = resolve(d, domain, RR_MX, &res, err, errcap);
	out->secure = res && res->secure;
	if (rc == DNS_NXDOMAIN) {
		snprintf(err, errcap, "%s: no such domain", domain);
		ub_resolve_free(res);
		return rc;
	}
	if (rc != DNS_OK) {
		if (res)
			ub_resolve_free(res);
		return rc;
	}
	for (i = 0; res->havedata && res->data[i]; i++) {
		const unsigned char *p = (const unsigned char *)res->data[i];
		struct mx_host h;
		if (res->len[i] < 3)
			continue;
		h.pref = p[0] << 8 | p[1];
		if (wire_name(p + 2, (size_t)res->len[i] - 2, h.name, sizeof h.name) < 0)
			continue; /* a malformed or hostile target is skipped */
		if (!h.name[0]) {
			nullmx++;
			continue;
		}
		if (out->n < DNS_MX_MAX)
			out->h[out->n++] = h;
	}
	ub_resolve_free(res);
	if (nullmx && !out->n) {
		snprintf(err, errcap, "%s accepts no mail (null MX)", domain);
		return DNS_NULLMX;
	}
	if (out->n) {
		/* stable insertion sort by preference */
		for (k = 1; k < out->n; k++) {
			struct mx_host h = out->h[k];
			size_t j = k;
			while (j > 0 && out->h[j - 1].pref > h.pref) {
				out->h[j] = out->h[j - 1];
				j--;
			}
			out->h[j] = h;
		}
		return DNS_OK;
	}
	/* no MX: the domain itself, if it has an address (RFC 5321 5.1);
	 * dane: secure only when the MX denial and the address answers are
	 * (RFC 7672 2.2.1) */
	{
		int asec;
		rc = dns_addrs_secure(d, domain, &asec, err, errcap);
		if (rc != DNS_OK)
			return rc;
		out->secure = out->secure && asec;
		snprintf(out->h[0].name, sizeof out->h[0].name, "%s", domain);
		for (k = 0; out->h[0].name[k]; k++)
			out->h[0].name[k] = (char)tolower((unsigned char)out->h[0].name[k]);
		k = strlen(out->h[0].name);
		if (k && out->h[0].name[k - 1] == '.')
			out->h[0].name[k - 1] = 0;
		out->h[0].pref = 0;
		out->n = 1;
		out->implicit = 1;
		return DNS_OK;
	}
}

void dns_tlsa_rdata(const unsigned char *p, size_t n, struct dns_tlsa_set *out)
{
	struct dns_tlsa *t;
	/* RFC 7672 3.1.3: only DANE-TA(2) and DANE-EE(3) are for SMTP;
	 * selector 0/1, matching 0 (full, up to 4096 octets), 1 or 2 */
	if (n < 4 || (p[0] != 2 && p[0] != 3) || p[1] > 1 || p[2] > 2 ||
	    (p[2] == 1 && n - 3 != 32) || (p[2] == 2 && n - 3 != 64) ||
	    n - 3 > sizeof t->data || out->n == DNS_TLSA_MAX) {
		out->unusable++;
		return;
	}
	t = &out->r[out->n++];
	t->usage = p[0];
	t->selector = p[1];
	t->mtype = p[2];
	t->len = (unsigned short)(n - 3);
	memcpy(t->data, p + 3, n - 3);
}

int dns_tlsa(struct dns_ctx *d, const char *host, unsigned port, struct dns_tlsa_set *out,
	char *err, size_t errcap)
{
	struct ub_result *res;
	char name[300];
	int rc, i;
	memset(out, 0, sizeof *out);
	if (!valid_name(host) || port == 0 || port > 65535) {
		snprintf(err, errcap, "bad host name");
		return DNS_TEMP;
	}
	snprintf(name, sizeof name, "_%u._tcp.%s", port, host);
	rc = lookup_records(d, name, RR_TLSA, &res, &out->secure, err, errcap);
	if (rc == DNS_NXDOMAIN)
		return DNS_OK;          /* no records: a denial, secure or not */
	if (rc != DNS_OK)
		return rc;
	for (i = 0; res->havedata && res->data[i]; i++)
		dns_tlsa_rdata((const unsigned char *)res->data[i], (size_t)res->len[i], out);
	ub_resolve_free(res);
	return DNS_OK;
}

int dns_txt(struct dns_ctx *d, const char *name, const char *prefix, struct dns_txt *out,
	char *err, size_t errcap)
{
	struct ub_result *res;
	size_t plen = strlen(prefix);
	int rc, i;
	memset(out, 0, sizeof *out);
	if (!valid_name(name)) {
		snprintf(err, errcap, "bad name");
		return DNS_NXDOMAIN;
	}
	rc = lookup_records(d, name, RR_TXT, &res, &out->secure, err, errcap);
	if (rc != DNS_OK)
		return rc;
	for (i = 0; res->havedata && res->data[i]; i++) {
		/* character-strings, each a length octet and its bytes, joined */
		const unsigned char *p = (const unsigned char *)res->data[i];
		size_t n = (size_t)res->len[i], k = 0, o = 0;
		char t[sizeof out->text];
		int bad = 0;
		while (k < n && !bad) {
			size_t l = p[k++];
			if (l > n - k || o + l >= sizeof t || memchr(p + k, 0, l))
				bad = 1;
			else {
				memcpy(t + o, p + k, l);
				o += l;
				k += l;
			}
		}
		t[o] = 0;
		if (bad || o < plen || memcmp(t, prefix, plen) != 0)
			continue;
		if (out->n++ == 0)
			memcpy(out->text, t, o + 1);
	}
	ub_resolve_free(res);
	return DNS_OK;
}

int dns_ptr(struct dns_ctx *d, const char *addr, char *name, size_t cap, char *err, size_t errcap)
{
	unsigned char b[16];
	char q[80];
	struct ub_result *res;
	int rc, secure, i;
	size_t o = 0;
	if (inet_pton(AF_INET, addr, b) == 1) {
		snprintf(q, sizeof q, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
	} else if (inet_pton(AF_INET6, addr, b) == 1) {
		for (i = 15; i >= 0; i--)
			o += (size_t)snprintf(q + o, sizeof q - o, "%x.%x.", b[i] & 15, b[i] >> 4);
		snprintf(q + o, sizeof q - o, "ip6.arpa");
	} else {
		snprintf(err, errcap, "not an address");
		return DNS_NOADDR;
	}
	rc = lookup_records(d, q, RR_PTR, &res, &secure, err, errcap);
	if (rc != DNS_OK)
		return rc;
	rc = DNS_NOADDR;
	if (res->havedata && res->data[0] &&
	    wire_name((const unsigned char *)res->data[0], (size_t)res->len[0], name, cap) == 0)
		rc = DNS_OK;
	else
		snprintf(err, errcap, "%s has no PTR record", addr);
	ub_resolve_free(res);
	return rc;
}
