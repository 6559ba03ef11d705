/* setting `shared`: the Redis URL (conf/redis_url.h), pure. */
#include "conf/redis_url.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Digits [p, p+n) as a number at most max: 0, or -1. */
static int number(const char *p, size_t n, unsigned max, unsigned *v)
{
	unsigned long x = 0;
	size_t i;
	if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		x = x * 10 + (unsigned long)(p[i] - '0');
	}
	if (x > max)
		return -1;
	*v = (unsigned)x;
	return 0;
}

static int secret_ok(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == '@' || p[i] == '/')
			return 0;
	return 1;
}

static int host_ok(const char *p, size_t n)
{
	size_t i;
	if (n == 0 || n > REDIS_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '-' || c == '_' || c == ':'))
			return 0;
	}
	return 1;
}

/* unix:/PATH[?db=N&password=P] */
static int parse_unix(const char *s, struct redis_url *u, char *err, size_t cap)
{
	const char *q = strchr(s, '?');
	size_t n = q ? (size_t)(q - s) : strlen(s), i;
	if (n < 2 || s[0] != '/')
		return fail(err, cap, "unix: wants an absolute path (unix:/run/redis/redis.sock)");
	if (n > REDIS_PATH_MAX)
		return fail(err, cap, "unix: path too long (at most %d bytes)", REDIS_PATH_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return fail(err, cap, "unix: the path holds a space or a control byte");
	memcpy(u->path, s, n);
	u->path[n] = 0;
	u->unix_sock = 1;
	while (q && *q) {
		const char *p = q + 1, *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > 3 && !strncmp(p, "db=", 3)) {
			if (number(p + 3, len - 3, 15, &u->db) < 0)
				return fail(err, cap, "db: want 0..15");
		} else if (len > 9 && !strncmp(p, "password=", 9)) {
			if (len - 9 > REDIS_PASS_MAX || !secret_ok(p + 9, len - 9))
				return fail(err, cap, "password: too long, or holds '@', '/', a space or a control byte");
			memcpy(u->pass, p + 9, len - 9);
			u->pass[len - 9] = 0;
		} else
			return fail(err, cap, "unix: unknown parameter (want db= or password=)");
		q = amp;
	}
	return 0;
}

/* rediss:// ?ca=FILE&cert=FILE&key=FILE: absolute paths without spaces,
 * control bytes or '&' */
static int tls_param(const char *p, size_t len, struct redis_url *u, char *err, size_t cap)
{
	static const struct { const char *name; size_t off; } k[] = {
		{ "ca=", offsetof(struct redis_url, ca) },
		{ "cert=", offsetof(struct redis_url, cert) },
		{ "key=", offsetof(struct redis_url, key) },
	};
	size_t i, j;
	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		size_t kl = strlen(k[i].name), vl = len - kl;
		char *dst = (char *)u + k[i].off;
		if (len <= kl || strncmp(p, k[i].name, kl) != 0)
			continue;
		if (p[kl] != '/' || vl > REDIS_FILE_MAX)
			return fail(err, cap, "%.*s wants an absolute path (at most %d bytes)", (int)kl - 1, p,
			            REDIS_FILE_MAX);
		for (j = kl; j < len; j++)
			if ((unsigned char)p[j] <= 0x20 || (unsigned char)p[j] >= 0x7f)
				return fail(err, cap, "%.*s: the path holds a space or a control byte", (int)kl - 1, p);
		memcpy(dst, p + kl, vl);
		dst[vl] = 0;
		return 0;
	}
	return fail(err, cap, "rediss://: unknown parameter (want ca=, cert= or key=)");
}

static int parse_tcp(const char *p, struct redis_url *u, char *err, size_t cap);

