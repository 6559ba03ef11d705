/* etc/classify, the operator's rules: one line per rule, parsed and
 * checked strictly (file:line errors), and the throttle that may follow
 * a rule's kind. The matching is classify.c's. */
#include "bounce/classify.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/fileio.h"
#include "conf/conf.h"

static void seterr(char *err, size_t cap, const char *msg)
{
	if (cap)
		snprintf(err, cap, "%s", msg);
}

static int valid_code_pat(const char *s)
{
	int i;
	if (strcmp(s, "*") == 0)
		return 1;
	if (strlen(s) != 3)
		return 0;
	if (!strchr("2345x", s[0]))
		return 0;
	for (i = 1; i < 3; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != 'x')
			return 0;
	return 1;
}

static int valid_enh_pat(const char *s)
{
	return strcmp(s, "*") == 0 || classify_enh_pattern_valid(s);
}

/* Next whitespace-separated token of *s into out (cap incl. NUL). */
static int token(const char **s, char *out, size_t cap)
{
	const char *p = *s;
	size_t n;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	if (n == 0 || n >= cap)
		return n == 0 ? 0 : -1;
	memcpy(out, p, n);
	out[n] = 0;
	*s = p + n;
	return 1;
}

/* The next field before the arrow, lowercased, checked with valid, into
 * out: the reply code or the enhanced code of a rule. what names it in
 * the error: "missing WHAT-NAME" or "bad WHAT (want ...)". */
static int code_field(const char **p, const char *arrow, int (*valid)(const char *),
                      const char *what, char *out, size_t cap, char *err, size_t errcap)
{
	char word[32], *q;
	size_t n = strcspn(what, "(") - 1;  /* the name, without the hint */
	if (token(p, word, sizeof word) != 1 || *p > arrow) {
		if (errcap)
			snprintf(err, errcap, "missing %.*s", (int)n, what);
		return -1;
	}
	for (q = word; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (!valid(word) || strlen(word) >= cap) {
		if (errcap)
			snprintf(err, errcap, "bad %s", what);
		return -1;
	}
	memcpy(out, word, strlen(word) + 1);
	return 0;
}

/* After hard|soft: "suspend=D" | "halve=D" | "concurrency=N:D", then
 * "after=N/W" (default 1 in any window). */
static int parse_throttle(const char *p, struct classify_throttle *t, char *err, size_t errcap)
{
	char word[64], why[128];
	unsigned long v;
	char *colon, *slash, *end;
	int rc;
	memset(t, 0, sizeof *t);
	rc = token(&p, word, sizeof word);
	if (rc == 0)
		return 0;
	if (rc < 0)
		goto bad;
	if (strncasecmp(word, "suspend=", 8) == 0 || strncasecmp(word, "halve=", 6) == 0) {
		t->action = word[0] == 's' || word[0] == 'S' ? CLASSIFY_THROTTLE_SUSPEND : CLASSIFY_THROTTLE_HALVE;
		if (conf_parse_duration(strchr(word, '=') + 1, &t->dur, why, sizeof why) < 0 || !t->dur)
			goto bad;
	} else if (strncasecmp(word, "concurrency=", 12) == 0) {
		t->action = CLASSIFY_THROTTLE_CONCURRENCY;
		if (!(colon = strchr(word, ':')))
			goto bad;
		*colon = 0;
		v = strtoul(word + 12, &end, 10);
		if (end == word + 12 || *end || v == 0 || v > 100000)
			goto bad;
		t->conc = (unsigned)v;
		if (conf_parse_duration(colon + 1, &t->dur, why, sizeof why) < 0 || !t->dur)
			goto bad;
	} else {
		goto bad;
	}
	t->after = 1;
	t->window = t->dur;
	rc = token(&p, word, sizeof word);
	if (rc < 0)
		goto bad;
	if (rc == 1) {
		if (strncasecmp(word, "after=", 6) != 0 || !(slash = strchr(word, '/')))
			goto bad;
		*slash = 0;
		v = strtoul(word + 6, &end, 10);
		if (end == word + 6 || *end || v == 0 || v > 100000)
			goto bad;
		t->after = (unsigned)v;
		if (conf_parse_duration(slash + 1, &t->window, why, sizeof why) < 0 || !t->window)
			goto bad;
		if (token(&p, word, sizeof word) != 0)
			goto bad;
	}
	return 0;
bad:
	seterr(err, errcap, "bad text after hard|soft (want suspend=D, halve=D or concurrency=N:D, then after=N/D)");
	return -1;
}

void classify_throttle_format(const struct classify_throttle *t, char *out, size_t cap)
{
	char d[32], w[32];
	static const char *const names[] = { "", "suspend", "halve", "concurrency" };
	if (t->action <= CLASSIFY_THROTTLE_NONE || t->action > CLASSIFY_THROTTLE_CONCURRENCY) {
		if (cap)
			out[0] = 0;
		return;
	}
	conf_format_duration(t->dur, d, sizeof d);
	conf_format_duration(t->window, w, sizeof w);
	if (t->action == CLASSIFY_THROTTLE_CONCURRENCY)
		snprintf(out, cap, "concurrency=%u:%s after=%u/%s", t->conc, d, t->after, w);
	else
		snprintf(out, cap, "%s=%s after=%u/%s", names[t->action], d, t->after, w);
}

int classify_parse_line(const char *line, struct classify_rule *r,
                        char *err, size_t errcap)
{
	const char *p = line, *arrow, *q, *end;
	char word[32];
	size_t n;
	int c;

	memset(r, 0, sizeof *r);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return 0;
	if (strlen(line) > CONF_LINE_MAX) {
		seterr(err, errcap, "line too long");
		return -1;
	}
	for (q = p; *q; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t') {
			seterr(err, errcap, "control character in line");
			return -1;
		} else if ((unsigned char)*q >= 0x7f) {
			seterr(err, errcap, "non-ASCII byte in line");
			return -1;
		}
	/* The last "->" separates match from result: a pattern may hold "->". */
	arrow = NULL;
	for (q = p; (q = strstr(q, "->")); q++)
		arrow = q;
	if (!arrow) {
		seterr(err, errcap, "missing \"->\"");
		return -1;
	}
	if (code_field(&p, arrow, valid_code_pat, "reply code (want 550, 5xx, 55x or *)",
	               r->code, sizeof r->code, err, errcap) < 0 ||
	    code_field(&p, arrow, valid_enh_pat, "enhanced code (want 5.1.1, 5.1.*, x.7.* or *)",
	               r->enh, sizeof r->enh, err, errcap) < 0)
		return -1;
	/* The pattern: everything up to the arrow, trimmed; "..." keeps spaces. */
	while (p < arrow && (*p == ' ' || *p == '\t'))
		p++;
	end = arrow;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - p >= 2 && *p == '"' && end[-1] == '"') {
		p++;
		end--;
	}
	n = (size_t)(end - p);
	if (n == 0) {
		seterr(err, errcap, "missing pattern (use * for any text)");
		return -1;
	}
	if (n >= sizeof r->pattern) {
		seterr(err, errcap, "pattern too long");
		return -1;
	}
	memcpy(r->pattern, p, n);
	r->pattern[n] = 0;
	r->glob = strpbrk(r->pattern, "*?") != NULL;
	p = arrow + 2;
	if (token(&p, word, sizeof word) != 1 || (c = classify_category_parse(word)) < 0) {
		seterr(err, errcap, "bad category (want bad-mailbox, bad-domain, policy, quota, rate-limit, tls, auth or other)");
		return -1;
	}
	r->category = c;
	if (token(&p, word, sizeof word) != 1) {
		seterr(err, errcap, "missing hard or soft");
		return -1;
	}
	if (strcasecmp(word, "hard") == 0)
		r->kind = KIND_HARD;
	else if (strcasecmp(word, "soft") == 0)
		r->kind = KIND_SOFT;
	else {
		seterr(err, errcap, "bad kind (want hard or soft)");
		return -1;
	}
	return parse_throttle(p, &r->thr, err, errcap) < 0 ? -1 : 1;
}

