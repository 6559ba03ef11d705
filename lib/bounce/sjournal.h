#ifndef RELAY_SJOURNAL_H
#define RELAY_SJOURNAL_H
/* issue 16 share: the suppression list's journal, the local changes that
 * relay-send (send/csuppress.h) passes to the other nodes through Redis.
 *
 * $RELAY_HOME/state/suppress.journal   (relayq's, 0600) one record a line:
 *     "add ADDR FIRST LAST EXPIRES REASON"   the entry as it is now
 *     "del ADDR"                             the entry was removed
 *   ADDR normalized (suppress_normalize: no space or control byte),
 *   epoch seconds, REASON printable ASCII (spaces allowed) to the end.
 *
 * Every local change (suppress_add, suppress_add_many, suppress_remove)
 * appends its records under state/suppress.lock, after the list itself
 * was written, and only while setting shared is set: a node without
 * Redis writes no journal. Bounded anyway (SJOURNAL_MAX: a node whose
 * relay-send has not pushed it for a long time): past it a change is
 * made locally and not shared, with a warning. A change that came from
 * the cluster (suppress_apply) is not journaled, so nothing echoes. A
 * crash between the list's rewrite and the append leaves that change on
 * this node only (the next change of the address shares it).
 * relay-send truncates the journal under the lock once all of it is in
 * Redis. */
#include <stddef.h>
#include "base/buf.h"
#include "bounce/suppress.h"

#define SJOURNAL_FILE "suppress.journal"   /* in state/ */
#define SJOURNAL_MAX  (16UL * 1024 * 1024)
#define SJOURNAL_LINE_MAX 1024            /* a record's line, newline included */

struct sjrec {
	int del;                   /* 1: "del ADDR" */
	struct suppress_entry e;   /* del: e.addr only */
};

/* One line (len bytes, without its newline) into *r: 0, or -1 when it is
 * not a record (any control byte, a field missing or out of range). */
int sjournal_parse(const char *line, size_t len, struct sjrec *r);
/* r as a line, newline included, appended to out. 0 or -1 (ENOMEM). */
int sjournal_format(struct buf *out, const struct sjrec *r);
/* Append n records to the journal if setting shared is set (the caller
 * holds state/suppress.lock). 0 (also when nothing is journaled), -1
 * (errno; the local change stands, the caller warns). */
int sjournal_append(const char *home, const struct sjrec *r, size_t n);
/* Truncate the journal if it is still size bytes long, under the lock:
 * 1 truncated, 0 it grew meanwhile (or is shorter: left as it is), -1
 * error. before(arg) runs under the lock just before the truncation
 * (relay-send writes its cursor there; non-zero: no truncation, -1). */
int sjournal_trim(const char *home, long long size, int (*before)(void *arg), void *arg);

#endif
