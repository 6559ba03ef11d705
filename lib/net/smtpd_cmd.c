/* The SMTP server's pure parsers: command lines, MAIL/RCPT and their
 * parameters, and the DATA reader (net/smtpd_cmd.h). */
#include "net/smtpd_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xtext.h"

void smtpd_line_init(struct smtpd_line *l)
{
	l->len = 0;
	l->bad = SMTPD_LINE_OK;
	l->cr = 0;
	l->p[0] = 0;
}

int smtpd_line_feed(struct smtpd_line *l, const char *p, size_t n, size_t *used)
{
	size_t i;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n') {
			*used = i + 1;
			l->p[l->len] = 0;
			l->cr = 0;
			return 1;
		}
		if (l->cr && !l->bad)
			l->bad = SMTPD_LINE_CR;   /* a CR not followed by LF */
		l->cr = 0;
		if (c == '\r') {
			l->cr = 1;
			continue;
		}
		if (c == 0 && !l->bad)
			l->bad = SMTPD_LINE_NUL;
		if (l->len >= SMTPD_CMD_MAX) {
			if (!l->bad)
				l->bad = SMTPD_LINE_LONG;
			continue;
		}
		l->p[l->len++] = c;
	}
	*used = n;
	return 0;
}

static const struct { const char *name; enum smtpd_verb v; } verbs[] = {
	{ "HELO", SMTPD_HELO }, { "EHLO", SMTPD_EHLO }, { "MAIL", SMTPD_MAIL },
	{ "RCPT", SMTPD_RCPT }, { "DATA", SMTPD_DATA }, { "RSET", SMTPD_RSET },
	{ "NOOP", SMTPD_NOOP }, { "QUIT", SMTPD_QUIT }, { "VRFY", SMTPD_VRFY },
	{ "EXPN", SMTPD_EXPN }, { "HELP", SMTPD_HELP }, { "STARTTLS", SMTPD_STARTTLS },
	{ "AUTH", SMTPD_AUTH }, { "BDAT", SMTPD_BDAT },
	/* HTTP sent to the SMTP port (cross-protocol attacks): drop */
	{ "GET", SMTPD_HTTP }, { "POST", SMTPD_HTTP }, { "HEAD", SMTPD_HTTP },
	{ "PUT", SMTPD_HTTP }, { "CONNECT", SMTPD_HTTP }, { "OPTIONS", SMTPD_HTTP },
	{ NULL, SMTPD_UNKNOWN }
};


/* The path in <...> at *s into out: quoted strings may hold '>'. */
static int take_path(const char **s, char *out, size_t cap)
{
	const char *p = *s;
	size_t n = 0;
	int q = 0;
	if (*p != '<')
		return -1;
	for (p++; *p; p++) {
		if (!q && *p == '>')
			break;
		if (*p == '"')
			q = !q;
		else if (q && *p == '\\' && p[1]) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p++;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = *p;
	}
	if (*p != '>')
		return -1;
	out[n] = 0;
	*s = p + 1;
	return 0;
}

