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
	for (i = 0; i < e->dsn_cap; i++)
		free(e->orcpt[i]);
	free(e->orcpt);
	free(e->notify);
	e->orcpt = NULL;
	e->notify = NULL;
	e->dsn_cap = 0;
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
	if (e->nrcpt < e->dsn_cap) {   /* a new recipient starts without DSN parameters */
		e->notify[e->nrcpt][0] = 0;
		free(e->orcpt[e->nrcpt]);
		e->orcpt[e->nrcpt] = NULL;
	}
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

int envelope_dsn_mail(struct envelope *e, const char *ret, const char *envid,
                      char *err, size_t errcap)
{
	const char *why;
	char enc[3 * DSN_ENVID_MAX + 1];
	if (ret && *ret && !dsn_ret_norm(ret, strlen(ret), e->ret, &why))
		return fail(EXIT_PERM, err, errcap, "%s", why);
	if (envid && *envid) {
		size_t n = strlen(envid);
		if (!xtext_valid(envid, n)) {
			/* plain text (-V): printable ASCII, encoded */
			size_t i;
			for (i = 0; i < n; i++)
				if ((unsigned char)envid[i] < 0x20 || (unsigned char)envid[i] > 0x7e)
					return fail(EXIT_PERM, err, errcap, "ENVID holds a control or non-ASCII byte");
			if (xtext_encode(envid, n, enc, sizeof enc) < 0)
				return fail(EXIT_PERM, err, errcap, "ENVID longer than %d octets", DSN_ENVID_MAX);
			envid = enc;
			n = strlen(enc);
		}
		if (!dsn_envid_valid(envid, n, &why))
			return fail(EXIT_PERM, err, errcap, "%s", why);
		memcpy(e->envid, envid, n + 1);
	}
	return 0;
}

int envelope_dsn_notify_all(struct envelope *e, const char *notify, char *err, size_t errcap)
{
	const char *why;
	if (notify && !dsn_notify_norm(notify, strlen(notify), e->notify_all, &why))
		return fail(EXIT_PERM, err, errcap, "%s", why);
	return 0;
}

int envelope_dsn_rcpt(struct envelope *e, size_t k, const char *notify, const char *orcpt,
                      char *err, size_t errcap)
{
	const char *why;
	char norm[DSN_NOTIFY_MAX + 1] = "", *o = NULL;
	if (notify && *notify && !dsn_notify_norm(notify, strlen(notify), norm, &why))
		return fail(EXIT_PERM, err, errcap, "%s", why);
	if (orcpt && *orcpt && !dsn_orcpt_valid(orcpt, strlen(orcpt), &why))
		return fail(EXIT_PERM, err, errcap, "%s", why);
	if (k >= e->dsn_cap) {
		size_t nc = e->cap > k ? e->cap : k + 1, i;
		char (*nn)[DSN_NOTIFY_MAX + 1] = realloc(e->notify, nc * sizeof *nn);
		char **no;
		if (!nn)
			return fail(EXIT_TEMP, err, errcap, "out of memory");
		e->notify = nn;
		if (!(no = realloc(e->orcpt, nc * sizeof *no)))
			return fail(EXIT_TEMP, err, errcap, "out of memory");
		e->orcpt = no;
		for (i = e->dsn_cap; i < nc; i++) {
			e->notify[i][0] = 0;
			e->orcpt[i] = NULL;
		}
		e->dsn_cap = nc;
	}
	if (orcpt && *orcpt && !(o = strdup(orcpt)))
		return fail(EXIT_TEMP, err, errcap, "out of memory");
	memcpy(e->notify[k], norm, sizeof norm);
	free(e->orcpt[k]);
	e->orcpt[k] = o;
	return 0;
}

int envelope_dsn_wanted(void)
{
	const char *q = getenv("RELAYQUEUE"), *d = getenv("RELAYQUEUE_DSN");
	return !q || !*q || (d && strcmp(d, "1") == 0);
}

static int item(struct buf *b, char type, const char *v)
{
	return buf_addc(b, type) < 0 || buf_add(b, v, strlen(v) + 1) < 0 ? -1 : 0;
}

int envelope_records(const struct envelope *e, struct buf *env)
{
	size_t i;
	int any = e->ret[0] || e->envid[0] || e->notify_all[0] || e->requiretls;
	for (i = 0; !any && i < e->nrcpt && i < e->dsn_cap; i++)
		any = e->notify[i][0] || e->orcpt[i];
	if (!any || !envelope_dsn_wanted())
		return submit_envelope(env, e->class, e->sender, e->rcpt, e->nrcpt);
	/* submit_envelope's records with the DSN ones in their places */
	env->len = 0;
	if (e->class && *e->class && item(env, 'C', e->class) < 0)
		return -1;
	if (item(env, 'F', e->sender) < 0 || (e->envid[0] && item(env, 'E', e->envid) < 0) ||
	    (e->ret[0] && item(env, 'R', e->ret) < 0) ||
	    (e->requiretls && item(env, 'Q', "") < 0))   /* requiretls (issue 15) */
		return -1;
	for (i = 0; i < e->nrcpt; i++) {
		const char *n = i < e->dsn_cap && e->notify[i][0] ? e->notify[i] : e->notify_all;
		const char *o = i < e->dsn_cap ? e->orcpt[i] : NULL;
		if ((*n && item(env, 'N', n) < 0) || (o && item(env, 'O', o) < 0) ||
		    item(env, 'T', e->rcpt[i]) < 0)
			return -1;
	}
	return buf_addc(env, 0);
}
