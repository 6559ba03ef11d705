#ifndef RELAY_DOT_H
#define RELAY_DOT_H
/* The DATA payload encoder (pure, fuzzed with the reply parser): for msg,
 * CRLF line ends (bare CR and bare LF become CRLF), a '.' doubled at the
 * start of every line, a CRLF added when the message does not end with
 * one, then ".\r\n". The empty message gives ".\r\n". Streamed: feed the
 * message in pieces of any size; state is kept in struct smtp_dot
 * between calls. */
#include <stddef.h>

struct buf;

struct smtp_dot {
	int bol;       /* at the beginning of a line */
	int cr;        /* previous input byte was a CR not yet emitted as line end */
	int any;       /* any byte seen */
};
void smtp_dot_init(struct smtp_dot *d);
/* Appends the encoding of in[0..n) to out (struct buf from buf.h).
 * 0, or -1 (ENOMEM). */
int smtp_dot_add(struct smtp_dot *d, struct buf *out, const char *in, size_t n);
int smtp_dot_end(struct smtp_dot *d, struct buf *out);

#endif
