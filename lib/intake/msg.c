#include "intake/msg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/bounds.h"

int msg_normalize(const char *in, size_t n, int dot_ends, struct buf *out,
		  char *err, size_t errcap)
{
	size_t i = 0, lineno = 1;
	if (buf_reserve(out, n + n / 32 + 16) < 0) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	while (i < n) {
		size_t s = i, e;
		const char *nl = memchr(in + i, '\n', n - i);
		e = nl ? (size_t)(nl - in) : n;
		/* the line is in[s..e), possibly ending with CR */
		if (e > s && in[e - 1] == '\r' && nl)
			e--;
		if (memchr(in + s, 0, e - s)) {
			snprintf(err, errcap, "line %zu contains a NUL byte", lineno);
			return -1;
		}
		if (memchr(in + s, '\r', e - s)) {
			snprintf(err, errcap, "line %zu contains a bare CR", lineno);
			return -1;
		}
		if (e - s > LINE_MAX_OCTETS) {
			snprintf(err, errcap, "line %zu is longer than %d octets", lineno, LINE_MAX_OCTETS);
			return -1;
		}
		if (dot_ends && e - s == 1 && in[s] == '.')
			return 0;
		if (buf_add(out, in + s, e - s) < 0 || buf_add(out, "\r\n", 2) < 0) {
			snprintf(err, errcap, "out of memory");
			return -1;
		}
		i = nl ? (size_t)(nl - in) + 1 : n;
		lineno++;
	}
	return 0;
}

/* Just past the CRLF that ends the line at pos, or n. */
static size_t line_end(const char *m, size_t pos, size_t n)
{
	const char *r;
	while (pos < n && (r = memchr(m + pos, '\r', n - pos))) {
		pos = (size_t)(r - m) + 1;
		if (pos < n && m[pos] == '\n')
			return pos + 1;
	}
	return n;
}

/* The length of the field name that starts the line m[s..e), or 0 if
 * the line is not a field: no name, or no colon after it (white space
 * between them only with MSG_HDR_DKIM). */
static size_t field_name(const char *m, size_t s, size_t e, unsigned flags)
{
	size_t i = s, j;
	while (i < e && (unsigned char)m[i] >= 33 && (unsigned char)m[i] <= 126 && m[i] != ':')
		i++;
	j = i;
	if (flags & MSG_HDR_DKIM)
		while (j < e && (m[j] == ' ' || m[j] == '\t'))
			j++;
	return j < e && m[j] == ':' ? i - s : 0;
}

/* Why the line m[s..e) is not a field, in DKIM's words. */
static const char *dkim_not_a_field(const char *m, size_t s, size_t e)
{
	const char *colon = memchr(m + s, ':', e - s);
	if (!colon)
		return "header line without a colon";
	if (colon == m + s)
		return "header field with an empty name";
	return "header field name with a byte outside 33..126";
}

