#ifndef RELAY_HEALTH_H
#define RELAY_HEALTH_H
/* Relay health as relay-health records it for relay-send: the one
 * writer and the one reader of state/health (the per-relay error counts
 * that relay-health ejects members by are counters.h's).
 * doc/relay-health.8 is the reference for the file format:
 *
 * $RELAY_HOME/state/health/status   (replaced by atomic_write, mode 0644;
 *                             state/health/ is relay-health's directory,
 *                             relayh's on an installed tree, beside its
 *                             metrics.prom: doc/security.md)
 *   "RH1 WHEN INTERVAL\n"     WHEN: epoch of the probe run; INTERVAL:
 *                             seconds between runs (relay-health -i)
 *   "POOL MEMBER STATE SINCE REASON\n"   one per pool member
 *       MEMBER  host:port, or mx (not probed)
 *       STATE   up | degraded | down | skipped
 *       SINCE   epoch at which the member entered STATE
 *       REASON  one word: ok, slow, cert-expiring, connect, greeting,
 *               ehlo, starttls, tls, auth, mail, rset, timeout,
 *               error-rate, send-test, mx ...
 *
 * Staleness: the data is trusted for HEALTH_STALE_FACTOR intervals after
 * WHEN; after that (relay-health stopped, cron broken) every member reads
 * as up and relay-send relies on its own passive cooling alone. A member
 * comes back when a later run finds it up.
 *
 * Lookups are three-way like conf.h: 1, 0, -1 (errno). */
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

#define HEALTH_DIR              "state/health"
#define HEALTH_FILE             HEALTH_DIR "/status"
#define HEALTH_INTERVAL_DEFAULT 60      /* seconds: relay-health from cron each minute */
#define HEALTH_STALE_FACTOR     3       /* data older than 3 intervals is ignored */
#define HEALTH_ENTRIES_MAX      4096    /* lines read from state/health */
#define HEALTH_REASON_MAX       63
#define HEALTH_MEMBER_MAX       (CONF_HOST_MAX + 6) /* host:65535 */

enum health_st { HS_UP, HS_DEGRADED, HS_DOWN, HS_SKIPPED };

struct health_entry {
	char pool[CONF_NAME_MAX + 1];
	char member[HEALTH_MEMBER_MAX + 1];
	int state;                          /* enum health_st */
	time_t since;
	char reason[HEALTH_REASON_MAX + 1];
};

struct health_state {
	time_t when;        /* 0: no data */
	long interval;      /* seconds */
	size_t n, cap;
	struct health_entry *e;
};

#define HEALTH_STATE_INIT {0, 0, 0, 0, 0}

/* Read home/state/health/status into h (h is reset first). 1 read, 0 no file
 * (h is empty: every member up), -1 error (errno; EPROTO: malformed). */
int health_read(const char *home, struct health_state *h);
/* One line "POOL MEMBER STATE SINCE REASON" (REASON to the end, made one
 * word) into *e: 0, or -1 when it does not parse. health_read's parser,
 * also used for the verdicts other nodes share (send/share.h). */
int health_parse(const char *line, struct health_entry *e);
/* 1 if relay-send should skip the member: the data is fresh (now within
 * HEALTH_STALE_FACTOR * interval of WHEN) and the member's line says
 * down. 0 for up, degraded, skipped, unknown or stale. member_key is
 * "host:port" (lowercase) or "mx"; pool NULL matches any pool. */
int health_member_down(const struct health_state *h, const char *pool,
                       const char *member_key, time_t now);
/* 1 if the data is fresh at now. */
int health_fresh(const struct health_state *h, time_t now);
const struct health_entry *health_find(const struct health_state *h, const char *pool,
                                       const char *member_key);
/* Append an entry (reason made one safe word). 0, or -1 (ENOMEM). */
int health_add(struct health_state *h, const char *pool, const char *member, int state,
               time_t since, const char *reason);
/* Write h to home/state/health/status atomically (state/ and state/health/
 * are created if missing). 0 or -1. */
int health_write(const char *home, const struct health_state *h);
void health_free(struct health_state *h);
const char *health_state_name(int st);
int health_state_parse(const char *s);  /* -1 if unknown */

#endif