int classify_table_add(struct classify_table *t, const struct classify_rule *r)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct classify_rule *nr = realloc(t->rules, nc * sizeof *nr);
		if (!nr) {
			errno = ENOMEM;
			return -1;
		}
		t->rules = nr;
		t->cap = nc;
	}
	t->rules[t->n++] = *r;
	return 0;
}

void classify_table_free(struct classify_table *t)
{
	free(t->rules);
	t->rules = NULL;
	t->n = t->cap = 0;
}

int classify_load(struct classify_table *t, const char *path,
                  char *err, size_t errcap)
{
	struct buf b = BUF_INIT;
	char *line, *nl;
	unsigned long lineno = 0;

	if (read_file(path, &b, 16UL * 1024 * 1024) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		if (e == ENOENT)
			return 0;
		seterr(err, errcap, strerror(e));
		return -1;
	}
	if (b.len && memchr(b.p, 0, b.len)) {
		buf_free(&b);
		errno = 0;
		seterr(err, errcap, "NUL byte in file");
		return -1;
	}
	for (line = b.p; line && line < b.p + b.len; line = nl) {
		struct classify_rule r;
		char why[160];
		int k;
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		lineno++;
		k = classify_parse_line(line, &r, why, sizeof why);
		if (k < 0) {
			if (errcap)
				snprintf(err, errcap, "%s: line %lu: %s", path, lineno, why);
			buf_free(&b);
			errno = 0;
			return -1;
		}
		if (k == 1 && classify_table_add(t, &r) < 0) {
			buf_free(&b);
			seterr(err, errcap, strerror(ENOMEM));
			errno = ENOMEM;
			return -1;
		}
	}
	buf_free(&b);
	return 1;
}

int classify_load_home(struct classify_table *t, const char *home,
                       char *err, size_t errcap)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/etc/classify", home) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		seterr(err, errcap, strerror(errno));
		return -1;
	}
	return classify_load(t, p, err, errcap);
}
