#ifndef RELAY_CLASSIFY_H
#define RELAY_CLASSIFY_H
/* Reply classification: an SMTP reply (code, enhanced code, text) maps to
 * a category, a kind (hard = permanent failure, soft = transient) and the
 * action relay-send takes. Operator rules (etc/classify) are tried first,
 * in file order, then the compiled-in defaults; the first match wins.
 * doc/bounce.md has the table and the rule syntax:
 *
 *   CODE  ENH  PATTERN...  ->  CATEGORY  hard|soft
 *
 *   CODE     550, 5xx, 55x, * (any)
 *   ENH      5.1.1, 5.1.*, x.7.*, * (any, also matches a reply without one)
 *   PATTERN  the rest up to "->": * (any); with * or ? a case-insensitive
 *            glob over the whole text after the reply code and enhanced
 *            code; else a case-insensitive substring of that text.
 *            May be quoted with "..." to keep leading or trailing spaces.
 *
 * A rule may end in a throttle (adaptive back-off, send/shaping.h): an
 * action on the member or site that sent the reply, taken when AFTER
 * such replies came within WINDOW, and lasting D:
 *
 *   ... -> rate-limit soft suspend=D|halve=D|concurrency=N:D [after=AFTER/WINDOW]
 */
#include <stddef.h>

enum classify_category {
	CAT_OTHER, CAT_BAD_MAILBOX, CAT_BAD_DOMAIN, CAT_POLICY, CAT_QUOTA,
	CAT_RATE_LIMIT, CAT_TLS, CAT_AUTH, CAT_NCATEGORIES
};
enum classify_kind { KIND_HARD, KIND_SOFT, KIND_BY_CODE /* defaults only */ };
/* What relay-send does with the recipient:
 *  ACTION_FAIL      permanent: no retry, DSN (relay-bounce dsn)
 *  ACTION_RETRY     temporary: keep queued, retry later
 *  ACTION_FAILOVER  the relay's problem (rate limit, TLS, auth): try the
 *                   next pool member now; if none is left, retry later.
 *                   Never a bounce, even for a 5xx. */
enum classify_action { ACTION_FAIL, ACTION_RETRY, ACTION_FAILOVER };

#define CLASSIFY_PAT_MAX 256
#define CLASSIFY_ENH_MAX 16

/* Throttles (the numbers of send/shape.h's enum shape_throttle). */
enum { CLASSIFY_THROTTLE_NONE, CLASSIFY_THROTTLE_SUSPEND, CLASSIFY_THROTTLE_HALVE,
       CLASSIFY_THROTTLE_CONCURRENCY };
struct classify_throttle {
	int action;                       /* CLASSIFY_THROTTLE_* */
	unsigned after;                   /* replies ... */
	unsigned long window;             /* ... within this many seconds */
	unsigned long dur;                /* seconds the action lasts */
	unsigned conc;                    /* the lowered concurrency */
};

struct classify_rule {
	char code[4];                     /* "550", "5xx", "*" */
	char enh[CLASSIFY_ENH_MAX];       /* "5.1.1", "5.1.*", "*" */
	char pattern[CLASSIFY_PAT_MAX];   /* "" or "*" = any */
	int glob;                         /* pattern has * or ? */
	int category;                     /* enum classify_category */
	int kind;                         /* enum classify_kind */
	struct classify_throttle thr;     /* action NONE: no throttle */
};

struct classify_table {
	struct classify_rule *rules;      /* operator rules, file order */
	size_t n, cap;
};
#define CLASSIFY_TABLE_INIT {0, 0, 0}

struct classify_result {
	int category;
	int kind;                         /* KIND_HARD or KIND_SOFT */
	int action;                       /* enum classify_action */
	int rule;                         /* >=0 operator rule index; -1-i default i; */
	/* the matched rule's throttle (CLASSIFY_THROTTLE_NONE: none) */
	int throttle;
	unsigned throttle_after, throttle_conc;
	unsigned long throttle_window, throttle_for;
};

/* Parse one etc/classify line (no newline). Returns 1 a rule in *r, 0 a
 * blank or comment line, -1 a bad line with a reason in err. */
int classify_parse_line(const char *line, struct classify_rule *r,
                        char *err, size_t errcap);
/* Read a text rule file into t (appending). 1 read, 0 absent (t left
 * empty), -1 error: errno set, or errno 0 and err names the bad line. */
int classify_load(struct classify_table *t, const char *path,
                  char *err, size_t errcap);
/* The same for the operator's table, home/etc/classify. */
int classify_load_home(struct classify_table *t, const char *home,
                       char *err, size_t errcap);
int classify_table_add(struct classify_table *t, const struct classify_rule *r);
void classify_table_free(struct classify_table *t);

/* Classify a reply. t may be NULL (defaults only). code 0 = unknown;
 * enh NULL or "" = none; text may be NULL. Always fills *out; returns 0. */
int classify(const struct classify_table *t, int code, const char *enh,
             const char *text, struct classify_result *out);
/* Split "550-5.1.1 text" / "421 4.7.0 text" / "text": *code (0 if
 * none), enh (empty if none), *rest points at the text after them. */
void classify_split_reply(const char *reply, int *code,
                          char enh[CLASSIFY_ENH_MAX], const char **rest);
/* 1 if the result is a hard bounce for a bad mailbox or domain, the
 * ones the suppression list records. */
int classify_suppressible(const struct classify_result *r);

/* 1 if s is an enhanced status code "C.S.D" (RFC 3463: class 2, 4 or 5,
 * subject and detail of 1-3 digits). */
int classify_enh_valid(const char *s);
/* The same, where a part may also be x or * (a rule's pattern). */
int classify_enh_pattern_valid(const char *s);
const char *classify_category_name(int category);
int classify_category_parse(const char *s);   /* -1 unknown */
const char *classify_kind_name(int kind);
const char *classify_action_name(int action);
/* "suspend=10m after=3/5m" (canonical) of a rule's throttle into out,
 * "" when it has none. */
void classify_throttle_format(const struct classify_throttle *t, char *out, size_t cap);

#endif
