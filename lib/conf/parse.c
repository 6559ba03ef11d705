/* The value parsers every table shares: fields, numbers, durations,
 * host names and addresses, names (conf.h has the contract; parse.h
 * declares the helpers for the other files of conf/). */
#include "conf/conf.h"
#include "conf/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"

char *conf_lower(char *s)
{
	char *p;
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

int conf_fail(char *err, size_t cap, const char *fmt, ...)
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

int conf_field(const char **s, char *out, size_t cap)
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

int conf_uint(const char *s, size_t n, unsigned long max, unsigned long *v)
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
		return conf_fail(err, errcap, "bad duration \"%.64s\" (want a number and s, m, h, d or w)", s);
	switch (s[d]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default:
		return conf_fail(err, errcap, "bad duration \"%.64s\" (want a number and s, m, h, d or w)", s);
	}
	if (d > 10 || (d > 1 && s[0] == '0'))
		return conf_fail(err, errcap, "bad duration \"%.64s\"", s);
	if (conf_uint(s, d, ULONG_MAX / (7 * 86400), &v) < 0 || v * mult > CONF_DURATION_MAX)
		return conf_fail(err, errcap, "duration \"%.64s\" is too long (at most 3650d)", s);
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

int conf_labels(const char *s, size_t n, int allow_us, const char *what,
                char *err, size_t errcap)
{
	size_t i, lab = 0;
	if (n == 0)
		return conf_fail(err, errcap, "empty %s", what);
	if (n > 253)
		return conf_fail(err, errcap, "%s \"%.64s...\" is too long", what, s);
	for (i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (lab == 0)
				return conf_fail(err, errcap, "bad %s \"%.64s\" (empty label)", what, s);
			if (lab > 63)
				return conf_fail(err, errcap, "bad %s \"%.64s\" (label longer than 63)", what, s);
			if (s[i - 1] == '-' || s[i - lab] == '-')
				return conf_fail(err, errcap, "bad %s \"%.64s\" (label starts or ends with -)", what, s);
			lab = 0;
		} else if (is_alnum(c) || c == '-' || (allow_us && c == '_')) {
			lab++;
		} else {
			return conf_fail(err, errcap, "bad %s \"%.64s\" (character '%c')", what, s, c);
		}
	}
	return 0;
}

int conf_parse_host(const char *s, char *out, size_t cap, char *err, size_t errcap)
{
	size_t n = strlen(s), i;
	int numeric = 1;
	if (n == 0)
		return conf_fail(err, errcap, "empty host name");
	if (n > CONF_HOST_MAX || n + 1 > cap)
		return conf_fail(err, errcap, "host \"%.64s...\" is too long", s);
	if (s[0] == '[') {
		char a[64], txt[INET6_ADDRSTRLEN];
		struct in6_addr in6;
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof a)
			return conf_fail(err, errcap, "bad address literal \"%.64s\"", s);
		memcpy(a, s + 1, n - 2);
		a[n - 2] = 0;
		if (inet_pton(AF_INET6, a, &in6) != 1 || !inet_ntop(AF_INET6, &in6, txt, sizeof txt))
			return conf_fail(err, errcap, "bad IPv6 address \"%.64s\"", s);
		if (strlen(txt) + 3 > cap)
			return conf_fail(err, errcap, "host \"%.64s\" is too long", s);
		snprintf(out, cap, "[%s]", txt);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			numeric = 0;
	if (numeric) {
		struct in_addr in4;
		if (inet_pton(AF_INET, s, &in4) != 1)
			return conf_fail(err, errcap, "bad IPv4 address \"%.64s\"", s);
		memcpy(out, s, n + 1);
		return 0;
	}
	if (conf_labels(s, n, 0, "host name", err, errcap) < 0)
		return -1;
	memcpy(out, s, n + 1);
	conf_lower(out);
	return 0;
}

static int parse_port(const char *s, unsigned *port, char *err, size_t errcap)
{
	unsigned long v;
	if (conf_uint(s, strlen(s), 65535, &v) < 0 || v == 0)
		return conf_fail(err, errcap, "bad port \"%.64s\" (want 1..65535)", s);
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
			return conf_fail(err, errcap, "bad address literal \"%.64s\"", s);
		colon = rb[1] ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return conf_fail(err, errcap, "bad host:port \"%.64s\"", s);
	} else {
		colon = strchr(s, ':');
	}
	hn = colon ? (size_t)(colon - s) : strlen(s);
	if (hn >= sizeof h)
		return conf_fail(err, errcap, "host \"%.64s...\" is too long", s);
	memcpy(h, s, hn);
	h[hn] = 0;
	if (conf_parse_host(h, host, cap, err, errcap) < 0)
		return -1;
	if (!colon) {
		if (port_required)
			return conf_fail(err, errcap, "\"%.64s\" needs a port (host:port)", s);
		*port = CONF_DEFAULT_PORT;
		return 0;
	}
	return parse_port(colon + 1, port, err, errcap);
}

int conf_parse_name(const char *s, char *out, size_t cap, char *err, size_t errcap)
{
	size_t n = strlen(s), i;
	if (n == 0)
		return conf_fail(err, errcap, "empty name");
	if (n > CONF_NAME_MAX || n + 1 > cap)
		return conf_fail(err, errcap, "name \"%.64s...\" is too long (at most %d)", s, CONF_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return conf_fail(err, errcap, "bad name \"%.64s\" (use letters, digits, . _ -)", s);
	memcpy(out, s, n + 1);
	conf_lower(out);
	return 0;
}

int conf_atext(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

/* tls and limits keys */

int conf_parse_target(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	char h[CONF_HOST_MAX + 1];
	unsigned port;
	if (key[0] == '[' || strchr(key, ':')) {
		if (conf_parse_hostport(key, 1, h, sizeof h, &port, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "%s:%u", h, port) >= (int)cap)
			return conf_fail(err, errcap, "key too long");
		return 0;
	}
	return conf_parse_host(key, out, cap, err, errcap);
}
