#ifndef RELAY_REPLY_H
#define RELAY_REPLY_H
/* The SMTP reply parser: pure, byte-fed, no I/O, fuzzed by
 * fuzz/fuzz_smtp_reply.c and tested by tests/c/t_smtp_reply.c. The
 * session (smtp.h) feeds it what the socket gives; so will the server
 * side when it reads replies of its own.
 *
 * Bare LF is accepted leniently as a line end (many servers and
 * middleboxes send it). A CR that is not followed by LF, a NUL, a line
 * over REPLY_LINE_MAX, more than REPLY_LINES_MAX lines, a code that is
 * not three digits 2-5/0-9/0-9 followed by SP, '-' or the line end, and
 * codes that differ across the lines of one reply are malformed. */
#include <stddef.h>
#include "base/bounds.h"

/* One reply line without its line end. Returns 0 and sets *code, *last
 * (1 for "250 x" or "250", 0 for "250-x") and *text (offset of the text);
 * or -1 if malformed (length < 3, a non-digit, first digit not 2-5, a
 * fourth byte other than SP or '-', a NUL or CR anywhere). */
int smtp_parse_reply_line(const char *line, size_t len, int *code, int *last, size_t *text);

/* Why a reply was refused. */
enum {
	SMTP_PE_NONE = 0, SMTP_PE_SYNTAX, SMTP_PE_LONG, SMTP_PE_LINES,
	SMTP_PE_MIXED, SMTP_PE_CR, SMTP_PE_NUL
};
const char *smtp_parse_error(int pe);

/* A byte-fed state machine that collects one reply. The line buffer is
 * bounded (REPLY_LINE_MAX) and so is the line count (REPLY_LINES_MAX). */
struct smtp_reply {
	int code;          /* set when done */
	int done;
	int err;           /* SMTP_PE_* when the reply is malformed */
	char enh[16];
	char text[512];    /* safe, joined with " / " */
	size_t textlen;
	size_t nlines;
	/* called once per complete line with its raw text (after "250-"),
	 * e.g. to read EHLO keywords; may be NULL */
	void (*on_line)(void *arg, const char *text, size_t len);
	void *arg;
	size_t linelen;
	int cr;            /* the previous byte was CR */
	char line[REPLY_LINE_MAX];
};
/* Resets everything but on_line and arg: set those (or NULL) first. */
void smtp_reply_init(struct smtp_reply *r);
/* Feed bytes. Consumes up to the end of one reply and no further; *used
 * tells how many bytes. Returns 1 when the reply is complete, 0 when more
 * bytes are needed, -1 when it is malformed (r->err says why). */
int smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used);

#endif
