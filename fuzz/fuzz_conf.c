/* libFuzzer harness for the value parsers of relay-config's tables
 * (conf/conf.h conf_parse_*, conf/settings.h conf_parse_setting). Built
 * and run by scripts/fuzz-run conf. The first byte picks the parser; the
 * rest is the text (for key and value parsers: KEY, TAB, VALUE). A value
 * that parses formats to a canonical text that parses to the same. */
#include "base/buf.h"
#include "conf/conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

static void safe_err(void)
{
	const char *p;
	if (strlen(err) >= sizeof err)
		abort();
	for (p = err; *p; p++)
		if (*p == '\n' || *p == '\r')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *key, *val, out[1024];
	struct buf b = BUF_INIT;
	unsigned long u;
	unsigned port;
	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	key = s;
	val = strchr(s, '\t');
	if (val)
		*val++ = 0;
	else
		val = s + strlen(s);
	err[0] = 0;
	switch (data[0] % 14) {
	case 0:
		if (conf_parse_duration(s, &u, err, sizeof err) == 0) {
			unsigned long u2;
			conf_format_duration(u, out, sizeof out);
			if (conf_parse_duration(out, &u2, err, sizeof err) != 0 || u2 != u)
				abort();
		}
		break;
	case 1: (void)conf_parse_host(s, out, sizeof out, err, sizeof err); break;
	case 2: (void)conf_parse_hostport(s, data[0] & 0x80, out, sizeof out, &port, err, sizeof err); break;
	case 3: (void)conf_parse_name(s, out, sizeof out, err, sizeof err); break;
	case 4: {
		struct conf_pool p, p2;
		if (conf_parse_pool(s, &p, err, sizeof err) == 0 && conf_format_pool(&p, &b) == 0) {
			if (conf_parse_pool(b.p, &p2, err, sizeof err) != 0 || p2.n != p.n || p2.strategy != p.strategy)
				abort();
		}
		break;
	}
	case 5: (void)conf_parse_route_key(s, out, sizeof out, err, sizeof err); break;
	case 6: (void)conf_parse_route(s, out, sizeof out, err, sizeof err); break;
	case 7: {
		struct conf_auth a;
		if (conf_parse_auth(s, &a, err, sizeof err) == 0)
			conf_auth_wipe(&a);
		/* the password never appears in a reason */
		else if (strchr(s, ' ') && strlen(strchr(s, ' ')) > 8 && strstr(err, strchr(s, ' ') + 1))
			abort();
		break;
	}
	case 8: (void)conf_parse_target(s, out, sizeof out, err, sizeof err); break;
	case 9: {
		struct conf_tls t, t2;
		if (conf_parse_tls(s, &t, err, sizeof err) == 0 && conf_format_tls(&t, &b) == 0)
			if (conf_parse_tls(b.p, &t2, err, sizeof err) != 0 || t2.mode != t.mode || t2.smtps != t.smtps ||
			    strcmp(t2.ca, t.ca))
				abort();
		break;
	}
	case 10: {
		struct conf_dkim d, d2;
		if (conf_parse_dkim(s, &d, err, sizeof err) == 0 && conf_format_dkim(&d, &b) == 0)
			if (conf_parse_dkim(b.p, &d2, err, sizeof err) != 0 || d2.alg != d.alg ||
			    strcmp(d2.selector, d.selector) || strcmp(d2.keyfile, d.keyfile))
				abort();
		break;
	}
	case 11: {
		struct conf_limits l, l2;
		if (conf_parse_limits(s, &l, err, sizeof err) == 0 && conf_format_limits(&l, &b) == 0)
			if (conf_parse_limits(b.p, &l2, err, sizeof err) != 0 || memcmp(&l, &l2, sizeof l))
				abort();
		break;
	}
	case 12: {
		struct conf_retry r, r2;
		if (conf_parse_retry(key, val, &r, err, sizeof err) == 0 && conf_format_retry(&r, &b) == 0)
			if (conf_parse_retry(key, b.p, &r2, err, sizeof err) != 0 || r2.n != r.n ||
			    r2.lifetime != r.lifetime || memcmp(r.schedule, r2.schedule, r.n * sizeof r.schedule[0]))
				abort();
		break;
	}
	case 13: {
		struct buf c2 = BUF_INIT;
		if (conf_parse_setting(key, val, &b, err, sizeof err) == 0) {
			/* canonical values are fixed points */
			if (conf_parse_setting(key, b.p ? b.p : "", &c2, err, sizeof err) != 0)
				abort();
		}
		buf_free(&c2);
		break;
	}
	}
	safe_err();
	buf_free(&b);
	free(s);
	return 0;
}
