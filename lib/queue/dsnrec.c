/* The DSN records of an envelope (queue/dsnrec.h). */
#include "queue/dsnrec.h"

#include <string.h>

#include "base/xtext.h"

/* Check value v[0..n) of type t; the stored form into norm. */
static int value_ok(char t, const char *v, size_t n, char *norm, size_t cap, const char **why)
{
	switch (t) {
	case 'R':
		return dsn_ret_norm(v, n, norm, why);
	case 'N':
		return dsn_notify_norm(v, n, norm, why);
	case 'E':
		if (!dsn_envid_valid(v, n, why))
			return 0;
		break;
	case 'O':
		if (!dsn_orcpt_valid(v, n, why))
			return 0;
		break;
	case 'Q':   /* requiretls: REQUIRETLS has no value */
		if (n) {
			*why = "REQUIRETLS record with a value";
			return 0;
		}
		break;
	default:
		*why = "not a DSN record";
		return 0;
	}
	if (n >= cap) {
		*why = "DSN record too long";
		return 0;
	}
	memcpy(norm, v, n);
	norm[n] = 0;
	return 1;
}

int dsnrec_item(struct dsnrec_seq *s, const char *p, size_t avail, struct buf *out,
                size_t *used, const char **why)
{
	char t, norm[DSN_ORCPT_MAX + 1];
	size_t l;
	int *seen;
	if (avail == 0)
		return 0;
	t = p[0];
	switch (t) {
	case 'F': s->have_f = 1; return 0;
	case 'T': s->have_t = 1; s->n = s->o = 0; return 0;
	case 0:
		if (s->n || s->o) {
			*why = "NOTIFY or ORCPT record without its recipient";
			return -1;
		}
		return 0;
	case 'E': seen = &s->e; break;
	case 'R': seen = &s->r; break;
	case 'N': seen = &s->n; break;
	case 'O': seen = &s->o; break;
	case 'Q': seen = &s->q; break;   /* requiretls */
	default: return 0;
	}
	l = strnlen(p, avail);
	if (l == avail) {
		*why = "envelope record not terminated";
		return -1;
	}
	if (!s->have_f) {
		*why = "DSN record before the sender";
		return -1;
	}
	if ((t == 'E' || t == 'R' || t == 'Q') && s->have_t) {
		*why = "RET, ENVID or REQUIRETLS record after a recipient";
		return -1;
	}
	if (*seen) {
		*why = t == 'E' ? "ENVID record twice" : t == 'R' ? "RET record twice" :
		       t == 'Q' ? "REQUIRETLS record twice" :
		       t == 'N' ? "NOTIFY record twice for one recipient" :
		                  "ORCPT record twice for one recipient";
		return -1;
	}
	if (!value_ok(t, p + 1, l - 1, norm, sizeof norm, why))
		return -1;
	*seen = 1;
	if (buf_addc(out, t) < 0 || buf_adds(out, norm) < 0 || buf_addc(out, '\n') < 0) {
		*why = "out of memory";
		return -2;
	}
	*used = l + 1;
	return 1;
}

int dsnrec_line_ok(const char *line, size_t n, const char **why)
{
	char norm[DSN_ORCPT_MAX + 1];
	if (n == 0 || !value_ok(line[0], line + 1, n - 1, norm, sizeof norm, why))
		return 0;
	/* the stored form only: what relay-queue writes */
	if (strlen(norm) != n - 1 || memcmp(norm, line + 1, n - 1) != 0) {
		*why = "DSN record not in its stored form";
		return 0;
	}
	return 1;
}

void dsnrec_msg_read(const char *data, const struct queue_env *e, struct dsnrec_msg *m)
{
	const char *p = data + 4, *end = e->nrcpt ? e->rcpt[0] - 1 : data + e->body_off;
	m->ret = m->envid = NULL;
	m->requiretls = 0;
	while (p < end) {
		size_t l = strlen(p);
		if (p[0] == 'Q' && l == 1)   /* requiretls */
			m->requiretls = 1;
		else if (p[0] == 'R')
			m->ret = p + 1;
		else if (p[0] == 'E')
			m->envid = p + 1;
		p += l + 1;
	}
}

void dsnrec_rcpt_read(const char *data, const struct queue_env *e, size_t k,
                      const char **notify, const char **orcpt)
{
	const char *t = e->rcpt[k] - 1, *lo = data + 4;
	int i;
	*notify = *orcpt = NULL;
	/* at most two lines back: N and O, in either order */
	for (i = 0; i < 2 && t > lo; i++) {
		const char *s = t - 1;   /* the NUL that ends the line before */
		while (s > lo && s[-1] != 0)
			s--;
		if (s[0] == 'N' && !*notify)
			*notify = s + 1;
		else if (s[0] == 'O' && !*orcpt)
			*orcpt = s + 1;
		else
			break;
		t = s;
	}
}
