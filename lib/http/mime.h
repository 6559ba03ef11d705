#ifndef RELAY_HTTP_MIME_H
#define RELAY_HTTP_MIME_H
/* The JSON message of POST /v1/messages made into a MIME message
 * (RFC 2045-2049, 5322) and its envelope: the one parser of that JSON,
 * fuzzed (fuzz/fuzz_httpmsg.c).
 *
 *   {"from": "Name <a@b>", "to": [...], "cc": [...], "bcc": [...],
 *    "reply_to": "...", "subject": "...", "text": "...", "html": "...",
 *    "headers": {"X-Name": "value"}, "class": "...",
 *    "attachments": [{"filename": "...", "content_type": "type/sub",
 *                     "content": BASE64}]}
 *
 * to, cc, bcc: a string or an array of strings, each "a@b" or
 * "Name <a@b>". The envelope sender is from's address; the recipients
 * are to, cc and bcc (bcc is in no header). The body: text/plain and
 * text/html (both: multipart/alternative), attachments after it in
 * multipart/mixed. Text is quoted-printable when a line is long or not
 * ASCII, attachments base64, so that no line exceeds 76 octets. Header
 * text that is not ASCII becomes RFC 2047 encoded words (UTF-8, B);
 * file names RFC 2231. A CR, LF or other control byte in any header
 * value is refused, never mended. The boundaries start with "=_", which
 * neither quoted-printable nor base64 can produce, and a 7bit part
 * holding "=_" is sent quoted-printable instead: no part can contain a
 * boundary.
 *
 * Headers that the JSON sets itself (From, To, Cc, Bcc, Reply-To,
 * Subject, MIME-Version, Content-*) and trace fields may not be in
 * "headers". Date and Message-ID are added by intake/complete.c. */
#include <stddef.h>
#include "base/buf.h"
#include "intake/envelope.h"

#define HTTPMSG_JSON_MAX_DEPTH 16    /* deeper: refused before jansson */
#define HTTPMSG_ATTACH_MAX     100
#define HTTPMSG_HEADERS_MAX    100

struct httpmsg_err {
	char field[64];   /* the JSON field at fault: "to[2]", "headers.X-A" */
	char text[256];
};

/* Parse json[0..n) and build: the envelope into e (envelope_init done by
 * the caller), the message (CRLF, without Date or Message-ID) into out,
 * the class from "class" into class ("" none). 0 built; -1 the request
 * is bad (err names the field); -2 out of memory. */
int httpmsg_build(const char *json, size_t n, struct envelope *e, char *class, size_t classcap,
                  struct buf *out, struct httpmsg_err *err);

/* The pieces, for tests/c and the raw path. */
int mime_qp(struct buf *out, const char *s, size_t n);         /* CRLF line ends */
int mime_b64_lines(struct buf *out, const void *p, size_t n);  /* 76-octet lines */
/* "Name: value" folded; value UTF-8, encoded words when needed. */
int mime_header(struct buf *out, const char *name, const char *value);
#endif
