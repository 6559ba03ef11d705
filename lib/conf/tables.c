/* Each table's value parser and canonical formatter: pools, routes,
 * auth, tls, dkim, limits, retry (conf.h has the contract; settings are
 * in settings.c). */
#include "conf/conf.h"
#include "conf/parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"

/* ---- pools ---- */

static const char *const strategy_names[] = { "failover", "roundrobin", "weighted" };

const char *conf_strategy_name(enum conf_strategy s)
{
	return (unsigned)s < 3 ? strategy_names[s] : "?";
}

int conf_parse_pool(const char *value, struct conf_pool *p, char *err, size_t errcap)
{
	char f[CONF_LINE_MAX + 1];
	const char *s = value;
	size_t i;
	int r;
	memset(p, 0, sizeof *p);
	if (conf_field(&s, f, 64) != 1)
		return conf_fail(err, errcap, "missing or bad strategy (want failover, roundrobin or weighted)");
	conf_lower(f);
	for (i = 0; i < 3; i++)
		if (strcmp(f, strategy_names[i]) == 0)
			break;
	if (i == 3)
		return conf_fail(err, errcap, "unknown strategy \"%.64s\" (want failover, roundrobin or weighted)", f);
	p->strategy = (enum conf_strategy)i;
	while ((r = conf_field(&s, f, sizeof f)) == 1) {
		struct conf_member m;
		char *star = strrchr(f, '*');
		memset(&m, 0, sizeof m);
		m.weight = 1;
		if (star) {
			unsigned long w;
			*star = 0;
			if (p->strategy != CONF_WEIGHTED)
				return conf_fail(err, errcap, "member \"%.64s\": a *weight needs strategy weighted", f);
			if (conf_uint(star + 1, strlen(star + 1), 1000000, &w) < 0 || w == 0)
				return conf_fail(err, errcap, "member \"%.64s\": bad weight \"%.16s\" (want 1..1000000)", f, star + 1);
			m.weight = (unsigned)w;
		}
		if (strcasecmp(f, "mx") == 0) {
			m.mx = 1;
		} else if (conf_parse_hostport(f, 0, m.host, sizeof m.host, &m.port, err, errcap) < 0) {
			return -1;
		}
		for (i = 0; i < p->n; i++)
			if (p->m[i].mx == m.mx && p->m[i].port == m.port && strcmp(p->m[i].host, m.host) == 0)
				return conf_fail(err, errcap, "duplicate member \"%.64s\"", f);
		if (p->n == CONF_POOL_MAX)
			return conf_fail(err, errcap, "too many members (at most %d)", CONF_POOL_MAX);
		p->m[p->n++] = m;
	}
	if (r < 0)
		return conf_fail(err, errcap, "member too long");
	if (p->n == 0)
		return conf_fail(err, errcap, "no members (want host[:port][*weight] or mx)");
	return 0;
}

int conf_format_pool(const struct conf_pool *p, struct buf *out)
{
	size_t i;
	out->len = 0;
	if (buf_adds(out, conf_strategy_name(p->strategy)) < 0)
		return -1;
	for (i = 0; i < p->n; i++) {
		const struct conf_member *m = &p->m[i];
		int r = m->mx ? buf_adds(out, " mx")
		              : buf_printf(out, " %s:%u", m->host, m->port);
		if (r < 0 || (p->strategy == CONF_WEIGHTED && buf_printf(out, "*%u", m->weight) < 0))
			return -1;
	}
	return 0;
}

