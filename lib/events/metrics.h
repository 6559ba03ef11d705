#ifndef RELAY_EVMETRICS_H
#define RELAY_EVMETRICS_H
/* relay-events' figures for the Prometheus output (doc/events.md,
 * "Metrics"): the records written, per writer and event, counted by
 * reading the spool from its oldest segment on (no checkpoint: a
 * counter since relay-events started), and every endpoint's own file
 * (consumers/NAME.prom, hook.c) regrouped by family, into one file
 *
 *   state/events/consumers/.metrics   (EVMETRICS_FILE; not *.prom, so a
 *                                      textfile collector reading
 *                                      consumers/ counts nothing twice)
 *
 * which relay-httpd's /metrics includes after relay-health's. */
#include <stddef.h>
#include <time.h>
#include "conf/webhooks.h"
#include "events/stream.h"

#define EVMETRICS_FILE "state/events/consumers/.metrics"
#define EVMETRICS_KINDS 512   /* (writer, event) pairs counted; more go to event="other" */

struct evcount { char writer[EVSPOOL_WRITER_MAX + 1]; char event[33]; unsigned long long n; };

struct evmetrics {
	struct evstream s;
	int open;
	struct evcount *c;
	size_t n;
	time_t written;
	struct buf last;   /* the file as last written: unchanged, not written again */
};

/* Read what is new in the spool and count it. 0, or -1 (errno). */
int evmetrics_poll(struct evmetrics *m, const char *home);
/* Write EVMETRICS_FILE (atomically) with the counts and the endpoints'
 * files, if it changed. 0 or -1. */
int evmetrics_write(struct evmetrics *m, const char *home, const struct conf_webhook *w, long n);
/* The text itself (for the test and evmetrics_write). */
int evmetrics_text(const struct evmetrics *m, const char *home, const struct conf_webhook *w, long n,
                   struct buf *out);
void evmetrics_free(struct evmetrics *m);
#endif
