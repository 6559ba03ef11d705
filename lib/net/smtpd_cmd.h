#ifndef RELAY_SMTPD_CMD_H
#define RELAY_SMTPD_CMD_H
/* The SMTP server's parsers: pure, byte-fed, no I/O; fuzzed by
 * fuzz/fuzz_smtpd_cmd.c and tested by tests/c/t_smtpd_cmd.c. The session
 * (net/smtpd.h) feeds them what the client sends.
 *
 * Command lines end in CRLF; a bare LF is taken as a line end too
 * (lenient, as most servers are, and harmless outside DATA). A bare CR,
 * a NUL or a line over SMTPD_CMD_MAX octets makes the line bad: the
 * session answers 500 and counts an error.
 *
 * DATA: only CRLF.CRLF ends the message (RFC 5321 4.1.1.4). A bare LF
 * or a bare CR anywhere in the data never ends it and never splits it:
 * the message is read on to the real CRLF.CRLF and refused whole (550
 * 5.6.0), so the smuggling list of doc/hostile-inputs.md B1.3
 * ("\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", ...) can at most make one
 * message refused, never two messages out of one. */
#include <stddef.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "net/proxy.h"

#define SMTPD_CMD_MAX   2048   /* a command line (RFC 5321 4.5.3.1.4 says
                                  512; AUTH PLAIN and parameters need more) */

/* ---- command lines ---- */

struct smtpd_line {
	size_t len;
	int bad;                   /* SMTPD_LINE_* once the line is bad */
	int cr;                    /* the previous byte was CR */
	char p[SMTPD_CMD_MAX + 1]; /* NUL-terminated when done */
};
enum { SMTPD_LINE_OK = 0, SMTPD_LINE_LONG, SMTPD_LINE_CR, SMTPD_LINE_NUL };

void smtpd_line_init(struct smtpd_line *l);
/* Feed bytes: consumes up to one line end and no further (*used).
 * Returns 1 when a line is complete (l->p, l->len without the line end;
 * l->bad says whether it is usable), 0 when more bytes are needed. The
 * bytes of an overlong line are dropped up to its end. */
int smtpd_line_feed(struct smtpd_line *l, const char *p, size_t n, size_t *used);

enum smtpd_verb {
	SMTPD_UNKNOWN = 0, SMTPD_HELO, SMTPD_EHLO, SMTPD_MAIL, SMTPD_RCPT, SMTPD_DATA,
	SMTPD_RSET, SMTPD_NOOP, SMTPD_QUIT, SMTPD_VRFY, SMTPD_EXPN, SMTPD_HELP,
	SMTPD_STARTTLS, SMTPD_AUTH, SMTPD_BDAT, SMTPD_HTTP /* GET / POST / ... */
};

/* ESMTP parameters of MAIL and RCPT (RFC 1870, 6152, 6531, 3461, 4954). */
struct smtpd_params {
	int has_size;
	unsigned long long size;
	int body;                  /* 0 none, 7 7BIT, 8 8BITMIME */
	int smtputf8;
	char ret[8];               /* "FULL", "HDRS" or "" */
	char envid[101];           /* xtext as given (RFC 3461 4.4: 100) */
	char notify[40];           /* "NEVER" or SUCCESS,FAILURE,DELAY */
	char orcpt[ADDR_PATH_MAX + 16]; /* addr-type;xtext as given */
	char auth[ADDR_PATH_MAX + 4];   /* MAIL AUTH=, ignored but kept */
	int requiretls;            /* requiretls (issue 15): MAIL REQUIRETLS (RFC 8689) */
};

struct smtpd_cmd {
	enum smtpd_verb verb;
	const char *arg;           /* after the verb and its space, in the line */
	/* MAIL and RCPT: the path without brackets, and the parameters */
	char path[ADDR_PATH_MAX + 1];
	struct smtpd_params prm;
	/* BDAT: the chunk's size in octets and whether it is the LAST */
	unsigned long long bdat_size;
	int bdat_last;
};

/* Parse one command line (from smtpd_line). Returns 0; or -1 with *why
 * (a 5xx reply without its code, e.g. "5.5.4 unknown parameter") when
 * the verb is known but its arguments are not acceptable. c->verb is
 * set either way. MAIL wants "FROM:<path>", RCPT "TO:<path>" (a space
 * after the colon is accepted, the brackets are required). */
int smtpd_cmd_parse(char *line, size_t len, struct smtpd_cmd *c, const char **why);

/* PROXY (v1 and v2): net/proxy.h, included here for smtpd_proxy_v1. */

/* ---- DATA ---- */

enum {
	SMTPD_DATA_OK = 0,
	SMTPD_DATA_BARE,           /* a bare CR or LF: 550 5.6.0 */
	SMTPD_DATA_NUL,            /* a NUL byte: 550 5.6.0 */
	SMTPD_DATA_LONG,           /* a line over 998 octets: 552 5.3.4... */
	SMTPD_DATA_SIZE,           /* over the size limit: 552 5.3.4 */
	SMTPD_DATA_HEADERS         /* too many header lines: 552 5.3.4 */
};
#define SMTPD_HEADER_LINES_MAX 1000

struct smtpd_data {
	unsigned long long max;    /* bytes kept at most (the SIZE limit) */
	unsigned long long total;  /* bytes of the message seen (unstuffed) */
	int err;                   /* the first SMTPD_DATA_* problem, or 0 */
	int state;                 /* internal */
	size_t linelen;            /* octets of the current line */
	unsigned hlines;           /* header lines so far */
	int inheader;
	int raw;                   /* BDAT: no dots, no end mark (set after init) */
	struct buf *out;           /* the message, CRLF lines, dots removed */
};

void smtpd_data_init(struct smtpd_data *d, struct buf *out, unsigned long long max);
/* Feed bytes. Returns 1 when CRLF.CRLF was read (the data after it is
 * not consumed: *used), 0 when more is needed, -1 out of memory. Once
 * d->err is set nothing more is kept but reading goes on to the end. */
int smtpd_data_feed(struct smtpd_data *d, const char *p, size_t n, size_t *used);
/* BDAT (d->raw): the same checks on chunks that carry no dots and no
 * end mark; smtpd_data_feed never returns 1 then. After the LAST chunk:
 * a last line without CRLF gets one, a CR at the very end is a bare CR.
 * 0, or -1 out of memory. */
int smtpd_data_end(struct smtpd_data *d);
/* The reply for d->err: "550 5.6.0 ..." */
const char *smtpd_data_reply(int err);


#endif
