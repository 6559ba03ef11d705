/* etc/settings: the table of known settings (name, type, default), the
 * check of one line for relay-config, and the one reader every program
 * uses (conf/settings.h). relay-queue links this file statically: it
 * needs libc, tinycdb, base/ and conf/parse.c, nothing more. */
#include "conf/settings.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/fileio.h"
#include "conf/conf.h"
#include "conf/parse.h"
#include "conf/redis_url.h"   /* cluster (issue 16) */

enum stype { S_HOST, S_ADDR, S_SIZE, S_COUNT, S_PATH, S_DURATION0, S_DURATION, S_BOOL, S_COMMIT,
             S_REDIS /* cluster (issue 16) */ };
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
	/* direct delivery (issue 15) */
	{ "mta_sts", S_BOOL, "yes" },            /* RFC 8461 policies for MX delivery */
	{ "mta_sts_ca", S_PATH, NULL },          /* none: the system's CAs */
	/* relay-smtpd (doc/relay-smtpd.8) */
	{ "smtpd_cert", S_PATH, NULL },          /* none: no STARTTLS, no -s */
	{ "smtpd_key", S_PATH, NULL },           /* none: the key is in smtpd_cert */
	{ "smtpd_max_recipients", S_COUNT, "1000" },
	{ "smtpd_max_errors", S_COUNT, "10" },   /* then the connection is dropped */
	{ "smtpd_timeout", S_DURATION, "5m" },   /* one command, or one DATA read */
	{ "smtpd_session_timeout", S_DURATION, "1h" },
	{ "smtpd_auth_delay", S_DURATION0, "1s" },   /* doubles with each failure */
	{ "smtpd_greeting_delay", S_DURATION0, "0s" }, /* early talkers are dropped */
	{ "smtpd_hide_user", S_BOOL, "no" },     /* yes: no "authenticated user" in Received */
	{ "smtpd_commit", S_COMMIT, "session" }, /* exec: one relay-queue per message */
	/* cluster (issue 16, doc/cluster.md) */
	{ "shared", S_REDIS, NULL },             /* none: every limit local */
	{ "shared_nodes", S_COUNT, NULL },       /* none: the nodes seen recently */
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

/* A size in bytes: digits only, no leading zero, at most max (2^40 has
 * 13 digits, more than conf_uint takes). 0 or -1. */
static int size_uint(const char *s, size_t n, unsigned long long max, unsigned long *v)
{
	unsigned long long x = 0;
	size_t i;
	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned long long)(s[i] - '0');
	}
	if (x > max || x > ULONG_MAX)
		return -1;
	*v = (unsigned long)x;
	return 0;
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
		if (size_uint(f, strlen(f), 1ULL << 40, &v) < 0 || v < 1024)
			return conf_fail(err, errcap, "%s: bad size \"%.32s\" (want bytes, 1024..2^40)", st->name, f);
		return buf_printf(out, "%lu", v);
	case S_COUNT:
		if (conf_uint(f, strlen(f), 100000, &v) < 0 || v == 0)
			return conf_fail(err, errcap, "%s: bad number \"%.32s\" (want 1..100000)", st->name, f);
		return buf_printf(out, "%lu", v);
	case S_COMMIT:
		if (strcmp(f, "session") != 0 && strcmp(f, "exec") != 0)
			return conf_fail(err, errcap, "%s: bad value \"%.32s\" (want session or exec)", st->name, f);
		return buf_adds(out, f);
	case S_BOOL:
		conf_lower(f);
		if (strcmp(f, "yes") != 0 && strcmp(f, "no") != 0)
			return conf_fail(err, errcap, "%s: want yes or no, not \"%.32s\"", st->name, f);
		return buf_adds(out, f);
	case S_PATH:
		if (strlen(f) > CONF_PATH_MAX)
			return conf_fail(err, errcap, "%s: file name too long", st->name);
		return buf_adds(out, f);
	case S_REDIS: {   /* cluster (issue 16) */
		struct redis_url u;
		char why[160];
		if (redis_url_parse(f, &u, why, sizeof why) < 0)
			return conf_fail(err, errcap, "%s: %s", st->name, why);
		return buf_adds(out, f);
	}
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

