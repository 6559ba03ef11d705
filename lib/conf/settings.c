/* etc/settings: the table of known settings (name, type, default), the
 * check of one line for relay-config, and the one reader every program
 * uses (conf/settings.h). relay-queue links this file statically: it
 * needs libc, tinycdb, base/ and conf/'s reader and parsers, nothing
 * more. */
#include "conf/settings.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "conf/conf.h"
#include "conf/parse.h"

enum stype { S_HOST, S_ADDR, S_SIZE, S_COUNT, S_PATH, S_DURATION0, S_DURATION };
static const struct setting {
	const char *name;
	enum stype type;
	const char *dflt;
} settings[] = {
	{ "hostname", S_HOST, NULL },            /* none: gethostname() */
	{ "helo", S_HOST, NULL },                /* none: hostname */
	{ "postmaster", S_ADDR, NULL },          /* none: postmaster@hostname */
	{ "maxsize", S_SIZE, "33554432" },       /* MSG_SIZE_DEFAULT */
	{ "concurrency", S_COUNT, "20" },
	{ "dns_config", S_PATH, NULL },          /* none: the system resolver */
	{ "bounce_delay_warning", S_DURATION0, "4h" }, /* 0s: no warnings */
	{ "suppression_expiry", S_DURATION, "90d" },
	{ "bounce_size_limit", S_COUNT, "50000" }, /* bytes of the original in a DSN */
	{ "hopcount_limit", S_COUNT, "100" },      /* Received: lines: a loop, no DSN */
	{ "smtp_timeout", S_DURATION0, "0s" },   /* 0s: RFC 5321 4.5.3.2 per stage */
	{ NULL, 0, NULL }
};

static const struct setting *known(const char *key)
{
	const struct setting *st;
	for (st = settings; st->name; st++)
		if (strcmp(st->name, key) == 0)
			return st;
	return NULL;
}

const char *conf_setting_default(const char *key)
{
	const struct setting *st = known(key);
	return st ? st->dflt : NULL;
}

int conf_parse_setting(const char *key, const char *value, struct buf *out,
                       char *err, size_t errcap)
{
	char f[CONF_LINE_MAX + 1], lk[CONF_NAME_MAX + 1], extra[2], h[CONF_HOST_MAX + 1];
	const struct setting *st;
	const char *s = value;
	unsigned long v;
	int r;
	if (strlen(key) > CONF_NAME_MAX)
		return conf_fail(err, errcap, "unknown setting \"%.64s...\"", key);
	strcpy(lk, key);
	conf_lower(lk);
	if (!(st = known(lk)))
		return conf_fail(err, errcap, "unknown setting \"%.64s\"", key);
	r = conf_field(&s, f, sizeof f);
	if (r == 0)
		return conf_fail(err, errcap, "%s: missing value", st->name);
	if (r < 0)
		return conf_fail(err, errcap, "%s: value too long", st->name);
	if (conf_field(&s, extra, sizeof extra) != 0)
		return conf_fail(err, errcap, "%s: more than one value", st->name);
	out->len = 0;
	switch (st->type) {
	case S_HOST:
		if (conf_parse_host(f, h, sizeof h, err, errcap) < 0)
			return -1;
		return buf_adds(out, h);
	case S_ADDR: {
		char *at = strrchr(f, '@');
		size_t i;
		if (!at || at == f || at - f > ADDR_LOCAL_MAX)
			return conf_fail(err, errcap, "%s: bad address \"%.64s\" (want user@domain)", st->name, f);
		for (i = 0; f + i < at; i++)
			if (!conf_atext(f[i]))
				return conf_fail(err, errcap, "%s: bad address \"%.64s\"", st->name, f);
		if (conf_parse_host(at + 1, h, sizeof h, err, errcap) < 0)
			return -1;
		*at = 0;
		return buf_printf(out, "%s@%s", f, h);
	}
	case S_SIZE:
		if (conf_uint(f, strlen(f), 1UL << 40, &v) < 0 || v < 1024)
			return conf_fail(err, errcap, "%s: bad size \"%.32s\" (want bytes, 1024..2^40)", st->name, f);
		return buf_printf(out, "%lu", v);
	case S_COUNT:
		if (conf_uint(f, strlen(f), 100000, &v) < 0 || v == 0)
			return conf_fail(err, errcap, "%s: bad number \"%.32s\" (want 1..100000)", st->name, f);
		return buf_printf(out, "%lu", v);
	case S_PATH:
		if (strlen(f) > CONF_PATH_MAX)
			return conf_fail(err, errcap, "%s: file name too long", st->name);
		return buf_adds(out, f);
	case S_DURATION0:
	case S_DURATION: {
		char d[32];
		if (conf_parse_duration(f, &v, err, errcap) < 0)
			return -1;
		if (v == 0 && st->type == S_DURATION)
			return conf_fail(err, errcap, "%s: duration must be positive", st->name);
		conf_format_duration(v, d, sizeof d);
		return buf_adds(out, d);
	}
	}
	return conf_fail(err, errcap, "internal error");
}

