#ifndef RELAY_CONF_PARSE_H
#define RELAY_CONF_PARSE_H
/* The helpers under the value parsers, for the files of conf/ only
 * (parse.c, tables.c, settings.c); the parsers themselves are in
 * conf/conf.h. */
#include <stddef.h>

static inline int is_ws(char c) { return c == ' ' || c == '\t'; }
static inline int is_digit(char c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
/* A character of an RFC 5322 dot-atom (the local part of an address). */
int conf_atext(char c);

/* Format a reason into err (if err), made safe for one log line;
 * returns -1. */
int conf_fail(char *err, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The next whitespace-separated field of *s into out (cap bytes with the
 * NUL). 1 a field, 0 none left, -1 field too long. */
int conf_field(const char **s, char *out, size_t cap);
/* s[0..n): digits only, no sign, no leading zero, at most max. 0 or -1. */
int conf_uint(const char *s, size_t n, unsigned long max, unsigned long *v);
/* LDH labels separated by dots; underscore too when allow_us (DKIM
 * selectors); what names the thing in err. 0, or -1 and err. */
int conf_labels(const char *s, size_t n, int allow_us, const char *what,
                char *err, size_t errcap);
#endif
