#include "bounce/dsn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "base/bounds.h"
#include "base/xtext.h"
#include "bounce/classify.h"
#include "queue/dsnrec.h"
#include "queue/queue.h"

static void seterr(char *err, size_t cap, const char *fmt, unsigned long line)
	__attribute__((format(printf, 3, 0)));
static void seterr(char *err, size_t cap, const char *fmt, unsigned long line)
{
	if (cap)
		snprintf(err, cap, fmt, line);
}

static int valid_status(const char *s, int action)
{
	if (action == DSN_RELAYED ? s[0] != '2' :
	    action == DSN_DELAYED ? s[0] != '4' : (s[0] != '4' && s[0] != '5'))
		return 0;
	return classify_enh_valid(s);
}

/* Printable ASCII and spaces, not starting with a space: what an address
 * in a record may hold (quoted local parts may hold spaces). */
static int valid_addr(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ADDR_PATH_MAX || s[0] == ' ')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int valid_host(const char *s)
{
	size_t n = strlen(s);
	if (n > ADDR_DOMAIN_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789.-:[]_") == n;
}

int dsn_parse_records(char *data, size_t len, struct dsn_records *out,
                      char *err, size_t errcap)
{
	char *line = data, *end = data + len, *nl;
	unsigned long lineno = 0;

	if (memchr(data, 0, len)) {
		seterr(err, errcap, "NUL byte in failure records", 0);
		return -1;
	}
	for (; line < end; line = nl) {
		char *f[6], *p, *q;
		struct dsn_record r;
		int i;
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl) {
			seterr(err, errcap, "record %lu: no newline at the end", lineno + 1);
			return -1;
		}
		*nl++ = 0;
		lineno++;
		if (nl - line > DSN_RECORD_MAX) {
			seterr(err, errcap, "record %lu: too long", lineno);
			return -1;
		}
		if (nl - line > 1 && nl[-2] == '\r')
			nl[-2] = 0;
		for (p = line, i = 0; i < 6; i++) {
			f[i] = p;
			q = strchr(p, '\t');
			if (i < 5) {
				if (!q) {
					seterr(err, errcap, "record %lu: want 6 TAB-separated fields", lineno);
					return -1;
				}
				*q = 0;
				p = q + 1;
			} else if (q) {
				seterr(err, errcap, "record %lu: want 6 TAB-separated fields", lineno);
				return -1;
			}
		}
		memset(&r, 0, sizeof r);
		if (!valid_addr(f[0])) {
			seterr(err, errcap, "record %lu: bad recipient", lineno);
			return -1;
		}
		r.rcpt = f[0];
		if (strcmp(f[1], "failed") == 0)
			r.action = DSN_FAILED;
		else if (strcmp(f[1], "delayed") == 0)
			r.action = DSN_DELAYED;
		else if (strcmp(f[1], "relayed") == 0)
			r.action = DSN_RELAYED;
		else {
			seterr(err, errcap, "record %lu: action is not failed, delayed or relayed", lineno);
			return -1;
		}
		if (strlen(f[2]) >= sizeof r.status || !valid_status(f[2], r.action)) {
			seterr(err, errcap, "record %lu: bad status code", lineno);
			return -1;
		}
		memcpy(r.status, f[2], strlen(f[2]) + 1);
		if (!valid_host(f[3])) {
			seterr(err, errcap, "record %lu: bad remote-mta", lineno);
			return -1;
		}
		r.remote_mta = f[3];
		for (p = f[4]; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				seterr(err, errcap, "record %lu: control byte in diagnostic", lineno);
				return -1;
			}
		r.diag = f[4];
		{
			char *e2;
			errno = 0;
			r.last_attempt = strtoll(f[5], &e2, 10);
			if (errno || e2 == f[5] || *e2 || r.last_attempt < 0 || f[5][0] == '-' ||
			    f[5][0] == '+' || f[5][0] == ' ') {
				seterr(err, errcap, "record %lu: bad last-attempt time", lineno);
				return -1;
			}
		}
		if (out->n >= DSN_RECORDS_CALL_MAX) {
			seterr(err, errcap, "more than %lu records", (unsigned long)DSN_RECORDS_CALL_MAX);
			return -1;
		}
		if (out->n == out->cap) {
			size_t nc = out->cap ? out->cap * 2 : 8;
			void *np = realloc(out->r, nc * sizeof *out->r);
			if (!np) {
				seterr(err, errcap, "out of memory", 0);
				errno = ENOMEM;
				return -1;
			}
			out->r = np;
			out->cap = nc;
		}
		out->r[out->n++] = r;
	}
	if (out->n == 0) {
		seterr(err, errcap, "no failure records", 0);
		return -1;
	}
	return 0;
}