/* gethostname(), lowercased, into out. 1, or -1. */
static int system_hostname(struct buf *out)
{
	char host[256];
	if (gethostname(host, sizeof host) < 0)
		return -1;
	host[sizeof host - 1] = 0;
	conf_lower(host);
	out->len = 0;
	return buf_adds(out, host) < 0 ? -1 : 1;
}

/* One open and one mapping of settings.cdb (conf_open) per call, however
 * many keys the default needs. */
int conf_setting_value(const char *home, const char *key, struct buf *val)
{
	struct conf c;
	const char *d;
	int r, e;
	if (conf_open(&c, home, "settings") < 0)
		return -1;
	r = conf_get(&c, key, val);
	if (r == 0 && strcmp(key, "hostname") == 0) {
		r = system_hostname(val);
	} else if (r == 0 && (strcmp(key, "helo") == 0 || strcmp(key, "postmaster") == 0)) {
		struct buf h = BUF_INIT;
		r = conf_get(&c, "hostname", &h);
		if (r == 0)
			r = system_hostname(&h);
		if (r == 1) {
			val->len = 0;
			r = buf_printf(val, "%s%s", key[0] == 'p' ? "postmaster@" : "", h.p) < 0 ? -1 : 1;
		}
		buf_free(&h);
	} else if (r == 0 && (d = conf_setting_default(key))) {
		val->len = 0;
		r = buf_adds(val, d) < 0 ? -1 : 1;
	}
	e = errno;
	conf_close(&c);
	errno = e;
	return r;
}

int conf_setting(const char *home, const char *key, struct buf *val)
{
	struct conf c;
	int r, e;
	if (conf_open(&c, home, "settings") < 0)
		return -1;
	r = conf_get(&c, key, val);
	e = errno;
	conf_close(&c);
	errno = e;
	return r;
}

int conf_setting_number(const char *home, const char *key, unsigned long *v)
{
	struct buf b = BUF_INIT;
	const struct setting *st = known(key);
	int r;
	if (!st || (st->type != S_SIZE && st->type != S_COUNT &&
	            st->type != S_DURATION && st->type != S_DURATION0)) {
		errno = EINVAL;
		return -1;
	}
	r = conf_setting_value(home, key, &b);
	if (r == 1) {
		if (st->type == S_SIZE || st->type == S_COUNT) {
			if (conf_uint(b.p, b.len, ULONG_MAX / 10, v) < 0)
				r = -1;
		} else if (conf_parse_duration(b.p, v, NULL, 0) < 0) {
			r = -1;
		}
		if (r < 0)
			errno = EPROTO; /* a CDB value that relay-config would not write */
	}
	buf_free(&b);
	return r;
}

/* ---- the old fast path, until relay-inject and relay-queue use the
 * getters above ---- */

int setting_get(const char *home, const char *key, char *out, size_t cap)
{
	struct buf v = BUF_INIT;
	int r = conf_setting(home, key, &v);
	if (r == 1) {
		if (v.len >= cap) {
			errno = ENAMETOOLONG;
			r = -1;
		} else {
			memcpy(out, v.p, v.len + 1);
		}
	}
	buf_free(&v);
	return r;
}

int setting_hostname(const char *home, char *out, size_t cap)
{
	int r = setting_get(home, "hostname", out, cap);
	if (r != 0)
		return r;
	if (gethostname(out, cap) < 0)
		return -1;
	out[cap - 1] = 0;
	return 1;
}
