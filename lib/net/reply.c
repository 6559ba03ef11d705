/* The SMTP reply parser: see reply.h. */
#include "net/reply.h"
#include "base/diag.h"

#include <string.h>

int smtp_parse_reply_line(const char *line, size_t len, int *code, int *last, size_t *text)
{
	size_t i;
	if (len < 3)
		return -1;
	for (i = 0; i < len; i++)
		if (line[i] == 0 || line[i] == '\r')
			return -1;
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3) {
		*last = 1;
		*text = 3;
		return 0;
	}
	if (line[3] == ' ')
		*last = 1;
	else if (line[3] == '-')
		*last = 0;
	else
		return -1;
	*text = 4;
	return 0;
}

const char *smtp_parse_error(int pe)
{
	switch (pe) {
	case SMTP_PE_NONE: return "no error";
	case SMTP_PE_SYNTAX: return "malformed reply line";
	case SMTP_PE_LONG: return "reply line too long";
	case SMTP_PE_LINES: return "too many reply lines";
	case SMTP_PE_MIXED: return "reply codes differ across lines";
	case SMTP_PE_CR: return "bare CR in reply";
	case SMTP_PE_NUL: return "NUL in reply";
	default: return "bad reply";
	}
}

void smtp_reply_init(struct smtp_reply *r)
{
	void (*cb)(void *, const char *, size_t) = r->on_line;
	void *arg = r->arg;
	r->code = 0;
	r->done = 0;
	r->err = 0;
	r->enh[0] = 0;
	r->text[0] = 0;
	r->textlen = 0;
	r->nlines = 0;
	r->linelen = 0;
	r->cr = 0;
	r->on_line = cb;
	r->arg = arg;
}

/* "X.Y.Z" at the start of t, X matching the class of the code. */
static void get_enh(struct smtp_reply *r, const char *t, size_t n)
{
	size_t i = 0, part, digits;
	if (n < 5 || t[0] - '0' != r->code / 100)
		return;
	i = 1;
	for (part = 0; part < 2; part++) {
		if (i >= n || t[i] != '.')
			return;
		i++;
		for (digits = 0; i < n && t[i] >= '0' && t[i] <= '9' && digits < 3; i++)
			digits++;
		if (!digits)
			return;
	}
	if (i < n && t[i] != ' ')
		return;
	if (i < sizeof r->enh) {
		memcpy(r->enh, t, i);
		r->enh[i] = 0;
	}
}

static void add_text(struct smtp_reply *r, const char *t, size_t n)
{
	size_t cap = sizeof r->text;
	if (r->nlines > 1 && r->textlen + 3 < cap) {
		memcpy(r->text + r->textlen, " / ", 3);
		r->textlen += 3;
		r->text[r->textlen] = 0;
	}
	if (r->textlen + 1 < cap)
		r->textlen += safe_text(r->text + r->textlen, cap - r->textlen, t, n);
}

/* A complete line in r->line: 1 done, 0 more lines, -1 malformed. */
static int end_line(struct smtp_reply *r)
{
	int code, last;
	size_t off;
	if (smtp_parse_reply_line(r->line, r->linelen, &code, &last, &off) < 0) {
		r->err = SMTP_PE_SYNTAX;
		return -1;
	}
	if (r->nlines == 0)
		r->code = code;
	else if (code != r->code) {
		r->err = SMTP_PE_MIXED;
		return -1;
	}
	if (++r->nlines > REPLY_LINES_MAX) {
		r->err = SMTP_PE_LINES;
		return -1;
	}
	if (r->nlines == 1)
		get_enh(r, r->line + off, r->linelen - off);
	add_text(r, r->line + off, r->linelen - off);
	if (r->on_line)
		r->on_line(r->arg, r->line + off, r->linelen - off);
	r->linelen = 0;
	if (last) {
		r->done = 1;
		return 1;
	}
	return 0;
}

int smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used)
{
	size_t i;
	int rc;
	*used = 0;
	if (r->err)
		return -1;
	if (r->done)
		return 1;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n') {
			/* CRLF, or a bare LF taken leniently as a line end */
			r->cr = 0;
			rc = end_line(r);
			if (rc != 0) {
				*used = i + 1;
				return rc;
			}
			continue;
		}
		if (r->cr) {
			r->err = SMTP_PE_CR;
			*used = i;
			return -1;
		}
		if (c == '\r') {
			r->cr = 1;
			continue;
		}
		if (c == 0) {
			r->err = SMTP_PE_NUL;
			*used = i;
			return -1;
		}
		if (r->linelen >= sizeof r->line) {
			r->err = SMTP_PE_LONG;
			*used = i;
			return -1;
		}
		r->line[r->linelen++] = c;
	}
	*used = n;
	return 0;
}
