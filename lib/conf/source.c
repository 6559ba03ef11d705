/* etc/source: see conf/source.h. */
#include "conf/source.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/parse.h"

static int is_v6(const char *a)
{
	unsigned char b[16];
	return inet_pton(AF_INET6, a, b) == 1;
}

static int parse_bind(const char *list, struct conf_source *s, char *err, size_t errcap)
{
	char item[48];
	const char *p = list;
	unsigned char b[16];
	while (*p) {
		size_t n = strcspn(p, ",");
		char *star;
		unsigned long w = 1;
		if (n == 0 || n >= sizeof item)
			return conf_fail(err, errcap, "bind=: bad address list");
		memcpy(item, p, n);
		item[n] = 0;
		p += n + (p[n] == ',');
		if ((star = strchr(item, '*'))) {
			*star = 0;
			if (conf_uint(star + 1, strlen(star + 1), 1000, &w) < 0 || w == 0)
				return conf_fail(err, errcap, "bind=%.48s: bad weight (want 1..1000)", item);
		}
		if (inet_pton(AF_INET, item, b) != 1 && !is_v6(item))
			return conf_fail(err, errcap, "bind=%.48s: not an IPv4 or IPv6 address", item);
		if (s->n == CONF_BIND_MAX)
			return conf_fail(err, errcap, "bind=: more than %d addresses", CONF_BIND_MAX);
		memcpy(s->bind[s->n], item, strlen(item) + 1);
		s->weight[s->n++] = (unsigned)w;
	}
	return s->n ? 0 : conf_fail(err, errcap, "bind=: no address");
}

int conf_parse_source(const char *value, struct conf_source *s, char *err, size_t errcap)
{
	char f[CONF_BIND_MAX * 64 + 16];
	const char *v = value;
	size_t i;
	int r, any = 0;
	memset(s, 0, sizeof *s);
	while ((r = conf_field(&v, f, sizeof f)) == 1) {
		if (!strncasecmp(f, "bind=", 5)) {
			if (s->n)
				return conf_fail(err, errcap, "bind= given twice");
			if (parse_bind(f + 5, s, err, errcap) < 0)
				return -1;
		} else if (!strncasecmp(f, "helo=", 5)) {
			if (s->helo[0])
				return conf_fail(err, errcap, "helo= given twice");
			if (conf_parse_host(f + 5, s->helo, sizeof s->helo, err, errcap) < 0)
				return -1;
		} else if (!strncasecmp(f, "family=", 7)) {
			if (!strcasecmp(f + 7, "inet"))
				s->family = 4;
			else if (!strcasecmp(f + 7, "inet6"))
				s->family = 6;
			else if (!strcasecmp(f + 7, "any"))
				s->family = 0;
			else
				return conf_fail(err, errcap, "family=%.16s: want inet, inet6 or any", f + 7);
		} else {
			return conf_fail(err, errcap, "unknown field \"%.64s\" (want bind=, helo= or family=)", f);
		}
		any = 1;
	}
	if (r < 0)
		return conf_fail(err, errcap, "field too long");
	if (!any)
		return conf_fail(err, errcap, "want bind=, helo= or family=");
	for (i = 0; i < s->n; i++)
		if ((s->family == 4 && is_v6(s->bind[i])) || (s->family == 6 && !is_v6(s->bind[i])))
			return conf_fail(err, errcap, "bind=%s is not of family %s", s->bind[i],
			                 s->family == 4 ? "inet" : "inet6");
	return 0;
}

int conf_format_source(const struct conf_source *s, struct buf *out)
{
	size_t i;
	out->len = 0;
	for (i = 0; i < s->n; i++) {
		if (buf_printf(out, "%s%s", i ? "," : "bind=", s->bind[i]) < 0 ||
		    (s->weight[i] > 1 && buf_printf(out, "*%u", s->weight[i]) < 0))
			return -1;
	}
	if (s->helo[0] && buf_printf(out, "%shelo=%s", out->len ? " " : "", s->helo) < 0)
		return -1;
	if (s->family && buf_printf(out, "%sfamily=%s", out->len ? " " : "",
	                            s->family == 4 ? "inet" : "inet6") < 0)
		return -1;
	return 0;
}

const char *conf_source_bind(const struct conf_source *s, unsigned long seq)
{
	unsigned long total = 0, k;
	size_t i;
	for (i = 0; i < s->n; i++)
		total += s->weight[i];
	if (!total)
		return NULL;
	k = seq % total;
	for (i = 0; i < s->n; i++) {
		if (k < s->weight[i])
			return s->bind[i];
		k -= s->weight[i];
	}
	return NULL;
}
