#ifndef RELAY_WEBHOOKS_H
#define RELAY_WEBHOOKS_H
/* etc/webhooks: where relay-events posts the event stream (doc/events.md).
 *   NAME URL [secret=FILE] [ca=FILE] [events=E1,E2,...] [batch=N] [timeout=DURATION] [tries=N]
 * NAME [a-z0-9_-]{1,64} (also its checkpoint's name); URL https://..., or
 * http:// to a loopback host only; FILE relative to etc/ (the key is its
 * content without the trailing newline); ca: the CA certificates to trust
 * (default: the system's); events: names from the schema
 * (default: all); batch 1..1000 (100); timeout 1s..5m (10s); tries: how
 * often a batch refused with a 4xx other than 408/429 is sent before it is
 * skipped, 1..100 (3). Compiled by relay-config into etc/webhooks.cdb:
 * key NAME, value "URL<TAB>FILE<TAB>EVENTS<TAB>BATCH<TAB>TIMEOUT<TAB>TRIES<TAB>CA"
 * (FILE, EVENTS and CA "-" when absent). */
#include <stddef.h>

#define WEBHOOK_URL_MAX 2048

struct conf_webhook {
	char name[65];
	char url[WEBHOOK_URL_MAX + 1];
	char secret[1025];      /* the file, "" for none */
	char ca[1025];          /* CA file, "" for the system's */
	char events[1024];      /* "a,b,c", "" for all */
	unsigned batch, timeout, tries;
};

struct run;
/* relay-config: read and check etc/webhooks (errors counted in run, as
 * "etc/webhooks:LINE: ..."); write: also compile it to etc/webhooks.cdb
 * (only when write and no error). 0, or -1 system error (reported). */
int conf_webhooks_make(struct run *run, int write);
/* Parse one line's words (after NAME) into w. 0, or -1 with err. */
int conf_parse_webhook(const char *name, const char *rest, struct conf_webhook *w,
                       char *err, size_t errcap);
/* relay-events: every endpoint of etc/webhooks.cdb into *list (malloc'd).
 * Returns the count (0 when there is no table), -1 error (errno). */
long conf_webhooks_load(const char *home, struct conf_webhook **list);
/* 1 if event is one of w's (every event when w->events is empty). */
int conf_webhook_wants(const struct conf_webhook *w, const char *event);
/* The names the schema knows (doc/events.md), NULL-terminated. */
extern const char *const conf_event_names[];
#endif
