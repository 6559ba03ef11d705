#ifndef RELAY_HOOK_H
#define RELAY_HOOK_H
/* One webhook endpoint of relay-events (doc/events.md): batches of the
 * event stream posted as JSON arrays, signed, at least once, from the
 * endpoint's checkpoint state/events/consumers/NAME (advanced only after
 * a 2xx). Each endpoint runs in a process of its own, so that a slow or
 * dead one never holds up another. */
#include <stddef.h>
#include "base/buf.h"
#include "conf/webhooks.h"

#define HOOK_BACKOFF_MIN   1.0     /* seconds, the first retry */
#define HOOK_BACKOFF_MAX   300.0   /* the cap (RELAY_EVENTS_BACKOFF_MAX) */
#define HOOK_POLL_MS       200     /* looking for new records */
#define HOOK_REPLY_MAX     65536   /* bytes of a reply body read, then dropped */

/* The signature: lowercase hex of HMAC-SHA256(key, TIMESTAMP "." BODY)
 * into hex (65 bytes). 0 or -1. */
int hook_sign(const unsigned char *key, size_t keylen, const char *ts,
              const char *body, size_t len, char hex[65]);

enum hook_verdict { HOOK_OK, HOOK_RETRY, HOOK_REFUSED };
/* What an HTTP status (0: no answer) means for the batch. */
enum hook_verdict hook_classify(long status);
/* The wait before retry number n (1, 2, ...): exponential from
 * HOOK_BACKOFF_MIN, capped at max, with jitter (50..100%). u in [0,1). */
double hook_backoff(unsigned n, double max, double u);

/* Post body to w (TLS verified, no redirects, w->timeout); key may be
 * NULL. Returns the HTTP status, 0 when there was none (err says why). */
long hook_post(const struct conf_webhook *w, const unsigned char *key, size_t keylen,
               const char *body, size_t len, char *err, size_t errcap);

/* The endpoint's loop; returns only on a start-up error (111). */
int hook_run(const char *home, const struct conf_webhook *w);
#endif