void dsn_records_free(struct dsn_records *rs)
{
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}

/* The DSN records of the queue file (queue/dsnrec.h) into o. 0 or -1. */
static int original_params(const char *data, const struct queue_env *e, struct dsn_original *o)
{
	struct dsnrec_msg m;
	size_t i, k = 0;
	dsnrec_msg_read(data, e, &m);
	o->envid = m.envid;
	o->ret = m.ret;
	for (i = 0; i < e->nrcpt; i++) {
		const char *n, *or;
		dsnrec_rcpt_read(data, e, i, &n, &or);
		if (!n && !or)
			continue;
		if (!o->rp && !(o->rp = calloc(e->nrcpt, sizeof *o->rp)))
			return -1;
		o->rp[k].rcpt = e->rcpt[i];
		o->rp[k].notify = n;
		o->rp[k].orcpt = or;
		k++;
	}
	o->nrp = k;
	return 0;
}

void dsn_original_free(struct dsn_original *o)
{
	free(o->rp);
	o->rp = NULL;
	o->nrp = 0;
}

void dsn_apply_params(const struct dsn_original *o, struct dsn_records *rs)
{
	unsigned char *used = o->nrp ? calloc(o->nrp, 1) : NULL;
	size_t i, at = 0;
	for (i = 0; i < rs->n; i++) {
		size_t k, j;
		rs->r[i].notify = 0;
		rs->r[i].orcpt = NULL;
		for (k = 0; k < o->nrp; k++) {
			j = (at + k) % o->nrp;
			if ((!used || !used[j]) && strcasecmp(o->rp[j].rcpt, rs->r[i].rcpt) == 0) {
				rs->r[i].notify = dsn_notify_bits(o->rp[j].notify);
				rs->r[i].orcpt = o->rp[j].orcpt;
				if (used)
					used[j] = 1;
				at = j + 1;
				break;
			}
		}
	}
	free(used);
}

int dsn_wanted(const struct dsn_record *r)
{
	if (r->action == DSN_RELAYED)
		return (r->notify & DSN_N_SUCCESS) != 0;
	if (!r->notify)
		return 1;
	return (r->notify & (r->action == DSN_FAILED ? DSN_N_FAILURE : DSN_N_DELAY)) != 0;
}

int dsn_parse_original(char *data, size_t len, struct dsn_original *o,
                       const char **why)
{
	struct queue_env e;
	const char *h, *hend;

	memset(o, 0, sizeof *o);
	errno = 0;
	if (queue_parse(data, len, &e, why) < 0)
		return -1;
	o->arrival = e.arrival;
	o->sender = e.sender;
	o->msg = data + e.body_off;
	o->msglen = len - e.body_off;
	if (original_params(data, &e, o) < 0) {
		queue_env_free(&e);
		*why = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	queue_env_free(&e);
	/* The header section ends at the first empty line. */
	h = o->msg;
	hend = o->msg + o->msglen;
	o->hdrlen = o->msglen;
	while (h < hend) {
		const char *e2 = memchr(h, '\n', (size_t)(hend - h));
		size_t ll = e2 ? (size_t)(e2 - h) : (size_t)(hend - h);
		if (ll == 0 || (ll == 1 && h[0] == '\r')) {
			o->hdrlen = (size_t)(h - o->msg);
			break;
		}
		if (ll >= 9 && strncasecmp(h, "received", 8) == 0) {
			const char *c = h + 8;
			while (c < h + ll && (*c == ' ' || *c == '\t'))
				c++;
			if (c < h + ll && *c == ':')
				o->received++;
		}
		if (!e2)
			break;
		h = e2 + 1;
	}
	return 0;
}

void dsn_date(char *out, size_t cap, time_t t)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	snprintf(out, cap, "%s, %d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday],
	         tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	         tm.tm_min, tm.tm_sec);
}

