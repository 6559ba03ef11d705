/* issue 16 share: the pure parsers of share_parse.h. */
#include "send/share_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int word_ok(const char *s, size_t n, size_t max)
{
	size_t i;
	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int share_entry_parse(const char *const *f, const size_t *len, size_t n, char *node, size_t cap,
                      const char **recs, size_t *rlen)
{
	size_t i;
	int have_node = 0, have_recs = 0;
	for (i = 0; i + 1 < n; i += 2) {
		if (len[i] == 4 && !memcmp(f[i], "node", 4)) {
			if (!word_ok(f[i + 1], len[i + 1], SHARE_NODE_MAX) || len[i + 1] + 1 > cap)
				return -1;
			memcpy(node, f[i + 1], len[i + 1]);
			node[len[i + 1]] = 0;
			have_node = 1;
		} else if (len[i] == 4 && !memcmp(f[i], "recs", 4)) {
			if (len[i + 1] > SHARE_RECS_MAX)
				return -1;
			*recs = f[i + 1];
			*rlen = len[i + 1];
			have_recs = 1;
		}
	}
	return have_node && have_recs ? 0 : -1;
}

int share_recs_push(struct sjrec **out, size_t *n, size_t *cap, const struct sjrec *r)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct sjrec *x = realloc(*out, nc * sizeof *x);
		if (!x) {
			errno = ENOMEM;
			return -1;
		}
		*out = x;
		*cap = nc;
	}
	(*out)[(*n)++] = *r;
	return 0;
}

int share_recs_parse(const char *recs, size_t len, struct sjrec **out, size_t *n, size_t *cap, size_t *bad)
{
	const char *p = recs, *end = recs + len, *nl;
	size_t taken = 0;
	for (; p < end; p = nl + 1) {
		struct sjrec r;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || taken >= SHARE_RECS_MAX / 8) {
			++*bad;
			break;
		}
		if (sjournal_parse(p, (size_t)(nl - p), &r) < 0) {
			++*bad;
			continue;
		}
		if (share_recs_push(out, n, cap, &r) < 0)
			return -1;
		taken++;
	}
	return 0;
}

int share_set_parse(const char *field, size_t flen, const char *value, size_t vlen, struct sjrec *r)
{
	char line[SJOURNAL_LINE_MAX];
	if (!word_ok(field, flen, sizeof r->e.addr - 1) || 4 + flen + 1 + vlen + 1 > sizeof line)
		return -1;
	memcpy(line, "add ", 4);
	memcpy(line + 4, field, flen);
	line[4 + flen] = ' ';
	memcpy(line + 5 + flen, value, vlen);
	return sjournal_parse(line, 5 + flen + vlen, r);
}

/* An id's two numbers: 0, or -1 when it is not digits[-digits]. */
static int id_split(const char *s, unsigned long long *ms, unsigned long long *seq)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*ms = strtoull(s, &end, 10);
	*seq = 0;
	if (errno)
		return -1;
	if (*end == '-') {
		s = end + 1;
		if (*s < '0' || *s > '9')
			return -1;
		*seq = strtoull(s, &end, 10);
		if (errno)
			return -1;
	}
	return *end ? -1 : 0;
}

int share_id_cmp(const char *a, const char *b)
{
	unsigned long long am, as, bm, bs;
	if (id_split(a, &am, &as) < 0 || id_split(b, &bm, &bs) < 0)
		return 0;
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs;
}

static int number(const char *s, long long *v)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int share_health_parse(const char *field, const char *value, struct health_entry *e, char *node,
                       size_t cap, time_t *when, long *interval)
{
	char line[600], *w[3];
	size_t vl = strlen(value), fl = strlen(field), i;
	long long wh, iv;
	char *v;
	if (fl + vl + 2 > sizeof line)
		return -1;
	memcpy(line, field, fl);
	line[fl] = ' ';
	memcpy(line + fl + 1, value, vl + 1);
	v = line + fl + 1;
	/* NODE WHEN INTERVAL: the last three words; the rest is the file's line */
	for (i = 0; i < 3; i++) {
		char *sp = strrchr(v, ' ');
		if (!sp)
			return -1;
		w[2 - i] = sp + 1;
		*sp = 0;
	}
	if (!word_ok(w[0], strlen(w[0]), SHARE_NODE_MAX) || strlen(w[0]) + 1 > cap ||
	    number(w[1], &wh) < 0 || wh <= 0 || number(w[2], &iv) < 0 || iv <= 0 || iv > 86400L * 365)
		return -1;
	if (health_parse(line, e) < 0)
		return -1;
	memcpy(node, w[0], strlen(w[0]) + 1);
	*when = (time_t)wh;
	*interval = (long)iv;
	return 0;
}

int share_health_format(struct buf *field, struct buf *value, const struct health_entry *e,
                        const char *node, time_t when, long interval)
{
	if (buf_printf(field, "%s %s", e->pool, e->member) < 0 ||
	    buf_printf(value, "%s %lld %s %s %lld %ld", health_state_name(e->state), (long long)e->since,
	               e->reason[0] ? e->reason : "-", node, (long long)when, interval) < 0)
		return -1;
	return 0;
}

int share_health_fresh(time_t when, long interval, time_t now)
{
	struct health_state h = HEALTH_STATE_INIT;
	h.when = when;
	h.interval = interval;
	return health_fresh(&h, now);
}