/* ---- the reader: cdb_seek on the file, no mapping, a handful of
 * reads per key (the cheapest way to one value of a small CDB) ---- */

/* The value of key into val (replaced, NUL-terminated). 1, 0 absent,
 * -1 error. tinycdb's short read (EIO) means the file is not a CDB:
 * EPROTO, as conf_open says. */
static int seek_value(int fd, const char *key, struct buf *val)
{
	unsigned dlen;
	ssize_t got;
	int r = cdb_seek(fd, key, (unsigned)strlen(key), &dlen);
	if (r <= 0) {
		if (r < 0 && errno == EIO)
			errno = EPROTO;
		return r;
	}
	val->len = 0;
	if (buf_reserve(val, dlen) < 0 || (got = read_full(fd, val->p, dlen)) < 0)
		return -1;
	if ((size_t)got != dlen) {
		errno = EPROTO;
		return -1;
	}
	val->len = dlen;
	val->p[dlen] = 0;
	return 1;
}

/* Open home/etc/settings.cdb and check its version record. 1 open (*fd),
 * 0 no such file, -1 error (EPROTO: not a CDB of format CONF_VERSION). */
static int settings_open(const char *home, int *fd)
{
	char path[PATH_MAX];
	struct buf v = BUF_INIT;
	int r, e;
	if (snprintf(path, sizeof path, "%s/etc/settings.cdb", home) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? 0 : -1;
	r = seek_value(*fd, "", &v);
	if (r == 0 || (r == 1 && strcmp(v.p, CONF_VERSION) != 0)) {
		errno = EPROTO;
		r = -1;
	}
	buf_free(&v);
	if (r < 0) {
		e = errno;
		close(*fd);
		errno = e;
		return -1;
	}
	return 1;
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

/* One open of settings.cdb per call, however many keys the default
 * needs (helo and postmaster: hostname too). */
static int lookup(const char *home, const char *key, int defaults, struct buf *val)
{
	const char *d;
	int fd = -1, r, e;
	r = settings_open(home, &fd);
	if (r < 0)
		return -1;
	if (r == 1)
		r = seek_value(fd, key, val);
	if (r == 0 && defaults && strcmp(key, "hostname") == 0) {
		r = system_hostname(val);
	} else if (r == 0 && defaults && (strcmp(key, "helo") == 0 || strcmp(key, "postmaster") == 0)) {
		struct buf h = BUF_INIT;
		r = fd >= 0 ? seek_value(fd, "hostname", &h) : 0;
		if (r == 0)
			r = system_hostname(&h);
		if (r == 1) {
			val->len = 0;
			r = buf_printf(val, "%s%s", key[0] == 'p' ? "postmaster@" : "", h.p) < 0 ? -1 : 1;
		}
		buf_free(&h);
	} else if (r == 0 && defaults && (d = conf_setting_default(key))) {
		val->len = 0;
		r = buf_adds(val, d) < 0 ? -1 : 1;
	}
	if (fd >= 0) {
		e = errno;
		close(fd);
		errno = e;
	}
	return r;
}

int conf_setting_value(const char *home, const char *key, struct buf *val)
{
	return lookup(home, key, 1, val);
}

int conf_setting(const char *home, const char *key, struct buf *val)
{
	return lookup(home, key, 0, val);
}

int conf_setting_number(const char *home, const char *key, unsigned long *v)
{
	struct buf b = BUF_INIT;
	const struct setting *st = known(key);
	int r;
	if (!st || (st->type != S_SIZE && st->type != S_COUNT && st->type != S_BOOL &&
	            st->type != S_DURATION && st->type != S_DURATION0)) {
		errno = EINVAL;
		return -1;
	}
	r = conf_setting_value(home, key, &b);
	if (r == 1) {
		if (st->type == S_SIZE) {
			if (size_uint(b.p, b.len, 1ULL << 40, v) < 0)
				r = -1;
		} else if (st->type == S_COUNT) {
			if (conf_uint(b.p, b.len, ULONG_MAX / 10, v) < 0)
				r = -1;
		} else if (st->type == S_BOOL) {
			if (strcmp(b.p, "yes") == 0)
				*v = 1;
			else if (strcmp(b.p, "no") == 0)
				*v = 0;
			else
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
