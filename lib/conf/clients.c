/* etc/clients: parse a prefix and an action, and the longest-prefix
 * lookup (conf/clients.h). */
#include "conf/clients.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/parse.h"

/* Address text into 16 bytes; *bits 32 (IPv4, in the first 4) or 128. */
static int addr_parse(const char *s, unsigned char a[16], int *bits)
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		static const unsigned char mapped[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
		if (memcmp(a, mapped, 12) == 0) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			*bits = 32;
			return 0;
		}
		*bits = 128;
		return 0;
	}
	return -1;
}

static void mask(unsigned char a[16], int len)
{
	int i;
	for (i = 0; i < 16; i++) {
		int keep = len - i * 8;
		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

static int format(const unsigned char a[16], int bits, int len, char *out, size_t cap)
{
	char t[INET6_ADDRSTRLEN];
	if (!inet_ntop(bits == 32 ? AF_INET : AF_INET6, a, t, sizeof t))
		return -1;
	if ((size_t)snprintf(out, cap, "%s/%d", t, len) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int conf_parse_client_key(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	char a[INET6_ADDRSTRLEN + 8];
	unsigned char ip[16], m[16];
	const char *slash = strchr(key, '/');
	unsigned long len;
	int bits;
	size_t an = slash ? (size_t)(slash - key) : strlen(key);
	if (an >= sizeof a)
		return conf_fail(err, errcap, "bad address \"%.64s\"", key);
	memcpy(a, key, an);
	a[an] = 0;
	if (addr_parse(a, ip, &bits) < 0 || (strchr(a, ':') && bits == 32))
		return conf_fail(err, errcap, "bad address \"%.64s\" (want an IPv4 or IPv6 prefix)", key);
	len = (unsigned long)bits;
	if (slash && conf_uint(slash + 1, strlen(slash + 1), (unsigned long)bits, &len) < 0)
		return conf_fail(err, errcap, "bad prefix length in \"%.64s\" (0..%d)", key, bits);
	memcpy(m, ip, 16);
	mask(m, (int)len);
	if (memcmp(m, ip, 16) != 0) {
		char want[64];
		format(m, bits, (int)len, want, sizeof want);
		return conf_fail(err, errcap, "\"%.64s\" has host bits set (did you mean %s?)", key, want);
	}
	if (format(ip, bits, (int)len, out, cap) < 0)
		return conf_fail(err, errcap, "prefix too long");
	return 0;
}

static const char *const names[] = { "auth", "relay", "deny" };

const char *conf_client_action_name(enum conf_client_action a)
{
	return (unsigned)a < 3 ? names[a] : "auth";
}

int conf_parse_client_action(const char *value, enum conf_client_action *a,
                             char *err, size_t errcap)
{
	char f[16], extra[2];
	const char *s = value;
	int i;
	if (conf_field(&s, f, sizeof f) != 1)
		return conf_fail(err, errcap, "missing or bad action (want relay, auth or deny)");
	if (conf_field(&s, extra, sizeof extra) != 0)
		return conf_fail(err, errcap, "more than one action");
	conf_lower(f);
	for (i = 0; i < 3; i++)
		if (strcmp(f, names[i]) == 0) {
			*a = (enum conf_client_action)i;
			return 0;
		}
	return conf_fail(err, errcap, "unknown action \"%s\" (want relay, auth or deny)", f);
}

int conf_client_lookup(struct conf *clients, const char *ip, enum conf_client_action *a,
                       char *pfx, size_t pfxcap)
{
	unsigned char base[16], m[16];
	struct buf v = BUF_INIT;
	char key[64];
	int bits, len, r;
	*a = CLIENT_AUTH;
	if (pfx && pfxcap)
		pfx[0] = 0;
	if (addr_parse(ip, base, &bits) < 0) {
		errno = EINVAL;
		return -1;
	}
	for (len = bits; len >= 0; len--) {
		memcpy(m, base, 16);
		mask(m, len);
		if (format(m, bits, len, key, sizeof key) < 0)
			return -1;
		r = conf_get(clients, key, &v);
		if (r < 0) {
			buf_free(&v);
			return -1;
		}
		if (r == 0)
			continue;
		r = conf_parse_client_action(v.p, a, NULL, 0);
		buf_free(&v);
		if (r < 0) {
			errno = EPROTO;  /* not a value relay-config writes */
			*a = CLIENT_AUTH;
			return -1;
		}
		if (pfx)
			snprintf(pfx, pfxcap, "%s", key);
		return 1;
	}
	buf_free(&v);
	return 0;
}

int conf_cidr_list_match(const char *list, const char *ip)
{
	unsigned char a[16], b[16];
	int abits, bbits, found = 0;
	const char *s = list;
	if (addr_parse(ip, a, &abits) < 0) {
		errno = EINVAL;
		return -1;
	}
	while (*s) {
		char t[INET6_ADDRSTRLEN + 8], *slash;
		size_t n = strcspn(s, ", \t");
		long len;
		if (n == 0) {
			s++;
			continue;
		}
		if (n >= sizeof t) {
			errno = EINVAL;
			return -1;
		}
		memcpy(t, s, n);
		t[n] = 0;
		s += n;
		slash = strchr(t, '/');
		if (slash)
			*slash = 0;
		if (addr_parse(t, b, &bbits) < 0) {
			errno = EINVAL;
			return -1;
		}
		len = bbits;
		if (slash) {
			char *e;
			len = strtol(slash + 1, &e, 10);
			if (!slash[1] || *e || len < 0 || len > bbits) {
				errno = EINVAL;
				return -1;
			}
		}
		if (bbits != abits)
			continue;
		memcpy(t, a, 16);   /* a masked copy of the address */
		mask((unsigned char *)t, (int)len);
		mask(b, (int)len);
		if (memcmp(t, b, 16) == 0)
			found = 1;   /* go on: the whole list must parse */
	}
	return found;
}
