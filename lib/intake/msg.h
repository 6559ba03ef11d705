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
	size_t name_len; /* the name, without the colon or white space before it */
};

struct msg_headers {
	struct msg_field *f;
	size_t n;
	size_t end;      /* offset just past the header section (the separator
			    line not included) */
	size_t body;     /* offset where the body starts */
	int has_sep;     /* an empty line separates header and body */
};

/* The one splitter of a header section, for intake/ and dkim/ (RFC 5322
 * 2.2). Lines end at CRLF; a bare CR or LF is part of its line (intake's
 * input is normalized first and has none). A field is a name of bytes
 * 33..126 but ':', then the colon; a line starting with SP or HT
 * continues the field before it. With no empty line the whole message is
 * header. Returns 0, or -1 with a reason in err and errno ENOMEM (out of
 * memory: temporary) or EINVAL (malformed: permanent); h then holds
 * nothing.
 *
 * flags 0 (relay-inject): a first line that is not a field means the
 * message has no header section (all body, sendmail's way); a later one
 * is refused as "malformed header line N"; the size limit applies to the
 * header before each line.
 * MSG_HDR_DKIM (RFC 6376 signs and verifies what it is given): white
 * space may come before the colon (RFC 5322 4.5, obsolete syntax; not
 * counted in name_len); any line that is not a field is refused, with
 * DKIM's reasons ("... outside 33..126"); the limit applies to the
 * header through each line. */
#define MSG_HDR_DKIM 1u
int msg_headers_flags(const char *m, size_t n, unsigned flags, struct msg_headers *h,
		      char *err, size_t errcap);
/* msg_headers_flags with flags 0. */
int msg_headers(const char *m, size_t n, struct msg_headers *h, char *err, size_t errcap);
void msg_headers_free(struct msg_headers *h);
/* 1 if field f's name is name[0..len) (case-insensitive). */
int msg_field_is(const char *m, const struct msg_field *f, const char *name, size_t len);
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
