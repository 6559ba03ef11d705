#ifndef RELAY_RECORD_H
#define RELAY_RECORD_H
/* The recording of outcomes in relay-send: the lines of a message's info
 * file (D, F, X, W, R, S: doc/queue.md), the removal of a message that is
 * done and of leftovers, the quarantine of a corrupt one, the event log
 * lines, and the counters relay-health reads (state/counters). State:
 * struct record (owned by the loop, passed by pointer) holds only the
 * counts not yet written; the rest works on the struct attempt it is
 * given. */
#include <stddef.h>
#include <time.h>
#include "base/buf.h"
#include "health/counters.h"
#include "net/smtp.h"
#include "send/attempt.h"

struct record_count {
	char kind[8];           /* "relay" or "domain" */
	char name[300];
	struct counts c;
};

struct record {
	const char *home;
	struct record_count *ctr;   /* counted since the last write */
	size_t nctr;
	double flush_at;            /* monotonic: next write */
	struct record_latency *lat; /* httpd (issue 13): latencies since the last write (send/latrec.h) */
	size_t nlat;
	struct record_total *tot;   /* issue 13 totals: counted since the last write (send/totrec.h) */
	size_t ntot;
	struct histrec *hist;       /* issue 13: the per-minute history (send/histrec.h), or NULL */
};

/* Count one outcome for the relay and the sender's domain. */
void record_count(struct record *r, const char *relay, const char *sender, enum counter_type type);
/* Write what was counted when now (monotonic) has reached flush_at, at
 * most once a second; with force, now. */
void record_counters_flush(struct record *r, double now, int force);
void record_free(struct record *r);

/* One event line for recipient i: "delivered", "deferred" or "failed";
 * tls: the version used ("TLSv1.3"), tls_policy: the session's policy
 * (send/tlspolicy.h: none, may, encrypt, verify, dane); NULL or "": none. */
/* events: pool is the recipient's pool, NULL or "" when it has none
 * (no route, a DKIM failure before routing) */
void record_outcome(const char *event, const struct attempt *a, size_t i, const char *pool,
                    const char *relay, const struct smtp_result *r, const char *tls,
                    const char *tls_policy);
/* A member at fault for a transaction: the "failover" event. recipients
 * < 0: not logged (the whole transaction moves). */
void record_failover(const struct attempt *a, const char *pool, const char *relay,
                     const struct smtp_result *why, long long recipients, double cooldown);

/* The attempt is over: each recipient's final state into a->st, with D
 * and F lines into lines for those decided now; a pending recipient whose
 * age (seconds in the queue) reached lifetime fails as expired. Counts
 * the recipients left pending and failed (not yet bounced). */
void record_settle(struct attempt *a, long long age, unsigned long lifetime, time_t now,
                   struct buf *lines, size_t *pending, size_t *failed);
/* relay-bounce's input (doc/relay-bounce.8): one line per failed
 * recipient, or with delayed per pending one (a delay warning). */
void record_bounce_input(const struct attempt *a, int delayed, struct buf *in);
/* relay-bounce queued the DSN: X lines for the failed recipients (now
 * RS_BOUNCED) and the "bounced" event. Returns how many. */
size_t record_bounced(struct attempt *a, struct buf *lines);
void record_bounce_deferred(const struct attempt *a);
/* The delay warning went out: the W line and the event. */
void record_delay_warned(const struct attempt *a, size_t pending, struct buf *lines);
/* The next attempt in wait seconds: the R line, and the S line when the
 * DKIM fields were made in this attempt. */
void record_retry(const struct attempt *a, time_t now, double wait, struct buf *lines);

/* Append to the message's info file (with sync: fsync before close):
 * all of data or nothing (a failed write or fsync cuts the file back to
 * where it ended). 0, or -1 with errno. */
int record_info(struct attempt *a, const char *data, size_t len, int sync);
/* Remove a message that is done: the queue file, then its info file. */
void record_remove(const struct attempt *a);
/* Move a queue file that does not parse to queue/corrupt. */
void record_quarantine(const char *id, const char *why);
/* Remove tmp/ files older than any relay-queue can live and info files
 * whose message is gone. */
void record_housekeeping(const char *home);

#endif