/* ---- routes ---- */
int conf_parse_route_key(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	char h[CONF_HOST_MAX + 1];
	size_t n = strlen(key);
	if (strcasecmp(key, "default") == 0) {
		if (cap < 8)
			return conf_fail(err, errcap, "no room");
		strcpy(out, "default");
		return 0;
	}
	if (strncasecmp(key, "class:", 6) == 0) {
		char name[CONF_NAME_MAX + 1];
		if (conf_parse_name(key + 6, name, sizeof name, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "class:%s", name) >= (int)cap)
			return conf_fail(err, errcap, "key too long");
		return 0;
	}
	if (strncasecmp(key, "to:", 3) == 0) {
		/* to:.example.com: its subdomains (not example.com itself) */
		int sub = key[3] == '.';
		if (conf_parse_host(key + 3 + sub, h, sizeof h, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "to:%s%s", sub ? "." : "", h) >= (int)cap)
			return conf_fail(err, errcap, "key too long");
		return 0;
	}
	if (strncasecmp(key, "from:", 5) == 0) {
		const char *addr = key + 5, *at = strrchr(addr, '@');
		size_t i, ln;
		if (!at)
			return conf_fail(err, errcap, "bad sender \"%.64s\" (want from:user@domain or from:@domain)", addr);
		ln = (size_t)(at - addr);
		if (ln > ADDR_LOCAL_MAX)
			return conf_fail(err, errcap, "local part of \"%.64s\" is longer than %d", addr, ADDR_LOCAL_MAX);
		for (i = 0; i < ln; i++)
			if (!conf_atext(addr[i]))
				return conf_fail(err, errcap, "bad sender \"%.64s\" (character '%c')", addr, addr[i]);
		if (conf_parse_host(at + 1, h, sizeof h, err, errcap) < 0)
			return -1;
		if (n + 1 > cap || ln + strlen(h) + 7 > cap)
			return conf_fail(err, errcap, "key too long");
		memcpy(out, "from:", 5);
		memcpy(out + 5, addr, ln);
		snprintf(out + 5 + ln, cap - 5 - ln, "@%s", h);
		conf_lower(out);
		return 0;
	}
	return conf_fail(err, errcap, "unknown route key \"%.64s\" (want from:, class:, to: or default)", key);
}

int conf_parse_route(const char *value, char *pool, size_t cap, char *err, size_t errcap)
{
	char f[CONF_NAME_MAX + 2], extra[2];
	const char *s = value;
	int r = conf_field(&s, f, sizeof f);
	if (r == 0)
		return conf_fail(err, errcap, "missing pool name");
	if (r < 0)
		return conf_fail(err, errcap, "pool name too long (at most %d)", CONF_NAME_MAX);
	if (conf_field(&s, extra, sizeof extra) != 0)
		return conf_fail(err, errcap, "more than one pool after the key");
	return conf_parse_name(f, pool, cap, err, errcap);
}

/* ---- auth ---- */

int conf_parse_auth(const char *value, struct conf_auth *a, char *err, size_t errcap)
{
	const char *s = value;
	size_t n;
	int r;
	memset(a, 0, sizeof *a);
	r = conf_field(&s, a->user, sizeof a->user);
	if (r == 0)
		return conf_fail(err, errcap, "missing user name and password");
	if (r < 0)
		return conf_fail(err, errcap, "user name too long (at most %zu)", sizeof a->user - 1);
	for (n = 0; a->user[n]; n++)
		if ((unsigned char)a->user[n] < 0x21 || (unsigned char)a->user[n] > 0x7e)
			return conf_fail(err, errcap, "bad character in user name");
	while (is_ws(*s))
		s++;
	n = strlen(s);
	while (n && is_ws(s[n - 1]))
		n--;
	if (n == 0)
		return conf_fail(err, errcap, "missing password");
	if (n >= sizeof a->pass)
		return conf_fail(err, errcap, "password too long (at most %zu)", sizeof a->pass - 1);
	memcpy(a->pass, s, n);
	a->pass[n] = 0;
	for (; *s && n; s++, n--)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return conf_fail(err, errcap, "control character in password");
	return 0;
}

void conf_auth_wipe(struct conf_auth *a)
{
	volatile char *p = (volatile char *)a->pass;
	size_t i;
	for (i = 0; i < sizeof a->pass; i++)
		p[i] = 0;
}

/* ---- tls ---- */

static const char *const tls_names[] = { "none", "may", "encrypt", "verify", "dane", "dane-only" };
#define TLS_NMODES (sizeof tls_names / sizeof tls_names[0])

const char *conf_tls_mode_name(enum conf_tls_mode m)
{
	return (unsigned)m < TLS_NMODES ? tls_names[m] : "?";
}