/* Make text safe for a header or a report field: see dsn_fold. */
static void clean(struct buf *o, const char *in, size_t max)
{
	int sp = 0;
	for (; *in && o->len < max; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == ' ' || c == '\t') {
			sp = o->len > 0;
			continue;
		}
		if (sp) {
			buf_addc(o, ' ');
			sp = 0;
		}
		buf_addc(o, c < 0x20 || c == 0x7f ? '_' : c >= 0x80 ? '?' : (char)c);
	}
	if (*in)
		buf_adds(o, "...");
}

/* name, then the cleaned words of value, a space between words, or a
 * fold (CRLF and indent) where the next word would pass column 78. A
 * word longer than 900 bytes is cut, so no line passes 998. Cleaned
 * text has no leading, trailing or double spaces, so every continuation
 * line holds a word after its indent: never an empty or blank line. */
static int fold(struct buf *b, const char *name, const char *value, const char *indent)
{
	struct buf c = BUF_INIT;
	const char *v;
	size_t col = strlen(name), ind = strlen(indent);
	int first = 1, r = -1;

	clean(&c, value ? value : "", DSN_DIAG_MAX);
	if (buf_adds(&c, "") < 0 || buf_adds(b, name) < 0)
		goto out;
	for (v = c.p; *v; first = 0) {
		size_t w = strcspn(v, " ");
		if (w > 900)
			w = 900;
		if (!first && col + 1 + w > 78) {
			if (buf_adds(b, "\r\n") < 0 || buf_adds(b, indent) < 0)
				goto out;
			col = ind;
		} else if (!first) {
			if (buf_addc(b, ' ') < 0)
				goto out;
			col++;
		}
		if (buf_add(b, v, w) < 0)
			goto out;
		col += w;
		v += w;
		if (*v == ' ')
			v++;
	}
	r = buf_adds(b, "\r\n");
out:
	buf_free(&c);
	return r;
}

int dsn_fold(struct buf *b, const char *name, const char *value)
{
	return fold(b, name, value, " ");
}

static int add_safe_line(struct buf *b, const char *s)
{
	struct buf c = BUF_INIT;
	int r;
	clean(&c, s, ADDR_PATH_MAX + 4);
	r = buf_adds(&c, "") < 0 ? -1 : buf_adds(b, c.p);
	buf_free(&c);
	return r;
}

/* name, then [type "; "] and xtext x decoded, made safe (one line: the
 * values are short, at most DSN_ORCPT_MAX). */
static int add_xtext_field(struct buf *b, const char *name, const char *type, const char *x)
{
	char dec[DSN_ORCPT_MAX + 1];
	if (xtext_decode(x, strlen(x), dec, sizeof dec) < 0)
		return 0;   /* not xtext (queue_parse checks it): left out */
	if (buf_adds(b, name) < 0 || (type && (buf_adds(b, type) < 0 || buf_adds(b, "; ") < 0)) ||
	    add_safe_line(b, dec) < 0 || buf_adds(b, "\r\n") < 0)
		return -1;
	return 0;
}

/* 7-bit, no NUL, no bare CR or LF, lines at most 998: safe to return
 * whole as message/rfc822 with no transfer encoding. */
static int seven_bit_clean(const char *p, size_t n)
{
	size_t i, col = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == 0 || c >= 0x80)
			return 0;
		if (c == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
			continue;
		}
		if (c == '\n')
			return 0;
		if (++col > LINE_MAX_OCTETS)
			return 0;
	}
	return 1;
}

/* The original header section, made 7-bit, lines capped, CRLF. */
static int add_headers(struct buf *b, const char *p, size_t n)
{
	size_t i = 0, start = b->len;
	while (i < n && b->len - start < DSN_HEADERS_MAX) {
		const char *e = memchr(p + i, '\n', n - i);
		size_t ll = e ? (size_t)(e - (p + i)) : n - i, k, col = 0;
		if (ll && p[i + ll - 1] == '\r')
			ll--;
		for (k = 0; k < ll && col < LINE_MAX_OCTETS; k++, col++) {
			unsigned char c = (unsigned char)p[i + k];
			if (buf_addc(b, c >= 0x80 ? '?' : (c < 0x20 && c != '\t') || c == 0x7f ? '_' : (char)c) < 0)
				return -1;
		}
		if (buf_adds(b, "\r\n") < 0)
			return -1;
		if (!e)
			break;
		i += (size_t)(e - (p + i)) + 1;
	}
	return 0;
}

