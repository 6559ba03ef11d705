#include "bounce/classify.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>


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

int classify_enh_pattern_valid(const char *s)
{
	return enh_check(s, 1);
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
