#ifndef RELAY_DIAG_H
#define RELAY_DIAG_H
/* Diagnostics in one form: "prog: warning: text: strerror" on stderr,
 * and the one place where errno is classified temporary or permanent. */
#include <stdarg.h>
#include <stddef.h>

/* Exit codes of every command-line program (like qmail-inject). */
#define EXIT_OK   0
#define EXIT_PERM 100
#define EXIT_TEMP 111

extern const char *progname;

void diag_init(const char *argv0);
void warn_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void die_sys(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* die_sys with the exit code chosen from errno: 111 if temporary, else 100. */
void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* 1 if a failure with this errno may go away by itself. */
int errno_temporary(int e);

/* Make text from outside safe for one log line: newline to '/', other
 * control bytes and bytes >= 0x7f to '_'. Writes at most cap-1 bytes
 * plus NUL; returns the length written. */
size_t safe_text(char *out, size_t cap, const char *in, size_t n);

#endif
