#ifndef RELAY_MSG_H
#define RELAY_MSG_H
/* Message text: line-ending normalization and the header section
 * (RFC 5322 2.1, 2.2). The stored form has CRLF line endings. */
#include <stddef.h>
#include "base/buf.h"

/* Copy in to out with every line ending CRLF. Refuses (returns -1 and a
 * reason in err) NUL bytes, a bare CR, and lines over 998 octets. With
 * dot_ends, a line holding only "." ends the message (sendmail without
 * -i). */
int msg_normalize(const char *in, size_t n, int dot_ends, struct buf *out,
		  char *err, size_t errcap);

struct msg_field {
	size_t off;      /* start of the field in the message */
	size_t len;      /* through the final CRLF, continuation lines included */
	size_t name_len; /* the name, before the colon */
};

struct msg_headers {
	struct msg_field *f;
	size_t n;
	size_t end;      /* offset just past the header section (the separator
			    line not included) */
	size_t body;     /* offset where the body starts */
	int has_sep;     /* an empty line separates header and body */
};

/* Parse the header section of a CRLF message. A first line that is not a
 * header field means the message has no header section (all body). A line
 * inside the section that is neither a field, a continuation nor empty is
 * refused (-1, err). */
int msg_headers(const char *m, size_t n, struct msg_headers *h, char *err, size_t errcap);
void msg_headers_free(struct msg_headers *h);
/* Index of the first field named name (case-insensitive) at or after
 * start, or -1. */
long msg_find(const char *m, const struct msg_headers *h, const char *name, size_t start);
/* The unfolded value of field i (CRLF removed, leading WSP trimmed). */
int msg_value(const char *m, const struct msg_field *f, struct buf *out);

/* Parse an RFC 5322 address-list (display names, quoted strings,
 * comments, angle addresses, groups) and call fn for each addr-spec.
 * Returns 0, or -1 on unbalanced quotes, comments or brackets. */
int msg_addrlist(const char *v, size_t n, int (*fn)(const char *addr, size_t len, void *arg), void *arg);

/* RFC 5322 date for t in local time: "Mon, 23 Nov 2026 19:20:38 +0000". */
void msg_date(char *out, size_t cap, long long t);

#endif