int redis_url_parse(const char *s, struct redis_url *u, char *err, size_t cap)
{
	char hp[REDIS_URL_MAX + 1];
	const char *p, *q;
	size_t n = strlen(s);
	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (n == 0 || n > REDIS_URL_MAX)
		return fail(err, cap, "want redis://HOST:PORT/DB or unix:/PATH (at most %d bytes)", REDIS_URL_MAX);
	if (!strncmp(s, "unix:", 5))
		return parse_unix(s + 5, u, err, cap);
	if (!strncmp(s, "redis://", 8))
		p = s + 8;
	else if (!strncmp(s, "rediss://", 9)) {
		p = s + 9;
		u->tls = 1;
	} else
		return fail(err, cap, "want redis://, rediss:// or unix:");
	q = strchr(p, '?');
	if (q && !u->tls)
		return fail(err, cap, "redis://: no parameters (ca=, cert=, key= are for rediss://)");
	memcpy(hp, p, q ? (size_t)(q - p) : strlen(p));
	hp[q ? (size_t)(q - p) : strlen(p)] = 0;
	while (q && *q) {
		const char *v = q + 1, *amp = strchr(v, '&');
		if (tls_param(v, amp ? (size_t)(amp - v) : strlen(v), u, err, cap) < 0)
			return -1;
		q = amp;
	}
	if (u->key[0] && !u->cert[0])
		return fail(err, cap, "rediss://: key= without cert=");
	if (parse_tcp(hp, u, err, cap) < 0)
		return -1;
	return 0;
}

/* HOST[:PORT][/DB] with [USER:]PASSWORD@ before it, NUL-terminated */
static int parse_tcp(const char *p, struct redis_url *u, char *err, size_t cap)
{
	const char *at, *slash, *hs, *he, *ps = NULL;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ul = colon ? (size_t)(colon - p) : 0, pl = colon ? (size_t)(at - colon - 1) : (size_t)(at - p);
		const char *pp = colon ? colon + 1 : p;
		if (ul > REDIS_PASS_MAX || pl > REDIS_PASS_MAX || !secret_ok(p, ul) || !secret_ok(pp, pl) || pl == 0)
			return fail(err, cap, "password: empty, too long, or holds '@', '/', a space or a control byte");
		memcpy(u->user, p, ul);
		u->user[ul] = 0;
		memcpy(u->pass, pp, pl);
		u->pass[pl] = 0;
		p = at + 1;
	}
	he = slash ? slash : p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(he - p));
		if (!rb)
			return fail(err, cap, "an IPv6 address wants [ ]");
		hs = p + 1;
		if (rb + 1 < he) {
			if (rb[1] != ':')
				return fail(err, cap, "junk after ]");
			ps = rb + 2;
		}
		he = rb;
	} else {
		const char *colon = memchr(p, ':', (size_t)(he - p));
		hs = p;
		if (colon) {
			ps = colon + 1;
			he = colon;
		}
	}
	if (!host_ok(hs, (size_t)(he - hs)) || (*p != '[' && memchr(hs, ':', (size_t)(he - hs))))
		return fail(err, cap, "bad host");
	memcpy(u->host, hs, (size_t)(he - hs));
	u->host[he - hs] = 0;
	if (ps) {
		const char *pe = slash ? slash : ps + strlen(ps);
		if (number(ps, (size_t)(pe - ps), 65535, &u->port) < 0 || u->port == 0)
			return fail(err, cap, "bad port (want 1..65535)");
	}
	if (slash && slash[1] && number(slash + 1, strlen(slash + 1), 15, &u->db) < 0)
		return fail(err, cap, "bad database (want /0../15)");
	return 0;
}

void redis_url_show(const struct redis_url *u, char *out, size_t cap)
{
	if (u->unix_sock)
		snprintf(out, cap, "unix:%s?db=%u", u->path, u->db);
	else if (strchr(u->host, ':'))
		snprintf(out, cap, "%s://[%s]:%u/%u", u->tls ? "rediss" : "redis", u->host, u->port, u->db);
	else
		snprintf(out, cap, "%s://%s:%u/%u", u->tls ? "rediss" : "redis", u->host, u->port, u->db);
}
