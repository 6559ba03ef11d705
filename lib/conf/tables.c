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
		if (conf_parse_host(key + 3, h, sizeof h, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "to:%s", h) >= (int)cap)
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

static const char *const tls_names[] = { "none", "may", "encrypt", "verify" };

const char *conf_tls_mode_name(enum conf_tls_mode m)
{
	return (unsigned)m < 4 ? tls_names[m] : "?";
}

int conf_parse_tls(const char *value, struct conf_tls *t, char *err, size_t errcap)
{
	char f[CONF_PATH_MAX + 8];
	const char *s = value;
	size_t i;
	int r, have_ca = 0;
	memset(t, 0, sizeof *t);
	if (conf_field(&s, f, 16) != 1)
		return conf_fail(err, errcap, "missing or bad mode (want none, may, encrypt or verify)");
	conf_lower(f);
	for (i = 0; i < 4; i++)
		if (strcmp(f, tls_names[i]) == 0)
			break;
	if (i == 4)
		return conf_fail(err, errcap, "unknown tls mode \"%.64s\" (want none, may, encrypt or verify)", f);
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
		return conf_fail(err, errcap, "smtps needs mode encrypt or verify");
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

int conf_parse_limits(const char *value, struct conf_limits *l, char *err, size_t errcap)
{
	char f[64];
	const char *s = value;
	int r, have_c = 0, have_r = 0;
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
			char *slash = strchr(f + 5, '/');
			if (have_r++)
				return conf_fail(err, errcap, "rate= given twice");
			if (!slash || conf_uint(f + 5, (size_t)(slash - f - 5), 1000000, &v) < 0 || v == 0 ||
			    slash[1] == 0 || slash[2] != 0 || !strchr("smh", slash[1]))
				return conf_fail(err, errcap, "bad rate \"%.32s\" (want N/s, N/m or N/h, N 1..1000000)", f + 5);
			l->rate = (unsigned)v;
			l->rate_per = slash[1] == 's' ? 1 : slash[1] == 'm' ? 60 : 3600;
		} else {
			return conf_fail(err, errcap, "unknown limit \"%.64s\" (want concurrency=N or rate=N/s|N/m|N/h)", f);
		}
	}
	if (r < 0)
		return conf_fail(err, errcap, "limit too long");
	if (!have_c && !have_r)
		return conf_fail(err, errcap, "no limit given (want concurrency=N and/or rate=N/s|N/m|N/h)");
	return 0;
}

int conf_format_limits(const struct conf_limits *l, struct buf *out)
{
	out->len = 0;
	if (buf_adds(out, "") < 0)
		return -1;
	if (l->concurrency && buf_printf(out, "concurrency=%u", l->concurrency) < 0)
		return -1;
	if (l->rate && buf_printf(out, "%srate=%u/%c", l->concurrency ? " " : "", l->rate,
	                          l->rate_per == 1 ? 's' : l->rate_per == 60 ? 'm' : 'h') < 0)
		return -1;
	return 0;
}

/* ---- retry ---- */

void conf_retry_builtin(const char *class, struct conf_retry *r)
{
	static const unsigned long trans[] = { 60, 120, 300, 600, 1800, 3600 };
	static const unsigned long bulk[] = { 1800, 3600, 7200, 14400, 28800 };
	static const unsigned long dflt[] = { 300, 900, 1800, 3600, 7200, 14400 };
	const unsigned long *s = dflt;
	size_t n = sizeof dflt / sizeof dflt[0];
	memset(r, 0, sizeof *r);
	r->lifetime = 5 * 86400;
	if (class && strcmp(class, "transactional") == 0) {
		s = trans;
		n = sizeof trans / sizeof trans[0];
		r->lifetime = 86400;
	} else if (class && strcmp(class, "bulk") == 0) {
		s = bulk;
		n = sizeof bulk / sizeof bulk[0];
		r->lifetime = 3 * 86400;
	}
	memcpy(r->schedule, s, n * sizeof s[0]);
	r->n = n;
}

int conf_parse_retry(const char *class, const char *value, struct conf_retry *r,
                     char *err, size_t errcap)
{
	char f[CONF_LINE_MAX + 1];
	const char *s = value;
	int rc, have_s = 0, have_l = 0;
	conf_retry_builtin(class, r);
	while ((rc = conf_field(&s, f, sizeof f)) == 1) {
		if (strncasecmp(f, "schedule=", 9) == 0) {
			char *p = f + 9, *comma;
			if (have_s++)
				return conf_fail(err, errcap, "schedule= given twice");
			r->n = 0;
			for (;;) {
				comma = strchr(p, ',');
				if (comma)
					*comma = 0;
				if (r->n == CONF_RETRY_MAX)
					return conf_fail(err, errcap, "schedule has more than %d intervals", CONF_RETRY_MAX);
				if (!*p)
					return conf_fail(err, errcap, "empty interval in schedule");
				if (conf_parse_duration(p, &r->schedule[r->n], err, errcap) < 0)
					return -1;
				if (r->schedule[r->n] == 0)
					return conf_fail(err, errcap, "retry interval \"%.32s\" must be positive", p);
				r->n++;
				if (!comma)
					break;
				p = comma + 1;
			}
		} else if (strncasecmp(f, "lifetime=", 9) == 0) {
			if (have_l++)
				return conf_fail(err, errcap, "lifetime= given twice");
			if (conf_parse_duration(f + 9, &r->lifetime, err, errcap) < 0)
				return -1;
			if (r->lifetime == 0)
				return conf_fail(err, errcap, "lifetime must be positive");
		} else {
			return conf_fail(err, errcap, "unknown retry field \"%.64s\" (want schedule= or lifetime=)", f);
		}
	}
	if (rc < 0)
		return conf_fail(err, errcap, "retry field too long");
	if (r->lifetime < r->schedule[0])
		return conf_fail(err, errcap, "lifetime is shorter than the first retry interval");
	return 0;
}

int conf_format_retry(const struct conf_retry *r, struct buf *out)
{
	char d[32];
	size_t i;
	out->len = 0;
	if (buf_adds(out, "schedule=") < 0)
		return -1;
	for (i = 0; i < r->n; i++) {
		conf_format_duration(r->schedule[i], d, sizeof d);
		if (buf_printf(out, "%s%s", i ? "," : "", d) < 0)
			return -1;
	}
	conf_format_duration(r->lifetime, d, sizeof d);
	return buf_printf(out, " lifetime=%s", d);
}