int conf_parse_tls(const char *value, struct conf_tls *t, char *err, size_t errcap)
{
	char f[CONF_PATH_MAX + 8];
	const char *s = value;
	size_t i;
	int r, have_ca = 0;
	memset(t, 0, sizeof *t);
	if (conf_field(&s, f, 16) != 1)
		return conf_fail(err, errcap, "missing or bad mode (want none, may, encrypt, verify, dane or dane-only)");
	conf_lower(f);
	for (i = 0; i < TLS_NMODES; i++)
		if (strcmp(f, tls_names[i]) == 0)
			break;
	if (i == TLS_NMODES)
		return conf_fail(err, errcap, "unknown tls mode \"%.64s\" (want none, may, encrypt, verify, dane or dane-only)", f);
	t->mode = (enum conf_tls_mode)i;
	while ((r = conf_field(&s, f, sizeof f)) == 1) {
		if (strcasecmp(f, "smtps") == 0) {
			if (t->smtps)
				return conf_fail(err, errcap, "smtps given twice");
			t->smtps = 1;
		} else if (strncasecmp(f, "ca=", 3) == 0) {
			if (have_ca)
				return conf_fail(err, errcap, "ca= given twice");
			if (!f[3])
				return conf_fail(err, errcap, "empty ca= file");
			if (strlen(f + 3) > CONF_PATH_MAX)
				return conf_fail(err, errcap, "ca= file name too long");
			strcpy(t->ca, f + 3);
			have_ca = 1;
		} else {
			return conf_fail(err, errcap, "unknown tls option \"%.64s\" (want smtps or ca=FILE)", f);
		}
	}
	if (r < 0)
		return conf_fail(err, errcap, "tls option too long");
	if (t->smtps && t->mode < CONF_TLS_ENCRYPT)
		return conf_fail(err, errcap, "smtps needs mode encrypt, verify, dane or dane-only");
	if (have_ca && t->mode != CONF_TLS_VERIFY)
		return conf_fail(err, errcap, "ca= needs mode verify");
	return 0;
}

int conf_format_tls(const struct conf_tls *t, struct buf *out)
{
	out->len = 0;
	if (buf_adds(out, conf_tls_mode_name(t->mode)) < 0 ||
	    (t->smtps && buf_adds(out, " smtps") < 0) ||
	    (t->ca[0] && buf_printf(out, " ca=%s", t->ca) < 0))
		return -1;
	return 0;
}

void conf_tls_default(unsigned port, struct conf_tls *t)
{
	memset(t, 0, sizeof *t);
	if (port == 465) {
		t->mode = CONF_TLS_VERIFY;
		t->smtps = 1;
	} else {
		t->mode = CONF_TLS_MAY;
	}
}

/* ---- dkim ---- */

static const char *const dkim_names[] = { "rsa-sha256", "ed25519-sha256" };

const char *conf_dkim_alg_name(enum conf_dkim_alg a)
{
	return (unsigned)a < 2 ? dkim_names[a] : "?";
}

int conf_parse_dkim(const char *value, struct conf_dkim *d, char *err, size_t errcap)
{
	char f[CONF_PATH_MAX + 2];
	const char *s = value;
	int r;
	memset(d, 0, sizeof *d);
	r = conf_field(&s, f, sizeof d->selector);
	if (r == 0)
		return conf_fail(err, errcap, "missing selector and key file");
	if (r < 0)
		return conf_fail(err, errcap, "selector too long");
	if (conf_labels(f, strlen(f), 1, "selector", err, errcap) < 0)
		return -1;
	strcpy(d->selector, f);
	conf_lower(d->selector);
	r = conf_field(&s, f, sizeof d->keyfile);
	if (r == 0)
		return conf_fail(err, errcap, "missing key file");
	if (r < 0)
		return conf_fail(err, errcap, "key file name too long");
	strcpy(d->keyfile, f);
	r = conf_field(&s, f, 32);
	if (r < 0)
		return conf_fail(err, errcap, "unknown algorithm (want rsa-sha256 or ed25519-sha256)");
	if (r == 1) {
		conf_lower(f);
		if (strcmp(f, "rsa-sha256") == 0)
			d->alg = CONF_DKIM_RSA_SHA256;
		else if (strcmp(f, "ed25519-sha256") == 0)
			d->alg = CONF_DKIM_ED25519_SHA256;
		else
			return conf_fail(err, errcap, "unknown algorithm \"%.64s\" (want rsa-sha256 or ed25519-sha256)", f);
		if (conf_field(&s, f, 2) != 0)
			return conf_fail(err, errcap, "extra fields after the algorithm");
	}
	return 0;
}

int conf_format_dkim(const struct conf_dkim *d, struct buf *out)
{
	out->len = 0;
	return buf_printf(out, "%s %s %s", d->selector, d->keyfile, conf_dkim_alg_name(d->alg));
}

