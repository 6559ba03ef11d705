/* etc/users: parse, format, look up, verify (conf/users.h). */
#include "conf/users.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/parse.h"

int conf_parse_user_key(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	size_t i, n = strlen(key);
	if (n == 0 || n > CONF_USER_MAX || n >= cap)
		return conf_fail(err, errcap, "bad user name (1..%d characters)", CONF_USER_MAX);
	for (i = 0; i < n; i++)
		if (!is_alnum(key[i]) && !strchr("._-+@", key[i]))
			return conf_fail(err, errcap, "bad user name \"%.64s\" (letters, digits, . _ - + @)", key);
	memcpy(out, key, n + 1);
	conf_lower(out);
	return 0;
}

/* One from= pattern: "@domain" or "local@domain", lowercased. */
static int from_pattern(const char *p, size_t n, char *err, size_t errcap)
{
	const char *at = memchr(p, '@', n);
	size_t i;
	char h[CONF_HOST_MAX + 1], d[CONF_HOST_MAX + 1];
	if (!at || (size_t)(p + n - at - 1) == 0 || (size_t)(p + n - at - 1) > CONF_HOST_MAX)
		return conf_fail(err, errcap, "from=: bad pattern \"%.*s\" (want @domain or user@domain)",
		                 (int)(n > 64 ? 64 : n), p);
	for (i = 0; p + i < at; i++)
		if (!conf_atext(p[i]) && p[i] != '.')
			return conf_fail(err, errcap, "from=: bad local part in \"%.*s\"", (int)(n > 64 ? 64 : n), p);
	memcpy(d, at + 1, (size_t)(p + n - at - 1));
	d[p + n - at - 1] = 0;
	return conf_parse_host(d, h, sizeof h, err, errcap);
}

int conf_parse_user(const char *value, struct conf_user *u, char *err, size_t errcap)
{
	char f[CONF_LINE_MAX + 1];
	const char *s = value;
	int r;
	memset(u, 0, sizeof *u);
	if ((r = conf_field(&s, f, sizeof f)) != 1 || strncmp(f, "$argon2id$", 10) != 0 ||
	    strlen(f) > CONF_HASH_MAX)
		return conf_fail(err, errcap, "missing or bad password hash (want an Argon2id string from "
		                 "relay-config passwd USER)");
	strcpy(u->hash, f);
	while ((r = conf_field(&s, f, sizeof f)) == 1) {
		if (strncmp(f, "from=", 5) == 0) {
			const char *p = f + 5;
			if (u->from[0])
				return conf_fail(err, errcap, "from= given twice");
			if (!*p)
				return conf_fail(err, errcap, "from=: empty");
			while (*p) {
				const char *c = strchr(p, ',');
				size_t n = c ? (size_t)(c - p) : strlen(p);
				if (from_pattern(p, n, err, errcap) < 0)
					return -1;
				p += n + (c ? 1 : 0);
				if (c && !*p)
					return conf_fail(err, errcap, "from=: trailing comma");
			}
			strcpy(u->from, f + 5);
			conf_lower(u->from);
		} else if (strncmp(f, "class=", 6) == 0) {
			if (conf_parse_name(f + 6, u->class, sizeof u->class, err, errcap) < 0)
				return -1;
		} else if (strncmp(f, "rate=", 5) == 0) {
			char *sl = strchr(f + 5, '/');
			unsigned long v;
			if (!sl || conf_uint(f + 5, (size_t)(sl - f - 5), 1000000, &v) < 0 || v == 0 ||
			    strlen(sl + 1) != 1 || !strchr("mhd", sl[1]))
				return conf_fail(err, errcap, "bad rate \"%.64s\" (want N/m, N/h or N/d)", f + 5);
			u->rate = (unsigned)v;
			u->rate_per = sl[1] == 'm' ? 60 : sl[1] == 'h' ? 3600 : 86400;
		} else {
			return conf_fail(err, errcap, "unknown field \"%.64s\" (want from=, class= or rate=)", f);
		}
	}
	if (r < 0)
		return conf_fail(err, errcap, "field too long");
	return 0;
}

int conf_format_user(const struct conf_user *u, struct buf *out)
{
	out->len = 0;
	if (buf_adds(out, u->hash) < 0)
		return -1;
	if (u->from[0] && buf_printf(out, " from=%s", u->from) < 0)
		return -1;
	if (u->class[0] && buf_printf(out, " class=%s", u->class) < 0)
		return -1;
	if (u->rate && buf_printf(out, " rate=%u/%c", u->rate,
	                          u->rate_per == 60 ? 'm' : u->rate_per == 3600 ? 'h' : 'd') < 0)
		return -1;
	return 0;
}

int conf_user_lookup(struct conf *users, const char *user, struct conf_user *u)
{
	char k[CONF_USER_MAX + 1];
	struct buf v = BUF_INIT;
	int r;
	if (conf_parse_user_key(user, k, sizeof k, NULL, 0) < 0)
		return 0; /* no such name can be in the table */
	r = conf_get(users, k, &v);
	if (r == 1 && conf_parse_user(v.p, u, NULL, 0) < 0) {
		errno = EPROTO;
		r = -1;
	}
	buf_free(&v);
	return r;
}

int conf_user_from_ok(const struct conf_user *u, const char *addr)
{
	const char *p = u->from, *at = strrchr(addr, '@');
	size_t an = strlen(addr);
	if (!u->from[0])
		return 1;
	if (!at)
		return 0;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (p[0] == '@') {
			if (strlen(at) == n && strncasecmp(at, p, n) == 0)
				return 1;
		} else if (an == n && strncasecmp(addr, p, n) == 0) {
			return 1;
		}
		p += n + (c ? 1 : 0);
	}
	return 0;
}

int conf_user_verify(const struct conf_user *u, const char *pass, size_t n)
{
	/* a fixed hash of a random password, interactive limits */
	static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$5ITS7cTeAO4edUTgWzXSmA$"
		"YxCuUwdqMD9yDVpoAWk+CFIY+2a7Eig74y3knN1L9zg";
	if (sodium_init() < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (crypto_pwhash_str_verify(u ? u->hash : dummy, pass, n) == 0)
		return u ? 1 : 0;
	return 0;
}

int conf_user_hash(const char *pass, size_t n, char *out, size_t cap)
{
	char h[crypto_pwhash_STRBYTES];
	if (sodium_init() < 0 ||
	    crypto_pwhash_str_alg(h, pass, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0 ||
	    strlen(h) >= cap) {
		errno = ENOMEM;
		return -1;
	}
	strcpy(out, h);
	return 0;
}
