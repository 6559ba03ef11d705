#include "bounce/classify.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/fileio.h"
#include "conf/conf.h"

static const char *const cat_names[CAT_NCATEGORIES] = {
	"other", "bad-mailbox", "bad-domain", "policy", "quota",
	"rate-limit", "tls", "auth",
};

const char *classify_category_name(int c)
{
	return c >= 0 && c < CAT_NCATEGORIES ? cat_names[c] : "other";
}

int classify_category_parse(const char *s)
{
	int i;
	for (i = 0; i < CAT_NCATEGORIES; i++)
		if (strcasecmp(s, cat_names[i]) == 0)
			return i;
	return -1;
}

const char *classify_kind_name(int k) { return k == KIND_HARD ? "hard" : "soft"; }

const char *classify_action_name(int a)
{
	return a == ACTION_FAIL ? "fail" : a == ACTION_FAILOVER ? "failover" : "retry";
}

/* The compiled-in rules, tried after the operator's. Order matters: text
 * patterns first (most specific: "rate limit" before "unsolicited",
 * "domain not found" before "does not exist"), then reply codes, then
 * enhanced codes. KIND_BY_CODE: hard for a 5xx reply, soft otherwise. */
#define R(code, enh, pat, cat, kind) {code, enh, pat, 0, cat, kind, {0, 0, 0, 0, 0}}
/* A rule with a throttle on the member or site (send/shaping.h): after
 * N replies in W seconds, the action for D seconds. */