/* ---- limits ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, unsigned *m, unsigned *d)
{
	long era, doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "N/u" with u one of units (s m h d): *n and *per (seconds). */
static int per_unit(const char *s, const char *units, unsigned long max, unsigned long *n, unsigned *per)
{
	const char *slash = strchr(s, '/');
	if (!slash || conf_uint(s, (size_t)(slash - s), max, n) < 0 || *n == 0 ||
	    slash[1] == 0 || slash[2] != 0 || !strchr(units, slash[1]))
		return -1;
	*per = slash[1] == 's' ? 1 : slash[1] == 'm' ? 60 : slash[1] == 'h' ? 3600 : 86400;
	return 0;
}

static char unit_of(unsigned per)
{
	return per == 1 ? 's' : per == 60 ? 'm' : per == 3600 ? 'h' : 'd';
}

/* "YYYY-MM-DD:N,N,..." or "YYYY-MM-DD:FIRST*FACTOR:CEILING". */
static int parse_ramp(const char *s, struct conf_limits *l, char *err, size_t errcap)
{
	unsigned long y, mo, d, v, f, ceil;
	const char *p = s, *c;
	int yy;
	unsigned mm, dd;
	if (strlen(s) < 12 || s[4] != '-' || s[7] != '-' || s[10] != ':' ||
	    conf_uint(s, 4, 9999, &y) < 0 || y < 1970 ||
	    (conf_uint(s + 5, 2, 12, &mo) < 0 && !(s[5] == '0' && conf_uint(s + 6, 1, 9, &mo) == 0)) ||
	    (conf_uint(s + 8, 2, 31, &d) < 0 && !(s[8] == '0' && conf_uint(s + 9, 1, 9, &d) == 0)) ||
	    mo == 0 || d == 0)
		return conf_fail(err, errcap, "bad ramp \"%.64s\" (want ramp=YYYY-MM-DD:N,N,... or ramp=YYYY-MM-DD:N*F:MAX)", s);
	l->ramp_day0 = days_from_civil((long)y, (unsigned)mo, (unsigned)d);
	civil_from_days(l->ramp_day0, &yy, &mm, &dd);
	if ((unsigned long)yy != y || mm != mo || dd != d)
		return conf_fail(err, errcap, "ramp: no such date \"%.10s\"", s);
	p = s + 11;
	if ((c = strchr(p, '*'))) {
		const char *colon = strchr(c, ':');
		if (!colon || conf_uint(p, (size_t)(c - p), 100000000, &v) < 0 || v == 0 ||
		    conf_uint(c + 1, (size_t)(colon - c - 1), 100, &f) < 0 || f < 2 ||
		    conf_uint(colon + 1, strlen(colon + 1), 100000000, &ceil) < 0 || ceil < v)
			return conf_fail(err, errcap, "bad ramp \"%.64s\" (want FIRST*FACTOR:CEILING, factor 2..100, ceiling >= first)", s);
		for (l->ramp_n = 0; l->ramp_n < CONF_RAMP_MAX - 1 && v < ceil; v *= f)
			l->ramp[l->ramp_n++] = v;
		l->ramp[l->ramp_n++] = ceil;
		return 0;
	}
	for (l->ramp_n = 0;;) {
		c = strchr(p, ',');
		if (l->ramp_n == CONF_RAMP_MAX)
			return conf_fail(err, errcap, "ramp has more than %d days", CONF_RAMP_MAX);
		if (conf_uint(p, c ? (size_t)(c - p) : strlen(p), 100000000, &v) < 0 || v == 0)
			return conf_fail(err, errcap, "bad ramp volume in \"%.64s\" (want 1..100000000)", s);
		l->ramp[l->ramp_n++] = v;
		if (!c)
			return 0;
		p = c + 1;
	}
}

/* mx=GLOB,GLOB: each a host name whose labels may be "*" (any labels). */
static int parse_site_mx(const char *s, struct conf_limits *l, char *err, size_t errcap)
{
	size_t n = strlen(s), i;
	if (n == 0 || n > CONF_HOST_MAX)
		return conf_fail(err, errcap, "bad mx= \"%.64s\" (want mx=GLOB,GLOB, e.g. mx=*.google.com)", s);
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("-.*,", s[i]))
			return conf_fail(err, errcap, "bad mx= pattern \"%.64s\" (character '%c')", s, s[i]);
	if (s[0] == ',' || s[n - 1] == ',' || strstr(s, ",,"))
		return conf_fail(err, errcap, "empty pattern in mx= \"%.64s\"", s);
	memcpy(l->mx, s, n + 1);
	conf_lower(l->mx);
	return 0;
}

