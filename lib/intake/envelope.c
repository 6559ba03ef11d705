#include "intake/envelope.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/diag.h"
#include "intake/addr.h"
#include "intake/submit.h"

static int fail(int code, char *err, size_t errcap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The reason into err; returns code. */
static int fail(int code, char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
	return code;
}

void envelope_init(struct envelope *e, const char *host)
{
	memset(e, 0, sizeof *e);
	e->host = host;
}

void envelope_free(struct envelope *e)
{
	size_t i;
	for (i = 0; i < e->nrcpt; i++)
		free(e->rcpt[i]);
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = e->cap = 0;
}

/* An address from the command line holds no control byte at all: an LF
 * or TAB would be white space to the address-list parser, and
 * "u@x\nRCPT TO:<evil@x>" two addresses (issue 10). */
static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int envelope_sender(struct envelope *e, const char *given, const char *user,
                    char *err, size_t errcap)
{
	const char *why;
	if (given) {
		int l = has_control(given) ? -2 : addr_strip(given, strlen(given), e->sender, sizeof e->sender);
		if (l == -2)
			why = "control character in address";
		if (l < 0 || addr_check(e->sender, (size_t)l, ADDR_ALLOW_EMPTY, &why) != ADDR_OK) {
			char safe[300];
			safe_text(safe, sizeof safe, given, strlen(given));
			e->sender[0] = 0;
			return fail(EXIT_PERM, err, errcap, "bad sender address \"%s\": %s", safe,
			            l == -1 ? "too long or unbalanced <>" : why);
		}
		return 0;
	}
	snprintf(e->sender, sizeof e->sender, "%s@%s", user, e->host);
	if (addr_check(e->sender, strlen(e->sender), 0, &why) != ADDR_OK)
		return fail(EXIT_PERM, err, errcap, "cannot make a sender address from \"%s\": %s (use -f)",
		            e->sender, why);
	return 0;
}

/* msg_addrlist's callback: its own failure is kept here, so that it is
 * told apart from a list that does not parse. */
struct add {
	struct envelope *e;
	int status;
	char *err;
	size_t errcap;
};

static int add_rcpt(const char *s, size_t n, void *arg)
{
	struct add *ad = arg;
	struct envelope *e = ad->e;
	char a[ENVELOPE_ADDR_CAP], safe[300], *p;
	const char *why;
	size_t hl = strlen(e->host);
	int l = hl + 2 < sizeof a ? addr_strip(s, n, a, sizeof a - hl - 2) : -1;
	if (l < 0) {
		safe_text(safe, sizeof safe, s, n > 200 ? 200 : n);
		ad->status = fail(EXIT_PERM, ad->err, ad->errcap,
		                  "bad recipient address \"%s\": too long or unbalanced <>", safe);
		return -1;
	}
	if (addr_check(a, (size_t)l, ADDR_ALLOW_NODOMAIN, &why) != ADDR_OK) {
		safe_text(safe, sizeof safe, s, n);
		ad->status = fail(EXIT_PERM, ad->err, ad->errcap, "bad recipient address \"%s\": %s", safe, why);
		return -1;
	}
	if (!addr_domain(a)) {     /* "root": append the host name */
		strcat(a, "@");
		strcat(a, e->host);
		if (addr_check(a, strlen(a), 0, &why) != ADDR_OK) {
			ad->status = fail(EXIT_PERM, ad->err, ad->errcap, "bad recipient address \"%s\": %s", a, why);
			return -1;
		}
	}
	if (e->nrcpt >= RCPT_MAX) {
		ad->status = fail(EXIT_PERM, ad->err, ad->errcap, "more than %d recipients", RCPT_MAX);
		return -1;
	}
	if (e->nrcpt == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 16;
		char **na = realloc(e->rcpt, nc * sizeof *na);
		if (!na)
			goto nomem;
		e->rcpt = na;
		e->cap = nc;
	}
	if (!(p = strdup(a)))
		goto nomem;
	e->rcpt[e->nrcpt++] = p;
	return 0;
nomem:
	ad->status = fail(EXIT_TEMP, ad->err, ad->errcap, "out of memory");
	return -1;
}

int envelope_rcpt_arg(struct envelope *e, const char *arg, char *err, size_t errcap)
{
	struct add ad = {e, 0, err, errcap};
	size_t before = e->nrcpt;
	if (has_control(arg)) {
		char safe[300];
		safe_text(safe, sizeof safe, arg, strlen(arg));
		return fail(EXIT_PERM, err, errcap, "bad recipient address \"%s\": control character in address", safe);
	}
	if (msg_addrlist(arg, strlen(arg), add_rcpt, &ad) < 0) {
		/* nothing of a refused argument stays */
		while (e->nrcpt > before)
			free(e->rcpt[--e->nrcpt]);
		char safe[300];
		if (ad.status)
			return ad.status;
		safe_text(safe, sizeof safe, arg, strlen(arg));
		return fail(EXIT_PERM, err, errcap,
		            "bad recipient address \"%s\": unbalanced quotes, comments or <>", safe);
	}
	return 0;
}

static int named(const char *m, const struct msg_field *f, const char *name)
{
	size_t l = strlen(name);
	return f->name_len == l && strncasecmp(m + f->off, name, l) == 0;
}

int envelope_header(struct envelope *e, const char *m, const struct msg_headers *h,
                    int take_rcpts, char *err, size_t errcap)
{
	struct buf v = BUF_INIT;
	struct add ad = {e, 0, err, errcap};
	size_t k;
	int r = 0;
	for (k = 0; k < h->n && !r; k++) {
		const struct msg_field *f = &h->f[k];
		if (take_rcpts && (named(m, f, "To") || named(m, f, "Cc") || named(m, f, "Bcc"))) {
			if (msg_value(m, f, &v) < 0)
				r = fail(EXIT_TEMP, err, errcap, "out of memory");
			else if (msg_addrlist(v.p, v.len, add_rcpt, &ad) < 0)
				r = ad.status ? ad.status
				              : fail(EXIT_PERM, err, errcap, "refused: cannot parse the %.*s: field",
				                     (int)f->name_len, m + f->off);
		} else if (named(m, f, "X-Relay-Class")) {
			if (msg_value(m, f, &v) < 0)
				r = fail(EXIT_TEMP, err, errcap, "out of memory");
			else if (!e->class) {
				/* refused, never cut: a cut name is another class */
				if (v.len >= sizeof e->class_buf)
					r = fail(EXIT_PERM, err, errcap,
					         "bad message class \"%.60s...\" (longer than %d octets)", v.p,
					         ENVELOPE_CLASS_MAX);
				else {
					snprintf(e->class_buf, sizeof e->class_buf, "%s", v.p ? v.p : "");
					e->class = e->class_buf;
				}
			}
		}
	}
	buf_free(&v);
	return r;
}

int envelope_class_check(const struct envelope *e, char *err, size_t errcap)
{
	if (e->class && !envelope_class_valid(e->class, strlen(e->class)))
		return fail(EXIT_PERM, err, errcap, "bad message class \"%.60s\" (letters, digits, - _ . only)",
		            e->class);
	return 0;
}

int envelope_records(const struct envelope *e, struct buf *env)
{
	return submit_envelope(env, e->class, e->sender, e->rcpt, e->nrcpt);
}
