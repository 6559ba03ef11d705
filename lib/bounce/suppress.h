#ifndef RELAY_SUPPRESS_H
#define RELAY_SUPPRESS_H
/* The suppression list: addresses that hard-bounced for a bad mailbox or
 * domain. Mail to them is refused at relay-inject (exit 100), so senders
 * learn at once and no DSN traffic is made. doc/bounce.md explains it.
 *
 * $RELAY_HOME/state/suppress       the list, one entry a line, for people:
 *     ADDRESS TAB FIRST TAB LAST TAB EXPIRES TAB REASON
 *     (epoch seconds; EXPIRES 0 = never; "#" lines are comments)
 * $RELAY_HOME/state/suppress.cdb   the same, for lookups: key = ADDRESS,
 *     value = "FIRST LAST EXPIRES REASON"; rebuilt after each change
 *     (temp file, fsync, rename, directory fsync)
 * $RELAY_HOME/state/suppress.lock  flock(2) held by every writer
 *
 * ADDRESS is normalized: the domain lowercased, the local part kept as
 * it is (RFC 5321 2.4: only the receiving host may fold its case). */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"

#define SUPPRESS_REASON_MAX 200

struct suppress_entry {
	char addr[257];
	time_t first, last, expires;         /* expires 0: never */
	char reason[SUPPRESS_REASON_MAX + 1];
};

/* Normalize addr into out (cap >= 257). 0, or -1 (errno EINVAL: empty,
 * too long, control bytes, spaces or TAB). */
int suppress_normalize(const char *addr, char *out, size_t cap);
/* 1 suppressed (and not expired at now; e filled if not NULL), 0 not,
 * -1 error (errno set). No list yet is 0. Opens the CDB and looks up
 * one key: cheap enough to call per recipient. */
int suppress_lookup(const char *home, const char *addr, struct suppress_entry *e);
int suppress_lookup_at(const char *home, const char *addr, time_t now,
                       struct suppress_entry *e);
/* Add addr or refresh it (last seen = now, new expiry = now + expiry
 * seconds, 0 = never; first seen and an existing reason kept if reason
 * is NULL). Expired entries are dropped on the way. 0 or -1 (errno). */
int suppress_add(const char *home, const char *addr, const char *reason,
                 time_t now, long expiry);
/* suppress_add for n addresses in one change: one lock, one read, one
 * rewrite of the list and its CDB (not one per address: 10,000 bounced
 * recipients are one rewrite). The same rules per address as
 * suppress_add; a repeated address is refreshed. An address that does
 * not normalize is skipped and counted in *skipped (if not NULL). 0 or
 * -1 (errno; then nothing changed). */
struct suppress_item {
	const char *addr;
	const char *reason;   /* NULL: keep an existing one ("added" if new) */
};
int suppress_add_many(const char *home, const struct suppress_item *it, size_t n,
                      time_t now, long expiry, size_t *skipped);
/* issue 16 share: records from the other nodes (bounce/sjournal.h) in
 * one change, not journaled (nothing echoes): adds (an expired one is
 * skipped) and removals, in order. Counts in *added, *removed. 0 or -1. */
struct sjrec;
int suppress_apply(const char *home, const struct sjrec *r, size_t n, time_t now, size_t *added,
                   size_t *removed);
/* issue 16 share: take state/suppress.lock (lock_release frees it): the
 * fd, or -1. */
int suppress_lock(const char *home);
/* How many times this process rewrote the list (for the tests). */
unsigned long suppress_rewrites(void);
/* 1 removed, 0 was not listed, -1 error. */
int suppress_remove(const char *home, const char *addr);
/* Rewrite the text list and the CDB from the text list (after an
 * operator edited state/suppress by hand). 0 or -1. */
int suppress_rebuild(const char *home);
/* Every entry of the text list (expired ones too; the caller can compare
 * e->expires with the time) in file order: fn's non-zero return stops
 * the walk and is returned. 0 done (or no list), -1 error. */
int suppress_each(const char *home,
                  int (*fn)(const struct suppress_entry *e, void *arg), void *arg);
/* Append e to out as relay-bounce suppress list shows it: a text line
 * "ADDR first=... last=... expires=...|never[ (expired)] reason=...",
 * times in UTC, or with json one object {"address", "first_seen",
 * "last_seen", "expires" (epoch seconds), "expired", "reason"} without a
 * separator or newline. Expired means at or before now. 0 or -1 (ENOMEM). */
int suppress_format(struct buf *out, const struct suppress_entry *e, int json, time_t now);

#endif