int conf_parse_limits(const char *value, struct conf_limits *l, char *err, size_t errcap)
{
	char f[CONF_LINE_MAX + 1];
	const char *s = value;
	int r, have_c = 0, have_r = 0, have_q = 0, have_ramp = 0, have_mx = 0;
	unsigned long v;
	memset(l, 0, sizeof *l);
	while ((r = conf_field(&s, f, sizeof f)) == 1) {
		if (strncasecmp(f, "concurrency=", 12) == 0) {
			if (have_c++)
				return conf_fail(err, errcap, "concurrency= given twice");
			if (conf_uint(f + 12, strlen(f + 12), 100000, &v) < 0 || v == 0)
				return conf_fail(err, errcap, "bad concurrency \"%.32s\" (want 1..100000)", f + 12);
			l->concurrency = (unsigned)v;
		} else if (strncasecmp(f, "rate=", 5) == 0) {
			if (have_r++)
				return conf_fail(err, errcap, "rate= given twice");
			if (per_unit(f + 5, "smhd", 1000000, &v, &l->rate_per) < 0)
				return conf_fail(err, errcap, "bad rate \"%.32s\" (want N/s, N/m, N/h or N/d, N 1..1000000)", f + 5);
			l->rate = (unsigned)v;
		} else if (strncasecmp(f, "quota=", 6) == 0) {
			if (have_q++)
				return conf_fail(err, errcap, "quota= given twice");
			if (per_unit(f + 6, "hd", 100000000, &l->quota, &l->quota_per) < 0)
				return conf_fail(err, errcap, "bad quota \"%.32s\" (want N/h or N/d, N 1..100000000)", f + 6);
		} else if (strncasecmp(f, "ramp=", 5) == 0) {
			if (have_ramp++)
				return conf_fail(err, errcap, "ramp= given twice");
			if (parse_ramp(f + 5, l, err, errcap) < 0)
				return -1;
		} else if (strncasecmp(f, "mx=", 3) == 0) {
			if (have_mx++)
				return conf_fail(err, errcap, "mx= given twice");
			if (parse_site_mx(f + 3, l, err, errcap) < 0)
				return -1;
		} else {
			return conf_fail(err, errcap, "unknown limit \"%.64s\" (want concurrency=N, rate=N/s|N/m|N/h|N/d, "
			                 "quota=N/h|N/d, ramp=DATE:LIST or mx=GLOB,...)", f);
		}
	}
	if (r < 0)
		return conf_fail(err, errcap, "limit too long");
	if (!have_c && !have_r && !have_q && !have_ramp)
		return conf_fail(err, errcap, "no limit given (want concurrency=N, rate=N/s|N/m|N/h|N/d, quota= or ramp=)");
	return 0;
}

int conf_format_limits(const struct conf_limits *l, struct buf *out)
{
	size_t i;
	out->len = 0;
	if (buf_adds(out, "") < 0)
		return -1;
	if (l->concurrency && buf_printf(out, "concurrency=%u", l->concurrency) < 0)
		return -1;
	if (l->rate && buf_printf(out, "%srate=%u/%c", out->len ? " " : "", l->rate, unit_of(l->rate_per)) < 0)
		return -1;
	if (l->quota && buf_printf(out, "%squota=%lu/%c", out->len ? " " : "", l->quota, unit_of(l->quota_per)) < 0)
		return -1;
	if (l->ramp_n) {
		int y;
		unsigned m, d;
		civil_from_days(l->ramp_day0, &y, &m, &d);
		if (buf_printf(out, "%sramp=%04d-%02u-%02u:", out->len ? " " : "", y, m, d) < 0)
			return -1;
		for (i = 0; i < l->ramp_n; i++)
			if (buf_printf(out, "%s%lu", i ? "," : "", l->ramp[i]) < 0)
				return -1;
	}
	if (l->mx[0] && buf_printf(out, "%smx=%s", out->len ? " " : "", l->mx) < 0)
		return -1;
	return 0;
}