static void random_hex(char *out, size_t nbytes)
{
	unsigned char r[32];
	size_t i, got = 0;
	if (nbytes > sizeof r)
		nbytes = sizeof r;
	while (got < nbytes) {
		ssize_t k = getrandom(r + got, nbytes - got, 0);
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			/* No randomness: the boundary check below still keeps the
			 * structure safe; uniqueness suffers only. */
			for (; got < nbytes; got++)
				r[got] = (unsigned char)(rand() ^ (got * 131));
			break;
		}
		got += (size_t)k;
	}
	for (i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

int dsn_build(const struct dsn_opts *opt, const struct dsn_original *o,
              const struct dsn_record *r, size_t n, struct buf *out)
{
	struct buf text = BUF_INIT, report = BUF_INIT, orig = BUF_INIT;
	char date[64], bnd[64], rnd[40];
	size_t i;
	int any_failed = 0, any_delayed = 0, whole, tries, ok = -1;

	for (i = 0; i < n; i++) {
		any_failed |= r[i].action == DSN_FAILED;
		any_delayed |= r[i].action == DSN_DELAYED;
	}
	/* RET=HDRS, or only "relayed" (not a failure): the header section */
	whole = !opt->truncated && opt->size_limit > 0 && (any_failed || any_delayed) &&
	        !(o->ret && strcmp(o->ret, "HDRS") == 0) &&
	        o->msglen <= (size_t)opt->size_limit && seven_bit_clean(o->msg, o->msglen);

	/* Part 1: for people. */
	if (buf_printf(&text, "This is the mail system at host %s.\r\n\r\n", opt->hostname) < 0)
		goto out;
	if (opt->why_not_sender) {
		if (buf_adds(&text, "This report goes to the postmaster and not to the sender: ") < 0 ||
		    add_safe_line(&text, opt->why_not_sender) < 0 ||
		    buf_adds(&text, ".\r\n\r\n") < 0)
			goto out;
	}
	if (buf_adds(&text, any_failed
	        ? "Your message could not be delivered to one or more recipients.\r\n"
	        : any_delayed
	        ? "Your message has not yet been delivered to one or more recipients.\r\n"
	          "The mail system will keep trying; you do not need to send it again.\r\n"
	        : "Your message was relayed to the recipients below, as you asked to be told.\r\n"
	          "The next mail system does not report delivery: this is the last report.\r\n") < 0 ||
	    buf_adds(&text, whole ? "It is attached below.\r\n\r\n"
	                          : "Its header section is attached below.\r\n\r\n") < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (buf_adds(&text, "<") < 0 || add_safe_line(&text, r[i].rcpt) < 0 ||
		    buf_printf(&text, ">: %s, status %s\r\n",
		               r[i].action == DSN_FAILED ? "failed" :
		               r[i].action == DSN_DELAYED ? "delayed (still trying)" : "relayed",
		               r[i].status) < 0)
			goto out;
		if (r[i].diag[0] && fold(&text, "    ", r[i].diag, "    ") < 0)
			goto out;
	}

	/* Part 2: for programs (RFC 3464 section 2). */
	dsn_date(date, sizeof date, o->arrival);
	if (o->envid && add_xtext_field(&report, "Original-Envelope-Id: ", NULL, o->envid) < 0)
		goto out;
	if (buf_printf(&report, "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n",
	               opt->hostname, date) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (buf_adds(&report, "\r\n") < 0)
			goto out;
		if (r[i].orcpt) {
			/* addr-type ";" xtext: the type, then the address decoded */
			const char *semi = strchr(r[i].orcpt, ';');
			char type[DSN_ADDRTYPE_MAX + 1];
			size_t tl = semi ? (size_t)(semi - r[i].orcpt) : 0;
			if (semi && tl < sizeof type) {
				memcpy(type, r[i].orcpt, tl);
				type[tl] = 0;
				if (add_xtext_field(&report, "Original-Recipient: ", type, semi + 1) < 0)
					goto out;
			}
		}
		if (buf_adds(&report, "Final-Recipient: rfc822; ") < 0 ||
		    add_safe_line(&report, r[i].rcpt) < 0 ||
		    buf_printf(&report, "\r\nAction: %s\r\nStatus: %s\r\n",
		               r[i].action == DSN_FAILED ? "failed" :
		               r[i].action == DSN_DELAYED ? "delayed" : "relayed", r[i].status) < 0)
			goto out;
		if (r[i].remote_mta[0] &&
		    buf_printf(&report, "Remote-MTA: dns; %s\r\n", r[i].remote_mta) < 0)
			goto out;
		if (r[i].diag[0] && dsn_fold(&report, "Diagnostic-Code: smtp; ", r[i].diag) < 0)
			goto out;
		if (r[i].last_attempt) {
			dsn_date(date, sizeof date, (time_t)r[i].last_attempt);
			if (buf_printf(&report, "Last-Attempt-Date: %s\r\n", date) < 0)
				goto out;
		}
	}

	/* Part 3: the message, or its header section. */
	if (whole) {
		if (buf_add(&orig, o->msg, o->msglen) < 0)
			goto out;
		if (o->msglen && o->msg[o->msglen - 1] != '\n' && buf_adds(&orig, "\r\n") < 0)
			goto out;
	} else if (add_headers(&orig, o->msg, o->hdrlen) < 0)
		goto out;
	if (buf_adds(&text, "") < 0 || buf_adds(&report, "") < 0 || buf_adds(&orig, "") < 0)
		goto out;

	/* A boundary that occurs in none of the parts. */
	for (tries = 0;; tries++) {
		random_hex(rnd, 16);
		snprintf(bnd, sizeof bnd, "=_relay_%s", rnd);
		if (!memmem(orig.p, orig.len, bnd, strlen(bnd)) && !strstr(text.p, bnd) &&
		    !strstr(report.p, bnd))
			break;
		if (tries > 20) {
			errno = EIO;
			goto out;
		}
	}

	dsn_date(date, sizeof date, opt->now);
	random_hex(rnd, 8);
	if (buf_printf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)\r\n", opt->hostname) < 0 ||
	    buf_adds(out, "To: <") < 0 || add_safe_line(out, opt->to) < 0 ||
	    buf_printf(out, ">\r\nSubject: %s\r\n",
	               any_failed ? "Undelivered Mail Returned to Sender"
	               : any_delayed ? "Delayed Mail (still being retried)"
	                             : "Relayed Mail (no delivery report will follow)") < 0 ||
	    buf_printf(out, "Date: %s\r\nMessage-ID: <%lld.%s@%s>\r\n", date,
	               (long long)opt->now, rnd, opt->hostname) < 0 ||
	    buf_printf(out, "MIME-Version: 1.0\r\n"
	               "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	               " boundary=\"%s\"\r\n"
	               "Auto-Submitted: auto-replied\r\n"
	               "\r\n"
	               "This is a MIME-encapsulated message.\r\n\r\n", bnd) < 0 ||
	    buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n"
	               "Content-Description: Notification\r\n\r\n", bnd) < 0 ||
	    buf_add(out, text.p, text.len) < 0 ||
	    buf_printf(out, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n"
	               "Content-Description: Delivery report\r\n\r\n", bnd) < 0 ||
	    buf_add(out, report.p, report.len) < 0 ||
	    buf_printf(out, "\r\n--%s\r\nContent-Type: %s\r\nContent-Description: %s\r\n\r\n",
	               bnd, whole ? "message/rfc822" : "text/rfc822-headers",
	               whole ? "Undelivered message" : "Undelivered message headers") < 0 ||
	    buf_add(out, orig.p, orig.len) < 0 ||
	    buf_printf(out, "\r\n--%s--\r\n", bnd) < 0)
		goto out;
	ok = 0;
out:
	buf_free(&text);
	buf_free(&report);
	buf_free(&orig);
	return ok;
}
