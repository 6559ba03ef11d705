/* The config layer: reading compiled CDB tables, and the parsers of
 * each table's lines (conf.h has the contract). */
#include "conf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/diag.h"

const char *const conf_tables[] = {
	"pools", "routes", "auth", "tls", "dkim", "limits", "retry", "settings", NULL
};

/* ---- reading ---- */

int conf_open(struct conf *c, const char *home, const char *table)
{
	char path[PATH_MAX];
	int e;
	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (snprintf(path, sizeof path, "%s/etc/%s.cdb", home, table) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		if (errno == ENOENT)
			return 1;
		return -1;
	}
	if (cdb_init(&c->cdb, c->fd) < 0) {
		e = errno;
		close(c->fd);
		c->fd = -1;
		errno = e ? e : EPROTO;
		return -1;
	}
	/* The version record: a CDB without it is not ours. */
	if (cdb_find(&c->cdb, "", 0) <= 0 || cdb_datalen(&c->cdb) != strlen(CONF_VERSION) ||
	    !cdb_getdata(&c->cdb) ||
	    memcmp(cdb_getdata(&c->cdb), CONF_VERSION, strlen(CONF_VERSION)) != 0) {
		conf_close(c);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

void conf_close(struct conf *c)
{
	if (c->fd >= 0) {
		cdb_free(&c->cdb);
		close(c->fd);
	}
	c->fd = -1;
	buf_free(&c->fkey);
}

/* Copy the current data (or key) of cdb into b. */
static int copy_out(struct cdb *cdb, unsigned pos, unsigned len, struct buf *b)
{
	const void *p = cdb_get(cdb, len, pos);
	if (!p) {
		errno = EPROTO;
		return -1;
	}
	b->len = 0;
	return buf_add(b, p, len);
}

int conf_get(struct conf *c, const char *key, struct buf *val)
{
	int r;
	if (c->fd < 0)
		return 0;
	r = cdb_find(&c->cdb, key, (unsigned)strlen(key));
	if (r < 0) {
		errno = EPROTO;
		return -1;
	}
	if (r == 0)
		return 0;
	if (copy_out(&c->cdb, cdb_datapos(&c->cdb), cdb_datalen(&c->cdb), val) < 0)
		return -1;
	return 1;
}

int conf_find(struct conf *c, const char *key)
{
	c->finding = 0;
	if (c->fd < 0)
		return 0;
	c->fkey.len = 0;
	if (buf_add(&c->fkey, key, strlen(key)) < 0)
		return -1;
	if (cdb_findinit(&c->find, &c->cdb, c->fkey.p, (unsigned)c->fkey.len) < 0) {
		errno = EPROTO;
		return -1;
	}
	c->finding = 1;
	return 0;
}

int conf_next(struct conf *c, struct buf *val)
{
	int r;
	if (c->fd < 0 || !c->finding)
		return 0;
	r = cdb_findnext(&c->find);
	if (r <= 0) {
		c->finding = 0;
		if (r < 0) {
			errno = EPROTO;
			return -1;
		}
		return 0;
	}
	if (copy_out(&c->cdb, cdb_datapos(&c->cdb), cdb_datalen(&c->cdb), val) < 0)
		return -1;
	return 1;
}

void conf_rewind(struct conf *c)
{
	if (c->fd >= 0)
		cdb_seqinit(&c->seq, &c->cdb);
}

int conf_each(struct conf *c, struct buf *key, struct buf *val)
{
	int r;
	if (c->fd < 0)
		return 0;
	for (;;) {
		r = cdb_seqnext(&c->seq, &c->cdb);
		if (r < 0) {
			errno = EPROTO;
			return -1;
		}
		if (r == 0)
			return 0;
		if (cdb_keylen(&c->cdb) == 0)
			continue; /* the version record */
		if (copy_out(&c->cdb, cdb_keypos(&c->cdb), cdb_keylen(&c->cdb), key) < 0 ||
		    copy_out(&c->cdb, cdb_datapos(&c->cdb), cdb_datalen(&c->cdb), val) < 0)
			return -1;
		return 1;
	}
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

int conf_path(const char *home, const char *file, struct buf *out)
{
	out->len = 0;
	if (file[0] == '/')
		return buf_adds(out, file);
	return buf_printf(out, "%s/etc/%s", home, file);
}

char *conf_lower(char *s)
{
	char *p;
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* Try one routes key; 1 found, 0 absent, -1 error. */
static int route_try(struct conf *routes, struct buf *k, struct buf *pool)
{
	if (!k->p)
		return 0;
	conf_lower(k->p);
	return conf_get(routes, k->p, pool);
}

int conf_route(struct conf *routes, const char *sender, const char *class,
               const char *rcpt_domain, struct buf *pool)
{
	struct buf k = BUF_INIT;
	const char *at;
	int r = 0;
	if (sender && *sender) {
		if (buf_printf(&k, "from:%s", sender) < 0)
			goto oom;
		if ((r = route_try(routes, &k, pool)) != 0)
			goto out;
		at = strrchr(sender, '@');
		if (at) {
			k.len = 0;
			if (buf_printf(&k, "from:%s", at) < 0)
				goto oom;
			if ((r = route_try(routes, &k, pool)) != 0)
				goto out;
		}
	}
	if (class && *class) {
		k.len = 0;
		if (buf_printf(&k, "class:%s", class) < 0)
			goto oom;
		if ((r = route_try(routes, &k, pool)) != 0)
			goto out;
	}
	if (rcpt_domain && *rcpt_domain) {
		k.len = 0;
		if (buf_printf(&k, "to:%s", rcpt_domain) < 0)
			goto oom;
		if ((r = route_try(routes, &k, pool)) != 0)
			goto out;
	}
	r = conf_get(routes, "default", pool);
out:
	buf_free(&k);
	return r;
oom:
	buf_free(&k);
	return -1;
}

/* ---- parsing helpers ---- */

/* Format a reason into err, made safe for one log line; returns -1. */
static int fail(char *err, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (err && cap)
		safe_text(err, cap, tmp, strlen(tmp));
	return -1;
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The next whitespace-separated field of *s into out (cap bytes with the
 * NUL). 1 a field, 0 none left, -1 field too long. */
static int field(const char **s, char *out, size_t cap)
{
	const char *p = *s, *q;
	size_t n;
	while (is_ws(*p))
		p++;
	if (!*p) {
		*s = p;
		return 0;
	}
	for (q = p; *q && !is_ws(*q); q++)
		;
	n = (size_t)(q - p);
	*s = q;
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 1;
}

/* Digits only, no sign, no leading zero, at most max. */
static int parse_uint(const char *s, size_t n, unsigned long max, unsigned long *v)
{
	unsigned long x = 0;
	size_t i;
	if (n == 0 || n > 12 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

int conf_parse_duration(const char *s, unsigned long *secs, char *err, size_t errcap)
{
	size_t n = strlen(s), d;
	unsigned long v, mult;
	for (d = 0; d < n && is_digit(s[d]); d++)
		;
	if (d == 0 || d + 1 != n)
		return fail(err, errcap, "bad duration \"%.64s\" (want a number and s, m, h, d or w)", s);
	switch (s[d]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default:
		return fail(err, errcap, "bad duration \"%.64s\" (want a number and s, m, h, d or w)", s);
	}
	if (d > 10 || (d > 1 && s[0] == '0'))
		return fail(err, errcap, "bad duration \"%.64s\"", s);
	if (parse_uint(s, d, ULONG_MAX / (7 * 86400), &v) < 0 || v * mult > CONF_DURATION_MAX)
		return fail(err, errcap, "duration \"%.64s\" is too long (at most 3650d)", s);
	*secs = v * mult;
	return 0;
}

void conf_format_duration(unsigned long secs, char *out, size_t cap)
{
	if (secs && secs % (7 * 86400) == 0)
		snprintf(out, cap, "%luw", secs / (7 * 86400));
	else if (secs && secs % 86400 == 0)
		snprintf(out, cap, "%lud", secs / 86400);
	else if (secs && secs % 3600 == 0)
		snprintf(out, cap, "%luh", secs / 3600);
	else if (secs && secs % 60 == 0)
		snprintf(out, cap, "%lum", secs / 60);
	else
		snprintf(out, cap, "%lus", secs);
}

/* LDH labels separated by dots; underscore too when allow_us (DKIM
 * selectors). 0 ok, else -1 and err. */
static int check_labels(const char *s, size_t n, int allow_us, const char *what,
                        char *err, size_t errcap)
{
	size_t i, lab = 0;
	if (n == 0)
		return fail(err, errcap, "empty %s", what);
	if (n > 253)
		return fail(err, errcap, "%s \"%.64s...\" is too long", what, s);
	for (i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (lab == 0)
				return fail(err, errcap, "bad %s \"%.64s\" (empty label)", what, s);
			if (lab > 63)
				return fail(err, errcap, "bad %s \"%.64s\" (label longer than 63)", what, s);
			if (s[i - 1] == '-' || s[i - lab] == '-')
				return fail(err, errcap, "bad %s \"%.64s\" (label starts or ends with -)", what, s);
			lab = 0;
		} else if (is_alnum(c) || c == '-' || (allow_us && c == '_')) {
			lab++;
		} else {
			return fail(err, errcap, "bad %s \"%.64s\" (character '%c')", what, s, c);
		}
	}
	return 0;
}

int conf_parse_host(const char *s, char *out, size_t cap, char *err, size_t errcap)
{
	size_t n = strlen(s), i;
	int numeric = 1;
	if (n == 0)
		return fail(err, errcap, "empty host name");
	if (n > CONF_HOST_MAX || n + 1 > cap)
		return fail(err, errcap, "host \"%.64s...\" is too long", s);
	if (s[0] == '[') {
		char a[64], txt[INET6_ADDRSTRLEN];
		struct in6_addr in6;
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof a)
			return fail(err, errcap, "bad address literal \"%.64s\"", s);
		memcpy(a, s + 1, n - 2);
		a[n - 2] = 0;
		if (inet_pton(AF_INET6, a, &in6) != 1 || !inet_ntop(AF_INET6, &in6, txt, sizeof txt))
			return fail(err, errcap, "bad IPv6 address \"%.64s\"", s);
		if (strlen(txt) + 3 > cap)
			return fail(err, errcap, "host \"%.64s\" is too long", s);
		snprintf(out, cap, "[%s]", txt);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			numeric = 0;
	if (numeric) {
		struct in_addr in4;
		if (inet_pton(AF_INET, s, &in4) != 1)
			return fail(err, errcap, "bad IPv4 address \"%.64s\"", s);
		memcpy(out, s, n + 1);
		return 0;
	}
	if (check_labels(s, n, 0, "host name", err, errcap) < 0)
		return -1;
	memcpy(out, s, n + 1);
	conf_lower(out);
	return 0;
}

static int parse_port(const char *s, unsigned *port, char *err, size_t errcap)
{
	unsigned long v;
	if (parse_uint(s, strlen(s), 65535, &v) < 0 || v == 0)
		return fail(err, errcap, "bad port \"%.64s\" (want 1..65535)", s);
	*port = (unsigned)v;
	return 0;
}

int conf_parse_hostport(const char *s, int port_required, char *host, size_t cap,
                        unsigned *port, char *err, size_t errcap)
{
	char h[CONF_HOST_MAX + 2];
	const char *colon;
	size_t hn;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb)
			return fail(err, errcap, "bad address literal \"%.64s\"", s);
		colon = rb[1] ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return fail(err, errcap, "bad host:port \"%.64s\"", s);
	} else {
		colon = strchr(s, ':');
	}
	hn = colon ? (size_t)(colon - s) : strlen(s);
	if (hn >= sizeof h)
		return fail(err, errcap, "host \"%.64s...\" is too long", s);
	memcpy(h, s, hn);
	h[hn] = 0;
	if (conf_parse_host(h, host, cap, err, errcap) < 0)
		return -1;
	if (!colon) {
		if (port_required)
			return fail(err, errcap, "\"%.64s\" needs a port (host:port)", s);
		*port = CONF_DEFAULT_PORT;
		return 0;
	}
	return parse_port(colon + 1, port, err, errcap);
}

int conf_parse_name(const char *s, char *out, size_t cap, char *err, size_t errcap)
{
	size_t n = strlen(s), i;
	if (n == 0)
		return fail(err, errcap, "empty name");
	if (n > CONF_NAME_MAX || n + 1 > cap)
		return fail(err, errcap, "name \"%.64s...\" is too long (at most %d)", s, CONF_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return fail(err, errcap, "bad name \"%.64s\" (use letters, digits, . _ -)", s);
	memcpy(out, s, n + 1);
	conf_lower(out);
	return 0;
}

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
	if (field(&s, f, 64) != 1)
		return fail(err, errcap, "missing or bad strategy (want failover, roundrobin or weighted)");
	conf_lower(f);
	for (i = 0; i < 3; i++)
		if (strcmp(f, strategy_names[i]) == 0)
			break;
	if (i == 3)
		return fail(err, errcap, "unknown strategy \"%.64s\" (want failover, roundrobin or weighted)", f);
	p->strategy = (enum conf_strategy)i;
	while ((r = field(&s, f, sizeof f)) == 1) {
		struct conf_member m;
		char *star = strrchr(f, '*');
		memset(&m, 0, sizeof m);
		m.weight = 1;
		if (star) {
			unsigned long w;
			*star = 0;
			if (p->strategy != CONF_WEIGHTED)
				return fail(err, errcap, "member \"%.64s\": a *weight needs strategy weighted", f);
			if (parse_uint(star + 1, strlen(star + 1), 1000000, &w) < 0 || w == 0)
				return fail(err, errcap, "member \"%.64s\": bad weight \"%.16s\" (want 1..1000000)", f, star + 1);
			m.weight = (unsigned)w;
		}
		if (strcasecmp(f, "mx") == 0) {
			m.mx = 1;
		} else if (conf_parse_hostport(f, 0, m.host, sizeof m.host, &m.port, err, errcap) < 0) {
			return -1;
		}
		for (i = 0; i < p->n; i++)
			if (p->m[i].mx == m.mx && p->m[i].port == m.port && strcmp(p->m[i].host, m.host) == 0)
				return fail(err, errcap, "duplicate member \"%.64s\"", f);
		if (p->n == CONF_POOL_MAX)
			return fail(err, errcap, "too many members (at most %d)", CONF_POOL_MAX);
		p->m[p->n++] = m;
	}
	if (r < 0)
		return fail(err, errcap, "member too long");
	if (p->n == 0)
		return fail(err, errcap, "no members (want host[:port][*weight] or mx)");
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

static int is_atext(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

int conf_parse_route_key(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	char h[CONF_HOST_MAX + 1];
	size_t n = strlen(key);
	if (strcasecmp(key, "default") == 0) {
		if (cap < 8)
			return fail(err, errcap, "no room");
		strcpy(out, "default");
		return 0;
	}
	if (strncasecmp(key, "class:", 6) == 0) {
		char name[CONF_NAME_MAX + 1];
		if (conf_parse_name(key + 6, name, sizeof name, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "class:%s", name) >= (int)cap)
			return fail(err, errcap, "key too long");
		return 0;
	}
	if (strncasecmp(key, "to:", 3) == 0) {
		if (conf_parse_host(key + 3, h, sizeof h, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "to:%s", h) >= (int)cap)
			return fail(err, errcap, "key too long");
		return 0;
	}
	if (strncasecmp(key, "from:", 5) == 0) {
		const char *addr = key + 5, *at = strrchr(addr, '@');
		size_t i, ln;
		if (!at)
			return fail(err, errcap, "bad sender \"%.64s\" (want from:user@domain or from:@domain)", addr);
		ln = (size_t)(at - addr);
		if (ln > ADDR_LOCAL_MAX)
			return fail(err, errcap, "local part of \"%.64s\" is longer than %d", addr, ADDR_LOCAL_MAX);
		for (i = 0; i < ln; i++)
			if (!is_atext(addr[i]))
				return fail(err, errcap, "bad sender \"%.64s\" (character '%c')", addr, addr[i]);
		if (conf_parse_host(at + 1, h, sizeof h, err, errcap) < 0)
			return -1;
		if (n + 1 > cap || ln + strlen(h) + 7 > cap)
			return fail(err, errcap, "key too long");
		memcpy(out, "from:", 5);
		memcpy(out + 5, addr, ln);
		snprintf(out + 5 + ln, cap - 5 - ln, "@%s", h);
		conf_lower(out);
		return 0;
	}
	return fail(err, errcap, "unknown route key \"%.64s\" (want from:, class:, to: or default)", key);
}

int conf_parse_route(const char *value, char *pool, size_t cap, char *err, size_t errcap)
{
	char f[CONF_NAME_MAX + 2], extra[2];
	const char *s = value;
	int r = field(&s, f, sizeof f);
	if (r == 0)
		return fail(err, errcap, "missing pool name");
	if (r < 0)
		return fail(err, errcap, "pool name too long (at most %d)", CONF_NAME_MAX);
	if (field(&s, extra, sizeof extra) != 0)
		return fail(err, errcap, "more than one pool after the key");
	return conf_parse_name(f, pool, cap, err, errcap);
}

/* ---- auth ---- */

int conf_parse_auth(const char *value, struct conf_auth *a, char *err, size_t errcap)
{
	const char *s = value;
	size_t n;
	int r;
	memset(a, 0, sizeof *a);
	r = field(&s, a->user, sizeof a->user);
	if (r == 0)
		return fail(err, errcap, "missing user name and password");
	if (r < 0)
		return fail(err, errcap, "user name too long (at most %zu)", sizeof a->user - 1);
	for (n = 0; a->user[n]; n++)
		if ((unsigned char)a->user[n] < 0x21 || (unsigned char)a->user[n] > 0x7e)
			return fail(err, errcap, "bad character in user name");
	while (is_ws(*s))
		s++;
	n = strlen(s);
	while (n && is_ws(s[n - 1]))
		n--;
	if (n == 0)
		return fail(err, errcap, "missing password");
	if (n >= sizeof a->pass)
		return fail(err, errcap, "password too long (at most %zu)", sizeof a->pass - 1);
	memcpy(a->pass, s, n);
	a->pass[n] = 0;
	for (; *s && n; s++, n--)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return fail(err, errcap, "control character in password");
	return 0;
}

void conf_auth_wipe(struct conf_auth *a)
{
	volatile char *p = (volatile char *)a->pass;
	size_t i;
	for (i = 0; i < sizeof a->pass; i++)
		p[i] = 0;
}

/* ---- tls and limits keys ---- */

int conf_parse_target(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	char h[CONF_HOST_MAX + 1];
	unsigned port;
	if (key[0] == '[' || strchr(key, ':')) {
		if (conf_parse_hostport(key, 1, h, sizeof h, &port, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "%s:%u", h, port) >= (int)cap)
			return fail(err, errcap, "key too long");
		return 0;
	}
	return conf_parse_host(key, out, cap, err, errcap);
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
	if (field(&s, f, 16) != 1)
		return fail(err, errcap, "missing or bad mode (want none, may, encrypt or verify)");
	conf_lower(f);
	for (i = 0; i < 4; i++)
		if (strcmp(f, tls_names[i]) == 0)
			break;
	if (i == 4)
		return fail(err, errcap, "unknown tls mode \"%.64s\" (want none, may, encrypt or verify)", f);
	t->mode = (enum conf_tls_mode)i;
	while ((r = field(&s, f, sizeof f)) == 1) {
		if (strcasecmp(f, "smtps") == 0) {
			if (t->smtps)
				return fail(err, errcap, "smtps given twice");
			t->smtps = 1;
		} else if (strncasecmp(f, "ca=", 3) == 0) {
			if (have_ca)
				return fail(err, errcap, "ca= given twice");
			if (!f[3])
				return fail(err, errcap, "empty ca= file");
			if (strlen(f + 3) > CONF_PATH_MAX)
				return fail(err, errcap, "ca= file name too long");
			strcpy(t->ca, f + 3);
			have_ca = 1;
		} else {
			return fail(err, errcap, "unknown tls option \"%.64s\" (want smtps or ca=FILE)", f);
		}
	}
	if (r < 0)
		return fail(err, errcap, "tls option too long");
	if (t->smtps && t->mode < CONF_TLS_ENCRYPT)
		return fail(err, errcap, "smtps needs mode encrypt or verify");
	if (have_ca && t->mode != CONF_TLS_VERIFY)
		return fail(err, errcap, "ca= needs mode verify");
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
	r = field(&s, f, sizeof d->selector);
	if (r == 0)
		return fail(err, errcap, "missing selector and key file");
	if (r < 0)
		return fail(err, errcap, "selector too long");
	if (check_labels(f, strlen(f), 1, "selector", err, errcap) < 0)
		return -1;
	strcpy(d->selector, f);
	conf_lower(d->selector);
	r = field(&s, f, sizeof d->keyfile);
	if (r == 0)
		return fail(err, errcap, "missing key file");
	if (r < 0)
		return fail(err, errcap, "key file name too long");
	strcpy(d->keyfile, f);
	r = field(&s, f, 32);
	if (r < 0)
		return fail(err, errcap, "unknown algorithm (want rsa-sha256 or ed25519-sha256)");
	if (r == 1) {
		conf_lower(f);
		if (strcmp(f, "rsa-sha256") == 0)
			d->alg = CONF_DKIM_RSA_SHA256;
		else if (strcmp(f, "ed25519-sha256") == 0)
			d->alg = CONF_DKIM_ED25519_SHA256;
		else
			return fail(err, errcap, "unknown algorithm \"%.64s\" (want rsa-sha256 or ed25519-sha256)", f);
		if (field(&s, f, 2) != 0)
			return fail(err, errcap, "extra fields after the algorithm");
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
	while ((r = field(&s, f, sizeof f)) == 1) {
		if (strncasecmp(f, "concurrency=", 12) == 0) {
			if (have_c++)
				return fail(err, errcap, "concurrency= given twice");
			if (parse_uint(f + 12, strlen(f + 12), 100000, &v) < 0 || v == 0)
				return fail(err, errcap, "bad concurrency \"%.32s\" (want 1..100000)", f + 12);
			l->concurrency = (unsigned)v;
		} else if (strncasecmp(f, "rate=", 5) == 0) {
			char *slash = strchr(f + 5, '/');
			if (have_r++)
				return fail(err, errcap, "rate= given twice");
			if (!slash || parse_uint(f + 5, (size_t)(slash - f - 5), 1000000, &v) < 0 || v == 0 ||
			    slash[1] == 0 || slash[2] != 0 || !strchr("smh", slash[1]))
				return fail(err, errcap, "bad rate \"%.32s\" (want N/s, N/m or N/h, N 1..1000000)", f + 5);
			l->rate = (unsigned)v;
			l->rate_per = slash[1] == 's' ? 1 : slash[1] == 'm' ? 60 : 3600;
		} else {
			return fail(err, errcap, "unknown limit \"%.64s\" (want concurrency=N or rate=N/s|N/m|N/h)", f);
		}
	}
	if (r < 0)
		return fail(err, errcap, "limit too long");
	if (!have_c && !have_r)
		return fail(err, errcap, "no limit given (want concurrency=N and/or rate=N/s|N/m|N/h)");
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
	while ((rc = field(&s, f, sizeof f)) == 1) {
		if (strncasecmp(f, "schedule=", 9) == 0) {
			char *p = f + 9, *comma;
			if (have_s++)
				return fail(err, errcap, "schedule= given twice");
			r->n = 0;
			for (;;) {
				comma = strchr(p, ',');
				if (comma)
					*comma = 0;
				if (r->n == CONF_RETRY_MAX)
					return fail(err, errcap, "schedule has more than %d intervals", CONF_RETRY_MAX);
				if (!*p)
					return fail(err, errcap, "empty interval in schedule");
				if (conf_parse_duration(p, &r->schedule[r->n], err, errcap) < 0)
					return -1;
				if (r->schedule[r->n] == 0)
					return fail(err, errcap, "retry interval \"%.32s\" must be positive", p);
				r->n++;
				if (!comma)
					break;
				p = comma + 1;
			}
		} else if (strncasecmp(f, "lifetime=", 9) == 0) {
			if (have_l++)
				return fail(err, errcap, "lifetime= given twice");
			if (conf_parse_duration(f + 9, &r->lifetime, err, errcap) < 0)
				return -1;
			if (r->lifetime == 0)
				return fail(err, errcap, "lifetime must be positive");
		} else {
			return fail(err, errcap, "unknown retry field \"%.64s\" (want schedule= or lifetime=)", f);
		}
	}
	if (rc < 0)
		return fail(err, errcap, "retry field too long");
	if (r->lifetime < r->schedule[0])
		return fail(err, errcap, "lifetime is shorter than the first retry interval");
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

/* ---- settings ---- */

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

const char *conf_setting_default(const char *key)
{
	const struct setting *st;
	for (st = settings; st->name; st++)
		if (strcmp(st->name, key) == 0)
			return st->dflt;
	return NULL;
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
		return fail(err, errcap, "unknown setting \"%.64s...\"", key);
	strcpy(lk, key);
	conf_lower(lk);
	for (st = settings; st->name; st++)
		if (strcmp(st->name, lk) == 0)
			break;
	if (!st->name)
		return fail(err, errcap, "unknown setting \"%.64s\"", key);
	r = field(&s, f, sizeof f);
	if (r == 0)
		return fail(err, errcap, "%s: missing value", st->name);
	if (r < 0)
		return fail(err, errcap, "%s: value too long", st->name);
	if (field(&s, extra, sizeof extra) != 0)
		return fail(err, errcap, "%s: more than one value", st->name);
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
			return fail(err, errcap, "%s: bad address \"%.64s\" (want user@domain)", st->name, f);
		for (i = 0; f + i < at; i++)
			if (!is_atext(f[i]))
				return fail(err, errcap, "%s: bad address \"%.64s\"", st->name, f);
		if (conf_parse_host(at + 1, h, sizeof h, err, errcap) < 0)
			return -1;
		*at = 0;
		return buf_printf(out, "%s@%s", f, h);
	}
	case S_SIZE:
		if (parse_uint(f, strlen(f), 1UL << 40, &v) < 0 || v < 1024)
			return fail(err, errcap, "%s: bad size \"%.32s\" (want bytes, 1024..2^40)", st->name, f);
		return buf_printf(out, "%lu", v);
	case S_COUNT:
		if (parse_uint(f, strlen(f), 100000, &v) < 0 || v == 0)
			return fail(err, errcap, "%s: bad number \"%.32s\" (want 1..100000)", st->name, f);
		return buf_printf(out, "%lu", v);
	case S_PATH:
		if (strlen(f) > CONF_PATH_MAX)
			return fail(err, errcap, "%s: file name too long", st->name);
		return buf_adds(out, f);
	case S_DURATION0:
	case S_DURATION: {
		char d[32];
		if (conf_parse_duration(f, &v, err, errcap) < 0)
			return -1;
		if (v == 0 && st->type == S_DURATION)
			return fail(err, errcap, "%s: duration must be positive", st->name);
		conf_format_duration(v, d, sizeof d);
		return buf_adds(out, d);
	}
	}
	return fail(err, errcap, "internal error");
}

int conf_setting_value(const char *home, const char *key, struct buf *val)
{
	const char *d;
	char host[256];
	int r = conf_setting(home, key, val);
	if (r != 0)
		return r;
	if (strcmp(key, "helo") == 0 || strcmp(key, "postmaster") == 0) {
		struct buf h = BUF_INIT;
		r = conf_setting_value(home, "hostname", &h);
		if (r == 1) {
			val->len = 0;
			r = buf_printf(val, "%s%s", key[0] == 'p' ? "postmaster@" : "", h.p) < 0 ? -1 : 1;
		}
		buf_free(&h);
		return r;
	}
	if (strcmp(key, "hostname") == 0) {
		if (gethostname(host, sizeof host) < 0)
			return -1;
		host[sizeof host - 1] = 0;
		conf_lower(host);
		val->len = 0;
		return buf_adds(val, host) < 0 ? -1 : 1;
	}
	d = conf_setting_default(key);
	if (!d)
		return 0;
	val->len = 0;
	return buf_adds(val, d) < 0 ? -1 : 1;
}

int conf_setting_number(const char *home, const char *key, unsigned long *v)
{
	struct buf b = BUF_INIT;
	const struct setting *st;
	int r;
	for (st = settings; st->name; st++)
		if (strcmp(st->name, key) == 0)
			break;
	if (!st->name || (st->type != S_SIZE && st->type != S_COUNT &&
	                  st->type != S_DURATION && st->type != S_DURATION0)) {
		errno = EINVAL;
		return -1;
	}
	r = conf_setting_value(home, key, &b);
	if (r == 1) {
		if (st->type == S_SIZE || st->type == S_COUNT) {
			if (parse_uint(b.p, b.len, ULONG_MAX / 10, v) < 0)
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
