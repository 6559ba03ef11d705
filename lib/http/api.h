#ifndef RELAY_HTTP_API_H
#define RELAY_HTTP_API_H
/* POST /v1/messages without the HTTP: what relay-httpd does with a
 * request body once the token is known. Every check relay-inject makes
 * (addresses, one From:, the key's from= on the sender and every From:
 * address, the class, the suppression list, the size limit) comes before
 * the message is handed to intake/submit.c, which returns only once
 * relay-queue has the message on disk and synced: 202 comes after that,
 * never before. On any error nothing is queued.
 *
 * Each call returns the HTTP status and sets body to the JSON answer:
 *   202 {"id": "QUEUE-ID"}
 *   400 {"error": "to[1]: bad address", "field": "to[1]"}   (malformed)
 *   403 {"error": "...", "field": "from"}   (a sender the key may not use)
 *   413 the message is over maxsize; 422 a suppressed recipient
 *   503 the queue failed temporarily (Retry-After); 500 it refused. */
#include <pthread.h>
#include <stddef.h>
#include "base/buf.h"
#include "conf/apikeys.h"
#include "intake/submit.h"

#define API_RETRY_AFTER 60     /* seconds, with 503 */
#define API_SESSIONS_IDLE 64   /* idle relay-queue -S sessions kept */

/* The relay-queue -S sessions (intake/submit.h), shared by the server's
 * threads: a POST takes an idle one (or a new one, started on first use)
 * for its commit and gives it back, so that a session outlives the
 * connection (a thread of its own each) that used it and no more run
 * than commit at once (up to API_SESSIONS_IDLE are kept idle; one past
 * that is ended). The mode (setting smtpd_commit, or a queue filter in
 * $RELAYQUEUE: a run per message) is read once, at the first POST. */
struct api_sessions {
	pthread_mutex_t lock;
	int mode;                      /* -1 not yet known, 0 a run per message, 1 sessions */
	size_t n;
	struct submit_session *idle[API_SESSIONS_IDLE];
};
void api_sessions_init(struct api_sessions *p);
/* End every idle session (close its input, wait for it): once no
 * request runs any more. */
void api_sessions_end(struct api_sessions *p);

struct api_ctx {
	const char *home;
	const char *host;              /* settings hostname */
	unsigned long long maxsize;    /* the completed message's limit */
	struct api_sessions *ss;       /* NULL: one relay-queue run per message */
};

int api_post_json(const struct api_ctx *c, const struct conf_apikey *key, const char *client,
                  const char *body, size_t n, struct buf *answer);
/* message/rfc822: the message as given, the envelope from the query. */
int api_post_raw(const struct api_ctx *c, const struct conf_apikey *key, const char *client,
                 const char *from, char *const *to, size_t nto,
                 const char *body, size_t n, struct buf *answer);
/* GET /v1/messages/ID: the message's state and each recipient's, as
 * relay-qctl shows them (queue/admin.h): 200 {"id", "state": "queued" |
 * "held", "sender", "class", "arrival", "attempts", "next_attempt",
 * "recipients": [{"address", "state": queued | deferred | delivered |
 * failed | bounced, "last_reply" (a failed one's F line; the replies of
 * deferrals are in relay-send's log only)}]}; 404 when the id is not in the queue
 * (delivered or bounced to every recipient and removed, or never queued)
 * or its sender is not one the key may use (a key sees its own mail
 * only); 503 when the queue cannot be read (relayw needs group relayq). */
int api_get_message(const struct api_ctx *c, const struct conf_apikey *key, const char *id,
                    struct buf *answer);
/* {"error": text, "field": field} (field NULL: none) into answer. */
int api_error(struct buf *answer, int status, const char *field, const char *text);
#endif