static int copy_value(char *out, size_t cap, const char *v, size_t n)
{
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

static int notify_valid(const char *v, size_t n)
{
	size_t i = 0;
	if (n == 5 && strncasecmp(v, "NEVER", 5) == 0)
		return 1;
	while (i < n) {
		size_t k = i;
		while (k < n && v[k] != ',')
			k++;
		if (!((k - i == 7 && strncasecmp(v + i, "SUCCESS", 7) == 0) ||
		      (k - i == 7 && strncasecmp(v + i, "FAILURE", 7) == 0) ||
		      (k - i == 5 && strncasecmp(v + i, "DELAY", 5) == 0)))
			return 0;
		i = k + 1;
		if (k + 1 == n)
			return 0; /* a trailing comma */
	}
	return n > 0;
}

/* One KEY[=VALUE] parameter of MAIL (mail 1) or RCPT. */
static int param(const char *k, size_t kn, const char *v, size_t vn, int has_v, int mail,
                 struct smtpd_params *p, const char **why)
{
#define IS(name) (kn == sizeof name - 1 && strncasecmp(k, name, kn) == 0)
	*why = "5.5.4 bad parameter value";
	if (mail && IS("SIZE")) {
		size_t i;
		unsigned long long s = 0;
		if (!has_v || vn == 0 || vn > 19)
			return -1;
		for (i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			s = s * 10 + (unsigned)(v[i] - '0');
		}
		p->has_size = 1;
		p->size = s;
	} else if (mail && IS("BODY")) {
		if (has_v && vn == 4 && strncasecmp(v, "7BIT", 4) == 0)
			p->body = 7;
		else if (has_v && vn == 8 && strncasecmp(v, "8BITMIME", 8) == 0)
			p->body = 8;
		else {
			*why = "5.5.4 BODY must be 7BIT or 8BITMIME";
			return -1;
		}
	} else if (mail && IS("SMTPUTF8")) {
		if (has_v)
			return -1;
		p->smtputf8 = 1;
	} else if (mail && IS("RET")) {
		if (!has_v || vn != 4 || (strncasecmp(v, "FULL", 4) && strncasecmp(v, "HDRS", 4)))
			return -1;
		copy_value(p->ret, sizeof p->ret, v, vn);
		for (size_t i = 0; p->ret[i]; i++)
			p->ret[i] = (char)(p->ret[i] & ~0x20);
	} else if (mail && IS("ENVID")) {
		if (!has_v || !xtext_valid(v, vn) || copy_value(p->envid, sizeof p->envid, v, vn) < 0)
			return -1;
	} else if (mail && IS("REQUIRETLS")) {   /* requiretls (issue 15): no value */
		if (has_v)
			return -1;
		p->requiretls = 1;
	} else if (mail && IS("AUTH")) {
		if (!has_v || copy_value(p->auth, sizeof p->auth, v, vn) < 0)
			return -1;
	} else if (!mail && IS("NOTIFY")) {
		if (!has_v || !notify_valid(v, vn) || copy_value(p->notify, sizeof p->notify, v, vn) < 0)
			return -1;
	} else if (!mail && IS("ORCPT")) {
		const char *semi = has_v ? memchr(v, ';', vn) : NULL;
		if (!semi || semi == v || !xtext_valid(semi + 1, vn - (size_t)(semi + 1 - v)) ||
		    copy_value(p->orcpt, sizeof p->orcpt, v, vn) < 0)
			return -1;
	} else {
		*why = "5.5.4 unknown parameter";
		return -1;
	}
	return 0;
#undef IS
}

static int mailrcpt(char *arg, int mail, struct smtpd_cmd *c, const char **why)
{
	const char *s = arg, *pre = mail ? "FROM:" : "TO:";
	size_t pn = strlen(pre);
	if (strncasecmp(s, pre, pn) != 0) {
		*why = mail ? "5.5.2 syntax: MAIL FROM:<address>" : "5.5.2 syntax: RCPT TO:<address>";
		return -1;
	}
	s += pn;
	while (*s == ' ')
		s++;
	if (take_path(&s, c->path, sizeof c->path) < 0) {
		*why = "5.1.7 bad address syntax or too long";
		return -1;
	}
	while (*s) {
		const char *k, *eq, *e;
		if (*s != ' ') {
			*why = "5.5.2 syntax error after the address";
			return -1;
		}
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		for (k = s; *s && *s != ' '; s++)
			;
		e = s;
		eq = memchr(k, '=', (size_t)(e - k));
		if (param(k, (size_t)((eq ? eq : e) - k), eq ? eq + 1 : e, eq ? (size_t)(e - eq - 1) : 0,
		          eq != NULL, mail, &c->prm, why) < 0)
			return -1;
	}
	return 0;
}

int smtpd_cmd_parse(char *line, size_t len, struct smtpd_cmd *c, const char **why)
{
	size_t vn = 0, i;
	memset(c, 0, sizeof *c);
	c->verb = SMTPD_UNKNOWN;
	c->arg = line + len;
	while (vn < len && line[vn] != ' ')
		vn++;
	for (i = 0; verbs[i].name; i++)
		if (strlen(verbs[i].name) == vn && strncasecmp(line, verbs[i].name, vn) == 0)
			c->verb = verbs[i].v;
	if (c->verb == SMTPD_UNKNOWN) {
		*why = "5.5.1 command unrecognized";
		return -1;
	}
	if (vn < len)
		c->arg = line + vn + 1;
	switch (c->verb) {
	case SMTPD_MAIL:
		return mailrcpt(line + (c->arg - line), 1, c, why);
	case SMTPD_RCPT:
		return mailrcpt(line + (c->arg - line), 0, c, why);
	case SMTPD_HELO:
	case SMTPD_EHLO:
		if (!*c->arg) {
			*why = "5.5.4 a host name, please";
			return -1;
		}
		return 0;
	case SMTPD_BDAT: {
		/* "BDAT" SP chunk-size [SP "LAST"] (RFC 3030 3) */
		const char *p = c->arg;
		size_t n = 0;
		while (p[n] >= '0' && p[n] <= '9' && n < 19)
			c->bdat_size = c->bdat_size * 10 + (unsigned)(p[n++] - '0');
		if (n == 0 || (p[n] && (p[n] != ' ' || strcasecmp(p + n + 1, "LAST") != 0))) {
			*why = "5.5.4 syntax: BDAT size [LAST]";
			return -1;
		}
		c->bdat_last = p[n] != 0;
		return 0;
	}
	case SMTPD_DATA: case SMTPD_RSET: case SMTPD_QUIT: case SMTPD_STARTTLS:
		if (*c->arg) {
			*why = "5.5.4 no arguments, please";
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- DATA ---- */

enum { D_BOL, D_DOT, D_DOTCR, D_MID, D_CR };

void smtpd_data_init(struct smtpd_data *d, struct buf *out, unsigned long long max)
{
	memset(d, 0, sizeof *d);
	d->out = out;
	d->max = max;
	d->state = D_BOL;
	d->inheader = 1;
	out->len = 0;
}

/* The first problem is the one reported; what was kept is dropped (the
 * message is refused whole). */
static void fail(struct smtpd_data *d, int err)
{
	if (!d->err)
		d->err = err;
	d->out->len = 0;
}

/* n bytes of message text (no line ends). When the run crosses both
 * the line limit and the size limit, the one crossed first in byte
 * order is reported (at the same byte: the line), so that the reply
 * does not depend on how the bytes arrive (found by fuzz_smtpd_cmd). */
static int emit(struct smtpd_data *d, const char *p, size_t n)
{
	size_t to_long = d->linelen < LINE_MAX_OCTETS ? LINE_MAX_OCTETS - d->linelen : 0;
	size_t to_size = d->total < d->max ? d->max - d->total : 0;
	d->total += n;
	d->linelen += n;
	if (n > to_long && (n <= to_size || to_long <= to_size))
		fail(d, SMTPD_DATA_LONG);
	if (n > to_size)
		fail(d, SMTPD_DATA_SIZE);
	if (d->err)
		return 0;
	return buf_add(d->out, p, n);
}

static int eol(struct smtpd_data *d)
{
	if (d->inheader) {
		if (d->linelen == 0)
			d->inheader = 0;
		else if (++d->hlines > SMTPD_HEADER_LINES_MAX)
			fail(d, SMTPD_DATA_HEADERS);
	}
	d->linelen = 0;
	d->total += 2;
	if (d->total > d->max)
		fail(d, SMTPD_DATA_SIZE);
	if (d->err)
		return 0;
	return buf_add(d->out, "\r\n", 2);
}

int smtpd_data_feed(struct smtpd_data *d, const char *p, size_t n, size_t *used)
{
	size_t i = 0;
	while (i < n) {
		char c = p[i];
		switch (d->state) {
		case D_BOL:
			if (c == '.' && !d->raw) {
				d->state = D_DOT;
				i++;
				continue;
			}
			d->state = D_MID;
			continue;       /* the same byte, mid-line */
		case D_DOT:
			if (c == '\r') {
				d->state = D_DOTCR;
				i++;
				continue;
			}
			d->state = D_MID;  /* the leading dot is dropped */
			continue;
		case D_DOTCR:
			if (c == '\n') {
				*used = i + 1;
				return 1;
			}
			fail(d, SMTPD_DATA_BARE); /* ".\r" then not LF */
			d->state = D_MID;
			continue;
		case D_MID: {
			size_t k = i;
			/* the run of plain bytes up to the next CR, LF or NUL
			 * (in byte order, so that the first problem reported
			 * does not depend on how the bytes arrive) */
			while (k < n && p[k] != '\r' && p[k] != '\n' && p[k] != 0)
				k++;
			if (k > i && emit(d, p + i, k - i) < 0)
				return -1;
			i = k;
			if (i == n)
				break;
			if (p[i] == 0) {
				fail(d, SMTPD_DATA_NUL);
				emit(d, p + i, 1);   /* counted, not kept */
				i++;
				continue;
			}
			if (p[i] == '\n')
				fail(d, SMTPD_DATA_BARE); /* never a line end */
			else
				d->state = D_CR;
			i++;
			continue;
		}
		case D_CR:
			if (c == '\n') {
				if (eol(d) < 0)
					return -1;
				d->state = D_BOL;
				i++;
				continue;
			}
			fail(d, SMTPD_DATA_BARE);
			d->state = D_MID;
			continue;
		}
	}
	*used = n;
	return 0;
}

int smtpd_data_end(struct smtpd_data *d)
{
	if (d->state == D_CR)
		fail(d, SMTPD_DATA_BARE);
	else if (d->state == D_MID && !d->err)
		return eol(d);
	return 0;
}

const char *smtpd_data_reply(int err)
{
	switch (err) {
	case SMTPD_DATA_BARE: return "550 5.6.0 bare CR or LF in the message: lines must end in CRLF";
	case SMTPD_DATA_NUL: return "550 5.6.0 NUL byte in the message";
	case SMTPD_DATA_LONG: return "552 5.3.4 message line longer than 998 octets";
	case SMTPD_DATA_SIZE: return "552 5.3.4 message larger than the size limit";
	case SMTPD_DATA_HEADERS: return "552 5.3.4 too many header lines";
	}
	return "250 2.0.0 ok";
}
