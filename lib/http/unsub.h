#ifndef RELAY_HTTP_UNSUB_H
#define RELAY_HTTP_UNSUB_H
/* relay-httpd's /u/TOKEN (RFC 8058; bounce/unsub.h has the tokens).
 * GET: a small page naming the address, with a button that POSTs; it
 * changes nothing (mail scanners follow links). POST with a body
 * holding "List-Unsubscribe=One-Click" (form-urlencoded or multipart):
 * the request goes to state/unsub/ (fsynced) for relay-bounce
 * unsubscribe, which scopes the suppression to the sender's domain.
 * 400 malformed token or body, 403 a token whose MAC is not ours, 503
 * the key or the spool could not be used. Nothing is written on an
 * error. */
#include <stddef.h>
#include "base/buf.h"

#define UNSUB_BODY_MAX 4096

/* The status; out holds the HTML page. */
int http_unsub(const char *home, const char *token, int post, const char *body, size_t blen,
               struct buf *out);
#endif
