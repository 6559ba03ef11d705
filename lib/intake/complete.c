#include "intake/complete.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/diag.h"

int complete_parse(const char *raw, size_t n, int dot_ends, struct buf *m,
                   struct msg_headers *h, char *e, size_t errcap)
{
	char why[256];
	errno = 0;
	if (msg_normalize(raw, n, dot_ends, m, why, sizeof why) < 0 ||
	    msg_headers(m->p ? m->p : "", m->len, h, why, sizeof why) < 0) {
		snprintf(e, errcap, "refused: %s", why);
		/* out of memory is no reason to refuse the message */
		return errno == ENOMEM ? EXIT_TEMP : EXIT_PERM;
	}
	return 0;
}

int complete_one_from(const char *m, const struct msg_headers *h, char *err, size_t errcap)
{
	long k = msg_find(m, h, "From", 0);
	if (k >= 0 && msg_find(m, h, "From", (size_t)k + 1) >= 0) {
		snprintf(err, errcap, "refused: the message has more than one From: field");
		return EXIT_PERM;
	}
	return 0;
}

int complete_drops(const char *m, const struct msg_field *f)
{
	const char *name = m + f->off;
	size_t nl = f->name_len;
	return (nl == 3 && !strncasecmp(name, "Bcc", 3)) ||
	       (nl == 13 && !strncasecmp(name, "X-Relay-Class", 13));
}

/* A display name safe for a From: line: quoted, with \ and " escaped,
 * control bytes dropped. 0 or -1 (ENOMEM). */
static int quote_name(struct buf *b, const char *name)
{
	int bad = buf_addc(b, '"');
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if (c < 32 || c == 127)
			continue;
		if (c == '"' || c == '\\')
			bad |= buf_addc(b, '\\');
		bad |= buf_addc(b, (char)c);
	}
	return bad | buf_addc(b, '"');
}

int complete_message(const struct complete *c, const char *m, size_t len,
                     const struct msg_headers *h, struct buf *out,
                     char *err, size_t errcap)
{
	char date[64];
	size_t k;
	int bad;   /* any buf_ call failed (each returns 0 or -1) */
	msg_date(date, sizeof date, c->now);
	out->len = 0;
	bad = buf_printf(out, "Received: %s;\r\n\t%s\r\n", c->trace, date);
	for (k = 0; k < h->n; k++)
		if (!complete_drops(m, &h->f[k]))
			bad |= buf_add(out, m + h->f[k].off, h->f[k].len);
	if (msg_find(m, h, "Date", 0) < 0)
		bad |= buf_printf(out, "Date: %s\r\n", date);
	if (msg_find(m, h, "Message-ID", 0) < 0) {
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
			rnd = (uint32_t)getpid();
		bad |= buf_printf(out, "Message-ID: <%llx.%08x.%lu@%s>\r\n", c->now, (unsigned)rnd,
		                  (unsigned long)getpid(), c->host);
	}
	if (msg_find(m, h, "From", 0) < 0) {
		bad |= buf_adds(out, "From: ");
		if (c->fullname && *c->fullname)
			bad |= quote_name(out, c->fullname) | buf_adds(out, " ");
		if (*c->sender)
			bad |= buf_printf(out, "<%s>\r\n", c->sender);
		else
			bad |= buf_printf(out, "<MAILER-DAEMON@%s>\r\n", c->host);
	}
	bad |= buf_adds(out, "\r\n");
	bad |= buf_add(out, m + h->body, len - h->body);
	if (bad) {
		snprintf(err, errcap, "out of memory");
		return EXIT_TEMP;
	}
	if (out->len > c->maxsize) {
		snprintf(err, errcap, "message larger than the limit of %llu bytes", c->maxsize);
		return EXIT_PERM;
	}
	return 0;
}
