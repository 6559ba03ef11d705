#ifndef RELAY_HISTORY_H
#define RELAY_HISTORY_H
/* The 24-hour per-minute history relay-send keeps for the status page
 * (issue 13). relay-send writes it (send/histrec.h), relay-httpd reads it
 * with history_read, the one parser of the format. doc/relay-send.8
 * (FILES) has the format:
 *
 * $RELAY_HOME/state/history/queue          the queue, one sample a minute
 * $RELAY_HOME/state/history/relay/NAME     one configured relay (host:port,
 *                                          or "mx" for every MX delivery)
 *
 * A file is 1 + HISTORY_SLOTS lines of HISTORY_SLOT_LEN octets each (63
 * characters and a newline, so cat and grep read it): a header line
 * "relay-history 1 KIND 1440 64" padded with spaces, then slot k (minute
 * % 1440 == k) at offset HISTORY_SLOT_LEN * (k + 1):
 *     "MINUTE A B C" right-aligned in fields of 12, 15, 15, 15, 3 spaces
 *     MINUTE = epoch / 60; queue: A messages known, B in flight, C due
 *     and waiting for a slot; relay: A delivered, B deferred, C failed
 * or 63 spaces (never written). The file is made whole (temporary file,
 * rename) and then only ever changed one slot at a time with pwrite, so
 * its size is fixed: 92,224 octets. A slot whose minute does not belong
 * to it, or is not in the 24 hours before now, is stale; one that does
 * not parse (a torn write, a truncated file, garbage) is missing. Neither
 * is ever fatal. No fsync: the history is advisory, a crash loses at most
 * the minute not yet written. */
#include <stddef.h>
#include <time.h>

#define HISTORY_SLOTS     1440   /* minutes: 24 h */
#define HISTORY_SLOT_LEN  64     /* octets per line, a divisor of a page */
#define HISTORY_FILE_LEN  (HISTORY_SLOT_LEN * (HISTORY_SLOTS + 1))
#define HISTORY_COUNT_MAX 999999999999999ULL   /* 15 digits: a count is capped there */
#define HISTORY_RELAYS_MAX 64    /* relay files written and read at most */

enum history_kind { HISTORY_QUEUE, HISTORY_RELAY };

struct history_slot {
	long long minute;        /* epoch / 60 */
	int ok;                  /* 0: missing or stale (v is zero) */
	unsigned long long v[3];
};

/* The file of kind (name: a relay, counters_name_ok("relay", ...); NULL
 * for the queue) under home. 0, or -1 (EINVAL, ENAMETOOLONG). */
int history_path(char *out, size_t cap, const char *home, enum history_kind kind, const char *name);
/* Write one slot: with add, the counts are added to what the slot holds
 * when it holds the same minute (a relay-send restarted within a minute),
 * else they replace it. Makes the directory and the file when missing or
 * not of the right size. 0, or -1 with errno. */
int history_put(const char *home, enum history_kind kind, const char *name,
                const struct history_slot *s, int add);
/* Parse a file's bytes: out[i] is the minute now_minute - (HISTORY_SLOTS
 * - 1) + i (oldest first), ok when its slot holds that minute. Returns
 * how many are ok; any input is safe (a short, long or garbled file
 * gives missing slots). */
size_t history_parse(const char *data, size_t len, long long now_minute,
                     struct history_slot out[HISTORY_SLOTS]);
/* Read and parse a file. 1 read (out as history_parse), 0 no file (every
 * slot missing), -1 error (errno). */
int history_read(const char *home, enum history_kind kind, const char *name, long long now_minute,
                 struct history_slot out[HISTORY_SLOTS]);
#endif