static int refuse(struct msg_headers *h, int e, char *err, size_t errcap, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int refuse(struct msg_headers *h, int e, char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
	msg_headers_free(h);
	errno = e;
	return -1;
}

int msg_headers_flags(const char *m, size_t n, unsigned flags, struct msg_headers *h,
		      char *err, size_t errcap)
{
	int dkim = (flags & MSG_HDR_DKIM) != 0;
	size_t pos = 0, cap = 0, lineno = 1;
	memset(h, 0, sizeof *h);
	while (pos < n) {
		size_t e = line_end(m, pos, n), nlen;
		if (e - pos == 2 && m[pos] == '\r' && m[pos + 1] == '\n') {   /* empty line */
			h->end = pos;
			h->body = e;
			h->has_sep = 1;
			return 0;
		}
		/* intake counts the header before this line, DKIM through it */
		if ((dkim ? e : pos) > HEADER_MAX)
			return dkim ? refuse(h, EINVAL, err, errcap, "header section too large")
				    : refuse(h, EINVAL, err, errcap, "header section larger than %d octets", HEADER_MAX);
		if (m[pos] == ' ' || m[pos] == '\t') {
			if (h->n == 0)
				return refuse(h, EINVAL, err, errcap, "%s", dkim
					      ? "message starts with a continuation line"
					      : "line 1 starts with white space (a continuation of nothing)");
			h->f[h->n - 1].len = e - h->f[h->n - 1].off;
		} else if ((nlen = field_name(m, pos, e, flags)) > 0) {
			if (h->n == cap) {
				size_t nc = cap ? cap * 2 : 32;
				struct msg_field *f = realloc(h->f, nc * sizeof *f);
				if (!f)
					return refuse(h, ENOMEM, err, errcap, "out of memory");
				h->f = f;
				cap = nc;
			}
			h->f[h->n].off = pos;
			h->f[h->n].len = e - pos;
			h->f[h->n].name_len = nlen;
			h->n++;
		} else if (dkim) {
			return refuse(h, EINVAL, err, errcap, "%s", dkim_not_a_field(m, pos, e));
		} else if (h->n == 0) {
			/* no header section: the whole message is body */
			h->end = 0;
			h->body = 0;
			return 0;
		} else {
			return refuse(h, EINVAL, err, errcap, "malformed header line %zu (no field name and colon)", lineno);
		}
		pos = e;
		lineno++;
	}
	h->end = h->body = n;
	return 0;
}

int msg_headers(const char *m, size_t n, struct msg_headers *h, char *err, size_t errcap)
{
	return msg_headers_flags(m, n, 0, h, err, errcap);
}

void msg_headers_free(struct msg_headers *h)
{
	free(h->f);
	h->f = NULL;
	h->n = 0;
}

int msg_field_is(const char *m, const struct msg_field *f, const char *name, size_t len)
{
	return f->name_len == len && strncasecmp(m + f->off, name, len) == 0;
}

long msg_find(const char *m, const struct msg_headers *h, const char *name, size_t start)
{
	size_t i, l = strlen(name);
	for (i = start; i < h->n; i++)
		if (msg_field_is(m, &h->f[i], name, l))
			return (long)i;
	return -1;
}

int msg_value(const char *m, const struct msg_field *f, struct buf *out)
{
	size_t i = f->off + f->name_len, e = f->off + f->len;
	out->len = 0;
	if (buf_reserve(out, f->len) < 0)
		return -1;
	while (m[i] != ':')     /* white space before the colon (MSG_HDR_DKIM) */
		i++;
	i++;
	while (i < e && (m[i] == ' ' || m[i] == '\t'))
		i++;
	for (; i < e; i++) {
		if (m[i] == '\r' || m[i] == '\n')
			continue;
		out->p[out->len++] = m[i];
	}
	while (out->len && (out->p[out->len - 1] == ' ' || out->p[out->len - 1] == '\t'))
		out->len--;
	out->p[out->len] = 0;
	return 0;
}

/* One element of an address list, comments removed: either the text in
 * angle brackets or the whole element without white space. */
static int emit(const char *v, size_t s, size_t e, int (*fn)(const char *, size_t, void *), void *arg)
{
	char tmp[1024];
	size_t i, o = 0, lt = (size_t)-1, gt = (size_t)-1;
	int inq = 0, depth = 0;
	for (i = s; i < e; i++) {
		char c = v[i];
		if (inq) {
			if (c == '\\' && i + 1 < e) {
				if (o + 2 >= sizeof tmp) return -1;
				tmp[o++] = c; tmp[o++] = v[++i];
				continue;
			}
			if (c == '"') inq = 0;
		} else if (depth) {
			if (c == '\\' && i + 1 < e) i++;
			else if (c == '(') depth++;
			else if (c == ')') depth--;
			continue;
		} else if (c == '(') {
			depth = 1;
			continue;
		} else if (c == '"') {
			inq = 1;
		} else if (c == '<') {
			lt = o;
		} else if (c == '>') {
			gt = o;
		}
		if (o + 1 >= sizeof tmp)
			return -1;
		tmp[o++] = c;
	}
	if (inq || depth)
		return -1;
	if (lt != (size_t)-1) {
		if (gt == (size_t)-1 || gt < lt)
			return -1;
		return fn(tmp + lt + 1, gt - lt - 1, arg);
	}
	if (gt != (size_t)-1)
		return -1;
	while (o && (tmp[o - 1] == ' ' || tmp[o - 1] == '\t'))
		o--;
	for (i = 0; i < o && (tmp[i] == ' ' || tmp[i] == '\t'); i++)
		;
	if (i == o)
		return 0;
	return fn(tmp + i, o - i, arg);
}

int msg_addrlist(const char *v, size_t n, int (*fn)(const char *, size_t, void *), void *arg)
{
	size_t i, s = 0;
	int inq = 0, depth = 0, angle = 0, lit = 0;
	for (i = 0; i < n; i++) {
		char c = v[i];
		if (lit) {      /* domain literal: [IPv6:...] holds colons */
			if (c == ']') lit = 0;
			continue;
		}
		if (inq) {
			if (c == '\\') i++;
			else if (c == '"') inq = 0;
			continue;
		}
		if (depth) {
			if (c == '\\') i++;
			else if (c == '(') depth++;
			else if (c == ')') depth--;
			continue;
		}
		switch (c) {
		case '"': inq = 1; break;
		case '[': lit = 1; break;
		case '(': depth = 1; break;
		case '<': angle++; break;
		case '>': if (angle) angle--; else return -1; break;
		case ':':   /* group name: drop it */
			if (!angle)
				s = i + 1;
			break;
		case ',': case ';':
			if (!angle) {
				if (emit(v, s, i, fn, arg) < 0)
					return -1;
				s = i + 1;
			}
			break;
		}
	}
	if (inq || depth || angle || lit)
		return -1;
	return emit(v, s, n, fn, arg);
}

void msg_date(char *out, size_t cap, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	long off;
	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(out, cap, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
		 days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		 labs(off) / 60, labs(off) % 60);
}
