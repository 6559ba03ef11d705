/* etc/retry (conf.h): a class's schedule, lifetime, priority and reserve,
 * and the built-in entries for the classes relay knows by name. */
#include "conf/conf.h"
#include "conf/parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"


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
	/* priority lanes: transactional above any other class above bulk */
	r->priority = s == trans ? 7 : s == bulk ? 3 : 5;
	r->reserve = s == trans ? 10 : 0;
	r->reserve_pct = s == trans;
}

/* "priority=N" (0..9) and "reserve=N" or "reserve=N%" of etc/retry. */
static int parse_lane_field(const char *f, struct conf_retry *r, char *err, size_t errcap)
{
	const char *v = strchr(f, '=') + 1, *p;
	unsigned long n = 0;
	int pct = 0;
	for (p = v; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 100000)
			break;
	}
	if (f[0] == 'r' || f[0] == 'R') {
		if (*p == '%' && p > v) {
			pct = 1;
			p++;
		}
		if (p == v || *p || (pct ? n > 100 : n > CONF_RESERVE_MAX))
			return conf_fail(err, errcap, "reserve \"%.32s\" is not a number of workers (0..%d) or a percentage (0%%..100%%)",
			                 v, CONF_RESERVE_MAX);
		if (r->have_reserve++)
			return conf_fail(err, errcap, "reserve= given twice");
		r->reserve = (unsigned)n;
		r->reserve_pct = pct;
		return 0;
	}
	if (p == v || *p || n > CONF_PRIORITY_MAX)
		return conf_fail(err, errcap, "priority \"%.32s\" is not a number from 0 to %d", v, CONF_PRIORITY_MAX);
	if (r->have_priority++)
		return conf_fail(err, errcap, "priority= given twice");
	r->priority = (unsigned)n;
	return 0;
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
		} else if (strncasecmp(f, "priority=", 9) == 0 || strncasecmp(f, "reserve=", 8) == 0) {
			if (parse_lane_field(f, r, err, errcap) < 0)
				return -1;
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
	if (buf_printf(out, " lifetime=%s", d) < 0)
		return -1;
	if (r->have_priority && buf_printf(out, " priority=%u", r->priority) < 0)
		return -1;
	if (r->have_reserve && buf_printf(out, " reserve=%u%s", r->reserve, r->reserve_pct ? "%" : "") < 0)
		return -1;
	return 0;
}