#define T(code, enh, pat, act, n, w, d, conc) \
	{code, enh, pat, 0, CAT_RATE_LIMIT, KIND_SOFT, {CLASSIFY_THROTTLE_##act, n, w, d, conc}}
static const struct classify_rule defaults[] = {
	/* mailbox providers' rate limiting, with the back-off they ask for:
	 * Yahoo "421 4.7.0 [TSS04] Messages from ... temporarily deferred
	 * due to unexpected volume or user complaints"; Gmail "421-4.7.28
	 * ... unusual rate of unsolicited mail ... temporarily rate
	 * limited" and "4.7.0 ... rate limited"; Outlook/Office 365 "451
	 * 4.7.500 Server busy. Please try again later" and "4.7.650 The
	 * mail server ... has been temporarily rate limited due to IP
	 * reputation" */
	T("4xx", "4.7.0", "[tss04]", SUSPEND, 3, 300, 1800, 0),
	T("4xx", "4.7.28", "*", SUSPEND, 3, 300, 900, 0),
	T("4xx", "4.7.0", "rate limit", HALVE, 3, 300, 1800, 0),
	T("4xx", "4.7.500", "*", CONCURRENCY, 3, 300, 900, 2),
	T("4xx", "4.7.650", "*", SUSPEND, 3, 300, 1800, 0),
	/* TLS trouble with the relay */
	R("*", "*", "starttls", CAT_TLS, KIND_SOFT),
	R("*", "*", "tls required", CAT_TLS, KIND_SOFT),
	R("*", "*", "tls not available", CAT_TLS, KIND_SOFT),
	R("*", "*", "encryption required", CAT_TLS, KIND_SOFT),
	R("*", "*", "must use tls", CAT_TLS, KIND_SOFT),
	/* our credentials or relay permission at a smarthost */
	R("*", "*", "authentication required", CAT_AUTH, KIND_SOFT),
	R("*", "*", "authentication failed", CAT_AUTH, KIND_SOFT),
	R("*", "*", "authentication failure", CAT_AUTH, KIND_SOFT),
	R("*", "*", "authentication credentials invalid", CAT_AUTH, KIND_SOFT),
	R("*", "*", "authentication unsuccessful", CAT_AUTH, KIND_SOFT),
	R("*", "*", "relay access denied", CAT_AUTH, KIND_SOFT),
	R("*", "*", "relaying denied", CAT_AUTH, KIND_SOFT),
	R("*", "*", "relay not permitted", CAT_AUTH, KIND_SOFT),
	R("*", "*", "not permitted to relay", CAT_AUTH, KIND_SOFT),
	R("*", "*", "unable to relay", CAT_AUTH, KIND_SOFT),
	/* rate limits and volume deferrals (Gmail 4.7.28, Outlook 4.7.650,
	 * Yahoo TSS04) */
	R("*", "*", "rate limit", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "unusual rate", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "unexpected volume", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "[tss0", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "too many messages", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "too many connections", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "too many concurrent", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "*", "throttl", CAT_RATE_LIMIT, KIND_SOFT),
	/* full mailboxes: a soft bounce even as a 5xx (RFC 3463 X.2.2) */
	R("*", "*", "mailbox full", CAT_QUOTA, KIND_SOFT),
	R("*", "*", "mailbox is full", CAT_QUOTA, KIND_SOFT),
	R("*", "*", "over quota", CAT_QUOTA, KIND_SOFT),
	R("*", "*", "quota exceeded", CAT_QUOTA, KIND_SOFT),
	R("*", "*", "exceeded storage", CAT_QUOTA, KIND_SOFT),
	R("*", "*", "mailbox size limit", CAT_QUOTA, KIND_SOFT),
	/* the domain does not take mail */
	R("*", "*", "domain not found", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "*", "no such domain", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "*", "domain does not exist", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "*", "host unknown", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "*", "host not found", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "*", "unrouteable address", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "*", "null mx", CAT_BAD_DOMAIN, KIND_BY_CODE),
	/* the mailbox does not exist (Gmail, Outlook, Yahoo, Postfix, Exim) */
	R("*", "*", "user unknown", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "unknown user", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "no such user", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "no such mailbox", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "user not found", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "mailbox not found", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "recipient not found", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "recipient unknown", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "unknown recipient", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "invalid recipient", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "invalid mailbox", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "mailbox disabled", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "account disabled", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "account that you tried to reach does not exist", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "*", "doesn't have a", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("5xx", "*", "mailbox unavailable", CAT_BAD_MAILBOX, KIND_HARD),
	/* spam and policy blocks */
	R("*", "*", "unsolicited", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "spam", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "blocklist", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "blacklist", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "block list", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "blocked", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "reputation", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "policy", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "dmarc", CAT_POLICY, KIND_BY_CODE),
	R("*", "*", "virus", CAT_POLICY, KIND_BY_CODE),
	/* reply codes (RFC 4954) */
	R("535", "*", "*", CAT_AUTH, KIND_SOFT),
	R("534", "*", "*", CAT_AUTH, KIND_SOFT),
	R("538", "*", "*", CAT_TLS, KIND_SOFT),
	R("530", "*", "*", CAT_AUTH, KIND_SOFT),
	/* enhanced codes (RFC 3463, RFC 5248, RFC 7505) */
	R("*", "x.1.1", "*", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "x.1.3", "*", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "x.1.6", "*", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "x.2.1", "*", CAT_BAD_MAILBOX, KIND_BY_CODE),
	R("*", "x.1.2", "*", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "x.1.10", "*", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "x.4.4", "*", CAT_BAD_DOMAIN, KIND_BY_CODE),
	R("*", "x.2.2", "*", CAT_QUOTA, KIND_SOFT),
	R("*", "x.7.28", "*", CAT_RATE_LIMIT, KIND_SOFT),
	R("*", "x.7.8", "*", CAT_AUTH, KIND_SOFT),
	R("*", "x.7.10", "*", CAT_TLS, KIND_SOFT),
	R("*", "x.7.11", "*", CAT_TLS, KIND_SOFT),
	R("*", "x.7.*", "*", CAT_POLICY, KIND_BY_CODE),
};
#undef R
#undef T
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

static int match_code(const char *pat, int code)
{
	char c[4];
	int i;
	if (strcmp(pat, "*") == 0)
		return 1;
	if (code < 100 || code > 999)
		return 0;
	snprintf(c, sizeof c, "%d", code);
	for (i = 0; i < 3; i++)
		if (pat[i] != 'x' && pat[i] != c[i])
			return 0;
	return 1;
}

/* Component-wise: "x" or "*" matches any component. */
static int match_enh(const char *pat, const char *enh)
{
	if (strcmp(pat, "*") == 0)
		return 1;
	if (!enh || !*enh)
		return 0;
	for (;;) {
		size_t pl = strcspn(pat, "."), el = strcspn(enh, ".");
		int any = (pl == 1 && (*pat == 'x' || *pat == '*'));
		if (!any && (pl != el || strncmp(pat, enh, pl) != 0))
			return 0;
		pat += pl;
		enh += el;
		if (!*pat || !*enh)
			return !*pat && !*enh;
		pat++;
		enh++;
	}
}

static int match_text(const struct classify_rule *r, const char *text)
{
	if (!r->pattern[0] || strcmp(r->pattern, "*") == 0)
		return 1;
	if (strpbrk(r->pattern, "*?"))
		return fnmatch(r->pattern, text, FNM_CASEFOLD) == 0;
	return strcasestr(text, r->pattern) != NULL;
}

static int rule_matches(const struct classify_rule *r, int code,
                        const char *enh, const char *text)
{
	return match_code(r->code, code) && match_enh(r->enh, enh) &&
	       match_text(r, text);
}

/* "C.S.D": class 2, 4 or 5, subject and detail of 1-3 digits; with
 * wild, a part may also be x or * (a rule's pattern). */
static int enh_check(const char *s, int wild)
{
	int part = 0;
	if (strlen(s) >= CLASSIFY_ENH_MAX)
		return 0;
	for (;;) {
		size_t n = strcspn(s, ".");
		if (wild && n == 1 && (*s == 'x' || *s == '*'))
			;
		else if (n == 0 || n > 3 || strspn(s, "0123456789") != n ||
		         (part == 0 && (n != 1 || !strchr("245", *s))))
			return 0;
		s += n;
		if (++part == 3)
			return *s == 0;
		if (*s != '.')
			return 0;
		s++;
	}
}

int classify_enh_valid(const char *s)
{
	return enh_check(s, 0);
}

void classify_split_reply(const char *reply, int *code,
                          char enh[CLASSIFY_ENH_MAX], const char **rest)
{
	const char *s = reply ? reply : "";
	*code = 0;
	enh[0] = 0;
	while (*s == ' ')
		s++;
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) &&
	    (s[3] == ' ' || s[3] == '-' || s[3] == 0)) {
		*code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		s += 3;
		if (*s)
			s++;
	}
	while (*s == ' ')
		s++;
	{
		size_t n = strcspn(s, " ");
		char tmp[CLASSIFY_ENH_MAX];
		if (n > 0 && n < sizeof tmp) {
			memcpy(tmp, s, n);
			tmp[n] = 0;
			if (classify_enh_valid(tmp)) {
				memcpy(enh, tmp, n + 1);
				s += n;
				while (*s == ' ')
					s++;
			}
		}
	}
	*rest = s;
}

int classify(const struct classify_table *t, int code, const char *enh,
             const char *text, struct classify_result *out)
{
	char tenh[CLASSIFY_ENH_MAX];
	const char *rest;
	int tcode;
	size_t i;
	const struct classify_rule *r = NULL;
	int hard5;

	classify_split_reply(text, &tcode, tenh, &rest);
	if (code == 0)
		code = tcode;
	if (!enh || !*enh)
		enh = tenh;
	out->rule = -1 - (int)NDEFAULTS;
	for (i = 0; t && i < t->n; i++)
		if (rule_matches(&t->rules[i], code, enh, rest)) {
			r = &t->rules[i];
			out->rule = (int)i;
			break;
		}
	for (i = 0; !r && i < NDEFAULTS; i++)
		if (rule_matches(&defaults[i], code, enh, rest)) {
			r = &defaults[i];
			out->rule = -1 - (int)i;
		}
	/* A 5xx reply, or without a code an enhanced code of class 5. */
	hard5 = code ? code >= 500 && code < 600 : enh[0] == '5';
	out->category = r ? r->category : CAT_OTHER;
	out->throttle = r ? r->thr.action : CLASSIFY_THROTTLE_NONE;
	out->throttle_after = r ? r->thr.after : 0;
	out->throttle_window = r ? r->thr.window : 0;
	out->throttle_for = r ? r->thr.dur : 0;
	out->throttle_conc = r ? r->thr.conc : 0;
	out->kind = !r || r->kind == KIND_BY_CODE ? (hard5 ? KIND_HARD : KIND_SOFT)
	                                          : r->kind;
	switch (out->category) {
	case CAT_RATE_LIMIT: case CAT_TLS: case CAT_AUTH:
		out->action = ACTION_FAILOVER;
		break;
	default:
		out->action = out->kind == KIND_HARD ? ACTION_FAIL : ACTION_RETRY;
	}
	return 0;
}

int classify_suppressible(const struct classify_result *r)
{
	return r->kind == KIND_HARD && r->action == ACTION_FAIL &&
	       (r->category == CAT_BAD_MAILBOX || r->category == CAT_BAD_DOMAIN);
}

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
	return strcmp(s, "*") == 0 || enh_check(s, 1);
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
