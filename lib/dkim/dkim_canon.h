#ifndef RELAY_DKIM_CANON_H
#define RELAY_DKIM_CANON_H
/* DKIM canonicalization (RFC 6376 section 3.4), and the header section
 * as signer and verifier split it.
 *
 * Body: a streaming canonicalizer that hands its output to a callback,
 * so a 1 GiB body needs no second copy. Lines end in CRLF; a bare CR or
 * LF is an ordinary byte. The end of the input counts as the end of a
 * line: relay-send adds the CRLF that a last line lacks (the wire always
 * carries it), so we canonicalize what the verifier will receive. */
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "intake/msg.h"

enum { DKIM_SIMPLE = 0, DKIM_RELAXED = 1 };

typedef void (*dkim_sink)(void *ctx, const void *p, size_t n);

struct dkim_body {
	int relaxed;
	int cr;              /* the previous byte was a CR, not yet placed */
	int wsp;             /* relaxed: white space seen, not yet emitted */
	int inline_;         /* the current line has emitted content */
	uint64_t blank;      /* empty lines held back (dropped at the end) */
	uint64_t out;        /* bytes emitted so far */
	uint64_t limit;      /* emit at most this many (l=); UINT64_MAX: all */
	dkim_sink sink;
	void *ctx;
	size_t n;            /* bytes in pend */
	char pend[4096];
};

void dkim_body_init(struct dkim_body *b, int relaxed, dkim_sink sink, void *ctx);
void dkim_body_update(struct dkim_body *b, const void *p, size_t n);
/* Finish; returns the length of the whole canonical body (even past
 * limit, so a verifier can compare l= with it). */
uint64_t dkim_body_final(struct dkim_body *b);

/* Split the header section with intake/'s one parser (MSG_HDR_DKIM:
 * intake/msg.h says what it accepts). DKIM_OK; DKIM_PERM for a
 * malformed section (a line without a colon, a continuation line first,
 * a field name with a byte outside 33..126, more than HEADER_MAX bytes);
 * DKIM_TEMP when out of memory. The reason goes to why (if why and wn);
 * h holds nothing unless DKIM_OK. */
int dkim_headers_parse(struct msg_headers *h, const char *msg, size_t len,
                       char *why, size_t wn);

/* Append the canonical form of one header field (name, colon, value,
 * CRLF) to out. The field may lack its final CRLF. 0 or -1 (ENOMEM). */
int dkim_canon_header(struct buf *out, int relaxed, const char *field, size_t len);
#endif
