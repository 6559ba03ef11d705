#include "dkim/dkim_canon.h"

#include <errno.h>
#include <string.h>

#include "dkim/dkim.h"
#include "dkim/hash.h"

static void flush(struct dkim_body *b)
{
	if (b->n) {
		b->sink(b->ctx, b->pend, b->n);
		b->n = 0;
	}
}

static void emit(struct dkim_body *b, const char *p, size_t n)
{
	if (b->out < b->limit) {
		uint64_t room = b->limit - b->out;
		size_t k = room < n ? (size_t)room : n;
		if (k >= sizeof b->pend) {
			flush(b);
			b->sink(b->ctx, p, k);
		} else {
			if (b->n + k > sizeof b->pend)
				flush(b);
			memcpy(b->pend + b->n, p, k);
			b->n += k;
		}
	}
	b->out += n;
}

void dkim_body_init(struct dkim_body *b, int relaxed, dkim_sink sink, void *ctx)
{
	memset(b, 0, sizeof *b);
	b->relaxed = relaxed;
	b->limit = UINT64_MAX;
	b->sink = sink;
	b->ctx = ctx;
}

/* The first content byte of a line brings back the empty lines held
 * before it, then the one space that stands for a run of white space. */
static void line_start(struct dkim_body *b)
{
	if (!b->inline_) {
		while (b->blank) {
			emit(b, "\r\n", 2);
			b->blank--;
		}
		b->inline_ = 1;
	}
	if (b->wsp) {
		emit(b, " ", 1);
		b->wsp = 0;
	}
}

static void eol(struct dkim_body *b)
{
	if (b->inline_) {
		emit(b, "\r\n", 2);
		b->inline_ = 0;
	} else {
		b->blank++;
	}
	b->wsp = 0; /* white space at the end of a line is dropped */
}

void dkim_body_update(struct dkim_body *b, const void *data, size_t n)
{
	const char *p = data, *end = p + n;
	while (p < end) {
		char c = *p;
		if (b->cr) {
			b->cr = 0;
			if (c == '\n') {
				eol(b);
				p++;
				continue;
			}
			line_start(b);
			emit(b, "\r", 1); /* a bare CR is content */
		}
		if (c == '\r') {
			b->cr = 1;
			p++;
			continue;
		}
		if (b->relaxed && (c == ' ' || c == '\t')) {
			b->wsp = 1;
			p++;
			continue;
		}
		line_start(b);
		/* a run of ordinary bytes goes out in one piece */
		{
			const char *q = p + 1;
			if (b->relaxed) {
				/* a single space between two ordinary bytes stays as it is */
				while (q < end) {
					char d = *q;
					if (d == '\r' || d == '\t')
						break;
					if (d == ' ') {
						if (q + 1 < end && q[1] != ' ' && q[1] != '\t' && q[1] != '\r') {
							q += 2;
							continue;
						}
						break;
					}
					q++;
				}
			} else {
				const char *r = memchr(q, '\r', (size_t)(end - q));
				q = r ? r : end;
			}
			emit(b, p, (size_t)(q - p));
			p = q;
		}
	}
}

uint64_t dkim_body_final(struct dkim_body *b)
{
	if (b->cr) {
		b->cr = 0;
		line_start(b);
		emit(b, "\r", 1);
	}
	if (b->inline_)
		eol(b);
	b->blank = 0;
	b->wsp = 0;
	if (!b->relaxed && b->out == 0)
		emit(b, "\r\n", 2); /* simple: an empty body is one CRLF */
	flush(b);
	return b->out;
}

int dkim_headers_parse(struct msg_headers *h, const char *msg, size_t len,
                       char *why, size_t wn)
{
	char bad[128];
	if (msg_headers_flags(msg, len, MSG_HDR_DKIM, h, bad, sizeof bad) == 0)
		return DKIM_OK;
	return dkim_say(errno == ENOMEM ? DKIM_TEMP : DKIM_PERM, why, wn, "%s", bad);
}

int dkim_canon_header(struct buf *out, int relaxed, const char *field, size_t len)
{
	const char *colon;
	size_t nl, i;
	int pend = 0, any = 0;
	if (!relaxed) {
		if (buf_add(out, field, len) < 0)
			return -1;
		if (len < 2 || field[len - 2] != '\r' || field[len - 1] != '\n')
			return buf_add(out, "\r\n", 2);
		return 0;
	}
	colon = memchr(field, ':', len);
	nl = colon ? (size_t)(colon - field) : len;
	i = nl;
	while (nl && (field[nl - 1] == ' ' || field[nl - 1] == '\t'))
		nl--;
	if (buf_reserve(out, len + 3) < 0)
		return -1;
	for (size_t k = 0; k < nl; k++) {
		char c = field[k];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out->p[out->len++] = c;
	}
	out->p[out->len++] = ':';
	for (i = colon ? i + 1 : len; i < len; i++) {
		char c = field[i];
		if (c == '\r' && i + 1 < len && field[i + 1] == '\n') {
			i++; /* unfold */
			continue;
		}
		if (c == ' ' || c == '\t') {
			pend = 1;
			continue;
		}
		if (pend && any)
			out->p[out->len++] = ' ';
		pend = 0;
		any = 1;
		out->p[out->len++] = c;
	}
	out->p[out->len++] = '\r';
	out->p[out->len++] = '\n';
	out->p[out->len] = 0;
	return 0;
}
